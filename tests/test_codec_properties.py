"""Properties of the codec over generated input: exact round trips, field counts, typed values, and nothing
but CodecError out of any parser whatever it is fed."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kis_replay.codec import (
    CodecError,
    DataFrame,
    FieldCountError,
    FieldType,
    FieldValueError,
    FrameCipher,
    PriceSign,
    Record,
    format_frame,
    get_spec,
    parse_frame,
    parse_message,
    parse_pingpong,
    parse_reply,
    parse_request,
    peek_route,
)
from kis_replay.codec.strategies import (
    ciphers,
    frame_texts,
    frames,
    garbage,
    records,
    replies,
    subscribe_requests,
)

SEED = ("H0ZFASP0", "H0EUASP0", "H0IOCNT0")
FIXED_CIPHER = FrameCipher("abcdefghijklmnopabcdefghijklmnop", "0123456789abcdef")
PYTHON_TYPES = {
    FieldType.CODE: str,
    FieldType.TIME: dt.time,
    FieldType.PRICE: Decimal,
    FieldType.PRICE_CHANGE: Decimal,
    FieldType.QUANTITY: int,
    FieldType.QUANTITY_CHANGE: int,
    FieldType.SIGN: PriceSign,
    FieldType.RATE: Decimal,
    FieldType.FLAG: bool,
}


def _payload_fields(text: str) -> list[str]:
    """The fields of a plain frame, split here without the codec."""
    return text.split("|", 3)[3].split("^")


# -- round trips ------------------------------------------------------------------------------------------------


@given(st.one_of(frame_texts(max_records=4), frame_texts(realistic=False, allow_empty=True, max_records=4)))
def test_format_of_parse_is_identity(text: str) -> None:
    frame = parse_frame(text)
    assert format_frame(frame) == text
    assert frame.text == text
    assert parse_frame(text.encode("utf-8")).text == text


@given(frame_texts("H0IOCNT0", max_records=11))
def test_multi_record_frames_round_trip(text: str) -> None:
    frame = parse_frame(text)
    assert frame.count == int(text.split("|")[2]) == len(frame.records)
    assert "^".join("^".join(r.raw) for r in frame.records) == text.split("|", 3)[3]
    assert format_frame(frame) == text


@given(frames(encrypted=True, cipher=FIXED_CIPHER, max_records=4))
def test_encrypted_frames_round_trip(frame: DataFrame) -> None:
    text = frame.text
    assert text.startswith("1|")
    decrypted = parse_frame(text, cipher=FIXED_CIPHER)
    assert decrypted == frame and decrypted.text == text
    opaque = parse_frame(text)  # without the key: kept as ciphertext, formatted back unchanged
    assert opaque.records == () and format_frame(opaque) == text
    assert peek_route(text) == (frame.tr_id, None)


@given(ciphers().flatmap(lambda c: st.tuples(st.just(c), frames(encrypted=True, cipher=c, max_records=2))))
def test_encrypted_frames_under_drawn_keys(pair: tuple[FrameCipher, DataFrame]) -> None:
    cipher, frame = pair
    assert parse_frame(frame.text, cipher=cipher).records == frame.records


@given(frames(realistic=False, allow_empty=True, max_records=4))
def test_parse_of_format_is_identity(frame: DataFrame) -> None:
    again = parse_frame(format_frame(frame))
    assert again == frame
    assert again.records == frame.records
    assert [r.index for r in again.records] == list(range(frame.count))


@given(st.sampled_from(SEED).flatmap(lambda tr: records(tr, allow_empty=True)))
def test_typed_values_survive_the_round_trip(record: Record) -> None:
    spec = record.spec
    assert spec is not None
    typed = record.typed()
    assert Record.from_values(spec, typed) == record
    for f in spec.fields:
        value = typed[f.name]
        assert (value is None) == (record.raw[f.index] == "")
        assert value is None or type(value) is PYTHON_TYPES[f.type]


@given(frames(max_records=4))
def test_every_generated_frame_has_the_spec_field_count(frame: DataFrame) -> None:
    spec = get_spec(frame.tr_id)
    assert spec is not None
    fields = _payload_fields(frame.text)
    assert len(fields) == frame.count * spec.field_count
    assert all(len(r.raw) == spec.field_count and r.valid for r in frame.records)
    assert peek_route(frame.text) == (frame.tr_id, fields[0])


@given(
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=4, max_size=10).filter(lambda t: get_spec(t) is None),
    st.integers(1, 5),
    st.lists(st.text(st.characters(blacklist_characters="^|"), max_size=5), min_size=1, max_size=30),
)
def test_unknown_trs_parse_to_raw_fields(tr_id: str, count: int, fields: list[str]) -> None:
    text = f"0|{tr_id}|{count:03d}|{'^'.join(fields)}"
    frame = parse_frame(text)
    assert frame.spec is None and frame.text == text
    assert [f for r in frame.records for f in r.raw] == fields  # every field kept, in order
    assert not any(r.valid for r in frame.records)


@given(frames(max_records=4), st.sampled_from(["drop", "add"]), st.data())
def test_wrong_field_count_strict_raises_lenient_keeps(frame: DataFrame, edit: str, data: st.DataObject) -> None:
    fields = _payload_fields(frame.text)
    at = data.draw(st.integers(0, len(fields) - 1))
    if edit == "drop":
        del fields[at]
    else:
        fields.insert(at, "7")
    text = f"0|{frame.tr_id}|{frame.count_text}|{'^'.join(fields)}"
    spec = get_spec(frame.tr_id)
    assert spec is not None
    try:
        parse_frame(text)
    except FieldCountError as exc:
        assert exc.tr_id == frame.tr_id and exc.expected == spec.field_count and exc.actual != spec.field_count
        assert 1 <= exc.record <= frame.count
        assert str(exc).startswith(f"{frame.tr_id} record {exc.record}: {exc.actual} fields, expected ")
    else:
        raise AssertionError("a frame with a field too many or too few parsed strictly")
    lenient = parse_frame(text, lenient=True)
    assert lenient.text == text
    assert [f for r in lenient.records for f in r.raw] == fields


@given(frames(max_records=3), st.text(st.characters(blacklist_characters="^|"), max_size=8), st.data())
def test_bad_field_text_is_a_field_value_error_naming_the_field(
    frame: DataFrame, junk: str, data: st.DataObject
) -> None:
    spec = get_spec(frame.tr_id)
    assert spec is not None
    fields = _payload_fields(frame.text)
    at = data.draw(st.integers(0, len(fields) - 1))
    fields[at] = junk
    record_no, index = divmod(at, spec.field_count)
    name = spec.names[index]
    record = parse_frame(f"0|{frame.tr_id}|{frame.count_text}|{'^'.join(fields)}").records[record_no]
    assert record.raw_value(name) == junk
    try:
        value = record[name]
    except FieldValueError as exc:
        assert (exc.tr_id, exc.field, exc.index, exc.raw) == (frame.tr_id, name, index, junk)
        assert str(exc).startswith(f"{frame.tr_id} record {record_no + 1} field {index + 1} {name}: expected ")
        try:
            record.typed()
        except FieldValueError as again:
            assert again.field == name  # every other field is good: typed() fails on this one
        else:
            raise AssertionError("typed() accepted a field that record[name] refused") from None
    else:  # the junk happens to be valid text of the field's type
        assert record.typed()[name] == value


# -- control messages -----------------------------------------------------------------------------------------


@given(subscribe_requests())
def test_requests_parse_whatever_the_key_order(text: str) -> None:
    obj = json.loads(text)
    req = parse_request(text)
    header, inp = obj["header"], obj["body"]["input"]
    assert (req.tr_id, req.tr_key) == (inp["tr_id"], inp["tr_key"])
    assert (req.tr_type, req.custtype, req.approval_key) == (header["tr_type"], header["custtype"],
                                                             header["approval_key"])
    assert req.extra_header == {k: v for k, v in header.items()
                                if k not in ("approval_key", "custtype", "tr_type", "content-type")}
    assert json.loads(req.to_json()) == obj  # re-serialised: equal as JSON, nothing dropped
    assert parse_request(req.to_json()) == req


@given(replies())
def test_replies_round_trip(reply: object) -> None:
    text = reply.to_json()  # type: ignore[attr-defined]
    assert parse_reply(text) == reply
    assert parse_message(text) == reply
    assert json.loads(text)["body"]["msg_cd"] == reply.msg_cd  # type: ignore[attr-defined]


# -- garbage in, CodecError out ---------------------------------------------------------------------------------

PARSERS = (
    lambda data: parse_frame(data),
    lambda data: parse_frame(data, lenient=True),
    lambda data: parse_frame(data, cipher=FIXED_CIPHER),
    lambda data: parse_frame(data, cipher=FIXED_CIPHER, lenient=True),
    parse_request,
    parse_reply,
    parse_message,
    parse_pingpong,
    FIXED_CIPHER.decrypt,
)


def _only_codec_errors(data: str | bytes) -> None:
    for parse in PARSERS:
        try:
            result = parse(data)
        except CodecError as exc:
            assert str(exc)  # every error says something
        else:
            assert result is not None


@given(st.one_of(st.text(), st.binary()))
def test_arbitrary_text_and_bytes_raise_only_codec_errors(data: str | bytes) -> None:
    _only_codec_errors(data)


@given(garbage())
def test_garbage_raises_only_codec_errors(data: str | bytes) -> None:
    _only_codec_errors(data)
    if isinstance(data, str) and data[:2] in ("0|", "1|"):
        try:
            frame = parse_frame(data, lenient=True)
        except CodecError:
            return
        # whatever parses, formats back to what came in, and typed access fails only with CodecError
        assert frame.text == data
        for record in frame.records:
            with contextlib.suppress(CodecError):
                record.typed()


@given(frames(realistic=False, max_records=1), st.binary(min_size=1, max_size=8), st.data())
def test_encrypted_garbage_payloads(frame: DataFrame, noise: bytes, data: st.DataObject) -> None:
    """Bad base64, wrong lengths and bad padding inside a well-formed ``1|`` frame."""
    good = DataFrame.from_records(frame.records, cipher=FIXED_CIPHER).payload
    at = data.draw(st.integers(0, len(good)))
    variants = [good[:at], good[:at] + noise.hex() + good[at:], good[:at] + "=" + good[at:],
                good[:at] + "!" + good[at + 1 :]]
    for payload in variants:
        text = f"1|{frame.tr_id}|{frame.count_text}|{payload}"
        with contextlib.suppress(CodecError):
            parse_frame(text, cipher=FIXED_CIPHER)
        assert parse_frame(text).text == text  # without a cipher: kept as is
