"""``kis-replay slice``: the records of a time window, as a complete archive of their own.

The window is ``start_ns <= wall_ns < end_ns`` (start inclusive, end exclusive, on receive times), so
slices cut at the same instants tile the archive: slicing ``[a, b)`` and ``[b, c)`` and merging them gives
back the records of ``[a, c)``. The reader's seek index means only the frames that overlap the window are
decompressed.

One kind of record from before the window is carried over: the last subscribe ack of each connection and
TR that hands out an AES key and iv. Without it the encrypted frames of the slice could never be read
again (KIS gives the key only in the ack). Acks keep their original receive times, so they come first.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

from ..archive import (
    FORMAT_VERSION,
    ArchiveError,
    ArchiveReader,
    ArchiveRecord,
    ArchiveWarning,
    ArchiveWriter,
    Direction,
    RecordKind,
    format_session_time,
)
from ..codec import get_spec, parse_reply
from .decoding import FrameDecoder

__all__ = ["SliceResult", "same_file", "slice_archive"]


@dataclass(frozen=True)
class SliceResult:
    """What a slice wrote: records of the window, acks carried over for their keys."""

    path: str
    records: int
    carried_acks: int
    warnings: list[ArchiveWarning]  #: damage the reader stepped over in the source


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``b`` names the file ``a`` (writing an output over its input would destroy the input)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def key_acks_before(reader: ArchiveReader, start_ns: int) -> list[ArchiveRecord]:
    """The last ack per (connection, TR) before ``start_ns`` that carries an AES key and iv.

    Only TRs that may be encrypted are looked for (the codec says so, or has no table for the TR), and
    the seek index skips the frames without them, so for a plain session this reads nothing.
    """
    candidates = {
        tr_id for e in reader.index if e.first_wall_ns < start_ns for tr_id in e.tr_ids
        if (spec := get_spec(tr_id)) is None or spec.encrypted
    }
    if not candidates:
        return []
    decoder = FrameDecoder()
    latest: dict[tuple[int, str], ArchiveRecord] = {}
    for record in reader.records(end_ns=start_ns, tr_ids=candidates, kinds=[RecordKind.CONTROL],
                                 directions=[Direction.SERVER_TO_CLIENT]):
        if decoder.observe(record) is not None:
            latest[(record.conn, parse_reply(record.payload).tr_id)] = record
    return sorted(latest.values(), key=lambda r: r.wall_ns)


def slice_archive(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    start_ns: int | None,
    end_ns: int | None,
    *,
    progress: Callable[[ArchiveReader], None] | None = None,
    every: int = 4096,
) -> SliceResult:
    """Write the records of ``source`` with ``start_ns <= wall_ns < end_ns`` to a new archive ``output``.

    ``None`` leaves that side open. The header is the source's, with a label naming the source and the
    window. Raises :class:`~kis_replay.archive.ArchiveError` on an unreadable source or unwritable output.
    """
    if same_file(source, output):
        raise ArchiveError(f"{os.fspath(output)}: the output would overwrite the input archive")
    if start_ns is not None and end_ns is not None and end_ns < start_ns:
        raise ArchiveError(f"the window ends before it starts ({end_ns} < {start_ns})")
    with ArchiveReader(source) as reader:
        header = reader.header
        window = {"from_ns": start_ns, "to_ns": end_ns,
                  "from": None if start_ns is None else format_session_time(start_ns, header.timezone),
                  "to": None if end_ns is None else format_session_time(end_ns, header.timezone)}
        labels = dict(header.labels, sliced_from=os.path.basename(os.fspath(source)), slice=window)
        acks = key_acks_before(reader, start_ns) if start_ns is not None else []
        written = 0
        with ArchiveWriter(output, dataclasses.replace(header, labels=labels, version=FORMAT_VERSION)) as writer:
            for ack in acks:
                writer.write_record(ack)
            for record in reader.records(start_ns=start_ns, end_ns=end_ns):
                writer.write_record(record)
                written += 1
                if progress is not None and written % every == 0:
                    progress(reader)
    return SliceResult(os.fspath(output), written, len(acks), list(reader.warnings))
