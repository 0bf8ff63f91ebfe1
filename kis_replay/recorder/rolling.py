"""A recording as a sequence of archive files: the output target, rotation, and each file's preamble.

``-o FILE`` writes exactly that file (no rotation); ``-o DIR`` writes time-named files into it
(:func:`~kis_replay.recorder.rotation.archive_name`). Every file is a complete archive on its own: it has
its own header and seek index, and it starts with the subscribe acks of the connection that is live when
it opens (re-stamped with the time of the cut), so a file's encrypted frames decrypt without the files
before it. An existing file is never overwritten: a recording must not destroy an earlier one.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..archive.header import ArchiveHeader
from ..archive.records import Direction, RecordKind
from ..archive.writer import ArchiveWriter
from .rotation import RotationPolicy, archive_name

__all__ = ["OutputError", "OutputTarget", "PreambleRecord", "RollingArchive"]


class OutputError(ValueError):
    """The output path cannot be used (exists, not writable, rotation into a single file)."""


@dataclass(frozen=True)
class OutputTarget:
    """Where a recording goes: a directory of time-named files, or one exact file."""

    directory: Path | None = None
    file: Path | None = None

    @classmethod
    def parse(cls, text: str, *, rotating: bool) -> OutputTarget:
        """``-o``: an existing directory, or a path ending in ``/``, is a directory (created if missing);
        anything else is one file, which must not exist yet and cannot rotate."""
        path = Path(text).expanduser()
        if path.is_dir() or text.endswith(("/", os.sep)):
            return cls(directory=path)
        if rotating:
            raise OutputError(
                f"-o {text}: --rotate writes several time-named files, so -o must be a directory "
                "(an existing one, or a path ending in '/')"
            )
        if path.exists():
            raise OutputError(f"-o {text}: the file exists; refusing to overwrite an earlier recording")
        return cls(file=path)

    def prepare(self) -> None:
        """Create the directory (or the file's parent); errors say which path and why."""
        folder = self.directory if self.directory is not None else (self.file or Path()).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create directory {folder}: {exc.strerror or exc}") from None
        if not os.access(folder, os.W_OK):
            raise OutputError(f"directory {folder} is not writable")

    def next_path(self, wall_ns: int) -> Path:
        """The path of a file opened at ``wall_ns``: a fresh time-named one, or the one file."""
        if self.file is not None:
            return self.file
        assert self.directory is not None
        for serial in range(1000):
            path = self.directory / archive_name(wall_ns, serial)
            if not path.exists():
                return path
        raise OutputError(f"{self.directory}: 1000 archives already start at {archive_name(wall_ns)[:19]}")


@dataclass(frozen=True)
class PreambleRecord:
    """A record repeated at the start of every new file (a subscribe ack of the live connection)."""

    kind: RecordKind
    payload: bytes
    direction: Direction
    conn: int


class RollingArchive:
    """Writes through :class:`~kis_replay.archive.writer.ArchiveWriter`, one file at a time.

    ``header`` is called for each new file (so its ``created`` is that file's); the file's place in the
    recording is added to its labels as ``labels["recording"] = {"id", "part", "repeated_acks"}`` (the
    recording's random id, the part number from 1, and how many records at the file's start repeat acks
    already in an earlier part), so that a tool joining the parts back can tell them from separate
    sessions. :meth:`rotate_if_due` is called by the recorder's timer; it cuts when the
    :class:`RotationPolicy` says so, so a file may exceed a size limit by up to one timer period of data.
    """

    def __init__(
        self,
        target: OutputTarget,
        header: Callable[[], ArchiveHeader],
        *,
        rotation: RotationPolicy | None = None,
        flush_interval: float = 1.0,
        fsync: bool = True,
    ) -> None:
        if rotation is not None and target.file is not None:
            raise OutputError(f"-o {target.file}: rotation needs a directory")
        self.target = target
        self.rotation = rotation
        self._header = header
        self._flush_interval = flush_interval
        self._fsync = fsync
        self.paths: list[Path] = []
        self._closed_bytes = 0
        self._preamble: list[PreambleRecord] = []
        self._writer: ArchiveWriter | None = None
        self._opened_wall_ns = 0
        self.recording_id = secrets.token_hex(8)

    # -- files ---------------------------------------------------------------------------------------

    def open(self, wall_ns: int | None = None) -> Path:
        """Start the first (or next) file."""
        wall_ns = time.time_ns() if wall_ns is None else wall_ns
        path = self.target.next_path(wall_ns)
        header = self._header()
        header.labels = {
            **header.labels,
            "recording": {"id": self.recording_id, "part": len(self.paths) + 1, "repeated_acks": len(self._preamble)},
        }
        self._writer = ArchiveWriter(path, header, flush_interval=self._flush_interval, fsync=self._fsync)
        self._opened_wall_ns = wall_ns
        self.paths.append(path)
        return path

    def rotate_if_due(self, wall_ns: int | None = None, mono_ns: int | None = None) -> Path | None:
        """Cut to a new file if the rotation policy says so; the new path, or ``None``."""
        if self.rotation is None or self._writer is None:
            return None
        wall_ns = time.time_ns() if wall_ns is None else wall_ns
        if not self.rotation.due(self._opened_wall_ns, wall_ns, self._writer.bytes_written):
            return None
        self._close_current()
        path = self.open(wall_ns)
        mono_ns = time.monotonic_ns() if mono_ns is None else mono_ns
        for record in self._preamble:
            self.write(record.kind, record.payload, record.direction, record.conn, wall_ns, mono_ns)
        return path

    def set_preamble(self, records: list[PreambleRecord]) -> None:
        """What every following file starts with (the live connection's acks; empty when offline)."""
        self._preamble = list(records)

    # -- records -------------------------------------------------------------------------------------

    def write(
        self, kind: RecordKind, payload: bytes, direction: Direction, conn: int, wall_ns: int, mono_ns: int
    ) -> None:
        assert self._writer is not None, "RollingArchive.open() first"
        self._writer.write(kind, payload, direction=direction, conn=conn, wall_ns=wall_ns, mono_ns=mono_ns)

    def gap(self, start_ns: int, end_ns: int, reason: str, *, conn: int, mono_ns: int) -> None:
        assert self._writer is not None, "RollingArchive.open() first"
        self._writer.gap(start_ns, end_ns, reason, conn=conn, wall_ns=end_ns, mono_ns=mono_ns)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Flush, write the index, close. Closing twice does nothing."""
        self._close_current()

    @property
    def bytes_written(self) -> int:
        """Compressed bytes written to every file so far."""
        return self._closed_bytes + (self._writer.bytes_written if self._writer is not None else 0)

    @property
    def current_path(self) -> Path | None:
        return self.paths[-1] if self._writer is not None else None

    def _close_current(self) -> None:
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        writer.close()
        self._closed_bytes += writer.bytes_written

