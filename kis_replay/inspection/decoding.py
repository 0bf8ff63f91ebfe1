"""Decoding archived data frames on demand, with the AES key and iv learned from the recorded acks.

The archive stores frames byte for byte; decoding is the codec's job. What the codec cannot know is
which key an encrypted frame needs: KIS hands the key and iv of a session out in the ``output`` of its
subscribe acks (server → client CONTROL records). A stream reader sees the ack before the frames it
unlocks, so :class:`FrameDecoder` only has to remember, per connection, the latest cipher each TR was
acked with. Nothing here reads files: records go in, frames come out.
"""

from __future__ import annotations

from ..archive import ArchiveRecord, Direction, RecordKind
from ..codec import CodecError, DataFrame, FrameCipher, parse_frame, parse_reply

__all__ = ["FrameDecoder"]


class FrameDecoder:
    """Parses DATA records with the codec, decrypting with the ciphers of the acks it was shown.

    Feed every record to :meth:`observe` in archive order (acks teach it keys), then :meth:`parse` the
    DATA records. ``cipher_for(conn, tr_id)`` prefers the ack of that TR on that connection, then any
    ack on that connection (the live service hands out one key per session), then the TR's latest ack on
    any connection (a sliced or merged archive may hold a frame without its own connection's ack).
    """

    def __init__(self) -> None:
        self._by_conn_tr: dict[tuple[int, str], FrameCipher] = {}
        self._by_conn: dict[int, FrameCipher] = {}
        self._by_tr: dict[str, FrameCipher] = {}

    def observe(self, record: ArchiveRecord) -> FrameCipher | None:
        """Learn from ``record`` if it is an ack carrying a key and iv; returns the cipher learned."""
        if record.kind != RecordKind.CONTROL or record.direction != Direction.SERVER_TO_CLIENT:
            return None
        if b'"output"' not in record.payload:  # cheap: most control records are not acks with keys
            return None
        try:
            reply = parse_reply(record.payload)
            cipher = reply.cipher()
        except CodecError:
            return None
        if cipher is None:
            return None
        self._by_conn_tr[(record.conn, reply.tr_id)] = cipher
        self._by_conn[record.conn] = cipher
        if reply.tr_id:
            self._by_tr[reply.tr_id] = cipher
        return cipher

    def cipher_for(self, conn: int, tr_id: str) -> FrameCipher | None:
        """The cipher for an encrypted ``tr_id`` frame received on ``conn``, or ``None`` if none was acked."""
        return self._by_conn_tr.get((conn, tr_id)) or self._by_conn.get(conn) or self._by_tr.get(tr_id)

    def parse(self, record: ArchiveRecord, *, lenient: bool = False) -> DataFrame:
        """The codec's frame of a DATA record, decrypted when an ack gave its key.

        An encrypted frame with no recorded key comes back with no records (the codec's rule); bad
        input raises the codec's :class:`~kis_replay.codec.FrameError`.
        """
        payload = record.payload
        cipher = None
        if payload[:2] == b"1|":
            end = payload.find(b"|", 2)
            tr_id = payload[2:end].decode("ascii", "replace") if end > 0 else ""
            cipher = self.cipher_for(record.conn, tr_id)
        return parse_frame(payload, cipher=cipher, lenient=lenient)
