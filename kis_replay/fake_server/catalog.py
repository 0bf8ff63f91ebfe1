"""What the served archive offers: the TRs and instruments it has data for, and the recorded ciphers.

The session needs this to judge requests the way the live service would against *this* recording: a TR is
known when the codec has its table or the archive has its frames (else OPSP8991), a well-formed key with
no data is still acked (the bot just hears nothing), and an encrypted TR's ack must hand out the key and
iv of the recorded session, or its ciphertext would not decrypt on the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..codec import FrameCipher, get_spec

__all__ = ["DEFAULT_KEY_WIDTH", "Catalog"]

#: Accepted tr_key lengths for a TR the codec has no table for (``TrSpec``'s own default).
DEFAULT_KEY_WIDTH = (1, 12)


@dataclass(frozen=True)
class Catalog:
    """The archive's offer, as plain data (the server builds it from the archive).

    ``routes`` are the ``(tr_id, tr_key)`` pairs with plain data; ``encrypted_tr_ids`` the TRs whose
    frames were recorded encrypted (routed by TR, the key is inside the ciphertext); ``ciphers`` the
    recorded acks' key/iv per ``(tr_id, tr_key)``.
    """

    routes: frozenset[tuple[str, str]] = frozenset()
    encrypted_tr_ids: frozenset[str] = frozenset()
    ciphers: Mapping[tuple[str, str], FrameCipher] = field(default_factory=dict)
    tr_ids: frozenset[str] = field(init=False)
    _cipher_by_tr: Mapping[str, FrameCipher] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        tr_ids = {tr_id for tr_id, _ in self.routes} | set(self.encrypted_tr_ids)
        tr_ids |= {tr_id for tr_id, _ in self.ciphers}
        object.__setattr__(self, "tr_ids", frozenset(tr_ids))
        by_tr: dict[str, FrameCipher] = {}
        for (tr_id, _), cipher in sorted(self.ciphers.items()):
            by_tr.setdefault(tr_id, cipher)
        object.__setattr__(self, "_cipher_by_tr", by_tr)

    @classmethod
    def of(
        cls,
        routes: Iterable[tuple[str, str]] = (),
        encrypted_tr_ids: Iterable[str] = (),
        ciphers: Mapping[tuple[str, str], FrameCipher] | None = None,
    ) -> Catalog:
        return cls(frozenset(routes), frozenset(encrypted_tr_ids), dict(ciphers or {}))

    def knows_tr(self, tr_id: str) -> bool:
        """Whether a subscription to ``tr_id`` is acked at all (else OPSP8991)."""
        return bool(tr_id) and (get_spec(tr_id) is not None or tr_id in self.tr_ids)

    def is_encrypted(self, tr_id: str) -> bool:
        """Whether the ack says ``"encrypt":"Y"``: the codec's table says so, or the recording does."""
        spec = get_spec(tr_id)
        return (spec is not None and spec.encrypted) or tr_id in self.encrypted_tr_ids

    def key_problem(self, tr_id: str, tr_key: str) -> str | None:
        """Why ``tr_key`` is malformed for ``tr_id`` (OPSP8992), or ``None`` when it is well formed.

        A key the archive has data for is always well formed: the recording is the authority.
        """
        if (tr_id, tr_key) in self.routes or (tr_id, tr_key) in self.ciphers:
            return None
        if not tr_key:
            return "tr_key is empty"
        if not (tr_key.isascii() and tr_key.isalnum()):
            return f"tr_key {tr_key[:40]!r} is not alphanumeric"
        spec = get_spec(tr_id)
        low, high = spec.key_width if spec is not None else DEFAULT_KEY_WIDTH
        if not low <= len(tr_key) <= high:
            return f"tr_key {tr_key[:40]!r} has {len(tr_key)} characters, {tr_id} takes {low}–{high}"
        return None

    def has_data(self, tr_id: str, tr_key: str) -> bool:
        """Whether a subscriber of ``(tr_id, tr_key)`` will receive anything from this archive."""
        return (tr_id, tr_key) in self.routes or tr_id in self.encrypted_tr_ids

    def cipher_for(self, tr_id: str, tr_key: str) -> FrameCipher | None:
        """The recorded key/iv for an encrypted subscription: the exact pair's, else any of the TR's.

        Encrypted frames go to every subscriber of the TR whatever its key, so any recorded ack of the
        TR carries the right key (the live service hands out one per session).
        """
        return self.ciphers.get((tr_id, tr_key)) or self._cipher_by_tr.get(tr_id)
