"""The ``.kisrec.zst`` session archive: what crossed the wire, byte for byte, in a standard zstd stream.

Layout and recovery rules: ``docs/archive-format.md``. Write with :class:`ArchiveWriter`, read with
:class:`ArchiveReader`; user-facing times go through :func:`session_time_to_ns` /
:func:`format_session_time` (KST time of day ⇄ stored UTC ns), and a ``--from/--to`` window through
:func:`session_window`.
"""

from .errors import ArchiveError, ArchiveWarning
from .header import FORMAT_VERSION, SUFFIX, ArchiveHeader
from .index import IndexEntry
from .reader import ArchiveReader, ReaderStats
from .records import ArchiveRecord, Direction, RecordKind
from .routes import route_of
from .session_time import (
    format_session_time,
    parse_time_of_day,
    session_time_to_ns,
    session_window,
    session_zone,
)
from .writer import ArchiveWriter

__all__ = [
    "FORMAT_VERSION",
    "SUFFIX",
    "ArchiveError",
    "ArchiveHeader",
    "ArchiveReader",
    "ArchiveRecord",
    "ArchiveWarning",
    "ArchiveWriter",
    "Direction",
    "IndexEntry",
    "ReaderStats",
    "RecordKind",
    "format_session_time",
    "parse_time_of_day",
    "route_of",
    "session_time_to_ns",
    "session_window",
    "session_zone",
]
