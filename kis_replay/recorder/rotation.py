"""When a recording starts a new file, and what the files are called.

Files are named by the KST wall time at which they start (``2026-11-24T09-00-00_kis.kisrec.zst``), so a
plain ``ls`` lists a day in order. Time-based rotation cuts at multiples of the period counted from KST
midnight (``--rotate 1h`` cuts at 10:00, 11:00, …, whenever the recorder started); size-based rotation
cuts when the compressed file reaches the size. Both are pure arithmetic, and so is the parsing of the
command line's ``6h`` / ``512MB`` / ``15:50`` values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..archive import SUFFIX, parse_time_of_day
from ..codec import KST
from ..durations import parse_duration_ns

__all__ = [
    "RotationPolicy",
    "archive_name",
    "parse_duration",
    "parse_rotation",
    "parse_size",
    "until_deadline",
]

_NS = 10**9
_KST_OFFSET_NS = round(KST.utcoffset(None).total_seconds()) * _NS

_SIZE_UNITS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9,
    "kib": 2**10, "mib": 2**20, "gib": 2**30,
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``1.5s``, ``500ms``, ``30m``, ``6h``, ``1h30m``, ``1d`` (the command line's durations:
    :func:`kis_replay.durations.parse_duration_ns`, a bare number being seconds); ``ValueError`` names the text."""
    return parse_duration_ns(text, bare_seconds=True) / _NS


def parse_size(text: str) -> int:
    """Bytes in ``1000``, ``100kB``, ``512MB`` (10**6), ``512MiB`` (2**20), ``1GB``."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a size (e.g. 512MB, 100MiB, 1GB)")
    return int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower()])


@dataclass(frozen=True)
class RotationPolicy:
    """Cut a new file every ``period_s`` seconds (aligned to KST midnight) or at ``max_bytes``."""

    period_s: float | None = None
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.period_s is not None and self.period_s < 1:
            raise ValueError(f"rotation period must be at least 1 s, got {self.period_s}")
        if self.max_bytes is not None and self.max_bytes < 4096:
            raise ValueError(f"rotation size must be at least 4096 bytes, got {self.max_bytes}")

    def next_cut_ns(self, opened_wall_ns: int) -> int | None:
        """The wall time (UTC ns) at which a file opened at ``opened_wall_ns`` ends, for time rotation."""
        if self.period_s is None:
            return None
        period = round(self.period_s * _NS)
        local = opened_wall_ns + _KST_OFFSET_NS
        return (local // period + 1) * period - _KST_OFFSET_NS

    def due(self, opened_wall_ns: int, now_wall_ns: int, size_bytes: int) -> bool:
        """Whether the file opened at ``opened_wall_ns``, now ``size_bytes`` long, should be cut."""
        cut = self.next_cut_ns(opened_wall_ns)
        if cut is not None and now_wall_ns >= cut:
            return True
        return self.max_bytes is not None and size_bytes >= self.max_bytes


def parse_rotation(text: str) -> RotationPolicy:
    """``--rotate``: a duration (``1h``) or a size (``512MB``)."""
    value = text.strip()
    if re.search(r"b$", value, re.IGNORECASE):
        return RotationPolicy(max_bytes=parse_size(value))
    try:
        return RotationPolicy(period_s=parse_duration(value))
    except ValueError:
        raise ValueError(f"--rotate {text!r}: give a duration (1h, 30m) or a size (512MB, 1GiB)") from None


def archive_name(wall_ns: int, serial: int = 0) -> str:
    """The file name of an archive starting at ``wall_ns`` (UTC ns), in KST.

    Two files starting in the same second get ``_001``, ``_002`` … after the first, which still sort after
    it (``_`` sorts after ``.``).
    """
    stamp = dt.datetime.fromtimestamp(wall_ns / _NS, KST).strftime("%Y-%m-%dT%H-%M-%S")
    tail = f"_{serial:03d}" if serial else ""
    return f"{stamp}_kis{tail}{SUFFIX}"


def until_deadline(now: dt.datetime, time_of_day: str) -> dt.datetime:
    """``--until 15:50``: the next moment after ``now`` at that KST time of day (tomorrow if it passed,
    so a night session's ``--until 05:00`` ends the next morning)."""
    try:
        seconds = parse_time_of_day(time_of_day) // _NS
    except ValueError:
        raise ValueError(f"{time_of_day!r} is not a KST time of day (HH:MM or HH:MM:SS)") from None
    local = now.astimezone(KST)
    target = local.replace(hour=seconds // 3600, minute=seconds // 60 % 60, second=seconds % 60, microsecond=0)
    if target <= local:
        target += dt.timedelta(days=1)
    return target
