"""Find zstd frame boundaries in a file without decompressing (RFC 8878, sections 3.1.1 and 3.1.2).

The reader needs frame boundaries for three things zstandard's streaming API does not give cheaply:
telling a cut frame from a complete one, stepping over a corrupt frame to the next, and re-synchronising
on the next frame magic when a block header itself is damaged. Walking block headers reads 3 bytes per
block (at most 128 KiB of compressed data each), so it costs next to nothing next to decompression.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, NamedTuple

__all__ = ["ZSTD_MAGIC", "FrameSpan", "find_next_frame", "skippable_magic", "walk_frame"]

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_SKIPPABLE_TAIL = b"\x2a\x4d\x18"  # skippable magics are 0x184D2A50..0x184D2A5F, little-endian
_BLOCK_MAX = 128 * 1024
_FCS_SIZES = (0, 2, 4, 8)
_DICT_ID_SIZES = (0, 1, 2, 4)
_SCAN_CHUNK = 1 << 20


def skippable_magic(nibble: int) -> bytes:
    """The 4 bytes that start a skippable frame with magic ``0x184D2A5<nibble>``."""
    return struct.pack("<I", 0x184D2A50 | nibble)


class FrameSpan(NamedTuple):
    """Where one frame lies: ``[offset, end)``; ``complete`` is False when the file ends inside it.

    ``problem`` names what is wrong with the bytes at ``offset`` (not a frame, a bad block header) and is
    ``None`` for a well-formed frame; ``end`` is then meaningless.
    """

    offset: int
    end: int
    skippable: bool
    complete: bool
    problem: str | None = None
    checksum: bool = False


def walk_frame(f: BinaryIO, offset: int, size: int, blocks: list[int] | None = None) -> FrameSpan:
    """The span of the frame that starts at ``offset`` in ``f`` (a file of ``size`` bytes).

    ``blocks``, if given, receives the offset of each block header walked (to tell which block is bad).
    """
    f.seek(offset)
    head = f.read(18)  # the longest frame header: magic 4, descriptor 1, window 1, dict id 4, size 8
    if len(head) < 4:  # the file was cut just after a frame began
        return FrameSpan(offset, size, False, False)
    if head[1:4] == _SKIPPABLE_TAIL and head[0] & 0xF0 == 0x50:
        if len(head) < 8:
            return FrameSpan(offset, size, True, False)
        end = offset + 8 + struct.unpack_from("<I", head, 4)[0]
        return FrameSpan(offset, min(end, size), True, end <= size)
    if head[:4] != ZSTD_MAGIC:
        return FrameSpan(offset, offset, False, False, f"no zstd frame magic at offset {offset}")
    if len(head) < 5:
        return FrameSpan(offset, size, False, False)
    descriptor = head[4]
    if descriptor & 0x08:
        return FrameSpan(offset, offset, False, False, f"reserved bit set in the frame header at offset {offset}")
    single_segment = bool(descriptor & 0x20)
    fcs_flag = descriptor >> 6
    fcs = 1 if (fcs_flag == 0 and single_segment) else _FCS_SIZES[fcs_flag]
    header_len = 5 + (0 if single_segment else 1) + _DICT_ID_SIZES[descriptor & 0x03] + fcs
    checksum = bool(descriptor & 0x04)
    pos = offset + header_len
    while True:
        if pos + 3 > size:
            return FrameSpan(offset, size, False, False, checksum=checksum)
        f.seek(pos)
        block = int.from_bytes(f.read(3), "little")
        if blocks is not None:
            blocks.append(pos)
        last, block_type, block_size = block & 1, (block >> 1) & 3, block >> 3
        if block_type == 3:
            return FrameSpan(offset, pos, False, False, f"reserved block type at offset {pos}", checksum)
        if block_size > _BLOCK_MAX:
            return FrameSpan(offset, pos, False, False, f"block of {block_size} bytes at offset {pos}", checksum)
        pos += 3 + (1 if block_type == 1 else block_size)
        if last:
            pos += 4 if checksum else 0
            return FrameSpan(offset, min(pos, size), False, pos <= size, checksum=checksum)
        if pos > size:
            return FrameSpan(offset, size, False, False, checksum=checksum)


def find_next_frame(f: BinaryIO, start: int, size: int) -> int | None:
    """Offset of the first zstd or skippable frame magic at or after ``start`` (``None``: none left).

    A magic can occur by chance inside compressed data, so callers must check what they find.
    """
    pos = start
    while pos < size:
        f.seek(pos)
        chunk = f.read(min(_SCAN_CHUNK, size - pos))
        best = chunk.find(ZSTD_MAGIC)
        at = chunk.find(_SKIPPABLE_TAIL)
        while at == 0 or (at > 0 and chunk[at - 1] & 0xF0 != 0x50):
            at = chunk.find(_SKIPPABLE_TAIL, at + 1)
        if at >= 1 and (best < 0 or at - 1 < best):
            best = at - 1
        if best >= 0:
            return pos + best
        if pos + len(chunk) >= size:
            return None
        pos += len(chunk) - 3  # a magic may straddle the chunk boundary
    return None
