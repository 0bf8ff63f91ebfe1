"""Scenario steps as pure timeline transformations: no network, no clock, every rule checked."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kis_replay.codec import FrameError, parse_frame
from kis_replay.replayer.event import TimelineEvent
from kis_replay.scenarios import (
    Abort,
    Burst,
    Close,
    ConnectionAction,
    Disconnect,
    Drop,
    Duplicate,
    Latency,
    Malformed,
    Mark,
    PingPong,
    Reject,
    RejectSubscriptions,
    Reorder,
    Scenario,
    ScenarioError,
    ScenarioRun,
    SendRaw,
    SetPingPong,
    Stall,
    parse_scenario,
)
from kis_replay.scenarios.malformed import UNKNOWN_TR

S = 1_000_000_000
MS = 1_000_000
ORIGIN = 1_750_000_000 * S  # 2025-06-15 15:06:40 UTC = 2025-06-16 00:06:40 KST

# KIS's own documentation frame (PROTOCOL.md), re-keyed per instrument
_DOC = ("0|H0ZFASP0|001|111V06^092304^79700^79800^79900^80000^80200^80300^80500^81100^84900^85900^79500^79400^"
        "79300^79200^79100^79000^78900^78800^78700^78600^1^18^6^2^2^1^3^1^1^1^8^6^4^8^4^8^7^11^11^3^950^4148^"
        "988^6^9^1^3^15^5^10^4404^2277^1321^3440^330^2237^1835^362^83^15^36^97^6135^16509^950^0")
KEYS = ("111V06", "112V06")


def frame(key: str) -> str:
    return _DOC.replace("111V06", key, 1)


def timeline(n: int = 100, step_ns: int = 100 * MS) -> list[TimelineEvent]:
    """``n`` events 100 ms apart, alternating two instruments."""
    return [TimelineEvent(i * step_ns, ORIGIN + i * step_ns, "H0ZFASP0", KEYS[i % 2], frame(KEYS[i % 2]))
            for i in range(n)]


def run(*steps, seed: int = 0, client: int = 1, events=None, start_ns: int = 0, **kwargs) -> list:
    scenario = Scenario("test", tuple(steps), seed=seed)
    out = list(ScenarioRun(scenario, **kwargs).transform(timeline() if events is None else events, client,
                                                         start_ns=start_ns))
    offsets = [item.offset_ns for item in out]
    assert offsets == sorted(offsets), "a scenario stream must stay in time order"
    return out


def sent(items) -> list[TimelineEvent]:
    return [item for item in items if isinstance(item, TimelineEvent)]


def faults(items, kind=ConnectionAction) -> list:
    return [item for item in items if isinstance(item, kind)]


# -- per-frame faults ---------------------------------------------------------------------------------------


def test_drop_removes_frames_of_its_routes_and_marks_each():
    out = run(Drop(probability=1.0, only=("H0ZFASP0:111V06",), after=2 * S, duration=3 * S))
    dropped = [e for e in timeline() if e.tr_key == "111V06" and 2 * S <= e.offset_ns < 5 * S]
    assert len(dropped) == 15
    assert sent(out) == [e for e in timeline() if e not in dropped]
    marks = faults(out, Mark)
    assert [m.offset_ns for m in marks] == [e.offset_ns for e in dropped]
    assert marks[0].what == "dropped a H0ZFASP0:111V06 frame"


def test_random_faults_are_deterministic_for_a_seed_and_differ_across_seeds_and_clients():
    step = Drop(probability=0.3)
    first, again = run(step, seed=5), run(step, seed=5)
    assert first == again
    assert 10 < len(faults(first)) < 50
    assert run(step, seed=6) != first
    assert run(step, seed=5, client=2) != first
    # a step's own seed wins over the run's
    assert run(Drop(probability=0.3, seed=9), seed=5) == run(Drop(probability=0.3, seed=9), seed=1)


def test_duplicate_sends_a_frame_twice_back_to_back():
    out = run(Duplicate(probability=1.0, after=1 * S, duration=1 * S))
    events = sent(out)
    assert len(events) == 110
    counts = Counter(e.offset_ns for e in events)
    assert {t for t, c in counts.items() if c == 2} == {t * 100 * MS for t in range(10, 20)}
    assert len(faults(out, Mark)) == 10


def test_reorder_sends_a_held_frame_after_depth_later_frames():
    events = timeline(300)
    out = run(Reorder(probability=0.1, depth=2), seed=3, events=events)
    got = sent(out)
    assert Counter(e.text + str(e.wall_ns) for e in got) == Counter(e.text + str(e.wall_ns) for e in events)
    marks = faults(out, Mark)
    assert marks
    order = [e.wall_ns for e in got]
    moved = 0
    for mark in marks:  # each held frame went out right after the mark, behind 2 later frames
        i = out.index(mark)
        late = out[i + 1]
        later = [e for e in got if e.wall_ns > late.wall_ns and order.index(e.wall_ns) < order.index(late.wall_ns)]
        assert len(later) >= 2
        assert late.offset_ns >= late.wall_ns - ORIGIN
        moved += 1
    assert moved == len(marks)


def test_latency_delays_frames_within_bounds_and_keeps_each_route_in_order():
    events = timeline(200, step_ns=10 * MS)
    out = run(Latency(delay=50 * MS, jitter=30 * MS), events=events, seed=2)
    got = sent(out)
    assert len(got) == 200
    for key in KEYS:
        mine = [e for e in got if e.tr_key == key]
        assert [e.wall_ns for e in mine] == sorted(e.wall_ns for e in mine)
    delays = [e.offset_ns - (e.wall_ns - ORIGIN) for e in got]
    assert min(delays) >= 20 * MS
    assert max(delays) <= 80 * MS + 20 * MS  # per-route order may push a frame past its own draw
    assert len(set(delays)) > 10
    assert [m.what for m in faults(out)] == ["latency 50ms ± 30ms begins"]


def test_latency_on_one_route_lets_the_other_overtake():
    out = run(Latency(delay=1 * S, only=("H0ZFASP0:111V06",), after=0, duration=2 * S))
    got = sent(out)
    first_112 = next(i for i, e in enumerate(got) if e.tr_key == "112V06")
    assert first_112 == 0  # 111V06 at 0 s is now due at 1 s
    assert got[0].offset_ns == 100 * MS
    assert [m.what for m in faults(out)] == ["latency 1s on H0ZFASP0:111V06 begins",
                                            "latency 1s on H0ZFASP0:111V06 ends"]
    assert all(e.offset_ns == e.wall_ns - ORIGIN for e in got if e.wall_ns - ORIGIN >= 2 * S)


# -- bursts and stalls --------------------------------------------------------------------------------------


def test_burst_compresses_a_window_and_leaves_the_rest_alone():
    out = run(Burst(after=2 * S, window=3 * S, within=300 * MS))
    got = sent(out)
    assert len(got) == 100
    inside = [e for e in got if 2 * S <= e.wall_ns - ORIGIN < 5 * S]
    assert len(inside) == 30
    assert all(2 * S <= e.offset_ns < 2 * S + 300 * MS for e in inside)
    assert [e.offset_ns - 2 * S for e in inside] == [(e.wall_ns - ORIGIN - 2 * S) // 10 for e in inside]
    assert all(e.offset_ns == e.wall_ns - ORIGIN for e in got if e not in inside)
    (mark,) = faults(out)
    assert mark.offset_ns == 2 * S and mark.what == "burst: 30 frames of 3s sent within 300ms"


def test_burst_injects_synthetic_frames_through_the_given_synthesizer():
    def synthesize(step, start, origin, rng):
        return [TimelineEvent(start + i * step.within // step.count, origin + start, "H0ZFASP0", "111V06",
                              frame("111V06")) for i in range(step.count)]

    step = Burst(after=1 * S, count=50, within=100 * MS, instruments=("H0ZFASP0:111V06",))
    out = run(step, synthesize=synthesize)
    got = sent(out)
    assert len(got) == 150
    assert sum(1 for e in got if S <= e.offset_ns < S + 100 * MS) == 51
    assert faults(out)[0].what == "burst: 50 synthetic frames of H0ZFASP0:111V06 within 100ms"


@pytest.mark.parametrize("backlog", ["drop", "flush"])
def test_stall_holds_frames_and_drops_or_flushes_them(backlog):
    out = run(Stall(after=2 * S, duration=1 * S, backlog=backlog))
    got = sent(out)
    quiet = [e for e in got if 2 * S <= e.offset_ns < 3 * S]
    assert quiet == []
    if backlog == "drop":
        assert len(got) == 90
    else:
        assert len(got) == 100
        assert sum(1 for e in got if e.offset_ns == 3 * S) == 11  # 10 held + the one due at 3 s
    begin, end = faults(out)
    assert isinstance(begin, Mark) and begin.offset_ns == 2 * S and "PINGPONG goes on" in begin.what
    assert end.offset_ns == 3 * S and end.what.startswith("stall ends: 10 frame(s)")


def test_a_stall_that_stops_pingpong_restarts_it():
    out = run(Stall(after=2 * S, duration=1 * S, pingpong=False))
    begin, end = faults(out)
    assert isinstance(begin, SetPingPong) and begin.stop
    assert isinstance(end, SetPingPong) and not end.stop and end.interval_ns is None


# -- connection steps ---------------------------------------------------------------------------------------


def test_disconnect_comes_before_frames_of_its_time():
    out = run(Disconnect(after=2 * S, code=1011, reason="bye", refuse=5 * S))
    i = next(i for i, item in enumerate(out) if isinstance(item, Close))
    close = out[i]
    assert (close.code, close.reason, close.refuse_until_ns) == (1011, "bye", 7 * S)
    assert out[i + 1].offset_ns == 2 * S and isinstance(out[i + 1], TimelineEvent)
    assert close.what == "close 1011 'bye'; refusing new connections for 5s"
    (abort,) = faults(run(Disconnect(after=S, abort=True)))
    assert isinstance(abort, Abort) and abort.refuse_until_ns is None


def test_actions_due_after_the_timeline_still_come():
    out = run(Disconnect(after=60 * S, abort=True))
    assert isinstance(out[-1], Abort) and out[-1].offset_ns == 60 * S


def test_reject_and_pingpong_actions():
    out = run(Reject(count=2, msg_cd="OPSP0011"), PingPong(after=S, interval=3 * S, duration=2 * S))
    reject, faster, normal = faults(out)
    assert isinstance(reject, RejectSubscriptions) and (reject.count, reject.msg_cd, reject.offset_ns) == (
        2, "OPSP0011", 0)
    assert isinstance(faster, SetPingPong) and faster.interval_ns == 3 * S and faster.offset_ns == S
    assert isinstance(normal, SetPingPong) and normal.interval_ns is None and normal.offset_ns == 3 * S


@pytest.mark.parametrize("kind", ["field-count", "count-field", "truncated", "invalid-utf8", "unknown-tr"])
def test_malformed_frames_are_made_from_the_next_frame_and_really_are_malformed(kind):
    out = run(Malformed(after=S + 1, kind=kind, only=("H0ZFASP0:112V06",)))
    i = next(i for i, item in enumerate(out) if isinstance(item, SendRaw))
    raw = out[i]
    base = out[i + 1]
    assert base.tr_key == "112V06" and raw.offset_ns == base.offset_ns == 1100 * MS
    if kind == "unknown-tr":
        assert raw.payload == base.text.replace("H0ZFASP0", UNKNOWN_TR)
        assert parse_frame(raw.payload).spec is None
    else:
        assert isinstance(raw.payload, bytes) == (kind == "invalid-utf8")
        with pytest.raises(FrameError):
            parse_frame(raw.payload)
    assert not raw.binary
    binary = faults(run(Malformed(after=S, kind=kind, binary=True)), SendRaw)[0]
    assert binary.binary and isinstance(binary.payload, bytes)


def test_malformed_after_the_last_frame_uses_the_last_one_and_without_frames_is_only_marked():
    (late,) = faults(run(Malformed(after=60 * S, kind="truncated")))
    assert isinstance(late, SendRaw) and late.offset_ns == 60 * S
    (none,) = faults(run(Malformed(after=S, kind="truncated", only=("H0IOCNT0",))))
    assert isinstance(none, Mark) and "not sent" in none.what and none.offset_ns == 9_900 * MS


# -- a whole run ----------------------------------------------------------------------------------------------


def test_clients_and_join_time_choose_which_steps_apply():
    steps = (Disconnect(after=2 * S, abort=True, clients=(1,)), Drop(probability=1.0, clients=(2,)),
             Disconnect(after=5 * S, abort=True))
    assert [type(a) for a in faults(run(*steps, client=1))] == [Abort, Abort]
    two = run(*steps, client=2)
    assert sent(two) == [] and len(faults(two, Abort)) == 1
    # client 3 joined at 3 s: the 2 s disconnect is in its past, the 5 s one ahead
    late = run(*steps, client=3, events=[e for e in timeline() if e.offset_ns >= 3 * S], start_ns=3 * S)
    assert [a.offset_ns for a in faults(late)] == [5 * S]


def test_at_is_a_kst_session_time_of_the_archive():
    scenario = parse_scenario('[[step]]\ntype = "disconnect"\nat = 00:06:42.5\nabort = true\n')
    kst = dt.timezone(dt.timedelta(hours=9))

    def session_time(t: dt.time) -> int:
        return int(dt.datetime.combine(dt.date(2025, 6, 16), t, kst).timestamp()) * S + t.microsecond * 1000

    run_ = ScenarioRun(scenario, session_time=session_time)
    (abort,) = faults(run_.transform(timeline(), 1))
    assert abort.offset_ns == 2_500 * MS
    record = run_.fault(abort, 1)
    assert record == {"offset_s": 2.5, "client": 1, "step": 1, "type": "disconnect", "line": 1,
                      "what": "dropped the TCP connection (no close frame)", "session_time": "00:06:42.500",
                      "scenario": "scenario"}
    with pytest.raises(ScenarioError, match="session clock"):
        ScenarioRun(scenario)


def test_every_builtin_runs_on_a_timeline():
    from kis_replay.scenarios import builtin_names, load_builtin

    events = timeline(1000)  # 100 s
    for name in builtin_names():
        run_ = ScenarioRun(load_builtin(name))
        out = list(run_.transform(events, 1))
        assert [i.offset_ns for i in out] == sorted(i.offset_ns for i in out), name
        assert faults(out), name
        assert out == list(run_.transform(events, 1)), name


_frame_steps = st.one_of(
    st.builds(Drop, probability=st.floats(0.01, 1.0)),
    st.builds(Duplicate, probability=st.floats(0.01, 1.0)),
    st.builds(Reorder, probability=st.floats(0.01, 1.0), depth=st.integers(1, 5)),
    st.builds(Latency, delay=st.integers(1, 2 * S), jitter=st.integers(0, S)),
    st.builds(Burst, after=st.integers(0, 5 * S), window=st.integers(2 * S, 4 * S), within=st.integers(1, S)),
    st.builds(Stall, after=st.integers(0, 9 * S), duration=st.integers(1, 3 * S),
              backlog=st.sampled_from(["drop", "flush"]), pingpong=st.booleans()),
)


@given(st.lists(_frame_steps, min_size=1, max_size=5), st.integers(0, 3))
def test_any_chain_of_frame_steps_keeps_time_order_and_never_invents_frames(steps, seed):
    events = timeline(100)
    out = run(*steps, seed=seed, events=events)
    originals = Counter(e.wall_ns for e in events)
    for event in sent(out):
        assert originals[event.wall_ns] > 0
    assert out == run(*steps, seed=seed, events=events)


# -- injected frames and armed rejections ---------------------------------------------------------------------


def test_injected_burst_frames_come_from_synth_through_the_codec_and_are_deterministic():
    step = Burst(after=2 * S, count=40, within=200 * MS, instruments=("H0ZFASP0:111V06", "H0IOCNT0:201X12350"))
    out = run(step, seed=4)
    injected = [e for e in sent(out) if 2 * S <= e.offset_ns < 2 * S + 200 * MS and e not in timeline()]
    assert len(injected) == 40
    assert Counter(e.tr_key for e in injected) == {"111V06": 20, "201X12350": 20}
    for event in injected:
        parsed = parse_frame(event.text)
        assert parsed.tr_id == event.tr_id and parsed.tr_key == event.tr_key
        assert all(record.valid for record in parsed.records)
    assert out == run(step, seed=4)
    assert run(step, seed=5) != out


def test_rejections_answer_matching_subscribes_with_the_chosen_error():
    from kis_replay.codec import SubscribeRequest, parse_reply
    from kis_replay.scenarios.rejections import Rejections

    rejections = Rejections()
    over = Reject(count=2, msg_cd="OPSP0008", only=("H0ZFASP0",), number=1)
    in_use = Reject(count=1, msg_cd="OPSP8996", number=2)
    rejections.arm(RejectSubscriptions(offset_ns=0, step=over, what="", count=2, msg_cd="OPSP0008"))
    rejections.arm(RejectSubscriptions(offset_ns=0, step=in_use, what="", count=1, msg_cd="OPSP8996"))

    def request(tr_id, key, tr_type="1"):
        return SubscribeRequest(tr_id, key, tr_type, approval_key="secret").to_json()

    assert rejections.judge(request("H0ZFASP0", "111V06", "2")) is None  # unsubscribes pass
    assert rejections.judge("{not json") is None
    first = rejections.judge(request("H0IOCNT0", "201X12350"))  # only the second matches it
    assert parse_reply(first.reply.to_json()).msg_cd == "OPSP8996"
    assert (first.reply.tr_id, first.reply.rt_cd, first.step.number) == ("(null)", "9", 2)
    for _ in range(2):
        hit = rejections.judge(request("H0ZFASP0", "111V06"))
        assert (hit.reply.msg_cd, hit.reply.msg1, hit.reply.tr_key) == ("OPSP0008", "MAX SUBSCRIBE OVER", "111V06")
        assert hit.what == "answered subscribe H0ZFASP0 111V06 with OPSP0008"
    assert not rejections and rejections.judge(request("H0ZFASP0", "111V06")) is None
    rejections.arm(RejectSubscriptions(offset_ns=0, step=Reject(msg_cd="OPSP0011"), what="", count=1,
                                       msg_cd="OPSP0011"))
    assert rejections.judge(request("H0ZFASP0", "111V06")).reply.msg1 == "invalid approval : secret"


def test_a_client_stream_splits_off_the_actions_due_at_connection():
    scenario = Scenario("s", (Reject(count=1), PingPong(stop=True), Disconnect(after=S, abort=True)))
    stream = ScenarioRun(scenario).stream(timeline(20), 1)
    opening = stream.opening()
    assert [type(a) for a in opening] == [RejectSubscriptions, SetPingPong]
    rest = list(stream)
    assert [type(a) for a in faults(rest)] == [Abort]
    assert sent(rest) == timeline(20)
