"""``kis-replay info``: what an archive holds, computed in one streaming pass.

:class:`SummaryBuilder` is fed the archive's records one by one and keeps only counters (per TR, per
instrument, per second of session), so an archive of any size is summarised in constant memory per TR
and per second of session. :func:`summarize` drives it over a file; :class:`ArchiveSummary` is the result,
as plain data (``to_json``) or a report for people (``render``).

Rates are in data frames per second. The peak 1 s rate is the most frames received in any window of one
second (a sliding window over receive times, not calendar seconds), per TR and over all TRs.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..archive import (
    ArchiveHeader,
    ArchiveReader,
    ArchiveRecord,
    Direction,
    RecordKind,
    format_session_time,
    session_zone,
)
from ..codec import REDACTED, get_spec, peek_route

__all__ = ["ArchiveSummary", "Gap", "SummaryBuilder", "TrSummary", "summarize"]

_NS = 1_000_000_000
_SPARK = "▁▂▃▄▅▆▇█"
_SPARK_WIDTH = 60
#: Header keys that must never be shown even if some tool stored them (none of ours does).
_SECRET_KEY = re.compile(r"approval|app_?key|app_?secret|secret_?key|secret|token|password", re.IGNORECASE)


@dataclass
class TrSummary:
    """The counts of one TR: frames, records inside them, instruments, and its peak 1 s frame rate."""

    tr_id: str
    known: bool  #: the codec has a table for it
    frames: int = 0
    records: int = 0
    encrypted_frames: int = 0
    peak_rate: int = 0  #: most frames in any 1 s window
    peak_at_ns: int | None = None  #: start of that window (the first frame in it)
    instruments: Counter[str] = field(default_factory=Counter)  #: tr_key → frames


@dataclass(frozen=True)
class Gap:
    """A GAP record: the recorder knew it missed data between ``start_ns`` and ``end_ns``."""

    start_ns: int
    end_ns: int
    reason: str
    conn: int


@dataclass
class ArchiveSummary:
    """Everything ``kis-replay info`` reports, as plain data."""

    path: str
    file_size: int
    header: ArchiveHeader
    index_intact: bool
    records: int
    kinds: dict[str, int]
    connections: int
    first_wall_ns: int | None
    last_wall_ns: int | None
    trs: dict[str, TrSummary]
    peak_rate: int
    peak_at_ns: int | None
    per_second: dict[int, int]  #: UTC second → data frames, for the rate over time
    gaps: list[Gap]
    uncompressed_bytes: int  #: the records' :attr:`~kis_replay.archive.ArchiveRecord.stored_size`, summed
    warnings: list[dict[str, Any]]

    @property
    def compression_ratio(self) -> float | None:
        return self.uncompressed_bytes / self.file_size if self.file_size else None

    @property
    def data_frames(self) -> int:
        return sum(t.frames for t in self.trs.values())

    @property
    def duration_ns(self) -> int:
        if self.first_wall_ns is None or self.last_wall_ns is None:
            return 0
        return self.last_wall_ns - self.first_wall_ns

    def rate_series(self, buckets: int = _SPARK_WIDTH) -> tuple[int, list[float]]:
        """``(bucket_seconds, mean frames/s per bucket)``: the rate over time at a readable resolution."""
        if not self.per_second:
            return 1, []
        first, last = min(self.per_second), max(self.per_second)
        span = last - first + 1
        width = max(1, -(-span // buckets))
        for nice in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
            if nice >= width:
                width = nice
                break
        counts = [0] * ((span - 1) // width + 1)
        for second, n in self.per_second.items():
            counts[(second - first) // width] += n
        return width, [c / width for c in counts]

    # -- output ----------------------------------------------------------------------------------------

    def _clock(self, wall_ns: int | None) -> dict[str, Any] | None:
        if wall_ns is None:
            return None
        utc = _dt.datetime.fromtimestamp(wall_ns // _NS, _dt.UTC).replace(microsecond=(wall_ns % _NS) // 1000)
        return {"ns": wall_ns, "session": self._session(wall_ns), "utc": utc.isoformat(timespec="microseconds")}

    def _session(self, wall_ns: int) -> str:
        """Date and time of day on the session clock (the header's timezone, KST)."""
        tz = self.header.timezone
        try:
            return f"{_session_date(wall_ns, tz)} {format_session_time(wall_ns, tz)}"
        except ValueError:  # a timezone this machine does not know: say so rather than guess
            return f"{_dt.datetime.fromtimestamp(wall_ns // _NS, _dt.UTC):%Y-%m-%d %H:%M:%S} UTC"

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-ready data (``kis-replay info --json``)."""
        width, series = self.rate_series()
        return {
            "path": self.path,
            "file_size": self.file_size,
            "header": _shown_header(self.header),
            "index_intact": self.index_intact,
            "records": self.records,
            "kinds": self.kinds,
            "connections": self.connections,
            "start": self._clock(self.first_wall_ns),
            "end": self._clock(self.last_wall_ns),
            "duration_s": self.duration_ns / _NS,
            "data_frames": self.data_frames,
            "trs": {
                tr_id: {
                    "known": t.known,
                    "frames": t.frames,
                    "records": t.records,
                    "encrypted_frames": t.encrypted_frames,
                    "instruments": dict(sorted(t.instruments.items())),
                    "peak_rate_per_s": t.peak_rate,
                    "peak_at": self._clock(t.peak_at_ns),
                    "mean_rate_per_s": _mean_rate(t.frames, self.duration_ns),
                }
                for tr_id, t in sorted(self.trs.items())
            },
            "peak_rate_per_s": self.peak_rate,
            "peak_at": self._clock(self.peak_at_ns),
            "rate_over_time": {"bucket_s": width, "frames_per_s": [round(r, 3) for r in series]},
            "gaps": [
                {"from": self._clock(g.start_ns), "to": self._clock(g.end_ns),
                 "duration_s": (g.end_ns - g.start_ns) / _NS, "reason": g.reason, "conn": g.conn}
                for g in self.gaps
            ],
            "uncompressed_bytes": self.uncompressed_bytes,
            "compression_ratio": None if self.compression_ratio is None else round(self.compression_ratio, 3),
            "warnings": self.warnings,
        }

    def render(self) -> str:
        """The summary for people: one fact a line, aligned."""
        h = self.header
        out = [f"{self.path}  ({_human_bytes(self.file_size)})"]
        out.append(f"  format v{h.version}, written by kis-replay {h.tool_version} at {h.created}")
        out.append(f"  source:        {h.source}")
        out.append(f"  timezone:      {h.timezone}")
        filtered = {True: "yes (0.2 s quote filter already applied)", False: "no", None: "unknown"}[h.filtered]
        out.append(f"  filtered:      {filtered}")
        subs = ", ".join(f"{s.get('tr_id', '?')}:{s.get('tr_key', '?')}" for s in h.subscriptions) or "none"
        out.append(f"  subscriptions: {len(h.subscriptions)}  {subs}")
        shown = _shown_header(h)
        if shown["labels"]:
            out.append(f"  labels:        {json.dumps(shown['labels'], ensure_ascii=False)}")
        if self.first_wall_ns is None:
            out.append("  span:          empty (no records)")
        else:
            start, end = self._clock(self.first_wall_ns), self._clock(self.last_wall_ns)
            assert start is not None and end is not None
            out.append(f"  span:          {start['session']} → {end['session']} {h.timezone}"
                       f"  ({_human_duration(self.duration_ns)})")
            out.append(f"                 {start['utc']} → {end['utc']} UTC")
        kinds = ", ".join(f"{k} {n}" for k, n in self.kinds.items() if n)
        out.append(f"  records:       {self.records}  ({kinds or 'none'}); connections: {self.connections}")
        ratio = self.compression_ratio
        out.append(f"  compression:   {ratio:.2f}x  ({_human_bytes(self.uncompressed_bytes)} uncompressed)"
                   if ratio is not None else "  compression:   n/a")
        out.append(f"  index:         {'intact' if self.index_intact else 'NOT intact (rebuilt by scanning)'}")
        out.append("")
        if self.trs:
            out.append(f"  {'TR':<10} {'frames':>9} {'records':>9} {'instr.':>6} {'peak/s':>7} {'mean/s':>8}  peak at")
            for tr_id, t in sorted(self.trs.items()):
                at = self._session(t.peak_at_ns) if t.peak_at_ns is not None else ""
                name = tr_id if t.known else f"{tr_id}?"
                out.append(f"  {name:<10} {t.frames:>9} {t.records:>9} {len(t.instruments):>6} {t.peak_rate:>7} "
                           f"{_mean_rate(t.frames, self.duration_ns):>8.2f}  {at}")
            at = self._session(self.peak_at_ns) if self.peak_at_ns is not None else ""
            out.append(f"  {'all':<10} {self.data_frames:>9} {sum(t.records for t in self.trs.values()):>9} "
                       f"{sum(len(t.instruments) for t in self.trs.values()):>6} {self.peak_rate:>7} "
                       f"{_mean_rate(self.data_frames, self.duration_ns):>8.2f}  {at}")
            if any(not t.known for t in self.trs.values()):
                out.append("  (? = a TR the codec has no table for: counted, not decoded)")
            out.append("")
            out.append("  instruments (frames):")
            for tr_id, t in sorted(self.trs.items()):
                keys = ", ".join(f"{k} {n}" for k, n in sorted(t.instruments.items()))
                if t.encrypted_frames:
                    keys = ", ".join(filter(None, [keys, f"(encrypted) {t.encrypted_frames}"]))
                out.append(f"    {tr_id}: {keys}")
            width, series = self.rate_series()
            if series:
                top = max(series) or 1.0
                spark = "".join(_SPARK[min(len(_SPARK) - 1, int(r / top * (len(_SPARK) - 1) + 0.5))] for r in series)
                out.append("")
                out.append(f"  rate over time ({width} s buckets, max {top:.1f} frames/s):")
                out.append(f"    {spark}")
        else:
            out.append("  no data frames")
        out.append("")
        if self.gaps:
            out.append(f"  gaps: {len(self.gaps)}")
            for g in self.gaps:
                out.append(f"    {self._session(g.start_ns)} → {self._session(g.end_ns)}  "
                           f"({_human_duration(g.end_ns - g.start_ns)}, conn {g.conn}): {g.reason}")
        else:
            out.append("  gaps: none")
        if self.warnings:
            out.append(f"  warnings: {len(self.warnings)}")
            for w in self.warnings:
                out.append(f"    [{w['kind']}] offset {w['offset']}: {w['message']}")
        else:
            out.append("  warnings: none")
        return "\n".join(out)


class SummaryBuilder:
    """Counts what it is fed; call :meth:`add` per record in archive order, then :meth:`finish`."""

    def __init__(self) -> None:
        self.records = 0
        self.kinds: Counter[RecordKind] = Counter()
        self.connections: set[int] = set()
        self.first_wall_ns: int | None = None
        self.last_wall_ns: int | None = None
        self.trs: dict[str, TrSummary] = {}
        self.per_second: Counter[int] = Counter()
        self.gaps: list[Gap] = []
        self.uncompressed_bytes = 0
        self.bad_gaps = 0
        self._windows: dict[str, deque[int]] = {}
        self._all_window: deque[int] = deque()
        self.peak_rate = 0
        self.peak_at_ns: int | None = None

    def add(self, record: ArchiveRecord) -> None:
        wall = record.wall_ns
        self.records += 1
        self.kinds[record.kind] += 1
        self.uncompressed_bytes += record.stored_size
        if record.direction != Direction.NONE or record.kind in (RecordKind.OPENED, RecordKind.CLOSED):
            self.connections.add(record.conn)
        if self.first_wall_ns is None or wall < self.first_wall_ns:
            self.first_wall_ns = wall
        if self.last_wall_ns is None or wall > self.last_wall_ns:
            self.last_wall_ns = wall
        if record.kind == RecordKind.DATA:
            self._add_data(record)
        elif record.kind == RecordKind.GAP:
            self._add_gap(record)

    def _add_data(self, record: ArchiveRecord) -> None:
        route = peek_route(record.text)
        tr_id, tr_key = route if route is not None else ("(malformed)", None)
        t = self.trs.get(tr_id)
        if t is None:
            t = self.trs[tr_id] = TrSummary(tr_id, get_spec(tr_id) is not None)
            self._windows[tr_id] = deque()
        t.frames += 1
        t.records += _count_of(record.payload)
        if tr_key is None:
            t.encrypted_frames += record.payload[:1] == b"1"
        else:
            t.instruments[tr_key] += 1
        wall = record.wall_ns
        self.per_second[wall // _NS] += 1
        rate, start = _slide(self._windows[tr_id], wall)
        if rate > t.peak_rate:
            t.peak_rate, t.peak_at_ns = rate, start
        rate, start = _slide(self._all_window, wall)
        if rate > self.peak_rate:
            self.peak_rate, self.peak_at_ns = rate, start

    def _add_gap(self, record: ArchiveRecord) -> None:
        try:
            obj = json.loads(record.payload)
            gap = Gap(int(obj["start_ns"]), int(obj["end_ns"]), str(obj.get("reason", "")), record.conn)
        except (ValueError, KeyError, TypeError):
            self.bad_gaps += 1
            gap = Gap(record.wall_ns, record.wall_ns, f"unreadable GAP record: {record.text[:80]!r}", record.conn)
        self.gaps.append(gap)

    def finish(self, reader: ArchiveReader, file_size: int) -> ArchiveSummary:
        return ArchiveSummary(
            path=reader.path,
            file_size=file_size,
            header=reader.header,
            index_intact=reader.index_intact,
            records=self.records,
            kinds={k.name.lower(): self.kinds.get(k, 0) for k in RecordKind},
            connections=len(self.connections),
            first_wall_ns=self.first_wall_ns,
            last_wall_ns=self.last_wall_ns,
            trs=self.trs,
            peak_rate=self.peak_rate,
            peak_at_ns=self.peak_at_ns,
            per_second=dict(self.per_second),
            gaps=self.gaps,
            uncompressed_bytes=self.uncompressed_bytes,
            warnings=[{"kind": w.kind, "offset": w.offset, "message": w.message,
                       "records_lost": w.records_lost, "records_recovered": w.records_recovered}
                      for w in reader.warnings if w.kind != "index"],
        )


def summarize(path: str | os.PathLike[str], *, progress: Callable[[ArchiveReader], None] | None = None,
              every: int = 4096) -> ArchiveSummary:
    """Summarise the archive at ``path`` in one pass; ``progress(reader)`` is called every ``every`` records.

    Raises :class:`~kis_replay.archive.ArchiveError` when the file is not a readable archive.
    """
    builder = SummaryBuilder()
    with ArchiveReader(path) as reader:
        for n, record in enumerate(reader.records(), 1):
            builder.add(record)
            if progress is not None and n % every == 0:
                progress(reader)
        return builder.finish(reader, os.path.getsize(reader.path))


def _slide(window: deque[int], wall: int) -> tuple[int, int]:
    """Push ``wall`` into a 1 s window of receive times; ``(frames in the window, its first time)``."""
    window.append(wall)
    limit = wall - _NS
    while window[0] <= limit:
        window.popleft()
    return len(window), window[0]


def _count_of(payload: bytes) -> int:
    """The record count a data frame declares (``0|TR|011|…`` → 11); 1 when it is unreadable."""
    parts = payload.split(b"|", 3)
    if len(parts) == 4 and parts[2].isdigit():
        return int(parts[2]) or 1
    return 1


def _session_date(wall_ns: int, tz: str) -> str:
    """The calendar date of ``wall_ns`` on the session clock (``format_session_time`` gives the time)."""
    return _dt.datetime.fromtimestamp(wall_ns // _NS, session_zone(tz)).date().isoformat()


def _shown_header(header: ArchiveHeader) -> dict[str, Any]:
    """The header as JSON, with any key that names a secret replaced (defence in depth: none are stored)."""
    return _scrub(json.loads(header.to_json()))


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _mean_rate(frames: int, duration_ns: int) -> float:
    return round(frames / (duration_ns / _NS), 3) if duration_ns > 0 else float(frames)


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _human_duration(ns: int) -> str:
    seconds = ns / _NS
    if seconds < 60:
        return f"{seconds:.3f} s"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{sec:02d}s" if hours else f"{minutes}m{sec:02d}s"
