"""Receive times as people read them: date and time on the session clock (the header's timezone, KST).

The archive stores UTC ns and gives the time of day (:func:`~kis_replay.archive.format_session_time`);
the inspection commands also print the date, because a night session crosses midnight.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from ..archive import session_zone

__all__ = ["iso_clock"]

_NS = 1_000_000_000


def iso_clock(tz: str) -> Callable[[int], str]:
    """``wall_ns`` → ISO 8601 on the session clock with its offset (``2024-05-02T09:30:00.123456+09:00``)."""
    zone = session_zone(tz)

    def clock(wall_ns: int) -> str:
        seconds, ns = divmod(wall_ns, _NS)
        return _dt.datetime.fromtimestamp(seconds, zone).replace(microsecond=ns // 1000).isoformat(
            timespec="microseconds")

    return clock
