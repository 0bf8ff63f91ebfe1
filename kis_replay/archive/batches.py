"""Record batches: the byte layout of records inside a zstd frame (``docs/archive-format.md``).

Records are stored in batches, column by column: each field of every record of the batch together, then
the payloads back to back. Columns compress far better than interleaved heads (a column of small time
deltas is mostly zeros; the payload text is not interrupted by binary), and they decode in a handful of
C-level calls (``struct.unpack_from`` of a whole column, ``itertools.accumulate`` of the deltas) instead
of a Python loop per field, which is what makes a million records a second possible in Python.

A batch is what the writer compresses at once (at a flush, at a frame's end, or at ~256 KiB), so a reader
of a cut file gets every complete batch and drops the one the cut went through: never a partial record.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from itertools import accumulate, repeat
from operator import add, sub
from typing import NamedTuple

from .records import RECORD_HEAD

__all__ = ["BATCH_HEAD", "BATCH_TAG", "BatchColumns", "decode_batch", "encode_batch"]

#: Batch head: tag ``b"KRB1"``, record count n (u32), total payload bytes (u32). Then the columns:
#: payload lengths u32[n], kinds u8[n], directions u8[n], connections u32[n], wall_ns deltas i64[n] (the
#: difference from the previous record's; the first is the value itself), clock-skew deltas i64[n] (the
#: same for ``mono_ns - wall_ns``: both clocks are read together, so this is nearly always 0), then the
#: payloads concatenated.
BATCH_TAG = b"KRB1"
BATCH_HEAD = struct.Struct("<4sII")
BYTES_PER_RECORD = RECORD_HEAD.size  # column bytes per record, payload excluded

#: Bounds that keep every delta inside an i64 (wall_ns: 1970 to 2116; mono_ns: ±73 years).
WALL_RANGE = (0, 1 << 62)
MONO_RANGE = (-(1 << 61), 1 << 61)


class BatchColumns(NamedTuple):
    """One decoded batch: per-record columns and the offset in the frame where its payloads start."""

    count: int
    lengths: tuple[int, ...]
    kinds: bytes
    directions: bytes
    conns: tuple[int, ...]
    walls: list[int]
    wall_deltas: tuple[int, ...]  #: the stored column
    skew_deltas: tuple[int, ...]  #: the stored column; just ``(skew,)`` when every record has the same skew
    payload_start: int

    def monos(self) -> Iterator[int]:
        """Each record's ``mono_ns``, computed as it is read: only building the records needs them, once,
        so they are not held in a list like :attr:`walls`. The running sum of the mono deltas (wall delta
        plus skew delta: two small numbers) costs less than adding each record's large skew to its wall."""
        if len(self.skew_deltas) == 1:
            return map(add, self.walls, repeat(self.skew_deltas[0]))
        return accumulate(map(add, self.wall_deltas, self.skew_deltas))


def encode_batch(lengths: Sequence[int], kinds: bytes | bytearray, directions: bytes | bytearray,
                 conns: Sequence[int], walls: Sequence[int], monos: Sequence[int],
                 payloads: Sequence[bytes]) -> bytes:
    """The bytes of one batch (uncompressed). The caller has checked the value ranges."""
    n = len(lengths)
    wall_deltas = list(map(sub, walls, [0, *walls[:-1]]))
    skews = list(map(sub, monos, walls))
    skew_deltas = list(map(sub, skews, [0, *skews[:-1]]))
    return b"".join((
        BATCH_HEAD.pack(BATCH_TAG, n, sum(lengths)),
        struct.pack(f"<{n}I", *lengths),
        bytes(kinds),
        bytes(directions),
        struct.pack(f"<{n}I", *conns),
        struct.pack(f"<{n}q", *wall_deltas),
        struct.pack(f"<{n}q", *skew_deltas),
        *payloads,
    ))


def batch_end(data: bytes, pos: int) -> tuple[int, int] | str:
    """``(end, count)`` of the batch at ``pos``, or a description of what is wrong there.

    ``end`` may lie beyond ``len(data)``: the batch is then incomplete (a cut file).
    """
    tag, n, payload_bytes = BATCH_HEAD.unpack_from(data, pos)
    if tag != BATCH_TAG:
        return f"no batch tag at frame offset {pos} (found {tag!r})"
    return pos + BATCH_HEAD.size + n * BYTES_PER_RECORD + payload_bytes, n


def decode_batch(data: bytes, pos: int, count: int) -> BatchColumns | str:
    """The columns of the complete batch at ``pos`` (checked by :func:`batch_end`), or what is wrong."""
    n = count
    p = pos + BATCH_HEAD.size
    lengths = struct.unpack_from(f"<{n}I", data, p)
    p += 4 * n
    kinds = data[p:p + n]
    directions = data[p + n:p + 2 * n]
    p += 2 * n
    first_conn = data[p:p + 4]
    if first_conn * n == data[p:p + 4 * n]:  # one connection (the usual batch): no unpacking
        conns: tuple[int, ...] = (int.from_bytes(first_conn, "little"),) * n
    else:
        conns = struct.unpack_from(f"<{n}I", data, p)
    p += 4 * n
    wall_deltas = struct.unpack_from(f"<{n}q", data, p)
    walls = list(accumulate(wall_deltas))
    p += 8 * n
    if data.count(0, p + 8, p + 8 * n) == 8 * (n - 1):  # a constant skew (a synthetic session's)
        skew_deltas: tuple[int, ...] = struct.unpack_from("<q", data, p)
    else:
        skew_deltas = struct.unpack_from(f"<{n}q", data, p)
    p += 8 * n
    if sum(lengths) != BATCH_HEAD.unpack_from(data, pos)[2]:
        return f"batch at frame offset {pos}: payload lengths do not add up to the batch's payload size"
    return BatchColumns(n, lengths, kinds, directions, conns, walls, wall_deltas, skew_deltas, p)
