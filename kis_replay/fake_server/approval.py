"""The server-wide approval-key rules: which key is accepted, and one open session per key.

The live service answers a wrong key with OPSP0011 and a second session on a key that is still in use
with OPSP8996. Both rules span connections, so they live here, in one small pure object that every
:class:`~kis_replay.fake_server.session.KisSession` of a server shares, and not in the sessions.
"""

from __future__ import annotations

__all__ = ["ApprovalKeys"]


class ApprovalKeys:
    """Admits or refuses a session's use of an approval key.

    ``required``: the only key accepted (``--approval-key``); ``None`` accepts any key.
    ``exclusive``: the second-session rule; switch it off (``--allow-shared-key``) for CI that runs many
    bots on one key. A key is held by the first open session that used it, until that session closes.
    The empty key is a key like any other: the live service would refuse it anyway.
    """

    def __init__(self, required: str | None = None, *, exclusive: bool = True) -> None:
        self.required = required
        self.exclusive = exclusive
        self._holder: dict[str, int] = {}  # key → id of the open session holding it
        self._held: dict[int, set[str]] = {}  # session id → keys it holds

    def admit(self, session_id: int, key: str) -> str | None:
        """``None`` when session ``session_id`` may use ``key`` (and now holds it), else the msg_cd."""
        if self.required is not None and key != self.required:
            return "OPSP0011"
        if not self.exclusive:
            return None
        holder = self._holder.setdefault(key, session_id)
        if holder != session_id:
            return "OPSP8996"
        self._held.setdefault(session_id, set()).add(key)
        return None

    def release(self, session_id: int) -> None:
        """Session ``session_id`` closed: its keys are free for the next session."""
        for key in self._held.pop(session_id, ()):
            if self._holder.get(key) == session_id:
                del self._holder[key]

    def holder(self, key: str) -> int | None:
        """The id of the open session holding ``key``, if any."""
        return self._holder.get(key)
