"""The AES key and iv that the recorded session's acks handed out, for the fake server to hand out again.

An encrypted frame (``1|TR|001|<base64>``) only decrypts with the key and iv of the connection that
received it, so a replay gives its clients the recorded ones rather than fresh ones. They come from the
recording's subscribe acks (server→client CONTROL records whose ``output`` carries ``key``/``iv``,
``encrypt`` ``Y`` or not). The recording's other control frames are not replayed.

A recording that reconnected holds frames encrypted under each connection's own key, while a replay hands
one key per route to its clients: :class:`SessionCiphers` re-encrypts the later connections' frames under
the first connection's key (same plaintext, same frame otherwise), so that every frame a client gets
decrypts with the key it was given.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, replace

from ..archive import ArchiveReader, ArchiveRecord, Direction, RecordKind
from ..codec import CodecError, ControlReply, FrameCipher, format_frame, is_pingpong, parse_frame, parse_message

__all__ = ["SUBSCRIBE_ACK", "RecordedAck", "SessionCiphers", "ack_of", "recorded_acks", "recorded_ciphers"]

log = logging.getLogger(__name__)

#: the msg_cd of a successful subscription, the only reply whose ``output`` is a session's cipher
SUBSCRIBE_ACK = "OPSP0000"


@dataclass(frozen=True, slots=True)
class RecordedAck:
    """A successful subscribe ack of the recording that carried a key and iv."""

    wall_ns: int
    conn: int
    tr_id: str
    tr_key: str
    cipher: FrameCipher


def recorded_acks(reader: ArchiveReader, tr_ids: Collection[str] | None = None) -> Iterator[RecordedAck]:
    """The recording's subscribe acks with a cipher, in archive order (only those of ``tr_ids`` if given:
    the archive's index then skips the frames without them, so a replay can look up one TR's acks
    without reading the whole archive).

    A reply that does not parse, or whose key or iv has the wrong length, is logged with its receive time
    and skipped: it never stops a replay.
    """
    records = reader.records(kinds=(RecordKind.CONTROL,), directions=(Direction.SERVER_TO_CLIENT,), tr_ids=tr_ids)
    yield from filter(None, map(ack_of, records))


def ack_of(record: ArchiveRecord) -> RecordedAck | None:
    """The subscribe ack with a cipher that the server→client CONTROL ``record`` is, else ``None``.

    The one reading of a recorded ack, shared by :func:`recorded_acks` and the replayer's catalog scan
    (which meets the acks in its own pass over the archive). A reply that does not parse, or whose key
    or iv has the wrong length, is logged with its receive time and gives ``None``.
    """
    text = record.text
    if SUBSCRIBE_ACK not in text or is_pingpong(text):
        return None  # cheap pre-check: most control records are PINGPONGs
    try:
        reply = parse_message(text)
        if not isinstance(reply, ControlReply) or reply.msg_cd != SUBSCRIBE_ACK:
            return None
        cipher = reply.cipher()
    except CodecError as exc:
        log.warning("skipping a recorded control reply received at %d ns: %s", record.wall_ns, exc)
        return None
    if cipher is None:
        return None
    return RecordedAck(record.wall_ns, record.conn, reply.tr_id, reply.tr_key, cipher)


def recorded_ciphers(reader: ArchiveReader) -> dict[tuple[str, str], FrameCipher]:
    """``(tr_id, tr_key)`` → the cipher of the recording's first successful subscribe ack for that route."""
    return SessionCiphers(recorded_acks(reader)).ciphers


class SessionCiphers:
    """The one cipher per route that a replay hands out, and the re-encryption of frames that need it.

    ``ciphers`` maps each route to its first ack's cipher. A frame received on connection *c* was
    encrypted with the cipher of *c*'s first ack for its TR; :meth:`unify` re-encrypts it under the
    route's cipher when the two differ.
    """

    def __init__(self, acks: Iterable[RecordedAck]) -> None:
        self.ciphers: dict[tuple[str, str], FrameCipher] = {}
        self._by_conn: dict[tuple[int, str], RecordedAck] = {}
        for ack in acks:
            self.ciphers.setdefault((ack.tr_id, ack.tr_key), ack.cipher)
            self._by_conn.setdefault((ack.conn, ack.tr_id), ack)

    def unify(self, text: str, conn: int) -> str:
        """``text`` encrypted under the cipher the replay hands out for its route (unchanged when it already
        is, when it is not encrypted, or when the recording has no ack to say otherwise)."""
        if not text.startswith("1|"):
            return text
        try:
            frame = parse_frame(text)
        except CodecError:
            return text  # not routable either; the timeline skips and logs it
        own = self._by_conn.get((conn, frame.tr_id))
        if own is None:
            return text
        shared = self.ciphers[(own.tr_id, own.tr_key)]
        if shared == own.cipher:
            return text
        try:
            plain = own.cipher.decrypt(frame.payload)
        except CodecError as exc:
            log.warning("%s frame of connection %d does not decrypt with its ack's key (%s): replayed as "
                        "recorded", frame.tr_id, conn, exc)
            return text
        return format_frame(replace(frame, payload=shared.encrypt(plain)))
