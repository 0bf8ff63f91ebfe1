"""Data frames ``<enc>|<TR_ID>|<count>|<payload>``: wire text ⇄ :class:`DataFrame`.

A frame keeps the text it was parsed from, piece by piece, so ``frame.text`` is the identical string
whatever the records hold: the archive stores bytes, and the codec must never be the reason a replayed
frame differs from a recorded one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .crypto import FrameCipher
from .errors import FieldCountError, FrameError
from .records import Record
from .spec import TrSpec, get_spec

__all__ = ["DataFrame", "format_frame", "is_data_frame", "parse_frame", "peek_route"]

_MAX_COUNT_WIDTH = 4


@dataclass(frozen=True)
class DataFrame:
    """One real-time data frame.

    ``payload`` is the fourth part as on the wire (base64 for encrypted frames); ``records`` are the
    decoded records, empty for an encrypted frame parsed without its :class:`FrameCipher`.
    ``count_text`` keeps the count as written (``"001"``) so that formatting is exact.
    """

    encrypted: bool
    tr_id: str
    count: int
    payload: str
    records: tuple[Record, ...] = ()
    count_text: str = ""
    spec: TrSpec | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        """The frame's wire text, identical to what was parsed."""
        return format_frame(self)

    @property
    def tr_key(self) -> str | None:
        """The first record's instrument code, or ``None`` when the payload is not readable."""
        return self.records[0].tr_key if self.records else None

    @classmethod
    def from_records(
        cls, records: list[Record] | tuple[Record, ...], *, cipher: FrameCipher | None = None
    ) -> DataFrame:
        """Build a frame from records of one TR; with ``cipher`` it is an encrypted (``1|``) frame."""
        if not records:
            raise ValueError("a data frame needs at least one record")
        tr_id = records[0].tr_id
        if any(r.tr_id != tr_id for r in records):
            raise ValueError("all records of a frame must have the same TR")
        plain = "^".join("^".join(r.raw) for r in records)
        payload = cipher.encrypt(plain) if cipher else plain
        count = len(records)
        indexed = tuple(Record(r.tr_id, r.raw, r.spec, index=i) for i, r in enumerate(records))
        return cls(bool(cipher), tr_id, count, payload, indexed, f"{count:03d}", get_spec(tr_id))


def format_frame(frame: DataFrame) -> str:
    """The wire text of ``frame``."""
    count_text = frame.count_text or f"{frame.count:03d}"
    return f"{'1' if frame.encrypted else '0'}|{frame.tr_id}|{count_text}|{frame.payload}"


def is_data_frame(text: str) -> bool:
    """Whether a text message is a data frame rather than a JSON control message (KIS's own test)."""
    return text[:1] in ("0", "1")


def peek_route(text: str) -> tuple[str, str | None] | None:
    """``(tr_id, tr_key)`` of a data frame without a full parse; ``tr_key`` is ``None`` when encrypted.

    The archive index and the replayer's router call this for every frame, so it only slices text.
    Returns ``None`` for text that is not a data frame.
    """
    if text[:2] not in ("0|", "1|"):
        return None
    second = text.find("|", 2)
    if second < 0:
        return None
    tr_id = text[2:second]
    if text[0] == "1":
        return tr_id, None
    third = text.find("|", second + 1)
    if third < 0:
        return None
    end = text.find("^", third + 1)
    return tr_id, text[third + 1 : end if end >= 0 else len(text)]


def parse_frame(
    text: str | bytes, *, cipher: FrameCipher | None = None, lenient: bool = False
) -> DataFrame:
    """Parse a data frame.

    Multi-record payloads are split by the TR's field count. An encrypted frame is decrypted when
    ``cipher`` is given, else kept as ciphertext with no records. A TR the codec does not know still
    parses, to raw records (split evenly by ``count`` when the fields divide, else one record), so a
    recording never loses a frame. With ``lenient``, a known TR whose field count is off yields raw
    records (``record.valid`` is ``False``) instead of raising :class:`FieldCountError`.

    Raises only :class:`~kis_replay.codec.errors.FrameError` subclasses.
    """
    if isinstance(text, bytes | bytearray | memoryview):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrameError(f"frame is not UTF-8: invalid byte at offset {exc.start}") from None
    parts = text.split("|", 3)
    if len(parts) != 4:
        raise FrameError(f"not a data frame: expected 4 '|'-separated parts, got {len(parts)}: {text[:40]!r}")
    enc, tr_id, count_text, payload = parts
    if enc not in ("0", "1"):
        raise FrameError(f"bad encryption flag {enc[:10]!r}, expected '0' or '1'")
    if not tr_id or not tr_id.isascii() or not tr_id.isalnum():
        raise FrameError(f"bad TR id {tr_id[:20]!r}")
    if not (0 < len(count_text) <= _MAX_COUNT_WIDTH and count_text.isascii() and count_text.isdigit()):
        raise FrameError(f"{tr_id}: bad record count {count_text[:10]!r}, expected 3 digits")
    count = int(count_text)
    if count == 0:
        raise FrameError(f"{tr_id}: record count is 000")
    encrypted = enc == "1"
    spec = get_spec(tr_id)
    if encrypted:
        if cipher is None:
            return DataFrame(True, tr_id, count, payload, (), count_text, spec)
        plain = cipher.decrypt(payload)
    else:
        plain = payload
    records = split_records(tr_id, spec, count, plain, lenient=lenient)
    return DataFrame(encrypted, tr_id, count, payload, records, count_text, spec)


def split_records(
    tr_id: str, spec: TrSpec | None, count: int, plain: str, *, lenient: bool = False
) -> tuple[Record, ...]:
    """Split a plaintext payload of ``count`` records into records."""
    fields = plain.split("^")
    total = len(fields)
    if spec is None or (lenient and total != count * spec.field_count):
        if total % count:
            return (Record(tr_id, tuple(fields), spec),)
        width = total // count
        return tuple(
            Record(tr_id, tuple(fields[i * width : (i + 1) * width]), spec, index=i) for i in range(count)
        )
    width = spec.field_count
    if total != count * width:
        bad, actual = _first_bad_record(fields, spec, count)
        raise FieldCountError(
            f"{tr_id} record {bad + 1}: {actual} fields, expected {width}"
            + (f" ({total} fields for {count} records)" if count > 1 else ""),
            tr_id=tr_id,
            record=bad + 1,
            expected=width,
            actual=actual,
        )
    if count == 1:
        return (Record(tr_id, tuple(fields), spec),)
    return tuple(
        Record(tr_id, tuple(fields[i * width : (i + 1) * width]), spec, index=i) for i in range(count)
    )


def _first_bad_record(fields: list[str], spec: TrSpec, count: int) -> tuple[int, int]:
    """``(index, field count)`` of the first record whose length is off, for the error message.

    Records are not separated on the wire, but each starts the same way: an instrument code as long as the
    first record's, then a field that reads as the TR's second field (the time). The first record after which
    no such start follows is the bad one, and the next such start tells how long it really is. When the text
    gives no such clue, the count says where each record should end, and the blame falls on the record where
    the fields run out.
    """
    total, width = len(fields), spec.field_count
    code_width = len(fields[0])
    read_code, read_second = spec.decoders[0], spec.decoders[1] if width > 1 else None

    def starts_record(i: int) -> bool:
        if len(fields[i]) != code_width or i + 1 >= total:
            return False
        try:
            read_code(fields[i])
            if read_second is not None:
                read_second(fields[i + 1])
        except ValueError:
            return False
        return True

    if code_width and count > 1 and starts_record(0):
        start = 0
        for index in range(count - 1):
            following = start + width
            if following == total:
                return index + 1, 0  # the fields end with this record: the next ones are missing
            if following < total and starts_record(following):
                start = following
                continue
            later = next((i for i in range(start + 1, total) if starts_record(i)), total)
            return index, later - start
        return count - 1, total - start
    bad = min(total // width, count - 1)
    return bad, total - bad * width
