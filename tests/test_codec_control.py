"""Control messages by example: requests as different clients write them, every reply code of PROTOCOL.md's
table, acks with and without output, and PINGPONG."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kis_replay.codec import (
    REDACTED,
    REPLY_CODES,
    CodecError,
    ControlMessageError,
    ControlReply,
    PingPong,
    SubscribeRequest,
    build_pingpong,
    build_reply,
    is_pingpong,
    parse_message,
    parse_pingpong,
    parse_reply,
    parse_request,
)

# PROTOCOL.md's table, copied by hand: msg_cd → (rt_cd, msg1). Blank rt_cd cells are "1" (request errors)
# and "9" (session errors), as the document says was seen.
EXPECTED_CODES = {
    "OPSP0000": ("0", "SUBSCRIBE SUCCESS"),
    "OPSP0001": ("0", "UNSUBSCRIBE SUCCESS"),
    "OPSP0002": ("1", "ALREADY IN SUBSCRIBE"),
    "OPSP0003": ("1", "UNSUBSCRIBE ERROR(not found!)"),
    "OPSP0007": ("1", "SUBSCRIBE INTERNAL ERROR"),
    "OPSP0008": ("1", "MAX SUBSCRIBE OVER"),
    "OPSP0011": ("1", "invalid approval : "),
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

KIS_SAMPLE_REQUEST = (
    '{"header":{"approval_key":"00000000-test-key0-0000-000000000000","custtype":"P","tr_type":"1",'
    '"content-type":"utf-8"},"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"111V06"}}}'
)
KIS_SAMPLE_ACK = (
    '{"header":{"tr_id":"H0ZFASP0","tr_key":"111V06","encrypt":"N"},'
    '"body":{"rt_cd":"0","msg_cd":"OPSP0000","msg1":"SUBSCRIBE SUCCESS",'
    '"output":{"iv":"0123456789abcdef","key":"abcdefghijklmnopabcdefghijklmnop"}}}'
)


def test_reply_table_is_protocol_md() -> None:
    assert REPLY_CODES == EXPECTED_CODES


def test_kis_sample_request() -> None:
    req = parse_request(KIS_SAMPLE_REQUEST)
    assert (req.tr_id, req.tr_key, req.tr_type, req.custtype) == ("H0ZFASP0", "111V06", "1", "P")
    assert req.subscribe and req.extra_header == {}
    assert req.to_json() == KIS_SAMPLE_REQUEST
    assert parse_request(KIS_SAMPLE_REQUEST.encode()) == req


def test_request_with_other_key_order_and_extra_header() -> None:
    text = (
        '{"body": {"input": {"tr_key": "201S11305", "tr_id": "H0IOCNT0"}}, '
        '"header": {"tr_type": "2", "personalseckey": "1", "content-type": "utf-8", "custtype": "B", '
        '"approval_key": "k"}}'
    )
    req = parse_request(text)
    assert (req.tr_id, req.tr_key, req.subscribe, req.custtype) == ("H0IOCNT0", "201S11305", False, "B")
    assert req.extra_header == {"personalseckey": "1"}
    assert json.loads(req.to_json()) == json.loads(text)  # nothing lost on re-serialising
    assert parse_request(req.to_json()) == req


def test_redacted_request_hides_the_approval_key() -> None:
    req = parse_request(KIS_SAMPLE_REQUEST).redacted()
    assert req.approval_key == REDACTED
    assert "00000000-test-key0" not in req.to_json()


@pytest.mark.parametrize(
    ("text", "msg_cd", "message"),
    [
        ("{", "OPSP9999", "invalid JSON"),
        ("", "OPSP9999", "invalid JSON"),
        ("[1, 2]", "OPSP9999", "expected a JSON object, got list"),
        ('{"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"111V06"}}}', "OPSP9998", "no header object"),
        ('{"header":{"custtype":"P","tr_type":"1"}}', "OPSP9992", "no body object"),
        ('{"header":{"custtype":"P","tr_type":"1"},"body":{}}', "OPSP9991", "no input object"),
        ('{"header":{"tr_type":"1"},"body":{"input":{"tr_key":"x"}}}', "OPSP9997", "no custtype"),
        ('{"header":{"custtype":"X","tr_type":"1"},"body":{"input":{"tr_key":"x"}}}', "OPSP8998", "'X'"),
        ('{"header":{"custtype":"P","tr_type":"3"},"body":{"input":{"tr_key":"x"}}}', "OPSP8997", "'3'"),
        ('{"header":{"custtype":"P","tr_type":1},"body":{"input":{"tr_key":"x"}}}', "OPSP8997", "1"),
        ('{"header":{"custtype":"P","tr_type":"1"},"body":{"input":{"tr_id":"H0ZFASP0"}}}', "OPSP9990", "tr_key"),
        ('{"header":{"custtype":"P","tr_type":"1"},"body":{"input":{"tr_id":7,"tr_key":"x"}}}', "OPSP8991", "7"),
        ('{"header":{"custtype":"P","tr_type":"1"},"body":{"input":{"tr_id":"A","tr_key":null}}}', "OPSP8992",
         "None"),
    ],
)
def test_bad_requests_carry_the_service_code(text: str, msg_cd: str, message: str) -> None:
    with pytest.raises(ControlMessageError, match=message) as info:
        parse_request(text)
    assert info.value.msg_cd == msg_cd
    # the code the server answers with names a real row of the table
    assert msg_cd in REPLY_CODES


def test_unknown_tr_id_is_for_the_server_to_judge() -> None:
    req = parse_request('{"header":{"custtype":"P","tr_type":"1"},"body":{"input":{"tr_key":"x"}}}')
    assert req.tr_id == "" and req.approval_key == ""


@pytest.mark.parametrize("msg_cd", sorted(EXPECTED_CODES))
def test_every_reply_builds_and_parses(msg_cd: str) -> None:
    detail = "00000000-test-key0-0000-000000000000" if msg_cd == "OPSP0011" else ""
    reply = build_reply(msg_cd, tr_id="H0ZFASP0", tr_key="111V06", detail=detail)
    rt_cd, msg1 = EXPECTED_CODES[msg_cd]
    assert (reply.rt_cd, reply.msg_cd, reply.msg1) == (rt_cd, msg_cd, msg1 + detail)
    assert reply.ok == (rt_cd == "0")
    obj = json.loads(reply.to_json())
    assert list(obj) == ["header", "body"]
    assert list(obj["body"]) == ["rt_cd", "msg_cd", "msg1"]  # msg_cd always present (python-kis needs it)
    assert parse_reply(reply.to_json()) == reply
    assert parse_message(reply.to_json()) == reply


def test_kis_sample_ack_round_trips_byte_for_byte() -> None:
    ack = parse_reply(KIS_SAMPLE_ACK)
    assert ack.ok and ack.iv == "0123456789abcdef" and ack.key == "abcdefghijklmnopabcdefghijklmnop"
    assert ack.to_json() == KIS_SAMPLE_ACK
    assert build_reply("OPSP0000", tr_id="H0ZFASP0", tr_key="111V06",
                       output={"iv": ack.iv, "key": ack.key}).to_json() == KIS_SAMPLE_ACK  # type: ignore[dict-item]


def test_ack_without_output_and_session_error() -> None:
    ack = parse_reply('{"header":{"tr_id":"H0IOCNT0","tr_key":"201S11305","encrypt":"N"},'
                      '"body":{"rt_cd":"0","msg_cd":"OPSP0000","msg1":"SUBSCRIBE SUCCESS"}}')
    assert ack.output is None and ack.iv is None and ack.key is None and ack.cipher() is None
    in_use = parse_reply('{"header":{"tr_id":"(null)","tr_key":"","encrypt":"N"},'
                         '"body":{"rt_cd":"9","msg_cd":"OPSP8996","msg1":"ALREADY IN USE appkey"}}')
    assert (in_use.tr_id, in_use.rt_cd, in_use.msg_cd) == ("(null)", "9", "OPSP8996")
    assert in_use == build_reply("OPSP8996", tr_id="(null)")


def test_null_header_values_read_as_empty() -> None:
    reply = parse_reply('{"header":{"tr_id":null,"tr_key":null},"body":{"rt_cd":"1","msg_cd":"OPSP8991"}}')
    assert (reply.tr_id, reply.tr_key, reply.msg1, reply.encrypt) == ("", "", "", "N")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"body":{"msg_cd":"OPSP0000"}}', "reply has no header object"),
        ('{"header":{}}', "reply has no body object"),
        ('{"header":{},"body":{"rt_cd":"0"}}', "reply body has no msg_cd"),
        ('{"header":{},"body":{"msg_cd":"OPSP0000","output":{"iv":1}}}', "output is not an object of strings"),
        ('{"header":{},"body":{"msg_cd":"OPSP0000","output":[]}}', "output is not an object of strings"),
        ("nope", "invalid JSON"),
    ],
)
def test_bad_replies(text: str, message: str) -> None:
    with pytest.raises(ControlMessageError, match=message):
        parse_reply(text)
    with pytest.raises(CodecError):
        parse_message(text)


def test_pingpong() -> None:
    when = dt.datetime(2025, 6, 13, 1, 2, 3, tzinfo=dt.UTC)  # 10:02:03 KST
    text = build_pingpong(when)
    assert text == '{"header":{"tr_id":"PINGPONG","datetime":"20250613100203"}}'
    assert is_pingpong(text) and is_pingpong(text.encode())
    assert not is_pingpong(KIS_SAMPLE_ACK)
    assert parse_pingpong(text) == PingPong("20250613100203") == parse_message(text)
    assert parse_message(text.encode()).to_json() == text  # type: ignore[union-attr]
    # python-kis re-serialises it with spaces: still a PINGPONG
    spaced = json.dumps(json.loads(text))
    assert is_pingpong(spaced) and parse_message(spaced) == PingPong("20250613100203")
    with pytest.raises(ControlMessageError, match="not a PINGPONG"):
        parse_pingpong(KIS_SAMPLE_ACK)


def test_subscribe_request_defaults() -> None:
    req = SubscribeRequest("H0EUASP0", "301V06362", approval_key="k")
    obj = json.loads(req.to_json())
    assert obj == {
        "header": {"approval_key": "k", "custtype": "P", "tr_type": "1", "content-type": "utf-8"},
        "body": {"input": {"tr_id": "H0EUASP0", "tr_key": "301V06362"}},
    }
    assert isinstance(parse_message(build_reply("OPSP0001").to_json()), ControlReply)
