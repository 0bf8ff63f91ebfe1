"""KIS's 0.2 s quote filtering, applied to sessions recorded (or synthesised) without it.

The live service thins futures/options quote TRs (``TrSpec.filtered``) to at most one update per 0.2 s per
instrument; trades and every other TR pass untouched. How KIS cuts its windows is not documented. Our
choice: windows are aligned on the session clock, ``[k·200 ms, (k+1)·200 ms)`` of the receive time
(``wall_ns``), the same grid for every instrument. A quote is a full snapshot of the book, so the latest
snapshot of a window replaces the earlier ones and goes out at the window's end, ``(k+1)·200 ms``; a window
without quotes sends nothing. The emitted event's ``wall_ns`` is the window's end too, the time a filtered
live feed would have delivered it, so the session clock shown to users never runs backwards.

The filter is a pure object: feed it timeline events in ``offset_ns`` order, it returns the events that are
now due, and :meth:`QuoteFilter.flush` returns the rest at the end. Its output stays sorted by
``offset_ns`` across instruments: a held quote due at 10.20 s goes out before an event of 10.20 s or later
and after every event that came before 10.20 s, whatever its instrument. Because all instruments share one
grid, every held quote is in the window of the newest input, so memory is one event per instrument.

Worked example (ms of session time, windows of 200 ms)::

    in : 10 Q(A)  50 T  120 Q(A)  150 Q(B)  190 Q(A)  250 T  450 Q(B)  460 T
    out: 50 T  200 Q(B)@150  200 Q(A)@190  250 T  460 T  600 Q(B)@450

Quotes due at the same window end go out in the order their latest snapshots arrived (B's at 150 before
A's at 190).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..codec import get_spec
from .event import TimelineEvent

__all__ = ["WINDOW_NS", "QuoteFilter", "filter_quotes", "is_filtered_quote"]

#: the live service's quote window
WINDOW_NS = 200_000_000


def is_filtered_quote(tr_id: str, tr_key: str | None) -> bool:
    """Whether the live service would thin frames of this route: a ``TrSpec.filtered`` TR with a key."""
    if tr_key is None:
        return False
    spec = get_spec(tr_id)
    return spec is not None and spec.filtered


class QuoteFilter:
    """Streaming 0.2 s filter (see the module's docstring for the rules and a worked example).

    ``applies(tr_id, tr_key)`` decides which routes are thinned (default :func:`is_filtered_quote`,
    cached per TR). The session clock of an event is ``origin + offset_ns``, where ``origin`` is taken
    from the first event fed (``wall_ns − offset_ns``): windows then stay on the receive-time grid even
    where the timeline's offsets were clamped to stay monotonic.
    """

    def __init__(
        self,
        window_ns: int = WINDOW_NS,
        *,
        applies: Callable[[str, str | None], bool] | None = None,
    ) -> None:
        if window_ns <= 0:
            raise ValueError(f"window must be positive, got {window_ns} ns")
        self.window_ns = window_ns
        self._applies = applies
        self._by_tr: dict[str, bool] = {}
        self._origin: int | None = None
        self._last_offset: int | None = None
        # route → latest snapshot of the current window; dict order = arrival order of those snapshots
        self._held: dict[tuple[str, str | None], TimelineEvent] = {}
        self._due_offset = 0  # offset at which the held quotes go out (the current window's end)

    def _thinned(self, event: TimelineEvent) -> bool:
        if self._applies is not None:
            return self._applies(event.tr_id, event.tr_key)
        if event.tr_key is None:
            return False
        verdict = self._by_tr.get(event.tr_id)
        if verdict is None:
            verdict = self._by_tr[event.tr_id] = is_filtered_quote(event.tr_id, event.tr_key)
        return verdict

    def feed(self, event: TimelineEvent) -> list[TimelineEvent]:
        """Take the next event (not earlier than the previous one); return the events now due, in order."""
        if self._origin is None:
            self._origin = event.wall_ns - event.offset_ns
        elif event.offset_ns < self._last_offset:  # type: ignore[operator]
            raise ValueError(
                f"QuoteFilter input out of order: {event.tr_id} at offset {event.offset_ns} ns "
                f"after an event at {self._last_offset} ns"
            )
        self._last_offset = event.offset_ns
        out = self.flush() if self._held and event.offset_ns >= self._due_offset else []
        if not self._thinned(event):
            out.append(event)
            return out
        route = (event.tr_id, event.tr_key)
        if not self._held:
            session = self._origin + event.offset_ns
            window_end = (session // self.window_ns + 1) * self.window_ns
            self._due_offset = window_end - self._origin
        else:
            self._held.pop(route, None)  # re-inserted below: order follows the latest snapshots
        self._held[route] = event
        return out

    def flush(self) -> list[TimelineEvent]:
        """The held quotes, each moved to its window's end (call at the end of the input)."""
        if not self._held:
            return []
        due = self._due_offset
        window_end = self._origin + due  # type: ignore[operator]
        out = [e._replace(offset_ns=due, wall_ns=window_end) for e in self._held.values()]
        self._held.clear()
        return out


def filter_quotes(
    events: Iterable[TimelineEvent], window_ns: int = WINDOW_NS
) -> Iterator[TimelineEvent]:
    """The timeline ``events`` through a :class:`QuoteFilter`: a lazy transform, flushed at the end."""
    qf = QuoteFilter(window_ns)
    for event in events:
        yield from qf.feed(event)
    yield from qf.flush()
