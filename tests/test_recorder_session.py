"""The recorder's side of the KIS session as a pure state machine: every transition, no network.

Replies are built with the codec (``build_reply``), as the fake server builds them.
"""

import pytest

from kis_replay.codec import build_pingpong, build_reply, parse_request
from kis_replay.recorder.credentials import Credentials
from kis_replay.recorder.session import (
    Established,
    Pong,
    Reconnect,
    RecorderSession,
    Rejected,
    Renew,
    SessionState,
    Stop,
)
from kis_replay.recorder.subscriptions import Subscription

KEY = "approval-0123456789"
FUT = Subscription("H0ZFASP0", "111V06")
OPT = Subscription("H0IOCNT0", "201S11305")


def ack(sub, code="OPSP0000", **kw):
    return build_reply(code, tr_id=sub.tr_id, tr_key=sub.tr_key, **kw).to_json()


def opened_session(*subs):
    session = RecorderSession(subs or (FUT, OPT), KEY, scrub=Credentials(approval_key=KEY).scrub)
    return session, session.opened()


def test_opened_sends_one_request_per_registration_in_order():
    session, requests = opened_session()
    assert session.state is SessionState.SUBSCRIBING
    parsed = [parse_request(text) for text in requests]
    assert [(r.tr_id, r.tr_key, r.subscribe, r.approval_key) for r in parsed] == [
        ("H0ZFASP0", "111V06", True, KEY), ("H0IOCNT0", "201S11305", True, KEY),
    ]


def test_established_after_every_ack_and_acks_kept():
    session, _ = opened_session()
    output = {"iv": "0123456789abcdef", "key": "abcdefghijklmnopabcdefghijklmnop"}
    first = ack(FUT, output=output)
    assert session.received(first) == []
    assert session.state is SessionState.SUBSCRIBING
    second = ack(OPT, code="OPSP0002")  # already subscribed counts as subscribed
    assert session.received(second) == [Established()]
    assert session.state is SessionState.STREAMING
    assert session.acks == [first, second]
    assert session.live == [FUT, OPT]
    # a repeated ack changes nothing and is not kept twice
    assert session.received(first) == []
    assert session.acks == [first, second]


def test_data_frames_need_nothing():
    session, _ = opened_session()
    assert session.received("0|H0ZFASP0|001|111V06^092304") == []


def test_pingpong_is_answered_with_its_own_text():
    session, _ = opened_session()
    text = build_pingpong()
    assert session.received(text) == [Pong(text)]


def test_unreadable_control_message_is_ignored():
    session, _ = opened_session()
    assert session.received("{not json") == []
    assert session.received('{"header":{}}') == []


def test_rejected_registration_drops_only_that_one():
    session, _ = opened_session()
    session.received(ack(FUT))
    actions = session.received(ack(OPT, code="OPSP8992"))
    assert actions == [Rejected(OPT, "H0IOCNT0:201S11305: OPSP8992 SUBSCRIBE ERROR : invalid tr_key"), Established()]
    assert session.rejected == [OPT]
    assert RecorderSession.next_subscriptions((FUT, OPT), session.rejected) == (FUT,)


def test_error_without_header_blames_the_oldest_pending():
    session, _ = opened_session()
    actions = session.received(build_reply("OPSP9999").to_json())
    assert actions[0] == Rejected(FUT, "H0ZFASP0:111V06: OPSP9999 JSON PARSING ERROR : invalid json format")


def test_every_registration_refused_stops():
    session, _ = opened_session(FUT)
    actions = session.received(ack(FUT, code="OPSP8991"))
    assert isinstance(actions[-1], Stop) and "refused every registration: H0ZFASP0:111V06" in actions[-1].reason


def test_invalid_approval_renews_and_never_shows_the_key():
    session, _ = opened_session()
    [action] = session.received(ack(FUT, code="OPSP0011", detail=KEY))
    assert isinstance(action, Renew)
    assert KEY not in action.reason and "OPSP0011 invalid approval : <redacted>" in action.reason


def test_key_in_use_is_a_severe_reconnect():
    session, _ = opened_session()
    [action] = session.received(build_reply("OPSP8996", tr_id="(null)").to_json())
    assert action == Reconnect("the approval key is in use by another session: OPSP8996 ALREADY IN USE appkey", True)


def test_internal_error_is_a_plain_reconnect():
    session, _ = opened_session()
    [action] = session.received(ack(FUT, code="OPSP0007"))
    assert isinstance(action, Reconnect) and not action.severe


def test_closed_session_ignores_everything():
    session, _ = opened_session()
    session.closed()
    assert session.state is SessionState.CLOSED
    assert session.received(ack(FUT)) == []
    with pytest.raises(RuntimeError, match="opened\\(\\) in state closed"):
        session.opened()
