"""Which TR and instrument a record is about, through the codec (the archive never parses frames itself).

Used by the writer to list each frame's TRs in the seek index and by the reader's TR / tr_key filters, so
that both agree on what "a record of H0ZFASP0" means: a DATA frame of that TR, or a CONTROL message (a
subscribe request, its reply) about it.
"""

from __future__ import annotations

from ..codec import parse_message, parse_request, peek_route
from ..codec.errors import CodecError
from .records import Direction, RecordKind

__all__ = ["route_of"]

_DATA = int(RecordKind.DATA)
_CONTROL = int(RecordKind.CONTROL)
_C2S = int(Direction.CLIENT_TO_SERVER)


def route_of(kind: int, direction: int, payload: bytes) -> tuple[str, str | None] | None:
    """``(tr_id, tr_key)`` of a DATA frame or of a CONTROL message about a TR, else ``None``.

    ``tr_key`` is ``None`` for an encrypted data frame (it is inside the ciphertext).
    """
    if kind == _DATA:
        return peek_route(payload.decode("utf-8", "replace"))
    if kind == _CONTROL:
        try:
            message = parse_request(payload) if direction == _C2S else parse_message(payload)
        except CodecError:
            return None
        tr_id = getattr(message, "tr_id", None)
        if tr_id and tr_id != "(null)":
            return tr_id, getattr(message, "tr_key", None) or None
    return None
