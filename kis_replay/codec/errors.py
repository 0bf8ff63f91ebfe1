"""The codec's one exception family.

Everything that can go wrong while reading wire text raises a :class:`CodecError` subclass whose message
says *where* (TR, record, field index and name) and *what* (expected vs. actual). Callers that ingest
untrusted text (the fake server, the recorder, ``kis-replay verify``) catch ``CodecError`` and nothing else:
a ``ValueError`` or ``IndexError`` escaping the codec is a bug.
"""

from __future__ import annotations


class CodecError(Exception):
    """Base of every error the codec raises on bad input."""


class FrameError(CodecError):
    """A data frame (``enc|TR_ID|count|payload``) is malformed."""


class FieldCountError(FrameError):
    """A record has a different number of fields from its TR specification.

    KIS has changed field counts of some TRs over time; ``parse_frame(..., lenient=True)`` keeps such
    records with their raw fields instead of raising.
    """

    def __init__(self, message: str, *, tr_id: str, record: int, expected: int, actual: int) -> None:
        super().__init__(message)
        self.tr_id = tr_id
        self.record = record
        self.expected = expected
        self.actual = actual


class FieldValueError(FrameError):
    """A field's text does not fit its declared type (e.g. ``"7a"`` for a price)."""

    def __init__(self, message: str, *, tr_id: str, field: str, index: int, raw: str) -> None:
        super().__init__(message)
        self.tr_id = tr_id
        self.field = field
        self.index = index
        self.raw = raw


class DecryptionError(FrameError):
    """An encrypted payload is not valid base64, AES-256-CBC or PKCS7, or not UTF-8 once decrypted."""


class ControlMessageError(CodecError):
    """A JSON control message (request, reply, PINGPONG) is malformed.

    ``msg_cd`` carries the KIS reply code the live service answers such a request with (PROTOCOL.md's
    table, e.g. ``OPSP9999`` for invalid JSON), so that the fake server can reply without re-deciding.
    """

    def __init__(self, message: str, *, msg_cd: str) -> None:
        super().__init__(message)
        self.msg_cd = msg_cd
