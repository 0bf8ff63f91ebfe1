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
)
from .slicing import same_file

__all__ = ["MergeResult", "merge_archives", "merged_header"]


@dataclass(frozen=True)
class MergeResult:
    path: str
    records: int
    connections: int
    inputs: int
    warnings: list[ArchiveWarning]  #: damage the readers stepped over in the inputs


def merged_header(headers: Sequence[ArchiveHeader], names: Sequence[str]) -> ArchiveHeader:
    """The header of the merge of archives with ``headers`` (files ``names``)."""
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
        header = merged_header([r.header for r in readers], names)
        streams: list[Iterator[tuple[int, int, ArchiveRecord]]] = []
        mono_shift: list[int] = []
        firsts: list[ArchiveRecord | None] = []
        for number, reader in enumerate(readers):
            records = reader.records()
            first = next(records, None)
            firsts.append(first)
            if first is not None:
                records = _chain(first, records)
            streams.append(_tagged(number, records))
        started = [f for f in firsts if f is not None]
        if started:
            origin = min(started, key=lambda r: r.wall_ns)
            for first in firsts:
                mono_shift.append(0 if first is None else
                                  origin.mono_ns + (first.wall_ns - origin.wall_ns) - first.mono_ns)
        conns: dict[tuple[int, int], int] = {}
        written = 0
        with ArchiveWriter(output, header) as writer:
            for _wall, number, record in heapq.merge(*streams, key=lambda t: (t[0], t[1])):
                conn = conns.get((number, record.conn))
                if conn is None:
                    conn = conns[(number, record.conn)] = len(conns)
                writer.write_record(record._replace(conn=conn, mono_ns=record.mono_ns + mono_shift[number]))
                written += 1
                if progress is not None and written % every == 0:
                    progress(readers)
    return MergeResult(os.fspath(output), written, len(conns), len(inputs),
                       [w for r in readers for w in r.warnings])


def _chain(first: ArchiveRecord, rest: Iterator[ArchiveRecord]) -> Iterator[ArchiveRecord]:
    yield first
    yield from rest
