"""From archive records to the timeline the fake server plays: pure, lazy steps that compose.

``build_timeline`` chains:

1. the archive's server→client DATA records, from ``start_ns`` to ``end_ns``, seeking through its index;
2. :func:`session_events`: routes each frame (``peek_route``, no full parse, memoised per instrument),
   keeps what ``only`` serves, and measures offsets from the first kept frame (the timeline's origin,
   offset 0);
3. :func:`~kis_replay.replayer.quote_filter.filter_quotes` when the 0.2 s filter is on;
4. :func:`repeat_timeline` when looping.

Every step is an iterator over the previous one, holding O(instruments) state, so a multi-GB archive
replays in flat memory, and the scenarios add their own steps the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter

from ..archive import ArchiveReader, Direction, RecordKind
from .ciphers import SessionCiphers, recorded_acks
from .event import TimelineEvent
from .options import ReplayOptions
from .quote_filter import filter_quotes
from .routing import RouteMemo

__all__ = ["LOOP_GAP_NS", "build_timeline", "filter_applies", "repeat_timeline", "session_events"]

log = logging.getLogger(__name__)

#: the pause between two cycles of a loop when the timeline has no interval of its own (a single frame)
LOOP_GAP_NS = 1_000_000_000
_WARN_LIMIT = 10
_EVERYTHING = ReplayOptions()
_new_event = tuple.__new__  # TimelineEvent(...) without the NamedTuple's Python-level __new__
#: an ArchiveRecord's (wall_ns, payload, conn), picked in C
_WALL_PAYLOAD_CONN = itemgetter(0, 5, 3)


def filter_applies(mode: str, source_filtered: bool | None) -> bool:
    """Whether to apply the 0.2 s filter: ``"0.2"`` always, ``"off"`` never, ``"auto"`` only for a
    source that says it was unfiltered (``header.filtered is False``: synthetic sessions). Live
    recordings (``True``) and archives that do not say (``None``) are left as KIS sent them."""
    if mode == "0.2":
        return True
    if mode == "off":
        return False
    return source_filtered is False


def session_events(
    records: Iterable[tuple[int, str]], options: ReplayOptions | None = None
) -> Iterator[TimelineEvent]:
    """``(wall_ns, text)`` data frames in receive order → timeline events (no filtering, no looping).

    Offset 0 is the first frame that ``options.only`` serves. Receive times come from the wall clock,
    which can step back (an NTP correction); an offset never goes below the previous one, so the timeline
    stays sorted and such a frame goes out right after its predecessor. Text that is not a data frame
    cannot be routed: it is skipped and logged with its receive time, never raised through the replay.
    """
    return _events(map(_no_connection, records), options or _EVERYTHING, None)


def _no_connection(record: tuple[int, str]) -> tuple[int, str, int]:
    return record[0], record[1], 0


def _events(
    records: Iterable[tuple[int, bytes | str, int]],
    options: ReplayOptions,
    unify: Callable[[str, str, int], str] | None,
) -> Iterator[TimelineEvent]:
    """The one loop behind :func:`session_events` and :func:`build_timeline`: ``(wall_ns, payload, conn)``
    in receive order (``payload`` the archive's bytes or already text) → events.

    It runs once per recorded frame, so it is written for speed: the route comes from a
    :class:`~kis_replay.replayer.routing.RouteMemo`, the event is built with ``tuple.__new__`` (no Python
    ``__new__``), and ``unify`` (re-encryption under the handed-out key) only sees the encrypted frames
    that are served.
    """
    serves = options.serves if options.only else None
    route_of = RouteMemo()
    known = route_of.known
    origin: int | None = None
    last = 0
    skipped = 0
    for wall_ns, payload, conn in records:
        text = payload.decode("utf-8", "replace") if payload.__class__ is bytes else payload
        # the memo's hit path inlined (a head always ends with "^", so "" is never known)
        route = known.get(text[: text.find("^") + 1]) or route_of(text)
        if route is None:
            skipped += 1
            if skipped <= _WARN_LIMIT:
                log.warning("skipping a DATA record received at %d ns that is not a data frame: %.40r",
                            wall_ns, text)
            continue
        tr_id, tr_key = route
        if serves is not None and not serves(tr_id, tr_key):
            continue
        if tr_key is None and unify is not None:
            text = unify(tr_id, text, conn)
        if origin is None:
            origin = wall_ns
        offset = wall_ns - origin
        if offset < last:
            offset = last
        last = offset
        yield _new_event(TimelineEvent, (offset, wall_ns, tr_id, tr_key, text))
    if skipped > _WARN_LIMIT:
        log.warning("skipped %d DATA records that are not data frames (first %d logged)", skipped, _WARN_LIMIT)


def repeat_timeline(cycle: Callable[[], Iterable[TimelineEvent]]) -> Iterator[TimelineEvent]:
    """Play ``cycle()`` again and again, offsets increasing: cycle *n* adds *n* × (span + one gap).

    The span is the first cycle's last offset; the gap is its mean interval between frames (span ÷
    (frames − 1)), so the seam looks like any other step, or :data:`LOOP_GAP_NS` for a single frame or
    frames that all share one instant. ``cycle`` is called once per cycle so that each pass streams from
    the archive again instead of being kept in memory. An empty first cycle ends the loop (nothing to
    repeat); ``wall_ns`` keeps the recorded time, so the session clock starts over with each cycle.
    """
    count = 0
    span = 0
    for event in cycle():
        count += 1
        span = event.offset_ns
        yield event
    if count == 0:
        return
    gap = span // (count - 1) if count > 1 else 0
    period = span + (gap or LOOP_GAP_NS)
    n = 1
    while True:
        shift = n * period
        for event in cycle():
            yield _new_event(TimelineEvent, (event.offset_ns + shift, *event[1:]))
        n += 1


def build_timeline(reader: ArchiveReader, options: ReplayOptions) -> Iterator[TimelineEvent]:
    """The timeline of ``reader``'s archive under ``options``: sorted by ``offset_ns``, filtered as asked.

    Only DATA records that travelled server→client are replayed; the recording's control frames are
    not (the fake server answers subscriptions itself; :func:`recorded_ciphers` reads the acks). An
    encrypted frame of a later connection of the recording is re-encrypted under the key of the first
    (:class:`~kis_replay.replayer.ciphers.SessionCiphers`), the key the fake server hands out; a TR's
    acks are looked up (through the index) only once its first encrypted frame shows up.
    """
    thin = filter_applies(options.filter, reader.header.filtered)
    tr_ids = frozenset(tr for tr, _ in options.only) or None
    ciphers: dict[str, SessionCiphers] = {}  # per encrypted TR, read when its first frame shows up

    def unify(tr_id: str, text: str, conn: int) -> str:
        unifier = ciphers.get(tr_id)
        if unifier is None:
            unifier = ciphers[tr_id] = SessionCiphers(recorded_acks(reader, (tr_id,)))
        return unifier.unify(text, conn)

    def cycle() -> Iterator[TimelineEvent]:
        records = reader.records(
            start_ns=options.start_ns,
            end_ns=options.end_ns,
            tr_ids=tr_ids,
            kinds=(RecordKind.DATA,),
            directions=(Direction.SERVER_TO_CLIENT,),
        )
        events = _events(map(_WALL_PAYLOAD_CONN, records), options, unify)
        return filter_quotes(events) if thin else events

    return repeat_timeline(cycle) if options.loop else cycle()
