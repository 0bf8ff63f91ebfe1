"""ArchiveReader: records out of a ``.kisrec.zst`` file, with constant memory, seeking and recovery.

Frames are decompressed one at a time (the writer bounds their size), each one checked against its zstd
content checksum before any of its records is handed out, so a corrupt frame costs its own records and
never yields garbage. The seek index, when intact, lets a time or TR filter skip frames without
decompressing them; without one (the writer died), the reader walks the frames itself, which is also how
it finds a cut or a damaged stretch and steps over it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from io import BytesIO
from itertools import chain, compress, repeat
from operator import and_
from types import TracebackType
from typing import BinaryIO

import zstandard

from .batches import BATCH_HEAD, BatchColumns, batch_end, decode_batch
from .errors import ArchiveError, ArchiveWarning
from .header import PREAMBLE, ArchiveHeader, decode_preamble
from .index import IndexEntry, read_index
from .records import DIRECTION_OF, KIND_OF, ArchiveRecord, Direction, RecordKind
from .routes import route_of
from .zstd_frames import find_next_frame, walk_frame

__all__ = ["ArchiveReader", "ReaderStats"]

_READ_CHUNK = 1 << 20
_KNOWN_KINDS = bytes(int(k) for k in RecordKind)
_KNOWN_DIRECTIONS = bytes(int(d) for d in Direction)
_ROUTED_KINDS = (RecordKind.DATA, RecordKind.CONTROL)
_new_record = tuple.__new__  # ArchiveRecord(...) without the NamedTuple's Python-level __new__


@dataclass
class ReaderStats:
    """What reading cost: lets tests (and ``kis-replay info``) see that a seek skipped frames."""

    frames_decompressed: int = 0
    compressed_bytes_read: int = 0
    bytes_decompressed: int = 0
    records_parsed: int = 0
    records_unknown: int = 0  #: records of a kind or direction this version does not define (skipped)


@dataclass
class _Frame:
    """One decompressed frame of records, with what the reader knows about where it came from."""

    offset: int
    end: int
    data: bytes
    complete: bool
    entry: IndexEntry | None


class ArchiveReader:
    """Read an archive: ``path`` or an open binary file (seekable; left open). Opens lazily.

    Iterating gives every record; :meth:`records` filters. Damage is reported in :attr:`warnings` (and
    through :func:`warnings.warn`), never raised; only an unreadable file or header raises
    :class:`ArchiveError`.
    """

    def __init__(self, path: str | os.PathLike[str] | BinaryIO) -> None:
        if isinstance(path, str | os.PathLike):
            self.path: str = os.fspath(path)
            self._given: BinaryIO | None = None
        else:
            self.path = getattr(path, "name", None) if isinstance(getattr(path, "name", None), str) else "<stream>"
            self._given = path
        self._file: BinaryIO | None = None
        self._header: ArchiveHeader | None = None
        self._size = 0
        self._data_start = 0
        self._data_end = 0
        self._index: list[IndexEntry] | None = None
        self._scanned_index: list[IndexEntry] | None = None
        self._dctx = zstandard.ZstdDecompressor()
        self.warnings: list[ArchiveWarning] = []
        self._warned: set[tuple[str, int]] = set()
        self.stats = ReaderStats()

    # -- opening ---------------------------------------------------------------------------------------

    def _open(self) -> BinaryIO:
        if self._file is not None:
            return self._file
        if self._given is not None:
            f = self._given
        else:
            try:
                f = open(self.path, "rb")  # noqa: SIM115  (closed in close())
            except OSError as exc:
                raise ArchiveError(f"{self.path}: cannot open: {exc.strerror or exc}") from None
        try:
            self._size = f.seek(0, os.SEEK_END)
            self._header, self._data_start = self._read_header(f)
            self._index, self._data_end, problem = read_index(f, self._size, self._data_start)
        except BaseException:
            if self._given is None:
                f.close()
            raise
        self._file = f
        if self._index is None:
            why = problem or "no seek index at the end of the file (the writer did not close it: killed, " \
                             "out of disk, or the file was cut)"
            self._warn("index", self._data_end, f"{why}; finding records by scanning")
        return f

    def _read_header(self, f: BinaryIO) -> tuple[ArchiveHeader, int]:
        if self._size == 0:
            raise ArchiveError(f"{self.path}: empty file, not a kis-replay archive")
        span = walk_frame(f, 0, self._size)
        if span.problem or span.skippable:
            raise ArchiveError(f"{self.path}: offset 0: not a kis-replay archive (not a zstd frame)")
        if not span.complete:
            raise ArchiveError(f"{self.path}: offset {self._size}: file cut inside the header frame")
        data, error = self._decompress(f, 0, span.end, complete=True, count=False)
        if error:
            raise ArchiveError(f"{self.path}: offset 0: header frame does not decode: {error}")
        try:
            _version, length = decode_preamble(data)
            if len(data) != PREAMBLE.size + length:
                raise ArchiveError(f"header frame holds {len(data)} bytes, the preamble says "
                                   f"{PREAMBLE.size + length}")
            header = ArchiveHeader.from_json(data[PREAMBLE.size:])
        except ArchiveError as exc:
            raise ArchiveError(f"{self.path}: offset 0: {exc}") from None
        if header.version != _version:
            raise ArchiveError(f"{self.path}: offset 0: header JSON says version {header.version}, "
                               f"its preamble {_version}")
        return header, span.end

    def close(self) -> None:
        if self._file is not None and self._given is None:
            self._file.close()
        self._file = None

    def __enter__(self) -> ArchiveReader:
        self._open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- what the file is ------------------------------------------------------------------------------

    @property
    def header(self) -> ArchiveHeader:
        self._open()
        assert self._header is not None
        return self._header

    @property
    def index_intact(self) -> bool:
        """Whether the file ends with a valid seek index (a closed, undamaged file does)."""
        self._open()
        return self._index is not None

    @property
    def index(self) -> list[IndexEntry]:
        """One entry per frame of records: from the file when intact, else rebuilt by a full scan."""
        self._open()
        if self._index is not None:
            return self._index
        if self._scanned_index is None:
            entries = []
            for frame in self._frames(None, None, None):
                n, lo, hi = 0, 1 << 63, -(1 << 63)
                tr_ids: set[str] = set()
                for c in self._columns_of(frame):
                    n, lo, hi = n + c.count, min(lo, min(c.walls)), max(hi, max(c.walls))
                    for r in self._all_of(frame.data, c):
                        route = route_of(r.kind, r.direction, r.payload) if r.kind in _ROUTED_KINDS else None
                        if route is not None:
                            tr_ids.add(route[0])
                if n:
                    entries.append(IndexEntry(frame.offset, frame.end - frame.offset, lo, hi, n,
                                              frozenset(tr_ids)))
            self._scanned_index = entries
        return self._scanned_index

    @property
    def record_count(self) -> int:
        return sum(e.records for e in self.index)

    @property
    def first_wall_ns(self) -> int | None:
        index = self.index
        return min(e.first_wall_ns for e in index) if index else None

    @property
    def last_wall_ns(self) -> int | None:
        index = self.index
        return max(e.last_wall_ns for e in index) if index else None

    # -- records ---------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[ArchiveRecord]:
        return self.records()

    def records(
        self,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
        tr_ids: Collection[str] | None = None,
        tr_keys: Collection[str] | None = None,
        directions: Collection[Direction] | None = None,
        kinds: Collection[RecordKind] | None = None,
    ) -> Iterator[ArchiveRecord]:
        """Records in file order with ``start_ns <= wall_ns < end_ns`` and the other filters.

        ``tr_ids``/``tr_keys`` keep only the DATA frames and CONTROL messages of those TRs / instruments
        (an encrypted frame's tr_key is unknown, so a ``tr_keys`` filter drops it). Frames the seek
        index shows to be outside the time range or without any of ``tr_ids`` are not decompressed.
        """
        self._open()
        flt = _Filter.of(start_ns, end_ns, tr_ids, tr_keys, directions, kinds)
        frames = self._frames(start_ns, end_ns, flt.tr_ids if flt else None)
        return chain.from_iterable(self._runs(frames, flt))

    def _runs(self, frames: Iterator[_Frame], flt: _Filter | None) -> Iterator[Iterator[ArchiveRecord]]:
        """One iterator of records per batch of the frames: per record, only C code runs (no filter), and
        one ``chain`` joins them (a chain per frame would add a step to every record)."""
        for frame in frames:
            for c in self._columns_of(frame):
                records = self._all_of(frame.data, c)
                if flt is None:
                    yield records
                    continue
                selectors = None
                if flt.start_ns is not None or flt.end_ns is not None:
                    lo = -(1 << 63) if flt.start_ns is None else flt.start_ns
                    hi = (1 << 63) if flt.end_ns is None else flt.end_ns
                    first, last = min(c.walls), max(c.walls)
                    if last < lo or first >= hi:
                        continue
                    if not (lo <= first and last < hi):
                        selectors = map(and_, map(lo.__le__, c.walls), map(hi.__gt__, c.walls))
                if flt.kind_mask is not None:
                    by_kind = map(flt.kind_mask.__getitem__, c.kinds)
                    selectors = by_kind if selectors is None else map(and_, selectors, by_kind)
                if flt.direction_mask is not None:
                    by_direction = map(flt.direction_mask.__getitem__, c.directions)
                    selectors = by_direction if selectors is None else map(and_, selectors, by_direction)
                if selectors is not None:
                    records = compress(records, selectors)
                if flt.tr_ids is not None or flt.tr_keys is not None:
                    records = filter(flt.route_matches, records)
                yield records

    def _columns_of(self, frame: _Frame) -> Iterator[BatchColumns]:
        """The decoded batches of one frame; a batch a cut went through is dropped and reported."""
        data = frame.data
        size = len(data)
        pos = count = 0
        problem: str | None = None
        while pos + BATCH_HEAD.size <= size:
            found = batch_end(data, pos)
            if isinstance(found, str):
                problem = found
                break
            end, n = found
            if end > size:
                break
            columns = decode_batch(data, pos, n)
            if isinstance(columns, str):
                problem = columns
                break
            count += n
            self.stats.records_parsed += n
            yield columns
            pos = end
        if problem is not None:
            lost = None if frame.entry is None else frame.entry.records - count
            self._warn("corrupt", frame.offset, f"frame at offset {frame.offset}: {problem}; the rest of the "
                                                f"frame is skipped, {'unknown' if lost is None else lost} "
                                                "records lost", records_lost=lost)
        elif not frame.complete:
            self._warn("cut", self._size,
                       f"file cut at offset {self._size}, inside the frame at offset {frame.offset}: "
                       f"{count} records recovered from that frame"
                       + (f", {size - pos} bytes of an unfinished batch dropped" if pos != size else ""),
                       records_recovered=count)
        elif pos != size:
            self._warn("corrupt", frame.offset,
                       f"frame at offset {frame.offset} ends inside a batch ({size - pos} bytes left over)")

    def _all_of(self, data: bytes, c: BatchColumns) -> Iterator[ArchiveRecord]:
        """Every record of a decoded batch, built by C-level maps (no Python code per record)."""
        # reading the payloads in turn off one buffer (BytesIO shares ``data``, no copy) is one C call
        # per record, where slicing costs an offset sum, a slice object and the call
        payloads_in = BytesIO(data)
        payloads_in.seek(c.payload_start)
        payloads = map(payloads_in.read, c.lengths)
        n = c.count
        # a batch is mostly one kind and one direction: then one enum member repeated, no lookup per record
        kinds = repeat(KIND_OF[c.kinds[0]], n) if c.kinds.count(c.kinds[0]) == n else \
            map(KIND_OF.__getitem__, c.kinds)
        directions = repeat(DIRECTION_OF[c.directions[0]], n) if c.directions.count(c.directions[0]) == n \
            else map(DIRECTION_OF.__getitem__, c.directions)
        fields = zip(c.walls, c.monos(), directions, c.conns, kinds, payloads, strict=True)
        if c.kinds.translate(None, _KNOWN_KINDS) or c.directions.translate(None, _KNOWN_DIRECTIONS):
            known = [f for f in fields if f[2] is not None and f[4] is not None]
            self.stats.records_unknown += n - len(known)
            return map(_new_record, repeat(ArchiveRecord), known)
        return map(_new_record, repeat(ArchiveRecord), fields)

    def _frames(self, start_ns: int | None, end_ns: int | None,
                tr_ids: frozenset[str] | None) -> Iterator[_Frame]:
        """Decompressed, checksum-verified frames of records (a cut last frame: as much as there is)."""
        f = self._open()
        if self._index is not None:
            for e in self._index:
                if ((start_ns is not None and e.last_wall_ns < start_ns)
                        or (end_ns is not None and e.first_wall_ns >= end_ns)
                        or (tr_ids is not None and tr_ids.isdisjoint(e.tr_ids))):
                    continue
                data, error = self._decompress(f, e.offset, e.end, complete=True)
                if error:
                    self._warn("corrupt", e.offset,
                               f"frame at offset {e.offset} ({e.size} bytes) is corrupt: "
                               f"{self._damage(f, e.offset, e.end, error)}; skipped, {e.records} records lost",
                               records_lost=e.records)
                    continue
                yield _Frame(e.offset, e.end, data, True, e)
            return
        pos, size = self._data_start, self._size
        while pos < size:
            span = walk_frame(f, pos, size)
            if span.problem is None and span.skippable:
                if not span.complete:
                    self._warn("cut", size, f"file cut at offset {size}, inside the skippable frame at "
                                            f"offset {pos} (the seek index); no records lost",
                               records_recovered=0)
                pos = span.end
                continue
            if span.problem is None:
                data, error = self._decompress(f, pos, span.end, complete=span.complete)
                if not error:
                    yield _Frame(pos, span.end, data, span.complete, None)
                    pos = span.end
                    continue
                error = self._damage(f, pos, span.end, error)
            else:
                error = span.problem
            resume = self._resync(f, pos + 1)
            self._warn("corrupt", pos,
                       f"damaged frame at offset {pos}: {error}; skipped "
                       + (f"to the next good frame at offset {resume}" if resume < size else "to the end of file")
                       + "; records lost unknown (no seek index)")
            pos = resume

    def _resync(self, f: BinaryIO, start: int) -> int:
        """The offset of the next frame that walks and decodes cleanly (the file size if there is none)."""
        pos = start
        while True:
            candidate = find_next_frame(f, pos, self._size)
            if candidate is None:
                return self._size
            span = walk_frame(f, candidate, self._size)
            if span.problem is None and (span.skippable or (
                    span.checksum and not self._decompress(f, candidate, span.end, complete=span.complete,
                                                           count=False)[1])):
                return candidate
            pos = candidate + 1

    def _damage(self, f: BinaryIO, offset: int, end: int, error: str) -> str:
        """Say where in the frame ``[offset, end)`` decoding failed: feed it block by block."""
        if "checksum" in error:  # every block decoded, to the wrong bytes: no telling which one
            return f"{error} (the frame's content checksum: a block decoded to wrong bytes)"
        blocks: list[int] = []
        walk_frame(f, offset, end, blocks)
        dobj = self._dctx.decompressobj()
        for start, stop in zip([offset, *blocks], [*blocks, end], strict=True):
            f.seek(start)
            try:
                dobj.decompress(f.read(stop - start))
            except zstandard.ZstdError:
                what = "frame header" if start == offset else f"block at offset {start}"
                return f"{error} (in the {what})"
        return f"{error} (somewhere in its {len(blocks)} blocks)"

    def _decompress(self, f: BinaryIO, offset: int, end: int, *, complete: bool,
                    count: bool = True) -> tuple[bytes, str | None]:
        """The content of the frame in ``[offset, end)`` and ``None``, or what there is and the error."""
        dobj = self._dctx.decompressobj()
        parts = []
        pos = offset
        try:
            while pos < end:
                f.seek(pos)
                chunk = f.read(min(_READ_CHUNK, end - pos))
                if not chunk:
                    break
                pos += len(chunk)
                parts.append(dobj.decompress(chunk))
        except zstandard.ZstdError as exc:
            return b"".join(parts), str(exc)
        data = b"".join(parts)
        if dobj.eof and dobj.unused_data:
            return data, f"{len(dobj.unused_data)} bytes follow the end of the zstd frame"
        if count:
            self.stats.frames_decompressed += 1
            self.stats.compressed_bytes_read += pos - offset
            self.stats.bytes_decompressed += len(data)
        if complete and not dobj.eof:
            return data, "the frame ends before its last block"
        return data, None

    def _warn(self, kind: str, offset: int, message: str, *, records_lost: int | None = None,
              records_recovered: int | None = None) -> None:
        if (kind, offset) in self._warned:
            return
        self._warned.add((kind, offset))
        warning = ArchiveWarning(kind, offset, f"{self.path}: {message}", records_lost, records_recovered)
        self.warnings.append(warning)
        warnings.warn(warning, stacklevel=4)


@dataclass(frozen=True)
class _Filter:
    """What :meth:`ArchiveReader.records` keeps, in the forms its batch-at-a-time filtering needs."""

    start_ns: int | None
    end_ns: int | None
    tr_ids: frozenset[str] | None
    tr_keys: frozenset[str] | None
    kind_mask: tuple[bool, ...] | None  # indexed by the stored kind number
    direction_mask: tuple[bool, ...] | None

    @classmethod
    def of(cls, start_ns: int | None, end_ns: int | None, tr_ids: Collection[str] | None,
           tr_keys: Collection[str] | None, directions: Collection[Direction] | None,
           kinds: Collection[RecordKind] | None) -> _Filter | None:
        if all(x is None for x in (start_ns, end_ns, tr_ids, tr_keys, directions, kinds)):
            return None
        kind_set = None if kinds is None else {int(k) for k in kinds}
        dir_set = None if directions is None else {int(d) for d in directions}
        return cls(
            start_ns, end_ns,
            None if tr_ids is None else frozenset(tr_ids),
            None if tr_keys is None else frozenset(tr_keys),
            None if kind_set is None else tuple(i in kind_set for i in range(256)),
            None if dir_set is None else tuple(i in dir_set for i in range(256)),
        )

    def route_matches(self, record: ArchiveRecord) -> bool:
        route = route_of(record.kind, record.direction, record.payload)
        if route is None:
            return False
        return (self.tr_ids is None or route[0] in self.tr_ids) and (self.tr_keys is None or route[1] in self.tr_keys)
