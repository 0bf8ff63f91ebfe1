"""AES-256-CBC / PKCS7 / base64: the encryption of KIS's fill-notice frames (``1|TR|001|<base64>``).

The key and iv are the subscribe ack's ``output.key`` (32 ASCII chars) and ``output.iv`` (16 chars),
used as their UTF-8 bytes. Both directions are here: the fake server encrypts, bots and tools decrypt.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import DecryptionError

__all__ = ["FrameCipher"]

_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class FrameCipher:
    """The key and iv of one subscription, as the ack carries them."""

    key: str
    iv: str

    def __post_init__(self) -> None:
        if len(self.key.encode()) != 32:
            raise ValueError(f"AES-256 key must be 32 bytes, got {len(self.key.encode())}")
        if len(self.iv.encode()) != 16:
            raise ValueError(f"AES iv must be 16 bytes, got {len(self.iv.encode())}")

    @classmethod
    def generate(cls) -> FrameCipher:
        """A fresh random key and iv in the ack's alphabet, as the live service hands out per session."""
        return cls(
            key="".join(secrets.choice(_ALPHABET) for _ in range(32)),
            iv="".join(secrets.choice(_ALPHABET) for _ in range(16)),
        )

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key.encode()), modes.CBC(self.iv.encode()))

    def encrypt(self, plaintext: str) -> str:
        """``^``-joined payload text → base64 ciphertext text."""
        padder = padding.PKCS7(128).padder()
        data = padder.update(plaintext.encode("utf-8")) + padder.finalize()
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(data) + enc.finalize()).decode("ascii")

    def decrypt(self, ciphertext: str | bytes) -> str:
        """base64 ciphertext (text, or the frame's bytes) → payload text; every failure is a
        :class:`DecryptionError`, because the ciphertext comes off the wire."""
        try:
            raw = ciphertext.encode("ascii") if isinstance(ciphertext, str) else bytes(ciphertext)
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, UnicodeEncodeError, TypeError) as exc:
            raise DecryptionError(f"encrypted payload is not valid base64: {exc}") from None
        if not data or len(data) % 16:
            raise DecryptionError(f"encrypted payload is {len(data)} bytes, not a multiple of the AES block (16)")
        dec = self._cipher().decryptor()
        padded = dec.update(data) + dec.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            plain = unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise DecryptionError("bad PKCS7 padding after decryption (wrong key or iv?)") from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecryptionError(f"decrypted payload is not UTF-8 at byte {exc.start} (wrong key or iv?)") from None
