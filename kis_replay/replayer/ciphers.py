"""The AES key and iv that the recorded session's acks handed out, for the fake server to hand out again.

An encrypted frame (``1|TR|001|<base64>``) only decrypts with the key and iv of the session that received
it, so a replay must give its clients the recorded ones rather than fresh ones. They come from the
recording's subscribe acks (server→client CONTROL records whose ``output`` carries ``key``/``iv``,
``encrypt`` ``Y`` or not). The recording's other control frames are not replayed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..codec import CodecError, ControlReply, FrameCipher, is_pingpong, parse_message

if TYPE_CHECKING:
    from ..archive import ArchiveReader

__all__ = ["SUBSCRIBE_ACK", "recorded_ciphers"]

log = logging.getLogger(__name__)

#: the msg_cd of a successful subscription, the only reply whose ``output`` is a session's cipher
SUBSCRIBE_ACK = "OPSP0000"


def recorded_ciphers(reader: ArchiveReader) -> dict[tuple[str, str], FrameCipher]:
    """``(tr_id, tr_key)`` → the cipher of the recording's first successful subscribe ack for that route.

    The first ack is kept: the recording's frames up to its first reconnect are encrypted with it. A
    reply that does not parse, or whose key or iv has the wrong length, is logged with its receive time
    and skipped; it never stops a replay.
    """
    from ..archive import Direction, RecordKind

    ciphers: dict[tuple[str, str], FrameCipher] = {}
    records = reader.records(kinds={RecordKind.CONTROL}, directions={Direction.SERVER_TO_CLIENT})
    for record in records:
        text = record.text
        if is_pingpong(text):
            continue
        try:
            reply = parse_message(text)
            if not isinstance(reply, ControlReply) or reply.msg_cd != SUBSCRIBE_ACK:
                continue
            cipher = reply.cipher()
        except CodecError as exc:
            log.warning("skipping a recorded control reply received at %d ns: %s", record.wall_ns, exc)
            continue
        if cipher is not None:
            ciphers.setdefault((reply.tr_id, reply.tr_key), cipher)
    return ciphers
