"""Approval keys never reach the disk: the one place that removes them from control messages.

A client's subscribe request carries ``header.approval_key``, and the service's OPSP0011 reply echoes a
bad key back in ``msg1`` ("invalid approval : <key>"). Both directions go through :class:`Redactor`, which
the archive writer applies to every CONTROL payload. It changes as few bytes as it can (the key's
occurrences in the text become :data:`~kis_replay.codec.REDACTED`) so the stored message still reads as
what crossed the wire; only when the text hides the key in a form it cannot patch in place (JSON escapes)
does it fall back to re-serialising the JSON. Subscribe acks carry the session's AES key and iv: those are
not approval keys and are kept, since the encrypted frames of the session need them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..codec import REDACTED, REPLY_CODES

__all__ = ["Redactor"]

_INVALID_APPROVAL = REPLY_CODES["OPSP0011"][1]  # "invalid approval : ", the key follows
#: A key field in text that is not valid JSON (a misbehaving client still must not leak its key).
_KEY_FIELD = re.compile(rb'("approval_key"\s*:\s*")((?:[^"\\]|\\.)*)(")')
#: Keys shorter than this are not replaced wherever they occur (a short "key" would clobber the message,
#: e.g. a TR id); only in the approval_key field and the OPSP0011 echo. Real approval keys are 36 chars.
_MIN_ECHO_LENGTH = 16
_REDACTED_BYTES = REDACTED.encode()


class Redactor:
    """Remembers the approval keys it has seen and removes them from every control payload.

    Stateful on purpose: a key first seen in a request is also removed from later server messages that
    echo it, whatever their shape.
    """

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._needles: list[bytes] = []

    def _learn(self, key: str) -> None:
        if key and key != REDACTED and len(key) >= _MIN_ECHO_LENGTH and key not in self._keys:
            self._keys.add(key)
            raw = key.encode("utf-8", "surrogatepass")
            escaped = json.dumps(key)[1:-1].encode()
            self._needles.extend({raw, escaped})
            self._needles.sort(key=len, reverse=True)  # a longer form first, so no half-replaced key

    def redact(self, payload: bytes) -> bytes:
        """``payload`` with every approval key it contains replaced by :data:`REDACTED`."""
        obj = _load(payload)
        keys = _keys_in(obj)
        if obj is not None:
            for key in keys:
                self._learn(key)
        else:
            for match in _KEY_FIELD.finditer(payload):
                try:
                    self._learn(json.loads(b'"' + match.group(2) + b'"'))
                except ValueError:
                    self._learn(match.group(2).decode("utf-8", "replace"))
        out = _KEY_FIELD.sub(_redact_field, payload) if b"approval_key" in payload else payload
        for needle in self._needles:
            if needle in out:
                out = out.replace(needle, _REDACTED_BYTES)
        if obj is not None and keys:
            check = _load(out)
            if check is None or any(k != REDACTED for k in _keys_in(check)):
                out = _reserialised(obj)  # the text hid the key in a form we could not patch
        return out


def _redact_field(match: re.Match[bytes]) -> bytes:
    return match.group(1) + _REDACTED_BYTES + match.group(3)


def _load(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        return None


def _keys_in(obj: Any) -> list[str]:
    """Approval keys in a parsed control message: the request field and the OPSP0011 echo."""
    keys: list[str] = []
    if not isinstance(obj, dict):
        return keys
    header, body = obj.get("header"), obj.get("body")
    if isinstance(header, dict) and isinstance(header.get("approval_key"), str) and header["approval_key"]:
        keys.append(header["approval_key"])
    if isinstance(body, dict):
        msg1 = body.get("msg1")
        if isinstance(msg1, str) and msg1.startswith(_INVALID_APPROVAL) and len(msg1) > len(_INVALID_APPROVAL):
            keys.append(msg1[len(_INVALID_APPROVAL):])
    return keys


def _reserialised(obj: dict[str, Any]) -> bytes:
    header, body = obj.get("header"), obj.get("body")
    if isinstance(header, dict) and isinstance(header.get("approval_key"), str) and header["approval_key"]:
        header["approval_key"] = REDACTED
    if isinstance(body, dict) and isinstance(body.get("msg1"), str) and body["msg1"].startswith(_INVALID_APPROVAL):
        body["msg1"] = _INVALID_APPROVAL + REDACTED
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
