"""How scenario files write time: KST session times (``09:03:00``), and durations as logs show them.

Session times are KST times of day, as TOML local times (``at = 09:03:00``) or strings
(``at = "09:03:00.250"``); the archive turns them into instants of its session day. Durations are read by
:func:`kis_replay.durations.parse_duration_ns`, always with units, because a bare ``5`` in a file read by
people in a hurry could be seconds or milliseconds.
"""

from __future__ import annotations

import datetime as dt

from ..archive import parse_time_of_day

__all__ = ["format_duration", "parse_session_time"]


def format_duration(ns: int) -> str:
    """A short human form for logs: ``300ms``, ``1.5s``, ``90s``."""
    if ns and abs(ns) < 1_000_000_000:
        return f"{ns / 1e6:g}ms"
    return f"{ns / 1e9:g}s"


def parse_session_time(value: object) -> dt.time:
    """A KST time of day: a TOML local time or ``"HH:MM[:SS[.ffffff]]"``."""
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise ValueError(f"{value} has a time zone: session times are KST times of day, write it without")
        return value
    if isinstance(value, str):
        try:
            seconds, ns = divmod(parse_time_of_day(value), 1_000_000_000)
        except ValueError:
            pass
        else:
            return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60, ns // 1000)
    raise ValueError(f"{value!r} is not a KST time of day (write e.g. 09:03:00 or \"09:03:00.250\")")
