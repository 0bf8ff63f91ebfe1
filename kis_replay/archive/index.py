"""The seek index: one entry per zstd frame of records, stored in a skippable frame at the end of the file.

zstd tools skip it (it is a skippable frame), and readers find it from the end: the file's last 16 bytes
are a footer (JSON length, CRC-32 of the JSON, magic ``KISINDEX``) in the manner of zstd's seekable
format. A writer that dies never writes it; the reader then rebuilds the same entries by scanning.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable
from typing import BinaryIO, NamedTuple

from .zstd_frames import skippable_magic

__all__ = ["INDEX_MAGIC", "IndexEntry", "encode_index", "read_index"]

INDEX_MAGIC = b"KISINDEX"
INDEX_VERSION = 1
_FOOTER = struct.Struct("<II8s")  # JSON length, CRC-32 of the JSON, magic
_SKIPPABLE_HEAD = struct.Struct("<4sI")
_INDEX_FRAME_MAGIC = skippable_magic(0xA)


class IndexEntry(NamedTuple):
    """One zstd frame of records: where it is, which session time it covers, what it holds.

    ``first_wall_ns``/``last_wall_ns`` are the lowest and highest receive times in the frame (the first
    and last record's, unless the wall clock stepped back while recording). ``tr_ids`` are the TRs of its
    data frames and control messages.
    """

    offset: int
    size: int
    first_wall_ns: int
    last_wall_ns: int
    records: int
    tr_ids: frozenset[str] = frozenset()

    @property
    def end(self) -> int:
        return self.offset + self.size


def encode_index(entries: Iterable[IndexEntry]) -> bytes:
    """The complete index frame (skippable frame header, JSON, footer), ready to append."""
    frames = [
        {"offset": e.offset, "size": e.size, "first_wall_ns": e.first_wall_ns, "last_wall_ns": e.last_wall_ns,
         "records": e.records, "tr_ids": sorted(e.tr_ids)}
        for e in entries
    ]
    body = json.dumps({"index_version": INDEX_VERSION, "frames": frames}, separators=(",", ":")).encode()
    footer = _FOOTER.pack(len(body), zlib.crc32(body), INDEX_MAGIC)
    return _SKIPPABLE_HEAD.pack(_INDEX_FRAME_MAGIC, len(body) + len(footer)) + body + footer


def read_index(f: BinaryIO, size: int, data_start: int) -> tuple[list[IndexEntry] | None, int, str | None]:
    """``(entries, index_offset, problem)`` from the end of a file of ``size`` bytes.

    ``entries`` is ``None`` when there is no usable index; ``problem`` then says why (``None``: the file
    simply has no index, as when the writer died). ``index_offset`` is where the index frame starts (the
    end of the record frames), or ``size`` without one. Entries are checked against the file: in offset
    order, contiguous from ``data_start`` up to the index frame.
    """
    if size - data_start < _SKIPPABLE_HEAD.size + _FOOTER.size:
        return None, size, None
    f.seek(size - _FOOTER.size)
    length, crc, magic = _FOOTER.unpack(f.read(_FOOTER.size))
    if magic != INDEX_MAGIC:
        return None, size, None
    start = size - _FOOTER.size - length - _SKIPPABLE_HEAD.size
    if start < data_start:
        return None, size, f"index footer at offset {size - _FOOTER.size} gives an index length of {length}, " \
                           "larger than the file"
    f.seek(start)
    frame_magic, frame_size = _SKIPPABLE_HEAD.unpack(f.read(_SKIPPABLE_HEAD.size))
    if frame_magic != _INDEX_FRAME_MAGIC or frame_size != length + _FOOTER.size:
        return None, size, f"no index frame header at offset {start}"
    body = f.read(length)
    if zlib.crc32(body) != crc:
        return None, size, f"index at offset {start} fails its CRC-32 check"
    try:
        obj = json.loads(body)
        if obj["index_version"] != INDEX_VERSION:
            return None, size, f"index at offset {start} has unknown index_version {obj['index_version']!r}"
        entries = [
            IndexEntry(int(e["offset"]), int(e["size"]), int(e["first_wall_ns"]), int(e["last_wall_ns"]),
                       int(e["records"]), frozenset(str(t) for t in e["tr_ids"]))
            for e in obj["frames"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        return None, size, f"index at offset {start} does not parse: {exc!r}"
    expected = data_start
    for e in entries:
        if e.offset != expected or e.size <= 0 or e.records < 0:
            return None, size, f"index at offset {start} lists a frame at offset {e.offset}, expected {expected}"
        expected = e.end
    if expected != start:
        return None, size, f"index at offset {start} ends its frames at offset {expected}"
    return entries, start, None
