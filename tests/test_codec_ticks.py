"""KRX tick sizes, the one table the synthetic sessions and the hypothesis strategies share.

Band edges are written out here as the exchange publishes them, not read from the module under test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from kis_replay.codec.ticks import (
    KOSPI200_FUTURES,
    KOSPI200_OPTIONS,
    STOCK_FUTURES,
    PriceLadder,
    ladder_for,
    tick_size,
)


@pytest.mark.parametrize(
    ("price", "up", "down"),
    [(1_999, 2_000, 1_998), (2_000, 2_005, 1_999), (4_995, 5_000, 4_990), (49_950, 50_000, 49_900),
     (50_000, 50_100, 49_950), (200_000, 200_500, 199_900), (500_000, 501_000, 499_500)],
)
def test_stock_futures_ticks_change_at_band_edges(price: int, up: int, down: int) -> None:
    assert STOCK_FUTURES.up(price) == up
    assert STOCK_FUTURES.down(price) == down


def test_option_ladder() -> None:
    assert KOSPI200_OPTIONS.up(999) == 1_000 and KOSPI200_OPTIONS.up(1_000) == 1_005
    assert KOSPI200_OPTIONS.down(1_000) == 999
    assert KOSPI200_OPTIONS.down(1) == 0, "below 0.01 there is no price: an empty level"
    assert KOSPI200_OPTIONS.snap(1_002.4) == 1_000 and KOSPI200_OPTIONS.snap(1_003) == 1_005
    assert str(KOSPI200_OPTIONS.decimal(300)) == "3.00" and str(KOSPI200_OPTIONS.decimal(0)) == "0.00"
    assert str(STOCK_FUTURES.decimal(79_700)) == "79700"


def test_floor_and_text() -> None:
    assert STOCK_FUTURES.floor(79_749) == 79_700 and STOCK_FUTURES.floor(1_999) == 1_999
    assert STOCK_FUTURES.floor(19_999) == 19_990 and STOCK_FUTURES.floor(20_049) == 20_000
    assert KOSPI200_OPTIONS.floor(1_003) == 1_000 and KOSPI200_OPTIONS.floor(999) == 999
    assert KOSPI200_FUTURES.floor(35_012) == 35_010 and KOSPI200_FUTURES.up(35_010) == 35_015
    assert KOSPI200_OPTIONS.text(5) == "0.05" and STOCK_FUTURES.text(1_000_000) == "1000000"


@pytest.mark.parametrize(
    ("code", "price", "tick"),
    [
        ("111V06", "1999", "1"), ("111V06", "2000", "5"), ("111V06", "19990", "10"), ("111V06", "20000", "50"),
        ("111V06", "79700", "100"), ("1B1W03", "199900", "100"), ("111V06", "200000", "500"),
        ("111V06", "500000", "1000"),
        ("101W09", "350.15", "0.05"),
        ("201S11305", "9.99", "0.01"), ("301V06362", "10.00", "0.05"), ("201S11305", "0.01", "0.01"),
    ],
)
def test_tick_size(code: str, price: str, tick: str) -> None:
    assert tick_size(code, Decimal(price)) == Decimal(tick)


def test_ladder_for_names_codes_without_a_rule() -> None:
    assert ladder_for("111V06") is STOCK_FUTURES and ladder_for("101W09") is KOSPI200_FUTURES
    assert ladder_for("201S11305") is KOSPI200_OPTIONS and ladder_for("301V06362") is KOSPI200_OPTIONS
    for code in ("", "005930", "211S11305", "1"):
        with pytest.raises(ValueError, match=f"no tick rule for instrument code {code!r}"):
            ladder_for(code)


def test_a_ladder_needs_one_tick_per_band() -> None:
    with pytest.raises(ValueError, match="one tick per band"):
        PriceLadder(bounds=(1_000,), ticks=(1,), places=2, minimum=1)
