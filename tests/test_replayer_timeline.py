"""Timeline steps on plain (wall_ns, text) input: routing, only, origin, monotonic offsets, looping."""

from __future__ import annotations

import itertools
import logging

import pytest
from test_filter import fut_quote, notice, trade

from kis_replay.replayer import LOOP_GAP_NS, ReplayOptions, TimelineEvent, repeat_timeline, session_events

MS = 1_000_000
T0 = 1_700_000_000_000 * MS


def recorded() -> list[tuple[int, str]]:
    return [
        (T0 + 0 * MS, fut_quote("111V06", 1)),
        (T0 + 5 * MS, trade("201S11305", 1)),
        (T0 + 40 * MS, fut_quote("111V09", 1)),
        (T0 + 90 * MS, notice(1)),
        (T0 + 100 * MS, fut_quote("111V06", 2)),
    ]


def test_events_carry_route_offset_and_the_text_as_recorded() -> None:
    events = list(session_events(recorded()))
    assert [(e.offset_ns // MS, e.tr_id, e.tr_key) for e in events] == [
        (0, "H0ZFASP0", "111V06"),
        (5, "H0IOCNT0", "201S11305"),
        (40, "H0ZFASP0", "111V09"),
        (90, "H0IFCNI0", None),
        (100, "H0ZFASP0", "111V06"),
    ]
    assert [(e.wall_ns, e.text) for e in events] == recorded()


def test_only_selects_and_the_origin_is_the_first_served_frame() -> None:
    options = ReplayOptions(only=frozenset({("H0ZFASP0", "111V09"), ("H0IFCNI0", None)}))
    events = list(session_events(recorded(), options))
    assert [(e.offset_ns // MS, e.tr_key) for e in events] == [(0, "111V09"), (50, None)]


def test_a_wall_clock_step_back_keeps_the_timeline_sorted() -> None:
    records = [(T0, trade("201S11305", 1)), (T0 + 50 * MS, trade("201S11305", 2)),
               (T0 + 30 * MS, trade("201S11305", 3)), (T0 + 80 * MS, trade("201S11305", 4))]
    events = list(session_events(records))
    assert [e.offset_ns // MS for e in events] == [0, 50, 50, 80]
    assert [e.wall_ns for e in events] == [w for w, _ in records]  # the recorded time is kept


def test_text_that_is_not_a_frame_is_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    records = [(T0, trade("201S11305", 1)), (T0 + 1, '{"header":{}}'), (T0 + 2, "")]
    with caplog.at_level(logging.WARNING, logger="kis_replay.replayer"):
        events = list(session_events(records))
    assert len(events) == 1
    assert f"received at {T0 + 1} ns that is not a data frame" in caplog.text
    assert f"received at {T0 + 2} ns" in caplog.text


def test_repeat_offsets_keep_increasing_by_span_plus_one_mean_gap() -> None:
    calls = []

    def cycle() -> list[TimelineEvent]:
        calls.append(1)
        return list(session_events(recorded()))

    events = list(itertools.islice(repeat_timeline(cycle), 15))
    period = 100 * MS + 25 * MS  # span 100 ms, 5 frames: mean gap 25 ms
    assert [e.offset_ns for e in events[5:10]] == [e.offset_ns + period for e in events[:5]]
    assert [e.offset_ns for e in events[10:]] == [e.offset_ns + 2 * period for e in events[:5]]
    assert [e.text for e in events[10:]] == [e.text for e in events[:5]]
    assert [e.wall_ns for e in events[5:10]] == [e.wall_ns for e in events[:5]]  # session clock restarts
    assert len(calls) == 3  # each cycle streams again; nothing is kept


def test_repeat_of_one_frame_uses_the_default_gap_and_of_nothing_ends() -> None:
    one = [TimelineEvent(0, T0, "H0IOCNT0", "201S11305", trade("201S11305", 1))]
    assert [e.offset_ns for e in itertools.islice(repeat_timeline(lambda: one), 3)] == [0, LOOP_GAP_NS,
                                                                                       2 * LOOP_GAP_NS]
    assert list(repeat_timeline(list)) == []
