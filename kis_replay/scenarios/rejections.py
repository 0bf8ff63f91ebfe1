"""Armed ``reject`` steps of one connection: which subscribe requests get an error instead of an ack.

Pure: the server hands each client message to :meth:`Rejections.judge` before its session sees it. A
request that is not a subscribe, or that no armed rejection matches, goes on to the session as usual.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..codec import REPLY_CODES, CodecError, ControlReply, build_reply, is_pingpong, parse_request
from .actions import RejectSubscriptions
from .steps import Step

__all__ = ["Rejection", "Rejections"]

#: the header tr_id of session-level errors (rt_cd "9"), as the live service writes it
_NULL_TR_ID = "(null)"


@dataclass(frozen=True)
class Rejection:
    """One refused subscription: the reply to send and what to log."""

    reply: ControlReply
    step: Step
    what: str


class Rejections:
    """The armed rejections of one connection, used first armed first."""

    def __init__(self) -> None:
        self._armed: deque[list] = deque()  # [action, remaining]

    def __bool__(self) -> bool:
        return bool(self._armed)

    def arm(self, action: RejectSubscriptions) -> None:
        self._armed.append([action, action.count])

    def judge(self, message: str | bytes) -> Rejection | None:
        """The error reply for ``message`` if it is a subscribe request an armed rejection matches."""
        if not self._armed or is_pingpong(message):
            return None
        try:
            request = parse_request(message)
        except CodecError:
            return None  # malformed: the session answers it as the service would
        if not request.subscribe:
            return None
        for entry in self._armed:
            action, remaining = entry
            if not action.step.matches(request.tr_id, request.tr_key):
                continue
            entry[1] = remaining - 1
            if entry[1] <= 0:
                self._armed.remove(entry)
            msg_cd = action.msg_cd
            session_level = REPLY_CODES[msg_cd][0] == "9"
            reply = build_reply(
                msg_cd,
                tr_id=_NULL_TR_ID if session_level else request.tr_id,
                tr_key="" if session_level else request.tr_key,
                # the service echoes the key as sent; it is the client's own, and never logged
                detail=request.approval_key if msg_cd == "OPSP0011" else "",
            )
            return Rejection(reply, action.step,
                             f"answered subscribe {request.tr_id} {request.tr_key} with {msg_cd}")
        return None
