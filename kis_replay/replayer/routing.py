"""``peek_route`` once per instrument head rather than once per frame.

A replay routes every frame, a million a trading day, and :func:`~kis_replay.codec.peek_route` is a
handful of string searches behind a Python call. Every frame of one instrument starts with the same head,
``0|H0ZFASP0|001|111V06^``, and that head alone decides the route, so :class:`RouteMemo` looks the head up
in a dict and asks the codec only for a head it has not seen: the codec stays the one place that knows
the frame layout, and the hot path is one ``find``, one slice and one dict lookup. The route tuples (and
their strings) are shared by every event of the instrument, which also keeps a cached timeline small.
"""

from __future__ import annotations

from ..codec import peek_route

__all__ = ["RouteMemo"]


class RouteMemo:
    """``memo(text)`` is ``peek_route(text)``, memoised on the text up to its first ``^``.

    Holds at most ``limit`` heads (a damaged archive of random text cannot grow it without bound; past the
    limit, new heads are routed by the codec every time). A head the codec cannot route on its own (the
    first ``^`` comes before the fields that name the route) is never memoised: such a frame is routed
    from its whole text, as before.
    """

    __slots__ = ("known", "limit")

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        #: head (the text up to and including its first ``^``) → route; a hot loop may look a head up here
        #: itself and call the memo only when it is not known
        self.known: dict[str, tuple[str, str | None]] = {}

    def __call__(self, text: str) -> tuple[str, str | None] | None:
        end = text.find("^")
        if end < 0:  # no field separator: an encrypted frame (base64), a one-field payload, not a frame
            return peek_route(text)
        head = text[: end + 1]
        route = self.known.get(head)
        if route is None:
            # The head holds the fields peek_route reads whenever it routes at all: the same answer.
            route = peek_route(head)
            if route is None:
                return peek_route(text)
            if len(self.known) < self.limit:
                self.known[head] = route
        return route
