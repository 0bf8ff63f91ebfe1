"""The 0.2 s QuoteFilter: a hand-computed example, then properties over random sessions."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kis_replay.codec import get_spec, parse_frame
from kis_replay.replayer import (
    WINDOW_NS,
    QuoteFilter,
    TimelineEvent,
    filter_applies,
    filter_quotes,
    is_filtered_quote,
)

MS = 1_000_000
BASE = 1_700_000_000_000 * MS  # a receive time on the 200 ms grid (UTC ns)

# Real frames, so the routes come from the wire text as they will in a replay.
_FUT_QUOTE_TAIL = (
    "79700^79800^79900^80000^80200^80300^80500^81100^84900^85900^79500^79400^79300^79200^79100^79000^78900"
    "^78800^78700^78600^1^18^6^2^2^1^3^1^1^1^8^6^4^8^4^8^7^11^11^3^950^4148^988^6^9^1^3^15^5^10^4404^2277"
    "^1321^3440^330^2237^1835^362^83^15^36^97^6135^16509^950^0"
)
_OPT_QUOTE_TAIL = (
    "2.98^2.99^3.00^0.00^0.00^2.97^2.96^2.95^0.00^0.00" + "^0" * 10 + "^1^3^12^0^0^9^21^16^0^0^0^0^16^46^5^0"
)


def fut_quote(key: str, tag: int) -> str:
    """An H0ZFASP0 frame; ``tag`` goes in the time field so every snapshot's text is distinct."""
    return f"0|H0ZFASP0|001|{key}^{tag:06d}^{_FUT_QUOTE_TAIL}"


def opt_quote(key: str, tag: int) -> str:
    return f"0|H0EUASP0|001|{key}^{tag:06d}^{_OPT_QUOTE_TAIL}"


def trade(key: str, tag: int) -> str:
    spec = get_spec("H0IOCNT0")
    assert spec is not None
    raw = [key, f"{tag:06d}"] + ["0"] * (spec.field_count - 2)
    return "0|H0IOCNT0|001|" + "^".join(raw)


def notice(tag: int) -> str:
    return f"1|H0IFCNI0|001|ZW5jcnlwdGVk{tag:04d}"


def event(origin_wall: int, wall_ms: float, text: str) -> TimelineEvent:
    from kis_replay.codec import peek_route

    tr_id, tr_key = peek_route(text)  # type: ignore[misc]
    wall = BASE + round(wall_ms * MS)
    return TimelineEvent(wall - origin_wall, wall, tr_id, tr_key, text)


def test_seed_frames_are_real() -> None:
    assert parse_frame(fut_quote("111V06", 92304)).records[0]["ASKP1"] is not None
    assert parse_frame(opt_quote("301V06362", 190159)).tr_key == "301V06362"
    assert parse_frame(trade("201S11305", 90000)).tr_key == "201S11305"


def test_filtered_routes_follow_the_codec_tables() -> None:
    assert is_filtered_quote("H0ZFASP0", "111V06")
    assert is_filtered_quote("H0EUASP0", "301V06362")
    assert not is_filtered_quote("H0IOCNT0", "201S11305")  # trades never
    assert not is_filtered_quote("H0ZFASP0", None)  # encrypted: no key to window on
    assert not is_filtered_quote("H9UNKNOWN", "X")


def test_hand_computed_example() -> None:
    """Three instruments and a trade stream; windows with 3, 1 and 0 quotes; the first event at 10 ms
    so that windows (aligned on receive time) and offsets (from the first event) differ."""
    origin = BASE + 10 * MS
    a, b = "111V06", "301V06362"
    inp = [
        event(origin, 10, fut_quote(a, 1)),    # window [0, 200): A ×3, B ×1
        event(origin, 50, trade("201S11305", 1)),
        event(origin, 120, fut_quote(a, 2)),
        event(origin, 150, opt_quote(b, 1)),
        event(origin, 190, fut_quote(a, 3)),
        event(origin, 250, trade("201S11305", 2)),  # window [200, 400): no quote
        event(origin, 405, trade("201S11305", 3)),
        event(origin, 450, opt_quote(b, 2)),   # window [400, 600): B ×1
        event(origin, 600, fut_quote(a, 4)),   # on a boundary: window [600, 800)
        event(origin, 610, trade("201S11305", 4)),
        event(origin, 611, notice(1)),         # encrypted: passes
    ]
    out = list(filter_quotes(inp))
    got = [((e.wall_ns - BASE) // MS, e.offset_ns // MS, e.text) for e in out]
    assert got == [
        (50, 40, trade("201S11305", 1)),
        (200, 190, opt_quote(b, 1)),   # B's latest arrived at 150, before A's at 190
        (200, 190, fut_quote(a, 3)),
        (250, 240, trade("201S11305", 2)),
        (405, 395, trade("201S11305", 3)),
        (600, 590, opt_quote(b, 2)),   # due at 600, before A's quote of 600
        (610, 600, trade("201S11305", 4)),
        (611, 601, notice(1)),
        (800, 790, fut_quote(a, 4)),   # held to the end of its window, then flushed
    ]


def test_feed_returns_what_is_due_and_flush_the_rest() -> None:
    qf = QuoteFilter()
    q1 = event(BASE, 0, fut_quote("111V06", 1))
    assert qf.feed(q1) == []
    t = event(BASE, 199.999999, trade("201S11305", 1))
    assert qf.feed(t) == [t]
    q2 = event(BASE, 200, fut_quote("111V06", 2))
    assert [e.text for e in qf.feed(q2)] == [q1.text]
    assert [(e.offset_ns, e.text) for e in qf.flush()] == [(400 * MS, q2.text)]
    assert qf.flush() == []


def test_out_of_order_input_is_refused_with_the_offsets() -> None:
    qf = QuoteFilter()
    qf.feed(event(BASE, 100, trade("201S11305", 1)))
    with pytest.raises(ValueError, match=r"out of order: H0IOCNT0 at offset 50000000 ns after .* 100000000 ns"):
        qf.feed(event(BASE, 50, trade("201S11305", 2)))


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window must be positive"):
        QuoteFilter(0)


def test_filter_modes() -> None:
    assert filter_applies("0.2", True) and filter_applies("0.2", None)
    assert not filter_applies("off", False)
    assert filter_applies("auto", False)  # synthetic: unfiltered source
    assert not filter_applies("auto", True)  # live: KIS already filtered
    assert not filter_applies("auto", None)  # unknown: leave as recorded


# -- properties ---------------------------------------------------------------------------------------------

_MAKERS = [
    lambda n: fut_quote("111V06", n),
    lambda n: fut_quote("111V09", n),
    lambda n: opt_quote("301V06362", n),
    lambda n: trade("201S11305", n),
    lambda n: trade("201S11310", n),
    notice,
]


@st.composite
def sessions(draw: st.DrawFn) -> list[TimelineEvent]:
    """Sorted events over a couple of seconds, gaps from 0 (same instant) to 0.5 s, any origin phase."""
    phase = draw(st.integers(0, WINDOW_NS - 1))
    gaps = draw(st.lists(st.integers(0, 500 * MS) | st.sampled_from([0, 1, WINDOW_NS]), max_size=60))
    kinds = draw(st.lists(st.integers(0, len(_MAKERS) - 1), min_size=len(gaps), max_size=len(gaps)))
    origin = BASE + phase
    out, offset = [], 0
    for n, (gap, kind) in enumerate(zip(gaps, kinds, strict=True)):
        offset += gap if n else 0
        text = _MAKERS[kind](n)
        tr_id, tr_key = ("H0IFCNI0", None) if kind == 5 else (text.split("|")[1], text.split("|")[3].split("^")[0])
        out.append(TimelineEvent(offset, origin + offset, tr_id, tr_key, text))
    return out


def _window(e: TimelineEvent) -> int:
    return e.wall_ns // WINDOW_NS


@given(sessions())
def test_output_is_sorted(events: list[TimelineEvent]) -> None:
    out = list(filter_quotes(events))
    assert [e.offset_ns for e in out] == sorted(e.offset_ns for e in out)
    assert all(e.wall_ns - e.offset_ns == events[0].wall_ns - events[0].offset_ns for e in out)


@given(sessions())
def test_one_quote_per_window_and_it_is_the_last(events: list[TimelineEvent]) -> None:
    out = list(filter_quotes(events))
    last_of: dict[tuple[str, str | None, int], TimelineEvent] = {}
    for e in events:
        if is_filtered_quote(e.tr_id, e.tr_key):
            last_of[(e.tr_id, e.tr_key, _window(e))] = e
    emitted = [e for e in out if is_filtered_quote(e.tr_id, e.tr_key)]
    # emitted at the window's end, so its own window is the one before
    keys = [(e.tr_id, e.tr_key, _window(e) - 1) for e in emitted]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(last_of)
    for key, e in zip(keys, emitted, strict=True):
        assert e.text == last_of[key].text
        assert e.wall_ns == (key[2] + 1) * WINDOW_NS


@given(sessions())
def test_trades_and_other_trs_pass_unchanged_and_complete(events: list[TimelineEvent]) -> None:
    out = list(filter_quotes(events))
    passed = [e for e in events if not is_filtered_quote(e.tr_id, e.tr_key)]
    assert [e for e in out if not is_filtered_quote(e.tr_id, e.tr_key)] == passed


@given(sessions())
def test_filter_that_applies_to_nothing_is_the_identity(events: list[TimelineEvent]) -> None:
    qf = QuoteFilter(applies=lambda tr_id, tr_key: False)
    out = list(itertools.chain.from_iterable(qf.feed(e) for e in events)) + qf.flush()
    assert out == events


@given(sessions())
def test_memory_is_one_held_quote_per_instrument(events: list[TimelineEvent]) -> None:
    qf = QuoteFilter()
    for e in events:
        qf.feed(e)
        assert len(qf._held) <= 3  # the three quote routes of the strategy
