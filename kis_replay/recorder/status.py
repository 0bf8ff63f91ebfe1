"""What a recording is doing, for the person (or the log) watching it.

:class:`RecorderStatus` is counters only, updated by the connection loop as frames are written;
:meth:`RecorderStatus.snapshot` turns two moments into rates. Rendering is two pure functions: a one-line
terminal status redrawn in place, and a plain log line (once a minute when stderr is not a terminal).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..codec import KST

__all__ = ["RecorderStatus", "StatusSnapshot", "log_line", "terminal_line"]

_NS = 10**9


@dataclass
class RecorderStatus:
    """Running totals of one recording."""

    state: str = "starting"
    frames: dict[bytes, int] = field(default_factory=dict)  #: data frames per TR id (as on the wire)
    frames_total: int = 0
    payload_bytes: int = 0  #: bytes received (uncompressed, as on the wire)
    file_bytes: int = 0  #: compressed bytes on disk, all files so far
    files: int = 0
    connections: int = 0
    gaps: int = 0
    last_gap: str = ""  #: "HH:MM:SS-HH:MM:SS KST (reason)"

    def data(self, tr_id: bytes, size: int) -> None:
        """One data frame of ``tr_id`` (bytes, not decoded: this runs for every frame)."""
        frames = self.frames
        frames[tr_id] = frames.get(tr_id, 0) + 1
        self.frames_total += 1
        self.payload_bytes += size

    def other(self, size: int) -> None:
        self.payload_bytes += size

    def gap(self, from_ns: int, to_ns: int, reason: str) -> None:
        self.gaps += 1
        span = f"{_kst_clock(from_ns)}-{_kst_clock(to_ns)}"
        self.last_gap = f"{span} KST ({reason})"

    def snapshot(self, mono_ns: int) -> StatusSnapshot:
        return StatusSnapshot(mono_ns, dict(self.frames), self.frames_total, self.payload_bytes)


@dataclass(frozen=True)
class StatusSnapshot:
    """The counters at one moment, to compute rates between two moments."""

    mono_ns: int
    frames: dict[bytes, int]
    frames_total: int
    payload_bytes: int


def _kst_clock(wall_ns: int) -> str:
    return dt.datetime.fromtimestamp(wall_ns / _NS, KST).strftime("%H:%M:%S")


def _rates(status: RecorderStatus, before: StatusSnapshot, now: StatusSnapshot) -> tuple[float, dict[str, float]]:
    seconds = max((now.mono_ns - before.mono_ns) / _NS, 1e-9)
    per_tr = {
        tr.decode("ascii", "replace"): (count - before.frames.get(tr, 0)) / seconds for tr, count in now.frames.items()
    }
    return (now.frames_total - before.frames_total) / seconds, per_tr


def _ratio(status: RecorderStatus) -> str:
    return f"{status.payload_bytes / status.file_bytes:.1f}x" if status.file_bytes else "-"


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1000  # type: ignore[assignment]
    raise AssertionError("unreachable")


def terminal_line(status: RecorderStatus, before: StatusSnapshot, now: StatusSnapshot, width: int = 120) -> str:
    """One status line: state, frames/s (busiest TRs), bytes written, compression, last gap."""
    total, per_tr = _rates(status, before, now)
    busiest = sorted(per_tr.items(), key=lambda item: (-item[1], item[0]))[:3]
    trs = " ".join(f"{tr} {rate:.0f}/s" for tr, rate in busiest)
    parts = [
        f"[{status.state}]",
        f"{total:.0f} frames/s" + (f" ({trs})" if trs else ""),
        f"{status.frames_total} frames",
        f"{_size(status.file_bytes)} written",
        f"ratio {_ratio(status)}",
        f"gap {status.last_gap}" if status.last_gap else "no gaps",
    ]
    return " | ".join(parts)[:width]


def log_line(status: RecorderStatus, before: StatusSnapshot, now: StatusSnapshot) -> str:
    """The once-a-minute log line: the same facts, every TR, no truncation."""
    total, per_tr = _rates(status, before, now)
    trs = ", ".join(f"{tr}={rate:.1f}/s" for tr, rate in sorted(per_tr.items()))
    return (
        f"state={status.state} rate={total:.1f}/s [{trs}] frames={status.frames_total} "
        f"written={status.file_bytes}B files={status.files} ratio={_ratio(status)} "
        f"connections={status.connections} gaps={status.gaps}"
        + (f" last_gap={status.last_gap}" if status.last_gap else "")
    )
