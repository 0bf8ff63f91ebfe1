"""Session time: what users type and read (KST time of day) ⇄ what the archive stores (UTC ns).

A user asks for ``--from 09:30:00``; the archive knows instants. The instant meant is the first one, from
:data:`LOOKBACK_NS` before the session's first record on, whose time of day in the session's timezone is the
one typed. So a night session that starts at 18:00 reads "01:00" as the next calendar day, and a recording
whose first frame arrived at 09:00:00.2 still reads ``--from 09:00`` as that morning, not the next one.
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..codec import KST

__all__ = ["format_session_time", "parse_time_of_day", "session_time_to_ns", "session_window", "session_zone"]

_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
#: How far before the first record a typed time may fall and still mean the session's day. KRX sessions
#: last at most 11 h (night: 18:00-05:00), so 6 h before the start never collides with the session's end.
LOOKBACK_NS = 6 * 3600 * _NS
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?")


@lru_cache(maxsize=8)
def session_zone(tz: str) -> _dt.tzinfo:
    """The timezone ``tz`` (a header's ``timezone``); :data:`~kis_replay.codec.KST` for Asia/Seoul on a machine
    without a tz database (Korea has kept UTC+9 without DST since 1988).

    Raises ``ValueError`` for any other timezone this machine does not know.
    """
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        if tz == "Asia/Seoul":
            return KST
        raise ValueError(f"unknown timezone {tz!r}") from None


def parse_time_of_day(time_of_day: str | _dt.time) -> int:
    """Nanoseconds since midnight of ``"HH:MM"``, ``"HH:MM:SS"`` or ``"HH:MM:SS.fff"`` (up to 9 digits)."""
    if isinstance(time_of_day, _dt.time):
        t = time_of_day
        return ((t.hour * 60 + t.minute) * 60 + t.second) * _NS + t.microsecond * 1000
    match = _TIME_OF_DAY.fullmatch(time_of_day.strip())
    if match is None:
        raise ValueError(f"time of day {time_of_day!r} is not HH:MM[:SS[.fff]]")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"time of day {time_of_day!r} is out of range")
    fraction = int((match[4] or "0").ljust(9, "0"))
    return ((hour * 60 + minute) * 60 + second) * _NS + fraction


def session_time_to_ns(time_of_day: str | _dt.time, first_wall_ns: int, tz: str = "Asia/Seoul") -> int:
    """The first UTC ns instant ≥ ``first_wall_ns - LOOKBACK_NS`` whose time of day in ``tz`` is ``time_of_day``."""
    target = parse_time_of_day(time_of_day)
    zone = session_zone(tz)
    first_wall_ns -= LOOKBACK_NS
    start = _dt.datetime.fromtimestamp(first_wall_ns // _NS, zone)
    day = start.date()
    for _ in range(3):  # the same day, else the next (two in case a DST jump skips the time)
        midnight = _dt.datetime(day.year, day.month, day.day, tzinfo=zone)
        seconds, remainder = divmod(target, _NS)
        local = midnight + _dt.timedelta(seconds=seconds)
        candidate = int(local.timestamp()) * _NS + remainder
        if candidate >= first_wall_ns:
            return candidate
        day += _dt.timedelta(days=1)
    raise ValueError(f"no instant at {time_of_day!r} in {tz} after {first_wall_ns}")  # pragma: no cover


def session_window(
    first_wall_ns: int | None,
    start: str | _dt.time | None,
    end: str | _dt.time | None,
    tz: str = "Asia/Seoul",
    *,
    names: tuple[str, str] = ("from", "to"),
) -> tuple[int | None, int | None]:
    """A user's ``from``/``to`` session times of day as ``(start_ns, end_ns)`` on the session whose first record
    was received at ``first_wall_ns`` (from inclusive, to exclusive; ``None`` where not given).

    Every shell that takes a window (``kis-replay --from/--to``, ``cat``, ``slice``) goes through here, so a
    time is placed on the session day and refused the same way everywhere. ``names`` are what the error
    messages call the two bounds (``("--from", "--to")`` for the CLI). Raises :class:`ValueError` naming
    the bound when a time is malformed, or when ``to`` is not after ``from`` (a time of day before the
    session's start falls on the next day, which is the usual cause). With ``first_wall_ns=None`` (an
    empty archive, or a check before any file is open) the times are only checked, and ``(None, None)``
    returned.
    """
    bounds: list[int | None] = []
    for name, value in zip(names, (start, end), strict=True):
        try:
            if value is None:
                bounds.append(None)
            elif first_wall_ns is None:
                parse_time_of_day(value)
                bounds.append(None)
            else:
                bounds.append(session_time_to_ns(value, first_wall_ns, tz))
        except ValueError as exc:
            raise ValueError(f"{name} {value!r}: {exc}; expected HH:MM:SS[.fff], session time in {tz}") from None
    start_ns, end_ns = bounds
    if start_ns is not None and end_ns is not None and end_ns <= start_ns:
        assert first_wall_ns is not None
        raise ValueError(
            f"{names[1]} {end} ({format_session_time(end_ns, tz)}) is not after {names[0]} {start} "
            f"({format_session_time(start_ns, tz)}): the session starts at {format_session_time(first_wall_ns, tz)}, "
            "and a time of day before that is on the next day"
        )
    return start_ns, end_ns


def format_session_time(wall_ns: int, tz: str = "Asia/Seoul") -> str:
    """``"HH:MM:SS.fff"`` of a UTC ns instant in the session's timezone (milliseconds truncated)."""
    seconds, remainder = divmod(wall_ns, _NS)
    local = _dt.datetime.fromtimestamp(seconds, session_zone(tz))
    return f"{local:%H:%M:%S}.{remainder // 1_000_000:03d}"
