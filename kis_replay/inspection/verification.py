"""``kis-replay verify``: is an archive whole, and does every frame in it read as its TR says?

Three layers, each reported with where it failed:

1. the file: every zstd frame decompresses and passes its content checksum (a cut or corrupt frame is an
   :class:`~kis_replay.archive.ArchiveWarning` from the reader: offset, records lost);
2. the seek index: present, and equal to the index rebuilt by scanning the frames themselves (offsets,
   sizes, record counts, time ranges, TRs);
3. the records: every data frame parses against its TR table (codec ``parse_frame`` + ``Record.validate``;
   frames of TRs the codec has no table for are counted, not failed; encrypted frames are decrypted with
   the recorded ack's key, counted as unchecked without one), control messages and GAP records are JSON.

``salvage`` copies every record that could be read into a new archive (same header, labelled as salvaged),
in the same pass. Salvage repairs damage to the *file*; it keeps frames that came off the wire malformed,
since the archive's job is to store what crossed the wire.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..archive import (
    FORMAT_VERSION,
    ArchiveError,
    ArchiveReader,
    ArchiveRecord,
    ArchiveWarning,
    ArchiveWriter,
    IndexEntry,
    RecordKind,
    format_session_time,
    session_zone,
)
from ..codec import FieldCountError, FieldType, FieldValueError, FrameError, Record
from .decoding import FrameDecoder
from .slicing import same_file

__all__ = ["Problem", "VerificationReport", "verify_archive"]

#: Problems listed in full; beyond this they are only counted (a broken feed can have millions).
MAX_LISTED = 200
#: Problems with the file rather than a record: always listed, first.
#: Distinct (field type, text) pairs remembered as valid before the memo starts over (bounds memory).
_MEMO_LIMIT = 1 << 20
_FILE_PROBLEMS = frozenset({"header", "cut", "corrupt", "index"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong, and where: a byte ``offset`` in the file, or a ``record`` number (1-based, in file
    order, counting records lost to damage when the index knows how many), with the TR and field."""

    kind: str  #: "header", "cut", "corrupt", "index", "frame", "control", "gap"
    message: str
    offset: int | None = None
    record: int | None = None
    tr_id: str | None = None
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def __str__(self) -> str:
        where = f"offset {self.offset}" if self.offset is not None else f"record {self.record}"
        return f"[{self.kind}] {where}: {self.message}"


@dataclass
class VerificationReport:
    """What ``verify`` found. ``ok`` is the verdict; ``problems`` lists the first :data:`MAX_LISTED`."""

    path: str
    index_intact: bool = False
    records: int = 0
    data_frames: int = 0
    frames_checked: int = 0
    control_messages: int = 0
    unknown_trs: Counter[str] = field(default_factory=Counter)  #: TR → frames (no table: not checked)
    encrypted_unchecked: Counter[str] = field(default_factory=Counter)  #: TR → frames with no recorded key
    unknown_kinds: int = 0  #: records of a kind a newer format defines (skipped by the reader)
    problems: list[Problem] = field(default_factory=list)
    problem_counts: Counter[str] = field(default_factory=Counter)
    salvaged_to: str | None = None
    salvaged_records: int = 0

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    @property
    def problems_total(self) -> int:
        return sum(self.problem_counts.values())

    def add(self, problem: Problem) -> None:
        """Count ``problem``; list it if it is about the file (few, and the most important) or if fewer
        than :data:`MAX_LISTED` record problems are listed so far."""
        self.problem_counts[problem.kind] += 1
        if problem.kind in _FILE_PROBLEMS:
            self.problems.insert(sum(p.kind in _FILE_PROBLEMS for p in self.problems), problem)
        elif sum(p.kind not in _FILE_PROBLEMS for p in self.problems) < MAX_LISTED:
            self.problems.append(problem)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "index_intact": self.index_intact,
            "records": self.records,
            "data_frames": self.data_frames,
            "frames_checked": self.frames_checked,
            "control_messages": self.control_messages,
            "unknown_trs": dict(self.unknown_trs),
            "encrypted_unchecked": dict(self.encrypted_unchecked),
            "unknown_kinds": self.unknown_kinds,
            "problems_total": self.problems_total,
            "problem_counts": dict(self.problem_counts),
            "problems": [p.to_json() for p in self.problems],
            "salvaged_to": self.salvaged_to,
            "salvaged_records": self.salvaged_records if self.salvaged_to else None,
        }

    def render(self) -> str:
        out = [f"{self.path}: " + ("OK" if self.ok else f"{self.problems_total} problem(s)")]
        for p in self.problems:
            out.append(f"  {p}")
        if self.problems_total > len(self.problems):
            out.append(f"  … and {self.problems_total - len(self.problems)} more "
                       f"({', '.join(f'{k} {n}' for k, n in sorted(self.problem_counts.items()))})")
        if not self.index_intact:
            out.append("  index: NOT intact (missing or damaged)")
        else:
            out.append("  index: " + ("inconsistent with the data" if self.problem_counts["index"] else "intact"))
        out.append(f"  records read: {self.records}; data frames: {self.data_frames}, "
                   f"{self.frames_checked} checked against their TR table; control messages: {self.control_messages}")
        if self.unknown_trs:
            out.append("  not checked, no TR table: "
                       + ", ".join(f"{t} {n}" for t, n in sorted(self.unknown_trs.items())))
        if self.encrypted_unchecked:
            out.append("  not checked, encrypted with no recorded key: "
                       + ", ".join(f"{t} {n}" for t, n in sorted(self.encrypted_unchecked.items())))
        if self.unknown_kinds:
            out.append(f"  skipped: {self.unknown_kinds} records of a kind this version does not define")
        if self.salvaged_to:
            out.append(f"  salvaged: {self.salvaged_records} records written to {self.salvaged_to}")
        return "\n".join(out)


class _Prefix(io.RawIOBase):
    """The first ``size`` bytes of a file: shows a reader the frames without the index after them, so it
    rebuilds the index by scanning, for comparison with the stored one."""

    def __init__(self, path: str, size: int) -> None:
        self.name = path
        self._file = open(path, "rb")  # noqa: SIM115  (closed in close())
        self._size = size
        self._pos = 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1) -> bytes:
        left = max(0, self._size - self._pos)
        n = left if n is None or n < 0 else min(n, left)
        self._file.seek(self._pos)
        data = self._file.read(n)
        self._pos += len(data)
        return data

    def close(self) -> None:
        self._file.close()
        super().close()


def _check_index(path: str, stored: list[IndexEntry], report: VerificationReport) -> None:
    """Compare the stored index with the one a scan of the frames gives."""
    if not stored:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)  # the scan's view has no index on purpose
        with _Prefix(path, stored[-1].end) as view, ArchiveReader(view) as scan:  # type: ignore[arg-type]
            scanned = scan.index
            damaged = any(w.kind != "index" for w in scan.warnings)
    by_offset = {e.offset: e for e in scanned}
    for number, entry in enumerate(stored, 1):
        found = by_offset.get(entry.offset)
        if found is None:
            if damaged:  # a frame the scan could not read: the pass over the records reports it
                continue
            report.add(Problem("index", f"index entry {number} lists a frame at offset {entry.offset} "
                                        "that a scan of the file does not find", offset=entry.offset))
            continue
        diffs = [f"{name} {getattr(entry, name)!r} in the index, {getattr(found, name)!r} in the frame"
                 for name in ("size", "records", "first_wall_ns", "last_wall_ns")
                 if getattr(entry, name) != getattr(found, name)]
        if entry.tr_ids != found.tr_ids:
            diffs.append(f"TRs {sorted(entry.tr_ids)} in the index, {sorted(found.tr_ids)} in the frame")
        if diffs:
            report.add(Problem("index", f"index entry {number} (frame at offset {entry.offset}): "
                                        + "; ".join(diffs), offset=entry.offset))
    listed = {e.offset for e in stored}
    for e in scanned:
        if e.offset not in listed:
            report.add(Problem("index", f"frame at offset {e.offset} ({e.records} records) is not in the index",
                               offset=e.offset))


class _RecordChecker:
    """Checks one record at a time against the codec; pure apart from the report it fills."""

    def __init__(self, report: VerificationReport, tz: str) -> None:
        self.report = report
        self.tz = tz
        self.decoder = FrameDecoder()
        self._valid: dict[FieldType, set[str]] = {}  #: texts the codec accepted, per field type
        self._memo_of: dict[str, tuple[set[str], ...]] = {}  #: per TR: each field's set of _valid

    def _where(self, number: int, record: ArchiveRecord) -> str:
        return f"{format_session_time(record.wall_ns, self.tz)} conn {record.conn}"

    def check(self, number: int, record: ArchiveRecord) -> None:
        report = self.report
        kind = record.kind
        if kind == RecordKind.DATA:
            report.data_frames += 1
            self._check_data(number, record)
        elif kind == RecordKind.CONTROL:
            report.control_messages += 1
            self.decoder.observe(record)
            if not isinstance(_json(record.payload), dict):
                report.add(Problem("control", f"({self._where(number, record)}) control message is not a JSON "
                                              f"object: {record.text[:60]!r}", record=number))
        elif kind == RecordKind.GAP:
            obj = _json(record.payload)
            if not (isinstance(obj, dict) and isinstance(obj.get("start_ns"), int)
                    and isinstance(obj.get("end_ns"), int)):
                report.add(Problem("gap", f"({self._where(number, record)}) GAP record is not "
                                          f'{{"start_ns","end_ns","reason"}} JSON: {record.text[:60]!r}',
                                   record=number))

    def _check_data(self, number: int, record: ArchiveRecord) -> None:
        report = self.report
        try:
            frame = self.decoder.parse(record)
        except FieldCountError as exc:
            report.add(Problem("frame", f"({self._where(number, record)}) {exc}", record=number, tr_id=exc.tr_id))
            return
        except FrameError as exc:
            tr_id = _tr_of(record.payload)
            report.add(Problem("frame", f"({self._where(number, record)}) {exc}", record=number, tr_id=tr_id))
            return
        if frame.encrypted and not frame.records:
            report.encrypted_unchecked[frame.tr_id] += 1
            return
        if frame.spec is None:
            report.unknown_trs[frame.tr_id] += 1
            return
        report.frames_checked += 1
        for rec in frame.records:
            try:
                self._validate(rec)
            except FieldValueError as exc:
                report.add(Problem("frame", f"({self._where(number, record)}) {exc}", record=number,
                                   tr_id=frame.tr_id, field=exc.field))

    def _validate(self, rec: Record) -> None:
        """``rec.validate()``, remembering which texts the codec accepted for each field type.

        A feed repeats the same prices, sizes and times endlessly, so asking the codec once per distinct
        text makes verify several times faster; the verdict is still the codec's (``rec[name]`` decodes
        with the TR table's type and raises :class:`FieldValueError` naming record and field).
        """
        spec = rec.spec
        assert spec is not None
        memo = self._memo_of.get(spec.tr_id)
        if memo is None:
            memo = self._memo_of[spec.tr_id] = tuple(self._valid.setdefault(f.type, set()) for f in spec.fields)
        for i, raw in enumerate(rec.raw):
            valid = memo[i]
            if raw not in valid:
                rec[spec.fields[i].name]  # decoding is the check
                if len(valid) >= _MEMO_LIMIT:
                    valid.clear()
                valid.add(raw)


def verify_archive(
    path: str | os.PathLike[str],
    *,
    salvage: str | os.PathLike[str] | None = None,
    progress: Callable[[ArchiveReader], None] | None = None,
    every: int = 4096,
) -> VerificationReport:
    """Verify the archive at ``path`` (see the module doc); with ``salvage``, also write what is intact.

    Raises :class:`~kis_replay.archive.ArchiveError` only when the file is not a readable archive at all
    (missing, not an archive, unreadable header): everything else is a :class:`Problem` in the report.
    """
    path = os.fspath(path)
    if salvage is not None and same_file(path, salvage):
        raise ArchiveError(f"{os.fspath(salvage)}: the salvage output would overwrite the archive being verified")
    report = VerificationReport(path)
    with ArchiveReader(path) as reader:
        header = reader.header
        report.index_intact = reader.index_intact
        if report.index_intact:
            _check_index(path, reader.index, report)
        tz = header.timezone
        try:
            session_zone(tz)
        except ValueError as exc:
            report.add(Problem("header", f"{exc}: times below are UTC", offset=0))
            tz = "UTC"
        checker = _RecordChecker(report, tz)
        writer = None
        if salvage is not None:
            labels = dict(header.labels, salvaged_from=os.path.basename(path))
            writer = ArchiveWriter(salvage, dataclasses.replace(header, labels=labels, version=FORMAT_VERSION))
        number = 0
        seen_warnings = 0
        try:
            for record in reader.records():
                if len(reader.warnings) > seen_warnings:  # a skipped frame: keep numbering as written
                    number += sum(w.records_lost or 0 for w in reader.warnings[seen_warnings:])
                    seen_warnings = len(reader.warnings)
                number += 1
                report.records += 1
                checker.check(number, record)
                if writer is not None:
                    writer.write_record(record)
                if progress is not None and report.records % every == 0:
                    progress(reader)
        finally:
            if writer is not None:
                writer.close()
                report.salvaged_to = os.fspath(salvage) if salvage is not None else None
                report.salvaged_records = writer.records_written
        report.unknown_kinds = reader.stats.records_unknown
        for w in reader.warnings:
            report.add(Problem(w.kind, w.message, offset=w.offset))
    return report


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        return None


def _tr_of(payload: bytes) -> str | None:
    parts = payload.split(b"|", 2)
    return parts[1].decode("utf-8", "replace")[:20] if len(parts) > 2 else None
