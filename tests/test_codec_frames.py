"""Data frames and records by example: KIS's own frames, typed and raw access, unknown TRs, multi-record
frames, lenient mode, and error messages that say where and what."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from kis_replay.codec import (
    CodecError,
    DataFrame,
    FieldCountError,
    FieldValueError,
    FrameError,
    PriceSign,
    Record,
    format_frame,
    get_spec,
    is_data_frame,
    parse_frame,
    peek_route,
)

# The two frames of PROTOCOL.md, from KIS's documentation.
FUTURES_QUOTE = (
    "0|H0ZFASP0|001|111V06^092304^79700^79800^79900^80000^80200^80300^80500^81100^84900^85900^79500^79400^"
    "79300^79200^79100^79000^78900^78800^78700^78600^1^18^6^2^2^1^3^1^1^1^8^6^4^8^4^8^7^11^11^3^950^4148^988^"
    "6^9^1^3^15^5^10^4404^2277^1321^3440^330^2237^1835^362^83^15^36^97^6135^16509^950^0"
)
NIGHT_QUOTE = (
    "0|H0EUASP0|001|301V06362^190159^2.98^2.99^3.00^0.00^0.00^2.97^2.96^2.95^0.00^0.00^0^0^0^0^0^0^0^0^0^0^"
    "1^3^12^0^0^9^21^16^0^0^0^0^16^46^5^0"
)


def _trade_fields(code: str = "201S11305", hour: str = "093012") -> list[str]:
    """A plausible H0IOCNT0 record (58 fields)."""
    return [
        code, hour, "2.98", "5", "-0.034", "-1.13", "3.10", "3.15", "2.90", "3", "1520", "113200", "2.99", "15230",
        "-12", "090000", "5", "-0.12", "090102", "5", "-0.17", "091500", "2", "0.08", "48.50", "2.98", "0.00",
        "2.98", "0.4812", "0.0213", "0.3121", "-0.0512", "0.0211", "18.42", "-0.01", "3", "0.12", "15.30",
        "98.20", "-0.33", "0.95", "2.99", "2.98", "12", "30", "410", "388", "-22", "790", "730", "3120", "2950",
        "85.20", "17.90", "0", "4.50", "1.50", "N",
    ]


def test_futures_quote_from_kis_docs() -> None:
    frame = parse_frame(FUTURES_QUOTE)
    assert (frame.encrypted, frame.tr_id, frame.count, frame.tr_key) == (False, "H0ZFASP0", 1, "111V06")
    (book,) = frame.records
    assert len(book.raw) == 68 and book.valid
    assert book["FUTS_SHRN_ISCD"] == "111V06"
    assert book["BSOP_HOUR"] == dt.time(9, 23, 4)
    assert book["ASKP1"] == Decimal("79700") and book["ASKP10"] == Decimal("85900")
    assert book["BIDP1"] == Decimal("79500") and book["BIDP10"] == Decimal("78600")
    assert book["ASKP_CSNU2"] == 18 and book["ASKP_RSQN2"] == 4148 and book["BIDP_RSQN1"] == 4404
    assert book["TOTAL_ASKP_CSNU"] == 36 and book["TOTAL_BIDP_CSNU"] == 97
    assert book["TOTAL_ASKP_RSQN"] == 6135 and book["TOTAL_BIDP_RSQN"] == 16509
    assert book["TOTAL_ASKP_RSQN_ICDC"] == 950 and book["TOTAL_BIDP_RSQN_ICDC"] == 0
    assert book.raw_value("BSOP_HOUR") == "092304"
    assert isinstance(book["ASKP_RSQN1"], int) and isinstance(book["ASKP1"], Decimal)
    assert frame.text == format_frame(frame) == FUTURES_QUOTE


def test_night_option_quote_from_kis_docs() -> None:
    frame = parse_frame(NIGHT_QUOTE)
    (book,) = frame.records
    assert len(book.raw) == 38
    assert book["OPTN_SHRN_ISCD"] == "301V06362"
    assert book["BSOP_HOUR"] == dt.time(19, 1, 59)
    assert [book[f"OPTN_ASKP{i}"] for i in range(1, 6)] == [Decimal(p) for p in ("2.98", "2.99", "3.00", "0", "0")]
    assert [book[f"OPTN_BIDP{i}"] for i in range(1, 6)] == [Decimal(p) for p in ("2.97", "2.96", "2.95", "0", "0")]
    assert book.raw_value("OPTN_ASKP4") == "0.00"  # the raw text is kept, two decimals and all
    assert all(book[f"ASKP_CSNU{i}"] == 0 for i in range(1, 6))
    assert book["TOTAL_ASKP_RSQN"] == 16 and book["TOTAL_BIDP_RSQN"] == 46
    assert book["TOTAL_ASKP_RSQN_ICDC"] == 5
    assert frame.text == NIGHT_QUOTE


def test_typed_values_of_every_kind() -> None:
    fields = _trade_fields()
    fields[4] = ""  # an empty value is valid and reads as None
    (trade,) = parse_frame("0|H0IOCNT0|001|" + "^".join(fields)).records
    assert trade["OPTN_PRDY_VRSS"] is None
    assert trade.raw_value("OPTN_PRDY_VRSS") == ""
    assert trade["PRDY_VRSS_SIGN"] is PriceSign.FALL
    assert trade["PRDY_CTRT"] == Decimal("-1.13")
    assert trade["DELTA"] == Decimal("0.4812")
    assert trade["NTBY_CNTG_CSNU"] == -22
    assert trade["DYNM_PRC_LIMT_YN"] is False
    typed = trade.typed()
    assert list(typed) == list(get_spec("H0IOCNT0").names)  # type: ignore[union-attr]
    assert Record.from_values(trade.spec, typed) == trade  # type: ignore[arg-type]


def test_bytes_input_is_utf8() -> None:
    assert parse_frame(FUTURES_QUOTE.encode()).text == FUTURES_QUOTE
    with pytest.raises(FrameError, match="not UTF-8: invalid byte at offset 15"):
        parse_frame(b"0|H0ZFASP0|001|\xff")


def test_multi_record_trade_frame() -> None:
    records = [_trade_fields(hour=f"0930{s:02d}") for s in range(11)]
    text = "0|H0IOCNT0|011|" + "^".join("^".join(r) for r in records)
    frame = parse_frame(text)
    assert frame.count == 11 and len(frame.records) == 11
    assert len(frame.payload.split("^")) == 11 * 58 == 638
    assert [r["BSOP_HOUR"] for r in frame.records] == [dt.time(9, 30, s) for s in range(11)]
    assert [r.index for r in frame.records] == list(range(11))
    assert frame.text == text
    assert DataFrame.from_records(frame.records).text == text


def test_unknown_tr_parses_to_raw_fields() -> None:
    text = "0|H0STCNT0|002|005930^093000^71000^005930^093001^71100"
    frame = parse_frame(text)
    assert frame.spec is None and frame.tr_key == "005930"
    assert [r.raw for r in frame.records] == [("005930", "093000", "71000"), ("005930", "093001", "71100")]
    assert not frame.records[0].valid
    with pytest.raises(FieldValueError, match="H0STCNT0 record 1: raw fields only \\(unknown TR\\)"):
        frame.records[0]["STCK_PRPR"]
    assert frame.text == text
    # fields that do not divide by the count stay together in one record: nothing is lost
    odd = parse_frame("0|H0STCNT0|002|a^b^c")
    assert [r.raw for r in odd.records] == [("a", "b", "c")] and odd.text == "0|H0STCNT0|002|a^b^c"


def test_wrong_field_count_names_tr_record_and_counts() -> None:
    short = FUTURES_QUOTE.rsplit("^", 1)[0]
    with pytest.raises(FieldCountError, match=r"^H0ZFASP0 record 1: 67 fields, expected 68$") as info:
        parse_frame(short)
    assert (info.value.tr_id, info.value.record, info.value.expected, info.value.actual) == ("H0ZFASP0", 1, 68, 67)

    records = [_trade_fields() for _ in range(3)]
    del records[1][-1]  # the second record is one short
    text = "0|H0IOCNT0|003|" + "^".join("^".join(r) for r in records)
    with pytest.raises(FieldCountError, match=r"H0IOCNT0 record 2: 57 fields, expected 58 \(173 fields for 3"):
        parse_frame(text)


def test_lenient_mode_keeps_raw_fields() -> None:
    long = FUTURES_QUOTE + "^123"
    frame = parse_frame(long, lenient=True)
    (record,) = frame.records
    assert not record.valid and len(record.raw) == 69 and record.raw[-1] == "123"
    assert frame.text == long
    with pytest.raises(FieldValueError, match="H0ZFASP0 record 1: raw fields only \\(69 fields, expected 68\\)"):
        record["ASKP1"]
    # a frame with the right count is the same in both modes
    assert parse_frame(FUTURES_QUOTE, lenient=True) == parse_frame(FUTURES_QUOTE)


def test_bad_field_value_names_tr_record_field_and_value() -> None:
    bad = FUTURES_QUOTE.replace("^79700^", "^7970a^", 1)
    (book,) = parse_frame(bad).records  # parsing is lazy: the frame still splits
    with pytest.raises(FieldValueError) as info:
        book["ASKP1"]
    assert str(info.value) == "H0ZFASP0 record 1 field 3 ASKP1: expected an unsigned decimal, got '7970a'"
    assert (info.value.field, info.value.index, info.value.raw) == ("ASKP1", 2, "7970a")
    with pytest.raises(FieldValueError, match="ASKP1"):
        book.validate()
    assert book.raw_value("ASKP1") == "7970a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected 4 '|'-separated parts, got 1"),
        ("0|H0ZFASP0|001", "expected 4 '|'-separated parts, got 3"),
        ("2|H0ZFASP0|001|x", "bad encryption flag '2'"),
        ("0||001|x", "bad TR id ''"),
        ("0|H0-ZF|001|x", "bad TR id 'H0-ZF'"),
        ("0|H0ZFASP0|1a|x", "H0ZFASP0: bad record count '1a'"),
        ("0|H0ZFASP0|000|x", "H0ZFASP0: record count is 000"),
        ("0|H0ZFASP0|00001|x", "H0ZFASP0: bad record count '00001'"),
        ("0|H0ZFASP0|１|x", "H0ZFASP0: bad record count '１'"),
    ],
)
def test_malformed_frames(text: str, message: str) -> None:
    with pytest.raises(FrameError, match=message.replace("(", r"\(").replace("|", r"\|")):
        parse_frame(text)


def test_frame_errors_are_codec_errors() -> None:
    assert issubclass(FieldCountError, FrameError) and issubclass(FieldValueError, FrameError)
    assert issubclass(FrameError, CodecError)


def test_peek_route_and_is_data_frame() -> None:
    assert peek_route(FUTURES_QUOTE) == ("H0ZFASP0", "111V06")
    assert peek_route(NIGHT_QUOTE) == ("H0EUASP0", "301V06362")
    assert peek_route("1|H0STCNI0|001|c2VjcmV0") == ("H0STCNI0", None)
    assert peek_route('{"header":{"tr_id":"PINGPONG"}}') is None
    assert peek_route("0|H0ZFASP0") is None
    assert is_data_frame(FUTURES_QUOTE) and not is_data_frame('{"header":{}}')


def test_from_records_and_from_raw() -> None:
    spec = get_spec("H0ZFASP0")
    assert spec is not None
    raw = FUTURES_QUOTE.split("|")[3].split("^")
    record = Record.from_raw(spec, raw)
    assert DataFrame.from_records([record]).text == FUTURES_QUOTE
    with pytest.raises(FieldCountError, match="H0ZFASP0 record 1: 67 fields, expected 68"):
        Record.from_raw(spec, raw[:-1])
    with pytest.raises(ValueError, match="at least one record"):
        DataFrame.from_records([])
    with pytest.raises(KeyError, match="missing fields"):
        Record.from_values(spec, {"ASKP1": Decimal(1)})


@pytest.mark.parametrize(
    ("lengths", "count", "message"),
    [
        ((58, 57, 58), 3, "record 2: 57 fields, expected 58 (173 fields for 3 records)"),
        ((58, 59, 58), 3, "record 2: 59 fields, expected 58 (175 fields for 3 records)"),
        ((58, 58, 55), 3, "record 3: 55 fields, expected 58 (171 fields for 3 records)"),
        ((57, 58, 58), 3, "record 1: 57 fields, expected 58 (173 fields for 3 records)"),
        ((58, 58), 3, "record 3: 0 fields, expected 58 (116 fields for 3 records)"),
    ],
)
def test_field_count_error_blames_the_record_that_is_off(
    lengths: tuple[int, ...], count: int, message: str
) -> None:
    """Records are not delimited, but each starts with a code and a time: the error finds the one that is off,
    even when the records of a frame are of different instruments."""
    codes = ("201S11305", "301V06362", "201W09350")
    records = []
    for code, length in zip(codes, lengths, strict=False):
        fields = _trade_fields(code)
        records.append((fields + ["1"] * length)[:length])
    with pytest.raises(FieldCountError, match=f"^H0IOCNT0 {re.escape(message)}$"):
        parse_frame(f"0|H0IOCNT0|{count:03d}|" + "^".join("^".join(r) for r in records))
