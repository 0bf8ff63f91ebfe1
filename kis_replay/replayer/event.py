"""The unit of a replay: one recorded data frame and when, in session time, it goes out."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["TimelineEvent"]


class TimelineEvent(NamedTuple):
    """One frame of the timeline.

    A timeline is a plain iterator of these, sorted by ``offset_ns``, so that every step that reshapes a
    replay (the 0.2 s quote filter, ``only``, looping, the scenarios' bursts and stalls) is a function from
    one iterator to another and such steps compose. The fake server routes ``text`` to the subscribers of
    ``(tr_id, tr_key)`` when :class:`~kis_replay.replayer.clock.ReplayClock` reaches ``offset_ns``.

    A ``NamedTuple`` (immutable, like :class:`~kis_replay.archive.ArchiveRecord`) rather than a frozen
    dataclass: one is built per recorded frame, a million for a trading day, and a frozen dataclass costs
    ~10× more to build (one ``object.__setattr__`` per field). Change a field with ``event._replace(...)``.
    """

    #: session time since the timeline's origin (t_i − t_0), before speed scaling
    offset_ns: int
    #: original receive time (UTC ns), for the status line's session clock
    wall_ns: int
    tr_id: str
    #: the instrument code; ``None`` for encrypted frames, which are routed by ``tr_id`` alone
    tr_key: str | None
    #: the frame exactly as recorded
    text: str
