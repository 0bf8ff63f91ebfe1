"""Receive times as people read them: date and time on the session clock (the header's timezone, KST).

The archive stores UTC ns and gives the time of day (:func:`~kis_replay.archive.format_session_time`);
the inspection commands also print the date, because a night session crosses midnight.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["iso_clock", "session_zone"]

_NS = 1_000_000_000
_KST = _dt.timezone(_dt.timedelta(hours=9), "KST")


@lru_cache(maxsize=8)
def session_zone(tz: str) -> _dt.tzinfo:
    """The timezone ``tz``; UTC+9 for Asia/Seoul on a machine without a tz database (no DST since 1988).

    Raises ``ValueError`` for any other timezone this machine does not know.
    """
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        if tz == "Asia/Seoul":
            return _KST
        raise ValueError(f"unknown timezone {tz!r}") from None


def iso_clock(tz: str) -> Callable[[int], str]:
    """``wall_ns`` → ISO 8601 on the session clock with its offset (``2024-05-02T09:30:00.123456+09:00``)."""
    zone = session_zone(tz)

    def clock(wall_ns: int) -> str:
        seconds, ns = divmod(wall_ns, _NS)
        return _dt.datetime.fromtimestamp(seconds, zone).replace(microsecond=ns // 1000).isoformat(
            timespec="microseconds")

    return clock
