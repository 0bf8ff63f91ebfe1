"""``kis-replay cat`` output formats: archive records → lines of text, one format a class.

Each format is a pure object: :meth:`header` gives the lines that open the output, :meth:`lines` the
lines of one archive record. The command streams records through one of them, so memory stays constant
whatever the archive's size. Decoding uses the codec through :class:`~.decoding.FrameDecoder`; no format
knows a field list (the csv columns are the TR table's names).

- ``raw``: the payload exactly as received, one record a line.
- ``jsonl``: one JSON object per archive record (time, wall_ns, direction, conn, kind, payload); with
  ``decode``, one object per *decoded record* of a data frame, its fields by name (raw strings: exact).
- ``csv``: one row per decoded record of a single TR, the TR table's field names as columns after the
  receive time (``received``, ``wall_ns``, ``conn``).
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from ..archive import ArchiveRecord, RecordKind
from ..codec import CodecError, DataFrame, TrSpec
from .decoding import FrameDecoder

__all__ = ["CSV_META_COLUMNS", "CsvExport", "ExportFormat", "JsonlExport", "RawExport", "RecordExport"]

#: The columns a csv row starts with, before the TR's fields.
CSV_META_COLUMNS = ("received", "wall_ns", "conn")


class ExportFormat(enum.StrEnum):
    RAW = "raw"
    JSONL = "jsonl"
    CSV = "csv"


class RecordExport:
    """One output format. ``problems`` counts records that could not be decoded (reported, not fatal)."""

    def __init__(self, clock: Callable[[int], str], decoder: FrameDecoder | None = None) -> None:
        self.clock = clock
        self.decoder = decoder
        self.problems = 0
        self.last_problem: str | None = None

    def header(self) -> list[str]:
        return []

    def lines(self, record: ArchiveRecord) -> Iterator[str]:
        raise NotImplementedError

    def _decode(self, record: ArchiveRecord) -> tuple[DataFrame | None, str | None]:
        """``(frame, None)`` or ``(None, why)``; keeps counting what failed."""
        assert self.decoder is not None
        try:
            frame = self.decoder.parse(record, lenient=True)
        except CodecError as exc:
            return None, self._problem(str(exc))
        if frame.encrypted and not frame.records:
            return None, self._problem(f"{frame.tr_id}: encrypted frame and no recorded ack gives its key")
        return frame, None

    def _problem(self, why: str) -> str:
        self.problems += 1
        self.last_problem = why
        return why


class RawExport(RecordExport):
    """The payload text as received; a binary payload (never sent by KIS) as ``\\x`` escapes."""

    def lines(self, record: ArchiveRecord) -> Iterator[str]:
        if record.kind == RecordKind.BINARY:
            yield record.payload.decode("ascii", "backslashreplace")
        else:
            yield record.text


class JsonlExport(RecordExport):
    """One JSON object per archive record, or per decoded record of a data frame when decoding."""

    def __init__(self, clock: Callable[[int], str], decoder: FrameDecoder | None = None) -> None:
        super().__init__(clock, decoder)
        self._names_of: dict[str, tuple[str, ...]] = {}

    def _names(self, spec: TrSpec | None) -> tuple[str, ...]:
        """The TR table's field names, once per TR (``TrSpec.names`` builds the tuple on every call)."""
        assert spec is not None
        names = self._names_of.get(spec.tr_id)
        if names is None:
            names = self._names_of[spec.tr_id] = spec.names
        return names

    def _meta(self, record: ArchiveRecord) -> dict[str, Any]:
        return {
            "time": self.clock(record.wall_ns),
            "wall_ns": record.wall_ns,
            "direction": record.direction.name.lower(),
            "conn": record.conn,
            "kind": record.kind.name.lower(),
        }

    def lines(self, record: ArchiveRecord) -> Iterator[str]:
        obj = self._meta(record)
        if self.decoder is None or record.kind not in (RecordKind.DATA, RecordKind.CONTROL, RecordKind.GAP):
            obj["payload"] = _payload_text(record)
            yield _dumps(obj)
            return
        if record.kind != RecordKind.DATA:  # control messages and gaps are JSON: show them parsed
            try:
                obj["message"] = json.loads(record.payload)
            except (ValueError, RecursionError):
                obj["payload"] = _payload_text(record)
                obj["error"] = self._problem(f"{record.kind.name} record is not JSON")
            yield _dumps(obj)
            return
        frame, why = self._decode(record)
        if frame is None:
            obj["payload"] = _payload_text(record)
            obj["error"] = why
            yield _dumps(obj)
            return
        obj["tr_id"] = frame.tr_id
        obj["count"] = frame.count
        for rec in frame.records:
            line = dict(obj, tr_key=rec.tr_key, record=rec.index + 1)
            if rec.valid:
                line["fields"] = dict(zip(self._names(rec.spec), rec.raw, strict=True))
            else:  # unknown TR, or a field count the table does not match: numbered raw fields
                line["fields"] = {str(i): value for i, value in enumerate(rec.raw)}
                if rec.spec is not None:
                    line["error"] = self._problem(_raw_only(rec.spec, len(rec.raw), frame.tr_id))
            yield _dumps(line)


class CsvExport(RecordExport):
    """Rows of one TR: receive time, then the TR table's fields in order."""

    def __init__(self, clock: Callable[[int], str], decoder: FrameDecoder, spec: TrSpec) -> None:
        super().__init__(clock, decoder)
        self.spec = spec
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="")

    def _row(self, values: list[str] | tuple[str, ...]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(values)
        return self._buffer.getvalue()

    def header(self) -> list[str]:
        return [self._row([*CSV_META_COLUMNS, *self.spec.names])]

    def lines(self, record: ArchiveRecord) -> Iterator[str]:
        if record.kind != RecordKind.DATA:
            return
        frame, _ = self._decode(record)
        if frame is None or frame.tr_id != self.spec.tr_id:
            return
        meta = [self.clock(record.wall_ns), str(record.wall_ns), str(record.conn)]
        for rec in frame.records:
            if not rec.valid:
                self._problem(_raw_only(rec.spec, len(rec.raw), frame.tr_id) + f" (record {rec.index + 1})")
                continue
            yield self._row([*meta, *rec.raw])


def _raw_only(spec: TrSpec | None, actual: int, tr_id: str) -> str:
    if spec is None:
        return f"{tr_id}: unknown TR, raw fields only"
    return f"{tr_id}: {actual} fields, expected {spec.field_count}"


def _payload_text(record: ArchiveRecord) -> str:
    if record.kind == RecordKind.BINARY:
        return record.payload.decode("ascii", "backslashreplace")
    return record.text


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
