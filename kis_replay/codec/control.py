"""JSON control messages: subscribe/unsubscribe requests, the service's replies, and PINGPONG.

Requests are parsed as JSON and checked in the order that decides which error the live service answers
with (PROTOCOL.md's table); the failing check's ``msg_cd`` travels on the
:class:`~kis_replay.codec.errors.ControlMessageError`. Replies are built from :data:`REPLY_CODES`, so the
texts of the table exist once.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any

from .crypto import FrameCipher
from .errors import ControlMessageError

__all__ = [
    "KST",
    "MAX_REGISTRATIONS",
    "REPLY_CODES",
    "ControlReply",
    "PingPong",
    "SubscribeRequest",
    "build_pingpong",
    "build_reply",
    "is_pingpong",
    "parse_message",
    "parse_pingpong",
    "parse_reply",
    "parse_request",
]

SUBSCRIBE = "1"
UNSUBSCRIBE = "2"

#: msg_cd → (rt_cd, msg1), PROTOCOL.md's table. Where the table has no rt_cd (never seen in a capture),
#: we follow what was seen: request errors use "1", session-level errors "9".
REPLY_CODES: dict[str, tuple[str, str]] = {
    "OPSP0000": ("0", "SUBSCRIBE SUCCESS"),
    "OPSP0001": ("0", "UNSUBSCRIBE SUCCESS"),
    "OPSP0002": ("1", "ALREADY IN SUBSCRIBE"),
    "OPSP0003": ("1", "UNSUBSCRIBE ERROR(not found!)"),
    "OPSP0007": ("1", "SUBSCRIBE INTERNAL ERROR"),
    "OPSP0008": ("1", "MAX SUBSCRIBE OVER"),
    "OPSP0011": ("1", "invalid approval : "),  # the service appends the key as sent
    "OPSP8991": ("1", "SUBSCRIBE ERROR : invalid tr_id"),
    "OPSP8992": ("1", "SUBSCRIBE ERROR : invalid tr_key"),
    "OPSP8996": ("9", "ALREADY IN USE appkey"),
    "OPSP8997": ("1", "JSON PARSING ERROR : invalid tr_type"),
    "OPSP8998": ("1", "JSON PARSING ERROR : invalid custtype"),
    "OPSP9990": ("1", "JSON PARSING ERROR : tr_key not found"),
    "OPSP9991": ("1", "JSON PARSING ERROR : input not found"),
    "OPSP9992": ("1", "JSON PARSING ERROR : body not found"),
    "OPSP9997": ("1", "JSON PARSING ERROR : custtype not found"),
    "OPSP9998": ("1", "JSON PARSING ERROR : header not found"),
    "OPSP9999": ("1", "JSON PARSING ERROR : invalid json format"),
}

#: Registrations one session may hold on the live service (PROTOCOL.md, "Limits"): it acks 41 and
#: answers the 42nd with OPSP0008. The recorder refuses to send more; the fake server enforces it.
MAX_REGISTRATIONS = 41

#: Placeholder that replaces approval keys in everything we store or log.
REDACTED = "<redacted>"


@dataclass(frozen=True)
class SubscribeRequest:
    """A client's subscribe (``tr_type`` "1") or unsubscribe ("2") request.

    ``extra_header`` keeps header keys beyond the four of the spec (e.g. ``personalseckey``) so that a
    re-serialised request loses nothing.
    """

    tr_id: str
    tr_key: str
    tr_type: str = SUBSCRIBE
    approval_key: str = ""
    custtype: str = "P"
    content_type: str = "utf-8"
    extra_header: dict[str, Any] = field(default_factory=dict)

    @property
    def subscribe(self) -> bool:
        return self.tr_type == SUBSCRIBE

    def to_json(self) -> str:
        """The request as KIS's own sample client writes it."""
        header = {
            "approval_key": self.approval_key,
            "custtype": self.custtype,
            "tr_type": self.tr_type,
            "content-type": self.content_type,
            **self.extra_header,
        }
        body = {"input": {"tr_id": self.tr_id, "tr_key": self.tr_key}}
        return json.dumps({"header": header, "body": body}, ensure_ascii=False, separators=(",", ":"))

    def redacted(self) -> SubscribeRequest:
        """The same request with the approval key replaced by :data:`REDACTED`."""
        return SubscribeRequest(
            self.tr_id, self.tr_key, self.tr_type, REDACTED, self.custtype, self.content_type,
            dict(self.extra_header),
        )


def _load_object(text: str | bytes) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ControlMessageError(f"invalid JSON: {exc}", msg_cd="OPSP9999") from None
    if not isinstance(obj, dict):
        raise ControlMessageError(f"expected a JSON object, got {type(obj).__name__}", msg_cd="OPSP9999")
    return obj


def parse_request(text: str | bytes) -> SubscribeRequest:
    """Parse a client request; a bad one raises :class:`ControlMessageError` with the service's msg_cd.

    Check order (the live service's is not documented; this one reports the outermost problem first):
    JSON → header → body → input → custtype → tr_type → tr_key. An empty or unknown ``tr_id`` and a
    malformed ``tr_key`` are the server's to judge (OPSP8991 / OPSP8992): they depend on what it serves.
    """
    obj = _load_object(text)
    header = obj.get("header")
    if not isinstance(header, dict):
        raise ControlMessageError("request has no header object", msg_cd="OPSP9998")
    body = obj.get("body")
    if not isinstance(body, dict):
        raise ControlMessageError("request has no body object", msg_cd="OPSP9992")
    inp = body.get("input")
    if not isinstance(inp, dict):
        raise ControlMessageError("request body has no input object", msg_cd="OPSP9991")
    if "custtype" not in header:
        raise ControlMessageError("request header has no custtype", msg_cd="OPSP9997")
    custtype = header["custtype"]
    if custtype not in ("P", "B"):
        raise ControlMessageError(f"custtype {custtype!r} is not 'P' or 'B'", msg_cd="OPSP8998")
    tr_type = header.get("tr_type")
    if tr_type not in (SUBSCRIBE, UNSUBSCRIBE):
        raise ControlMessageError(f"tr_type {tr_type!r} is not '1' or '2'", msg_cd="OPSP8997")
    if "tr_key" not in inp:
        raise ControlMessageError("request input has no tr_key", msg_cd="OPSP9990")
    tr_id, tr_key = inp.get("tr_id", ""), inp["tr_key"]
    if not isinstance(tr_id, str):
        raise ControlMessageError(f"tr_id {tr_id!r} is not a string", msg_cd="OPSP8991")
    if not isinstance(tr_key, str):
        raise ControlMessageError(f"tr_key {tr_key!r} is not a string", msg_cd="OPSP8992")
    approval_key = header.get("approval_key", "")
    content_type = header.get("content-type", "utf-8")
    known = {"approval_key", "custtype", "tr_type", "content-type"}
    extra = {k: v for k, v in header.items() if k not in known}
    return SubscribeRequest(
        tr_id=tr_id,
        tr_key=tr_key,
        tr_type=tr_type,
        approval_key=approval_key if isinstance(approval_key, str) else str(approval_key),
        custtype=custtype,
        content_type=content_type if isinstance(content_type, str) else str(content_type),
        extra_header=extra,
    )


@dataclass(frozen=True)
class ControlReply:
    """A server reply: header (tr_id, tr_key, encrypt) and body (rt_cd, msg_cd, msg1, optional output)."""

    tr_id: str
    tr_key: str
    rt_cd: str
    msg_cd: str
    msg1: str
    encrypt: str = "N"
    output: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.rt_cd == "0"

    @property
    def iv(self) -> str | None:
        return self.output.get("iv") if self.output else None

    @property
    def key(self) -> str | None:
        return self.output.get("key") if self.output else None

    def cipher(self) -> FrameCipher | None:
        """The :class:`FrameCipher` of the ack's ``output`` (``None`` when it has none).

        An ack comes off the wire, so a key or iv of the wrong length is a :class:`ControlMessageError`
        here rather than the ``ValueError`` of the ``FrameCipher`` constructor.
        """
        key, iv = self.key, self.iv
        if key is None and iv is None:
            return None
        if key is None or iv is None:
            raise ControlMessageError(f"{self.tr_id} ack output has no {'key' if key is None else 'iv'}",
                                      msg_cd="OPSP9999")
        try:
            return FrameCipher(key, iv)
        except ValueError as exc:
            raise ControlMessageError(f"{self.tr_id} ack output: {exc}", msg_cd="OPSP9999") from None

    def to_json(self) -> str:
        """The reply in the live service's key order (KIS's own example)."""
        body: dict[str, Any] = {"rt_cd": self.rt_cd, "msg_cd": self.msg_cd, "msg1": self.msg1}
        if self.output is not None:
            body["output"] = dict(self.output)
        header = {"tr_id": self.tr_id, "tr_key": self.tr_key, "encrypt": self.encrypt}
        return json.dumps({"header": header, "body": body}, ensure_ascii=False, separators=(",", ":"))


def build_reply(
    msg_cd: str,
    *,
    tr_id: str = "",
    tr_key: str = "",
    encrypt: str = "N",
    output: dict[str, str] | None = None,
    detail: str = "",
) -> ControlReply:
    """The reply with code ``msg_cd`` (a key of :data:`REPLY_CODES`); ``detail`` is appended to msg1
    (the approval key for OPSP0011, as the service does)."""
    rt_cd, msg1 = REPLY_CODES[msg_cd]
    return ControlReply(tr_id, tr_key, rt_cd, msg_cd, msg1 + detail, encrypt, output)


def parse_reply(text: str | bytes) -> ControlReply:
    """Parse a server reply. ``output`` is optional (one real capture had none); ``msg_cd`` is required."""
    return _reply_of(_load_object(text))


def _text_of(obj: dict[str, Any], key: str) -> str:
    """A header/body value as text: JSON ``null`` and a missing key are ``""``."""
    value = obj.get(key)
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _reply_of(obj: dict[str, Any]) -> ControlReply:
    header, body = obj.get("header"), obj.get("body")
    if not isinstance(header, dict):
        raise ControlMessageError("reply has no header object", msg_cd="OPSP9998")
    if not isinstance(body, dict):
        raise ControlMessageError("reply has no body object", msg_cd="OPSP9992")
    msg_cd = body.get("msg_cd")
    if not isinstance(msg_cd, str):
        raise ControlMessageError("reply body has no msg_cd", msg_cd="OPSP9999")
    output = body.get("output")
    if output is not None and not (
        isinstance(output, dict) and all(isinstance(v, str) for v in output.values())
    ):
        raise ControlMessageError(f"reply output is not an object of strings: {output!r:.60}", msg_cd="OPSP9999")
    return ControlReply(
        tr_id=_text_of(header, "tr_id"),
        tr_key=_text_of(header, "tr_key"),
        rt_cd=_text_of(body, "rt_cd"),
        msg_cd=msg_cd,
        msg1=_text_of(body, "msg1"),
        encrypt=_text_of(header, "encrypt") or "N",
        output=output,
    )


@dataclass(frozen=True)
class PingPong:
    """The service's keep-alive ``{"header":{"tr_id":"PINGPONG","datetime":"YYYYMMDDHHMMSS"}}``."""

    datetime: str

    def to_json(self) -> str:
        return json.dumps({"header": {"tr_id": "PINGPONG", "datetime": self.datetime}}, separators=(",", ":"))


#: The service's clock: PINGPONG datetimes and every time field of a frame are Korea Standard Time
#: (UTC+9; no daylight saving since 1988, so a fixed offset is exact).
KST = _dt.timezone(_dt.timedelta(hours=9), "KST")


def build_pingpong(when: _dt.datetime | None = None) -> str:
    """PINGPONG text for ``when`` (default now), stamped in KST as the service does."""
    when = (when or _dt.datetime.now(KST)).astimezone(KST)
    return PingPong(when.strftime("%Y%m%d%H%M%S")).to_json()


def is_pingpong(text: str | bytes) -> bool:
    """Cheap test used on every message: does it look like a PINGPONG?"""
    needle = b"PINGPONG" if isinstance(text, bytes | bytearray) else "PINGPONG"
    return needle in text[:64]  # type: ignore[operator]


def parse_pingpong(text: str | bytes) -> PingPong:
    obj = _load_object(text)
    header = obj.get("header")
    if not isinstance(header, dict) or header.get("tr_id") != "PINGPONG":
        raise ControlMessageError("not a PINGPONG message", msg_cd="OPSP9999")
    return PingPong(_text_of(header, "datetime"))


def parse_message(text: str | bytes) -> ControlReply | PingPong:
    """A server control message: PINGPONG or a reply (the JSON is read once)."""
    obj = _load_object(text)
    header = obj.get("header")
    if isinstance(header, dict) and header.get("tr_id") == "PINGPONG":
        return PingPong(_text_of(header, "datetime"))
    return _reply_of(obj)
