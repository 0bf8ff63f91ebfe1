"""Synthetic sessions as a whole: parameters, determinism, pacing, session hours, the written archive."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest

from kis_replay.archive import ArchiveReader, Direction, RecordKind
from kis_replay.codec import REDACTED, parse_frame, parse_request, peek_route
from kis_replay.synth import DEFAULT_SYMBOLS, SynthError, SynthSession, generate
from kis_replay.synth.recording import write_archive

KST = dt.timezone(dt.timedelta(hours=9))


def kst(wall_ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(wall_ns / 1e9, KST)


def frames(session: SynthSession) -> list[tuple[int, str]]:
    return [(w, t) for w, t in generate(session) if t[:1] == "0"]


# -- parameters -------------------------------------------------------------------------------------------


def test_defaults_give_a_day_session_of_the_default_symbols():
    session = SynthSession.create(["H0IOCNT0"])
    assert session.subscriptions == tuple(("H0IOCNT0", code) for code in DEFAULT_SYMBOLS["H0IOCNT0"])
    assert session.start == dt.time(9, 0) and session.date == dt.date(2026, 11, 24)
    assert kst(session.start_ns) == dt.datetime(2026, 11, 24, 9, 0, tzinfo=KST)


def test_bare_symbols_go_to_the_tr_that_takes_them():
    session = SynthSession.create(["H0ZFASP0", "H0IOCNT0"], ["111V06", "201S11305"])
    assert session.subscriptions == (("H0ZFASP0", "111V06"), ("H0IOCNT0", "201S11305"))


def test_pinned_symbols_and_defaults_for_the_other_trs():
    session = SynthSession.create(["H0ZFASP0", "H0EUASP0"], ["H0EUASP0:301V06362"], start=dt.time(15, 44),
                                  duration_s=3 * 3600)
    assert ("H0EUASP0", "301V06362") in session.subscriptions
    assert {code for tr, code in session.subscriptions if tr == "H0ZFASP0"} == set(DEFAULT_SYMBOLS["H0ZFASP0"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trs": ["H0XXXXX0"]}, "TR 'H0XXXXX0' is unknown"),
        ({"trs": []}, "no TR given"),
        ({"trs": ["H0ZFASP0"], "symbols": ["201X12350"]}, "symbol '201X12350' is not valid for H0ZFASP0"),
        ({"trs": ["H0IOCNT0"], "symbols": ["111V06"]}, "H0IOCNT0 takes an index-option code"),
        ({"trs": ["H0IOCNT0"], "symbols": ["H0ZFASP0:111V06"]}, "names TR H0ZFASP0, which is not among"),
        ({"trs": ["H0IOCNT0"], "symbols": ["H0IOCNT0:401X12350"]}, "'401X12350' is not valid for H0IOCNT0"),
        ({"trs": ["H0ZFASP0"], "symbols": ["111v06"]}, "'111v06' is not valid"),
        ({"trs": ["H0ZFASP0"], "duration_s": 0}, "duration 0 s is out of range"),
        ({"trs": ["H0ZFASP0"], "duration_s": 90_000}, "out of range"),
        ({"trs": ["H0ZFASP0"], "rate": 0}, "rate 0 is out of range"),
        ({"trs": ["H0ZFASP0"], "seed": -1}, "seed -1 is negative"),
        ({"trs": ["H0EUASP0"], "start": dt.time(9, 0), "duration_s": 60},
         "H0EUASP0 trades in the night session 18:00–05:00 KST"),
        ({"trs": ["H0ZFASP0"], "start": dt.time(16, 0)}, "H0ZFASP0 trades in the day session 09:00–15:45 KST"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    trs = kwargs.pop("trs")
    with pytest.raises(SynthError, match=message.replace("(", r"\(")):
        SynthSession.create(trs, **kwargs)


# -- determinism ------------------------------------------------------------------------------------------


def test_same_seed_same_messages_different_seed_different():
    def run(seed):
        return list(generate(SynthSession.create(["H0ZFASP0", "H0IOCNT0"], duration_s=3, seed=seed)))

    first = run(7)
    assert run(7) == first
    other = run(8)
    assert other != first
    assert {t.split("|")[3][:6] for _, t in other if t[0] == "0"} == {t.split("|")[3][:6] for _, t in first
                                                                          if t[0] == "0"}


def test_adding_a_symbol_leaves_the_others_alone():
    """Each instrument has its own generator: more futures, or options on another underlying, change
    nothing of an existing stream (options of one underlying share the index placed amid their strikes)."""

    def stream(symbols, code):
        session = SynthSession.create(["H0ZFASP0", "H0IOCNT0"], symbols, duration_s=4, seed=3)
        return [(w, t) for w, t in frames(session) if peek_route(t) == (t.split("|")[1], code)]

    option = stream(["111V06", "201X12350"], "201X12350")
    futures = stream(["111V06", "201X12350"], "111V06")
    assert option and futures
    more = ["111V06", "112V06", "201X12350", "205X12100"]
    assert stream(more, "201X12350") == option
    assert stream([*more, "301X12300"], "111V06") == futures


def test_same_seed_same_archive_bytes(tmp_path):
    def session(seed):
        return SynthSession.create(["H0ZFASP0", "H0IOCNT0"], ["111V06", "201X12350"], duration_s=4, seed=seed)

    a, b = tmp_path / "a.kisrec.zst", tmp_path / "b.kisrec.zst"
    write_archive(session(7), a)
    write_archive(session(7), b)
    assert a.read_bytes() == b.read_bytes()
    write_archive(session(8), b)
    assert a.read_bytes() != b.read_bytes()


# -- pacing and hours -------------------------------------------------------------------------------------


def test_busy_moments_outpace_the_quote_filter():
    """Some instrument has more than 5 updates in a 1 s window (so 0.2 s filtering changes the stream),
    and the open is busier than later in the day."""
    session = SynthSession.create(["H0ZFASP0"], ["111V06"], duration_s=120, seed=2)
    per_second = Counter(w // 1_000_000_000 for w, _ in frames(session))
    assert max(per_second.values()) > 5
    first_30 = sum(n for s, n in per_second.items() if s < min(per_second) + 30)
    last_30 = sum(n for s, n in per_second.items() if s >= min(per_second) + 90)
    assert first_30 > 2 * last_30


def test_sliding_one_second_window_later_in_the_day():
    """Away from the open, busy spells still exceed 5 updates in some 1 s window."""
    session = SynthSession.create(["H0ZFASP0"], ["111V06"], start=dt.time(11, 0), duration_s=300, seed=4)
    times = [w for w, _ in frames(session)]
    j, best = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1_000_000_000:
            j += 1
        best = max(best, i - j + 1)
    assert best > 5


def test_night_session_crosses_midnight():
    session = SynthSession.create(["H0EUASP0"], start=dt.time(23, 59, 40), duration_s=40, seed=1)
    data = frames(session)
    days = defaultdict(list)
    for wall_ns, text in data:
        record = parse_frame(text).records[0]
        when = kst(wall_ns)
        days[when.date()].append(record["BSOP_HOUR"])
        # the exchange time shown is the receive time's second, or the one before
        shown = dt.datetime.combine(when.date(), record["BSOP_HOUR"], KST)
        if shown > when:
            shown -= dt.timedelta(days=1)
        assert dt.timedelta(0) <= when - shown < dt.timedelta(seconds=2)
    assert set(days) == {dt.date(2026, 11, 24), dt.date(2026, 11, 25)}
    assert all(t >= dt.time(23, 59, 40) for t in days[dt.date(2026, 11, 24)])
    assert all(t < dt.time(0, 0, 21) for t in days[dt.date(2026, 11, 25)])


def test_night_only_morning_start_is_after_midnight():
    session = SynthSession.create(["H0EUASP0"], start=dt.time(4, 59, 50), duration_s=60, seed=1)
    data = frames(session)
    assert data
    assert all(kst(w) < dt.datetime(2026, 11, 25, 5, 0, 0, 10_000, tzinfo=KST) for w, _ in data)
    assert kst(data[0][0]).date() == dt.date(2026, 11, 25)


def test_day_session_stops_at_the_close():
    session = SynthSession.create(["H0ZFASP0"], start=dt.time(15, 44, 50), duration_s=60, seed=1)
    data = frames(session)
    assert data and all(parse_frame(t).records[0]["BSOP_HOUR"] < dt.time(15, 45) for _, t in data)


# -- the archive ------------------------------------------------------------------------------------------


def test_archive_is_a_recording_of_one_connection(tmp_path):
    session = SynthSession.create(["H0ZFASP0", "H0IOCNT0"], ["111V06", "201X12350"], duration_s=10, seed=9)
    path = tmp_path / "s.kisrec.zst"
    summary = write_archive(session, path, labels={"purpose": "test"})
    reader = ArchiveReader(path)
    header = reader.header
    assert header.source == "synthetic" and header.filtered is False
    assert header.subscriptions == [{"tr_id": "H0ZFASP0", "tr_key": "111V06"},
                                    {"tr_id": "H0IOCNT0", "tr_key": "201X12350"}]
    assert header.labels["seed"] == "9" and header.labels["purpose"] == "test"
    assert header.created == "2026-11-23T23:59:59.000+00:00"  # from the session, not the clock
    records = list(reader.records())
    assert not reader.warnings
    kinds = [r.kind for r in records]
    assert kinds[0] == RecordKind.OPENED and kinds[-1] == RecordKind.CLOSED
    control = [r for r in records if r.kind == RecordKind.CONTROL]
    requests = [parse_request(r.payload) for r in control if r.direction == Direction.CLIENT_TO_SERVER]
    assert [(q.tr_id, q.tr_key) for q in requests] == list(session.subscriptions)
    assert all(q.approval_key == REDACTED for q in requests)
    data = [r for r in records if r.kind == RecordKind.DATA]
    assert len(data) == summary.frames > 20
    assert [r.wall_ns for r in records] == sorted(r.wall_ns for r in records)
    assert [r.mono_ns for r in records] == sorted(r.mono_ns for r in records)
    assert all(r.mono_ns - r.wall_ns == records[0].mono_ns - records[0].wall_ns for r in records)
    assert summary.records == sum(parse_frame(r.payload).count for r in data)
    assert not list(tmp_path.glob("*.part"))
