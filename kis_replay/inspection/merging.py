"""``kis-replay merge``: several archives into one, ordered by receive time, streaming.

A k-way merge (:func:`heapq.merge`) of the inputs' record streams on ``wall_ns``; records with equal
times keep the order of the inputs as given. Memory is one record per input plus the writer's frame.

- Connection numbers: every input numbers its connections from 0, so ``(input, conn)`` pairs are given
  new numbers in the order they first appear in the merged stream (a reconnect still gets a higher
  number than the connection before it, as in a recording).
- Monotonic times: each input has its own monotonic clock, so each is shifted to one axis: the earliest
  input keeps its ``mono_ns``; another input's records keep their spacing and start as much later on that
  axis as their first receive time is later. The replayer schedules on this axis.
- Header: the first input's, with the union of all subscriptions, ``filtered`` only if every input says
  so, and labels naming every input (file, source, created, its own labels).

Parts of one rotated recording are joined back instead: when every input's header carries the same
``labels["recording"]["id"]`` (written by :class:`~kis_replay.recorder.rolling.RollingArchive`), the
connection numbers and monotonic times are the recording's own and are kept as they are, and a part
whose previous part is among the inputs loses the ``repeated_acks`` subscribe acks it starts with
(copies, made so that each part decrypts on its own). So the merge of a rotation is the record stream
the recorder would have written into one file. A part given twice is an error.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from ..archive import (
    FORMAT_VERSION,
    ArchiveError,
    ArchiveHeader,
    ArchiveReader,
    ArchiveRecord,
    ArchiveWarning,
    ArchiveWriter,
    Direction,
    RecordKind,
)
from .slicing import same_file

__all__ = ["MergeResult", "RecordingPart", "merge_archives", "merged_header"]


@dataclass(frozen=True)
class MergeResult:
    path: str
    records: int
    connections: int
    inputs: int
    warnings: list[ArchiveWarning]  #: damage the readers stepped over in the inputs


@dataclass(frozen=True)
class RecordingPart:
    """Where a file sits in a rotated recording: ``labels["recording"]`` of its header."""

    id: str
    part: int  #: from 1
    repeated_acks: int  #: records at the file's start that repeat acks of an earlier part

    @classmethod
    def of(cls, header: ArchiveHeader) -> RecordingPart | None:
        """The part ``header`` describes, or ``None`` (not written by a rotating recorder, or labels edited
        into another shape)."""
        label = header.labels.get("recording")
        if not isinstance(label, dict):
            return None
        rid, part, repeated = label.get("id"), label.get("part"), label.get("repeated_acks")
        if not (isinstance(rid, str) and rid and isinstance(part, int) and part >= 1
                and isinstance(repeated, int) and repeated >= 0):
            return None
        return cls(rid, part, repeated)


def _one_recording(readers: Sequence[ArchiveReader], names: Sequence[str]) -> list[RecordingPart] | None:
    """The inputs' parts when all are parts of one recording, else ``None``; a repeated part is an error."""
    parts = [RecordingPart.of(r.header) for r in readers]
    if any(p is None for p in parts) or len({p.id for p in parts if p is not None}) != 1:
        return None
    seen: dict[int, str] = {}
    for name, part in zip(names, parts, strict=True):
        assert part is not None
        if part.part in seen:
            raise ArchiveError(f"{name}: part {part.part} of recording {part.id} is given twice "
                               f"(also as {seen[part.part]})")
        seen[part.part] = name
    return [p for p in parts if p is not None]


def _without_repeated_acks(records: Iterator[ArchiveRecord], count: int) -> Iterator[ArchiveRecord]:
    """``records`` less the acks among its first ``count`` (anything else there is kept: never lose data)."""
    for n, record in enumerate(records):
        if n < count and record.kind == RecordKind.CONTROL and record.direction == Direction.SERVER_TO_CLIENT:
            continue
        yield record


def merged_header(headers: Sequence[ArchiveHeader], names: Sequence[str],
                  recording: Sequence[RecordingPart] | None = None) -> ArchiveHeader:
    """The header of the merge of archives with ``headers`` (files ``names``); ``recording``: their parts,
    when they are parts of one recording (the merge is then labelled with the recording's id and parts)."""
    first = headers[0]
    subscriptions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for h in headers:
        for sub in h.subscriptions:
            key = json.dumps(sub, sort_keys=True)
            if key not in seen:
                seen.add(key)
                subscriptions.append(sub)
    filters = {h.filtered for h in headers}
    sources = {h.source for h in headers}
    labels = {
        "merged_from": list(names),
        "inputs": [{"file": n, "source": h.source, "created": h.created, "labels": h.labels}
                   for n, h in zip(names, headers, strict=True)],
    }
    if recording:
        labels["recording"] = {"id": recording[0].id, "parts": sorted(p.part for p in recording)}
    return dataclasses.replace(
        first,
        source=first.source if len(sources) == 1 else "merged",
        subscriptions=subscriptions,
        labels=labels,
        filtered=filters.pop() if len(filters) == 1 else None,
        version=FORMAT_VERSION,
    )


def _tagged(number: int, records: Iterator[ArchiveRecord]) -> Iterator[tuple[int, int, ArchiveRecord]]:
    for record in records:
        yield record.wall_ns, number, record


def merge_archives(
    inputs: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    progress: Callable[[Sequence[ArchiveReader]], None] | None = None,
    every: int = 4096,
) -> MergeResult:
    """Merge the archives ``inputs`` into the new archive ``output`` (see the module doc).

    Raises :class:`~kis_replay.archive.ArchiveError` naming the input that cannot be read, or when
    ``output`` is one of the inputs.
    """
    if len(inputs) < 2:
        raise ArchiveError("merge needs at least two input archives")
    for source in inputs:
        if same_file(source, output):
            raise ArchiveError(f"{os.fspath(output)}: the output would overwrite the input archive")
    names = [os.path.basename(os.fspath(p)) for p in inputs]
    with ExitStack() as stack:
        readers = [stack.enter_context(ArchiveReader(p)) for p in inputs]
        parts = _one_recording(readers, names)
        header = merged_header([r.header for r in readers], names, parts)
        given = {p.part for p in parts} if parts else set()
        streams: list[Iterator[tuple[int, int, ArchiveRecord]]] = []
        mono_shift: list[int] = []
        firsts: list[ArchiveRecord | None] = []
        for number, reader in enumerate(readers):
            records = reader.records()
            if parts and parts[number].part - 1 in given:
                records = _without_repeated_acks(records, parts[number].repeated_acks)
            first = next(records, None)
            firsts.append(first)
            if first is not None:
                records = _chain(first, records)
            streams.append(_tagged(number, records))
        started = [f for f in firsts if f is not None]
        if parts:  # one process, one monotonic clock: nothing to shift
            mono_shift = [0] * len(readers)
        elif started:
            origin = min(started, key=lambda r: r.wall_ns)
            for first in firsts:
                mono_shift.append(0 if first is None else
                                  origin.mono_ns + (first.wall_ns - origin.wall_ns) - first.mono_ns)
        conns: dict[tuple[int, int], int] = {}
        written = 0
        with ArchiveWriter(output, header) as writer:
            for _wall, number, record in heapq.merge(*streams, key=lambda t: (t[0], t[1])):
                key = (0 if parts else number, record.conn)
                conn = conns.get(key)
                if conn is None:
                    conn = conns[key] = record.conn if parts else len(conns)
                writer.write_record(record._replace(conn=conn, mono_ns=record.mono_ns + mono_shift[number]))
                written += 1
                if progress is not None and written % every == 0:
                    progress(readers)
    return MergeResult(os.fspath(output), written, len(conns), len(inputs),
                       [w for r in readers for w in r.warnings])


def _chain(first: ArchiveRecord, rest: Iterator[ArchiveRecord]) -> Iterator[ArchiveRecord]:
    yield first
    yield from rest
