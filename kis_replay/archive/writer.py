"""ArchiveWriter: events in, a crash-safe, seekable ``.kisrec.zst`` file out.

The file is a plain zstd stream (``zstdcat`` reads it) made of independent frames: the header frame, one
frame per ``frame_seconds`` of session time, and the seek index as a skippable frame at the end. Records
wait in memory, column by column, until a batch is complete (a flush, a frame's end, ~256 KiB); a flush
also ends a zstd block and hands it to the OS, at least every ``flush_interval`` seconds of real time, so
a process killed at any moment leaves every flushed record readable.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from types import TracebackType
from typing import BinaryIO, NoReturn

import zstandard

from .batches import BYTES_PER_RECORD, MONO_RANGE, WALL_RANGE, encode_batch
from .errors import ArchiveError
from .header import ArchiveHeader, encode_header
from .index import IndexEntry, encode_index
from .records import ArchiveRecord, Direction, RecordKind
from .redaction import Redactor
from .routes import route_of

__all__ = ["ArchiveWriter"]

_BATCH_BYTES = 1 << 18  # a batch is compressed once it holds this many bytes
_VALID_KINDS = frozenset(int(k) for k in RecordKind)
_VALID_DIRECTIONS = frozenset(int(d) for d in Direction)
_DATA = int(RecordKind.DATA)
_CONTROL = int(RecordKind.CONTROL)
_WALL_LO, _WALL_HI = WALL_RANGE
_MONO_LO, _MONO_HI = MONO_RANGE
_U32 = 1 << 32
_NO_FRAME = -(1 << 63)  # the frame deadline while no frame is open: every wall_ns is past it
_time_ns, _monotonic_ns, _monotonic = time.time_ns, time.monotonic_ns, time.monotonic
#: A data frame's TR id ends before this many bytes in every TR KIS has (``0|H0ZFASP0|``): the writer
#: remembers the TR of each such prefix instead of asking the codec again for every frame.
_ROUTE_PREFIX = 12
_ROUTE_CACHE_MAX = 4096


def _parameters(level: int) -> zstandard.ZstdCompressionParameters:
    """zstd's parameters for ``level``, with checksums, and tuned to KIS frame text.

    KIS frames are digits and carets: matches shorter than 7 bytes are mostly coincidences that cost
    more than the literals they replace. Raising the minimum match to 7 for the match finders of the
    common levels made the archive ~8% smaller at level 3 at the same speed (benchmarks/bench_archive.py);
    the binary-tree match finders of levels ≥ 13 weigh matches by cost already and are left alone.
    """
    params = zstandard.ZstdCompressionParameters.from_level(level, write_checksum=1)
    if params.strategy <= zstandard.STRATEGY_LAZY2 and params.min_match < 7:
        params = zstandard.ZstdCompressionParameters.from_level(level, write_checksum=1, min_match=7)
    return params


class ArchiveWriter:
    """Write one session to ``path`` (overwritten if it exists). Use as a context manager.

    ``flush_interval``: longest real time (seconds) a written record may sit in memory; checked on every
    write, and :meth:`flush` forces it (a caller with its own timer calls it when idle).
    ``frame_seconds``: session time per independent zstd frame, the seek granularity.
    ``max_frame_bytes``: uncompressed size that also ends a frame, so a reader never holds more than this
    in memory whatever the message rate. ``fsync``: make each flush durable against power loss, not only
    against the process dying.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: ArchiveHeader,
        *,
        flush_interval: float = 1.0,
        frame_seconds: float = 10.0,
        level: int = 3,
        max_frame_bytes: int = 8 << 20,
        fsync: bool = True,
    ) -> None:
        if flush_interval < 0 or frame_seconds <= 0 or max_frame_bytes <= 0:
            raise ValueError("flush_interval must be >= 0, frame_seconds and max_frame_bytes > 0")
        self.path = os.fspath(path)
        self.header = header
        self.flush_interval = flush_interval
        self.frame_ns = int(frame_seconds * 1e9)
        self.max_frame_bytes = max_frame_bytes
        self.fsync = fsync
        self.bytes_written = 0
        self._redactor = Redactor()
        self._cctx = zstandard.ZstdCompressor(compression_params=_parameters(level))
        self._cobj: zstandard.ZstdCompressionObj | None = None
        self._index: list[IndexEntry] = []
        self._route_cache: dict[bytes, str] = {}
        #: the open batch: (length, kind, direction, conn, wall_ns, mono_ns, payload) per record
        self._rows: list[tuple[int, int, int, int, int, int, bytes]] = []
        self._records_done = 0  # records in batches already compressed
        # the open frame
        self._frame_deadline = _NO_FRAME  # wall_ns that ends the open frame; _NO_FRAME: no record in it yet
        self._frame_offset = 0
        self._frame_bytes = 0  # uncompressed, batches compressed and the open one
        self._batch_start = 0  # _frame_bytes when the open batch began
        self._frame_records = 0  # in batches already compressed
        self._frame_min = 0
        self._frame_max = 0
        self._frame_tr_ids: set[str] = set()
        self._previous_times: tuple[int, int] | None = None  # of the last record of the last batch
        try:
            header_bytes = encode_header(header)
        except (TypeError, ValueError) as exc:
            raise ArchiveError(f"{self.path}: the header cannot be stored as JSON: {exc}") from None
        try:
            self._file: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115  (closed in close())
        except OSError as exc:
            raise ArchiveError(f"{self.path}: cannot create the archive: {exc.strerror or exc}") from None
        self._emit(self._cctx.compress(header_bytes))
        self._sync()
        self._flush_due = time.monotonic() + flush_interval

    @property
    def records_written(self) -> int:
        return self._records_done + len(self._rows)

    # -- writing -------------------------------------------------------------------------------------

    def write(
        self,
        kind: RecordKind,
        payload: bytes | str,
        *,
        direction: Direction = Direction.SERVER_TO_CLIENT,
        conn: int = 0,
        wall_ns: int | None = None,
        mono_ns: int | None = None,
    ) -> None:
        """Append one event. Times default to now (``time.time_ns()``, ``time.monotonic_ns()``).

        CONTROL payloads pass through the redactor here, the one place approval keys are removed.
        """
        if self._file is None:
            raise ArchiveError(f"{self.path}: write after close")
        if wall_ns is None:
            wall_ns = _time_ns()
        if mono_ns is None:
            mono_ns = _monotonic_ns()
        if type(payload) is str:
            payload = payload.encode("utf-8")
        elif type(payload) is not bytes:
            if isinstance(payload, str):
                payload = payload.encode("utf-8")
            elif isinstance(payload, bytes | bytearray | memoryview):
                payload = bytes(payload)
            else:
                raise TypeError(f"payload must be bytes or str, not {type(payload).__name__}")
        if (kind not in _VALID_KINDS or direction not in _VALID_DIRECTIONS or not 0 <= conn < _U32
                or not _WALL_LO <= wall_ns < _WALL_HI or not _MONO_LO <= mono_ns < _MONO_HI
                or len(payload) >= _U32):
            raise ValueError(f"record does not fit the archive format: kind={kind!r}, direction={direction!r}, "
                             f"conn={conn!r}, wall_ns={wall_ns!r}, mono_ns={mono_ns!r}, {len(payload)} bytes")
        if kind == _CONTROL:
            payload = self._redactor.redact(payload)
        if wall_ns >= self._frame_deadline or self._frame_bytes >= self.max_frame_bytes:
            if self._frame_deadline != _NO_FRAME:
                self._end_frame()
            self._frame_deadline = wall_ns + self.frame_ns
        length = len(payload)
        self._rows.append((length, kind, direction, conn, wall_ns, mono_ns, payload))
        self._frame_bytes += BYTES_PER_RECORD + length
        if kind == _DATA:
            tr_id = self._route_cache.get(payload[:_ROUTE_PREFIX])
            if tr_id is None:
                self._learn_route(kind, direction, payload)
            else:
                self._frame_tr_ids.add(tr_id)
        elif kind == _CONTROL:
            self._learn_route(kind, direction, payload)
        if self._frame_bytes - self._batch_start >= _BATCH_BYTES:
            self._compress_batch(None)
        if _monotonic() >= self._flush_due:
            self.flush()

    def write_record(self, record: ArchiveRecord) -> None:
        """Append an :class:`ArchiveRecord` as it is (times included): copying from another archive."""
        self.write(record.kind, record.payload, direction=record.direction, conn=record.conn,
                   wall_ns=record.wall_ns, mono_ns=record.mono_ns)

    def gap(self, start_ns: int, end_ns: int, reason: str, *, conn: int = 0,
            wall_ns: int | None = None, mono_ns: int | None = None) -> None:
        """Record that data between ``start_ns`` and ``end_ns`` (UTC ns) is missing, and why.

        The record is stamped ``end_ns`` (when the gap became known), and by default its monotonic time
        is the previous record's advanced by the same wall-clock distance, so synthetic and live sessions
        both keep one consistent monotonic axis.
        """
        if wall_ns is None:
            wall_ns = end_ns
        if mono_ns is None:
            mono_ns = time.monotonic_ns() if self._last_times is None else \
                self._last_times[1] + (wall_ns - self._last_times[0])
        payload = json.dumps({"start_ns": start_ns, "end_ns": end_ns, "reason": reason},
                             ensure_ascii=False, separators=(",", ":"))
        self.write(RecordKind.GAP, payload, direction=Direction.NONE, conn=conn, wall_ns=wall_ns, mono_ns=mono_ns)

    # -- flushing ------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Make every record written so far readable from the file, even if the process dies next."""
        if self._file is None:
            return
        if self._rows or self._cobj is not None:
            self._compress_batch(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        self._sync()
        self._flush_due = time.monotonic() + self.flush_interval

    def close(self) -> None:
        """End the last frame, append the seek index, flush. Closing twice does nothing."""
        if self._file is None:
            return
        try:
            if self._frame_deadline != _NO_FRAME:
                self._end_frame()
            self._emit(encode_index(self._index))
            self._sync()
        finally:
            if self._file is not None:  # None: a failed write closed it already
                self._file.close()
                self._file = None

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------------

    @property
    def _last_times(self) -> tuple[int, int] | None:
        """(wall_ns, mono_ns) of the last record written, if any is still known."""
        if self._rows:
            return self._rows[-1][4], self._rows[-1][5]
        return self._previous_times

    def _learn_route(self, kind: int, direction: int, payload: bytes) -> None:
        route = route_of(kind, direction, payload)
        if route is None:
            return
        self._frame_tr_ids.add(route[0])
        if kind == _DATA and len(route[0]) + 3 <= _ROUTE_PREFIX:  # "0|" + tr_id + "|" within the prefix
            if len(self._route_cache) >= _ROUTE_CACHE_MAX:
                self._route_cache.clear()
            self._route_cache[payload[:_ROUTE_PREFIX]] = route[0]

    def _compress_batch(self, flush_mode: int | None) -> None:
        """Compress the open batch into the current frame; ``flush_mode`` also ends a block or the frame."""
        if self._cobj is None:
            self._cobj = self._cctx.compressobj()
            self._frame_offset = self.bytes_written
        out = b""
        rows = self._rows
        if rows:
            lengths, kinds, directions, conns, walls, monos, payloads = zip(*rows, strict=True)
            lo, hi = min(walls), max(walls)
            if self._frame_records:
                lo, hi = min(lo, self._frame_min), max(hi, self._frame_max)
            self._frame_min, self._frame_max = lo, hi
            self._frame_records += len(rows)
            self._records_done += len(rows)
            self._previous_times = walls[-1], monos[-1]
            self._rows = []
            self._batch_start = self._frame_bytes
            out = self._cobj.compress(encode_batch(lengths, bytes(kinds), bytes(directions), conns, walls, monos,
                                                   payloads))
        if flush_mode is not None:
            out += self._cobj.flush(flush_mode)
        if out:
            self._emit(out)

    def _end_frame(self) -> None:
        self._compress_batch(zstandard.COMPRESSOBJ_FLUSH_FINISH)
        self._cobj = None
        self._index.append(IndexEntry(
            self._frame_offset, self.bytes_written - self._frame_offset, self._frame_min, self._frame_max,
            self._frame_records, frozenset(self._frame_tr_ids),
        ))
        self._frame_deadline = _NO_FRAME
        self._frame_records = 0
        self._frame_bytes = 0
        self._batch_start = 0
        self._frame_tr_ids = set()

    def _emit(self, data: bytes) -> None:
        assert self._file is not None
        try:
            self._file.write(data)
        except OSError as exc:
            self._fail(exc)
        self.bytes_written += len(data)

    def _sync(self) -> None:
        assert self._file is not None
        try:
            self._file.flush()
            if self.fsync:
                try:
                    os.fsync(self._file.fileno())
                except OSError as exc:
                    if exc.errno not in (errno.EINVAL, errno.ENOTSUP):  # a pipe or device: nothing to sync
                        raise
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> NoReturn:
        """The file cannot take more (disk full, I/O error): stop, keeping what was flushed readable."""
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()
        raise ArchiveError(f"{self.path}: writing failed near offset {self.bytes_written}: "
                           f"{exc.strerror or exc}; the records flushed before stay readable") from None
