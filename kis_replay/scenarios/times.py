"""How scenario files write time: durations (``"300ms"``, ``"1m30s"``) and KST session times (``09:03:00``).

Durations are always strings with units, because a bare ``5`` in a file read by people in a hurry could be
seconds or milliseconds. Session times are KST times of day, as TOML local times (``at = 09:03:00``) or
strings (``at = "09:03:00.250"``); the archive turns them into instants of its session day.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["format_duration", "parse_duration", "parse_session_time"]

_UNITS_NS = {"h": 3_600_000_000_000, "m": 60_000_000_000, "s": 1_000_000_000, "ms": 1_000_000, "us": 1_000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)")


def parse_duration(value: object) -> int:
    """``"300ms"`` → 300_000_000 ns; ``"1m30s"``, ``"1.5s"``, ``"2h"``, ``"250us"``, ``"0s"`` likewise.

    Raises :class:`ValueError` with a message that shows accepted forms.
    """
    if not isinstance(value, str):
        raise ValueError(f"expected a duration string with a unit like \"300ms\" or \"5s\", got {value!r}")
    text = value.strip().replace(" ", "")
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS_NS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError(
            f"{value!r} is not a duration (write e.g. \"300ms\", \"5s\", \"1m30s\", \"2h\"; units h, m, s, ms, us)"
        )
    return round(total)


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
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a KST time of day (write e.g. 09:03:00 or \"09:03:00.250\")")
