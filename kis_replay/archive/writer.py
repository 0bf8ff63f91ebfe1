"""ArchiveWriter: events in, a crash-safe, seekable ``.kisrec.zst`` file out.

The file is a plain zstd stream (``zstdcat`` reads it) made of independent frames: the header frame, one
frame per ``frame_seconds`` of session time, and the seek index as a skippable frame at the end. Within a
frame, a zstd block is flushed to the OS at least every ``flush_interval`` seconds of real time, so a
process killed at any moment leaves every flushed record readable. Records are batched in memory and
compressed in chunks, which is what makes ~10^5-10^6 writes a second possible from Python.
"""

from __future__ import annotations

import json
import os
import time
from types import TracebackType
from typing import BinaryIO

import zstandard

from .errors import ArchiveError
from .header import ArchiveHeader, encode_header
from .index import IndexEntry, encode_index
from .records import RECORD_HEAD, ArchiveRecord, Direction, RecordKind
from .redaction import Redactor
from .routes import route_of

__all__ = ["ArchiveWriter"]

_COMPRESS_CHUNK = 1 << 18  # compress the batch once it holds this many bytes
_VALID_KINDS = frozenset(int(k) for k in RecordKind)
_VALID_DIRECTIONS = frozenset(int(d) for d in Direction)
_DATA = int(RecordKind.DATA)
_CONTROL = int(RecordKind.CONTROL)
_U32 = 1 << 32


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
        self.records_written = 0
        self.bytes_written = 0
        self._redactor = Redactor()
        self._cctx = zstandard.ZstdCompressor(level=level, write_checksum=True)
        self._index: list[IndexEntry] = []
        self._batch = bytearray()
        self._cobj: zstandard.ZstdCompressionObj | None = None
        self._frame_offset = 0
        self._frame_bytes = 0
        self._frame_records = 0
        self._frame_first = 0
        self._frame_min = 0
        self._frame_max = 0
        self._frame_tr_ids: set[str] = set()
        self._last_wall: int | None = None
        self._last_mono: int | None = None
        try:
            self._file: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115  (closed in close())
        except OSError as exc:
            raise ArchiveError(f"{self.path}: cannot create the archive: {exc.strerror or exc}") from None
        self._emit(self._cctx.compress(encode_header(header)))
        self._sync()
        self._last_flush = time.monotonic()

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
            wall_ns = time.time_ns()
        if mono_ns is None:
            mono_ns = time.monotonic_ns()
        if type(payload) is not bytes:
            if isinstance(payload, str):
                payload = payload.encode("utf-8")
            elif isinstance(payload, bytes | bytearray | memoryview):
                payload = bytes(payload)
            else:
                raise TypeError(f"payload must be bytes or str, not {type(payload).__name__}")
        if kind not in _VALID_KINDS or direction not in _VALID_DIRECTIONS or not 0 <= conn < _U32:
            raise ValueError(f"bad record: kind={kind!r}, direction={direction!r}, conn={conn!r}")
        if kind == _CONTROL:
            payload = self._redactor.redact(payload)
        size = RECORD_HEAD.size + len(payload)
        if self._frame_records and (
            wall_ns - self._frame_first >= self.frame_ns or self._frame_bytes + size > self.max_frame_bytes
        ):
            self._end_frame()
        if not self._frame_records:
            self._frame_first = self._frame_min = self._frame_max = wall_ns
        elif wall_ns > self._frame_max:
            self._frame_max = wall_ns
        elif wall_ns < self._frame_min:
            self._frame_min = wall_ns
        batch = self._batch
        try:
            batch += RECORD_HEAD.pack(len(payload), kind, direction, 0, conn, wall_ns, mono_ns)
        except Exception as exc:  # struct.error: a time or length out of range
            raise ValueError(f"record does not fit the format: {exc}") from None
        batch += payload
        self._frame_records += 1
        self._frame_bytes += size
        self.records_written += 1
        self._last_wall, self._last_mono = wall_ns, mono_ns
        if kind in (_DATA, _CONTROL):
            route = route_of(kind, direction, payload)
            if route is not None:
                self._frame_tr_ids.add(route[0])
        if len(batch) >= _COMPRESS_CHUNK:
            self._compress(None)
        if time.monotonic() - self._last_flush >= self.flush_interval:
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
            mono_ns = (time.monotonic_ns() if self._last_mono is None or self._last_wall is None
                       else self._last_mono + (wall_ns - self._last_wall))
        payload = json.dumps({"start_ns": start_ns, "end_ns": end_ns, "reason": reason},
                             ensure_ascii=False, separators=(",", ":"))
        self.write(RecordKind.GAP, payload, direction=Direction.NONE, conn=conn, wall_ns=wall_ns, mono_ns=mono_ns)

    # -- flushing ------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Make every record written so far readable from the file, even if the process dies next."""
        if self._file is None:
            return
        if self._batch or self._cobj is not None:
            self._compress(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        self._sync()
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """End the last frame, append the seek index, flush. Closing twice does nothing."""
        if self._file is None:
            return
        try:
            if self._frame_records:
                self._end_frame()
            self._emit(encode_index(self._index))
            self._sync()
        finally:
            self._file.close()
            self._file = None

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------------

    def _compress(self, flush_mode: int | None) -> None:
        """Feed the batch to the current frame's compressor; ``flush_mode`` also emits a block/frame end."""
        if self._cobj is None:
            self._cobj = self._cctx.compressobj()
            self._frame_offset = self.bytes_written
        out = self._cobj.compress(bytes(self._batch)) if self._batch else b""
        self._batch.clear()
        if flush_mode is not None:
            out += self._cobj.flush(flush_mode)
        if out:
            self._emit(out)

    def _end_frame(self) -> None:
        self._compress(zstandard.COMPRESSOBJ_FLUSH_FINISH)
        self._cobj = None
        self._index.append(IndexEntry(
            self._frame_offset, self.bytes_written - self._frame_offset, self._frame_min, self._frame_max,
            self._frame_records, frozenset(self._frame_tr_ids),
        ))
        self._frame_records = 0
        self._frame_bytes = 0
        self._frame_tr_ids = set()

    def _emit(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)
        self.bytes_written += len(data)

    def _sync(self) -> None:
        assert self._file is not None
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

