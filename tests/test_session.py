"""KisSession, ApprovalKeys and Catalog: every rule of PROTOCOL.md, without a network."""

from __future__ import annotations

import json
import math

import pytest

from kis_replay.codec import FrameCipher, SubscribeRequest, build_pingpong, parse_reply
from kis_replay.fake_server.approval import ApprovalKeys
from kis_replay.fake_server.catalog import Catalog
from kis_replay.fake_server.session import KisSession, SessionClosedError, SessionState

RECORDED = FrameCipher("K" * 32, "I" * 16)
CATALOG = Catalog.of(
    routes={("H0ZFASP0", "111V06"), ("H0IOCNT0", "201S11305"), ("XTRADE00", "ABC")},
    encrypted_tr_ids={"H0IFCNI0"},
    ciphers={("H0IFCNI0", "hts0001"): RECORDED},
)


def request(tr_id: str = "H0ZFASP0", tr_key: str = "111V06", tr_type: str = "1", key: str = "k1") -> str:
    return SubscribeRequest(tr_id, tr_key, tr_type=tr_type, approval_key=key).to_json()


def session(keys: ApprovalKeys | None = None, sid: int = 1, **kw) -> KisSession:
    return KisSession(sid, CATALOG, keys or ApprovalKeys(), **kw)


def code(s: KisSession, text: str | bytes) -> str:
    response = s.receive(text)
    assert response.text is not None
    return parse_reply(response.text).msg_cd


def test_subscribe_ack_has_the_live_shape():
    s = session(cipher=FrameCipher("a" * 32, "b" * 16))
    response = s.receive(request())
    obj = json.loads(response.text)
    assert obj == {
        "header": {"tr_id": "H0ZFASP0", "tr_key": "111V06", "encrypt": "N"},
        "body": {"rt_cd": "0", "msg_cd": "OPSP0000", "msg1": "SUBSCRIBE SUCCESS",
                 "output": {"iv": "b" * 16, "key": "a" * 32}},
    }
    assert response.added is not None and response.added.has_data
    assert s.wants("H0ZFASP0", "111V06") and not s.wants("H0ZFASP0", "111V07")


def test_unsubscribe_ack_and_route_removed():
    s = session()
    s.receive(request())
    response = s.receive(request(tr_type="2"))
    reply = parse_reply(response.text)
    assert (reply.msg_cd, reply.rt_cd, reply.msg1) == ("OPSP0001", "0", "UNSUBSCRIBE SUCCESS")
    assert reply.msg1.startswith("UNSUB") and reply.key and reply.iv
    assert response.removed is not None
    assert not s.wants("H0ZFASP0", "111V06") and not s.wants("H0ZFASP0", None)
    assert s.subscriptions == ()


@pytest.mark.parametrize(
    ("text", "msg_cd"),
    [
        ("{not json", "OPSP9999"),
        (b"\xff\xfe\x00", "OPSP9999"),
        ("[1, 2]", "OPSP9999"),
        ('{"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"111V06"}}}', "OPSP9998"),
        ('{"header":{"custtype":"P","tr_type":"1"}}', "OPSP9992"),
        ('{"header":{"custtype":"P","tr_type":"1"},"body":{}}', "OPSP9991"),
        ('{"header":{"tr_type":"1"},"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"111V06"}}}', "OPSP9997"),
        ('{"header":{"custtype":"X","tr_type":"1"},"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"1"}}}',
         "OPSP8998"),
        ('{"header":{"custtype":"P","tr_type":"3"},"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"1"}}}',
         "OPSP8997"),
        ('{"header":{"custtype":"P","tr_type":"1"},"body":{"input":{"tr_id":"H0ZFASP0"}}}', "OPSP9990"),
        (request(tr_id="H9NOPE00"), "OPSP8991"),
        (request(tr_id=""), "OPSP8991"),
        (request(tr_key=""), "OPSP8992"),
        (request(tr_key="111-06"), "OPSP8992"),
        (request(tr_key="1V06"), "OPSP8992"),  # H0ZFASP0 keys are 6–9 characters
        (request(tr_key="111V0600000"), "OPSP8992"),
        (request(tr_type="2"), "OPSP0003"),
    ],
)
def test_every_error_reply_of_the_table(text, msg_cd):
    s = session()
    response = s.receive(text)
    reply = parse_reply(response.text)
    assert reply.msg_cd == msg_cd
    assert reply.rt_cd == "1" and not reply.ok
    assert response.problem  # the log says why
    assert s.subscriptions == () and s.routes == set()


def test_duplicate_subscribe_is_already_in_subscribe():
    s = session()
    assert code(s, request()) == "OPSP0000"
    assert code(s, request()) == "OPSP0002"
    assert len(s.subscriptions) == 1


def test_the_42nd_registration_is_refused_and_unsubscribing_frees_a_slot():
    s = session()
    keys = [f"1{i:02d}V06" for i in range(42)]
    assert [code(s, request(tr_key=k)) for k in keys[:41]] == ["OPSP0000"] * 41
    assert code(s, request(tr_key=keys[41])) == "OPSP0008"
    assert len(s.subscriptions) == 41 and not s.wants("H0ZFASP0", keys[41])
    assert code(s, request(tr_key=keys[0], tr_type="2")) == "OPSP0001"
    assert code(s, request(tr_key=keys[41])) == "OPSP0000"


def test_keys_with_no_data_are_acked_and_flagged():
    s = session()
    response = s.receive(request(tr_key="105V06"))
    assert parse_reply(response.text).ok
    assert response.added is not None and not response.added.has_data


def test_archive_only_tr_is_known_and_its_recorded_key_accepted():
    s = session()
    assert code(s, request(tr_id="XTRADE00", tr_key="ABC")) == "OPSP0000"
    assert code(s, request(tr_id="XTRADE00", tr_key="ABD")) == "OPSP0000"  # well formed, no data


def test_encrypted_tr_ack_carries_the_recorded_cipher_and_routes_by_tr():
    s = session()
    reply = parse_reply(s.receive(request(tr_id="H0IFCNI0", tr_key="hts0001")).text)
    assert (reply.encrypt, reply.key, reply.iv) == ("Y", RECORDED.key, RECORDED.iv)
    # another HTS id of the same TR still gets the recorded session's cipher
    reply = parse_reply(s.receive(request(tr_id="H0IFCNI0", tr_key="hts0002")).text)
    assert (reply.encrypt, reply.key) == ("Y", RECORDED.key)
    assert s.wants("H0IFCNI0", None)
    assert code(s, request(tr_id="H0IFCNI0", tr_key="hts0001", tr_type="2")) == "OPSP0001"
    assert s.wants("H0IFCNI0", None)  # still holds hts0002
    assert code(s, request(tr_id="H0IFCNI0", tr_key="hts0002", tr_type="2")) == "OPSP0001"
    assert not s.wants("H0IFCNI0", None)


def test_wrong_approval_key_is_opsp0011_with_the_key_as_sent():
    keys = ApprovalKeys(required="right")
    s = session(keys)
    reply = parse_reply(s.receive(request(key="wrong")).text)
    assert (reply.msg_cd, reply.msg1) == ("OPSP0011", "invalid approval : wrong")
    assert code(s, request(key="right")) == "OPSP0000"


def test_second_session_with_the_same_key_only_while_the_first_is_open():
    keys = ApprovalKeys()
    first, second = session(keys, 1), session(keys, 2)
    assert code(first, request()) == "OPSP0000"
    response = second.receive(request())
    assert json.loads(response.text) == {
        "header": {"tr_id": "(null)", "tr_key": "", "encrypt": "N"},
        "body": {"rt_cd": "9", "msg_cd": "OPSP8996", "msg1": "ALREADY IN USE appkey"},
    }
    assert code(second, request(key="k2")) == "OPSP0000"  # another key is fine
    first.close()
    assert code(second, request(tr_key="111V07")) == "OPSP0000"  # k1 is free again


def test_shared_keys_allowed_when_exclusive_is_off():
    keys = ApprovalKeys(exclusive=False)
    assert code(session(keys, 1), request()) == "OPSP0000"
    assert code(session(keys, 2), request()) == "OPSP0000"


@pytest.mark.parametrize(
    "echo",
    [
        build_pingpong(),
        json.dumps({"header": {"datetime": "20240102030405", "tr_id": "PINGPONG"}}),  # re-serialised
        build_pingpong().encode(),
    ],
)
def test_pingpong_echoes_are_taken_silently(echo):
    s = session()
    response = s.receive(echo)
    assert response.reply is None and s.pongs == 1 and s.requests == 0


def test_pingpong_due_after_idleness_and_reset_by_sending():
    s = session(now=100.0, ping_interval=10.0)
    assert s.pingpong_due == 110.0
    s.sent(105.0)
    assert s.pingpong_due == 115.0
    text = s.pingpong(115.0)
    assert json.loads(text)["header"]["tr_id"] == "PINGPONG"
    assert s.pingpong_due == 125.0
    assert session(ping_interval=None).pingpong_due == math.inf


def test_close_drops_everything_and_refuses_more_input():
    s = session()
    s.receive(request())
    assert [sub.tr_key for sub in s.close()] == ["111V06"]
    assert s.state is SessionState.CLOSED and s.routes == set() and s.pingpong_due == math.inf
    assert s.close() == ()
    with pytest.raises(SessionClosedError):
        s.receive(request())


def test_key_problem_messages_name_the_key():
    assert "not alphanumeric" in CATALOG.key_problem("H0ZFASP0", "1 1")
    assert "6–9" in CATALOG.key_problem("H0ZFASP0", "1")
    assert CATALOG.key_problem("UNKNOWN0", "ABCDEFGHIJKL") is None
    assert CATALOG.key_problem("UNKNOWN0", "ABCDEFGHIJKLM") is not None
