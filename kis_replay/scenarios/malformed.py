"""Malformed frames, made from a real frame so that everything but the fault looks right to a bot.

Each maker takes a data frame's wire text and returns the broken payload to send. They are pure and small
so a test can assert exactly what a bot was sent.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["UNKNOWN_TR", "make_malformed"]

#: a TR id the codec and KIS do not know, of the right shape
UNKNOWN_TR = "H0ZZZZZ9"


def _parts(text: str) -> tuple[str, str, str, str]:
    parts = text.split("|", 3)
    if len(parts) != 4:
        raise ValueError(f"not a data frame: {text[:40]!r}")
    return parts[0], parts[1], parts[2], parts[3]


def _field_count(text: str) -> str:
    """One field fewer than the TR has (the last one removed)."""
    enc, tr_id, count, payload = _parts(text)
    fields = payload.split("^")
    short = "^".join(fields[:-1]) if len(fields) > 1 else ""
    return f"{enc}|{tr_id}|{count}|{short}"


def _count_field(text: str) -> str:
    """A count one above the records the payload holds (a parser trusting it reads past the end)."""
    enc, tr_id, count, payload = _parts(text)
    value = int(count) + 1 if count.isdigit() else 2
    return f"{enc}|{tr_id}|{value:03d}|{payload}"


def _truncated(text: str) -> str:
    """The frame cut in the middle of its payload, as if the sender died mid-write."""
    enc, tr_id, count, payload = _parts(text)
    return f"{enc}|{tr_id}|{count}|{payload[: max(len(payload) // 2, 1) - 1]}"


def _unknown_tr(text: str) -> str:
    """The same payload under a TR id nobody knows."""
    enc, _, count, payload = _parts(text)
    return f"{enc}|{UNKNOWN_TR}|{count}|{payload}"


def _invalid_utf8(text: str) -> bytes:
    """The frame's bytes with two bytes that are not UTF-8 (``0xFF 0xFE``) after the header."""
    enc, tr_id, count, payload = _parts(text)
    return f"{enc}|{tr_id}|{count}|".encode() + b"\xff\xfe" + payload.encode("utf-8")


_MAKERS: dict[str, Callable[[str], str | bytes]] = {
    "field-count": _field_count,
    "count-field": _count_field,
    "truncated": _truncated,
    "invalid-utf8": _invalid_utf8,
    "unknown-tr": _unknown_tr,
}


def make_malformed(kind: str, base_text: str) -> str | bytes:
    """The ``kind`` fault (one of :data:`~kis_replay.scenarios.steps.MALFORMED_KINDS`) of ``base_text``.

    ``invalid-utf8`` returns bytes, every other kind a string. For a plain frame of a TR the codec knows,
    the codec rejects every result but ``unknown-tr`` (tested); that one parses, as a TR nobody serves.
    """
    return _MAKERS[kind](base_text)
