"""Registrations are checked before the recorder connects: the 41 limit, tr_key widths, unknown TRs."""

import pytest

from kis_replay.codec import MAX_REGISTRATIONS
from kis_replay.recorder.subscriptions import (
    Subscription,
    SubscriptionError,
    check_subscriptions,
    parse_subscription,
    read_subscriptions_file,
)


def test_parse_subscription():
    assert parse_subscription(" H0ZFASP0:111V06 ") == Subscription("H0ZFASP0", "111V06")
    assert str(Subscription("H0IOCNT0", "201S11305")) == "H0IOCNT0:201S11305"


@pytest.mark.parametrize("text", ["H0ZFASP0", "H0ZFASP0:", ":111V06", "H0 ZF:1", "H0ZFASP0:1 1"])
def test_parse_subscription_rejects_malformed(text):
    with pytest.raises(SubscriptionError, match="cli"):
        parse_subscription(text, where="cli")


def test_request_carries_key_and_custtype():
    text = Subscription("H0ZFASP0", "111V06").request("k" * 10, "B").to_json()
    assert '"tr_id":"H0ZFASP0"' in text and '"custtype":"B"' in text and '"tr_type":"1"' in text


def test_read_file_names_file_and_line(tmp_path):
    path = tmp_path / "subs.txt"
    path.write_text("# futures\nH0ZFASP0:111V06, H0ZFASP0:111V07\n\nH0IOCNT0:201S11305  # trade\nbroken\n")
    with pytest.raises(SubscriptionError, match=r"subs.txt:5: 'broken' is not TR_ID:TR_KEY"):
        read_subscriptions_file(path)
    path.write_text("H0ZFASP0:111V06, H0ZFASP0:111V07\nH0IOCNT0:201S11305  # trade\n")
    assert [str(s) for s in read_subscriptions_file(path)] == [
        "H0ZFASP0:111V06", "H0ZFASP0:111V07", "H0IOCNT0:201S11305",
    ]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SubscriptionError, match="cannot read subscriptions file"):
        read_subscriptions_file(tmp_path / "nope.txt")


def test_41_accepted_42_refused():
    subs = [Subscription("H0ZFASP0", f"111V{i:02d}") for i in range(MAX_REGISTRATIONS + 1)]
    unique, warnings = check_subscriptions(subs[:MAX_REGISTRATIONS])
    assert len(unique) == 41 and warnings == []
    with pytest.raises(SubscriptionError, match=r"42 registrations.*at most 41.*OPSP0008"):
        check_subscriptions(subs)


def test_duplicates_collapse_with_a_warning_and_do_not_count():
    subs = [Subscription("H0ZFASP0", f"111V{i:02d}") for i in range(MAX_REGISTRATIONS)]
    unique, warnings = check_subscriptions([*subs, subs[0]])
    assert unique == subs
    assert warnings == ["H0ZFASP0:111V00 is listed twice; registering it once"]


def test_unknown_tr_warns_known_tr_checks_key_width():
    unique, warnings = check_subscriptions([Subscription("H0STCNT0", "005930")])
    assert unique and "H0STCNT0 is not a TR this version knows" in warnings[0]
    with pytest.raises(SubscriptionError, match="H0IOCNT0:1: a H0IOCNT0 tr_key is 8-9 characters"):
        check_subscriptions([Subscription("H0IOCNT0", "1")])


def test_nothing_to_record():
    with pytest.raises(SubscriptionError, match="nothing to record"):
        check_subscriptions([])
