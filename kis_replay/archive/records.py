"""One archived event: what crossed the wire, when, in which direction, on which connection.

The stored numbers of the enums are part of the file format; how records are laid out in a frame is
:mod:`~kis_replay.archive.batches`.
"""

from __future__ import annotations

import enum
import struct
from typing import NamedTuple

__all__ = ["DIRECTION_OF", "KIND_OF", "RECORD_HEAD", "ArchiveRecord", "Direction", "RecordKind"]


class RecordKind(enum.IntEnum):
    """What the record is. Values are stored in the file: never renumber, only add."""

    DATA = 1  #: a KIS data frame (``0|TR|001|...``), a text WebSocket message
    CONTROL = 2  #: a JSON text message: subscribe request, reply, PINGPONG
    BINARY = 3  #: a binary WebSocket message (KIS does not send them; kept if it ever does)
    OPENED = 4  #: a connection was opened (payload: free-form UTF-8, e.g. the URL)
    CLOSED = 5  #: a connection was closed (payload: free-form UTF-8, e.g. close code and reason)
    GAP = 6  #: the recorder knows it missed data (payload: JSON ``{"start_ns","end_ns","reason"}``)
    PING = 7  #: a WebSocket ping control frame (payload: its application data)
    PONG = 8  #: a WebSocket pong control frame (payload: its application data)


class Direction(enum.IntEnum):
    """Who sent it. Values are stored in the file: never renumber, only add."""

    SERVER_TO_CLIENT = 0
    CLIENT_TO_SERVER = 1
    NONE = 2  #: events that are not messages: OPENED, CLOSED, GAP


class ArchiveRecord(NamedTuple):
    """One event. ``payload`` is the message byte for byte (approval keys redacted); decode on demand."""

    wall_ns: int  #: receive time, UTC nanoseconds since the Unix epoch (``time.time_ns()``)
    mono_ns: int  #: receive time on the recording process's monotonic clock (replay schedules on it)
    direction: Direction
    conn: int  #: connection number within the session (a reconnect gets the next number)
    kind: RecordKind
    payload: bytes

    @property
    def text(self) -> str:
        """The payload as text (every KIS message is UTF-8; undecodable bytes become U+FFFD)."""
        return self.payload.decode("utf-8", "replace")

    @property
    def stored_size(self) -> int:
        """Bytes the record takes in the archive before compression: its columns (:data:`RECORD_HEAD`) and
        its payload. Summed over a file, the uncompressed size that ``kis-replay info``'s ratio is of (batch
        counts and the header, a few bytes a frame, are left out)."""
        return RECORD_HEAD.size + len(self.payload)


#: One record's fixed fields, as the batch columns hold them (``batches.py``): payload length u32, kind u8,
#: direction u8, connection u32, wall_ns i64, mono_ns i64. ``RECORD_HEAD.size`` is a record's stored size
#: beyond its payload (before compression): :attr:`ArchiveRecord.stored_size` is the public way to ask.
RECORD_HEAD = struct.Struct("<IBBIqq")

#: Lookup tables from stored numbers to enum members: indexing a tuple is far cheaper than calling the
#: enum on every record of a multi-million-record scan. ``None`` marks numbers version 1 does not define.
KIND_OF: tuple[RecordKind | None, ...] = (None, *RecordKind) + (None,) * (256 - 1 - len(RecordKind))
DIRECTION_OF: tuple[Direction | None, ...] = (*Direction,) + (None,) * (256 - len(Direction))
