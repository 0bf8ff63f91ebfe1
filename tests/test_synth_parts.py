"""The simulation's pure parts on their own: decimals, Black–Scholes, the order book, pacing, codes."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from decimal import Decimal

import pytest

from kis_replay.codec.ticks import KOSPI200_OPTIONS, STOCK_FUTURES
from kis_replay.synth.book import BookStyle, OrderBook
from kis_replay.synth.instruments import InstrumentKind, SymbolError, parse_instrument
from kis_replay.synth.market_hours import NS, MarketSession, kst_ns, kst_time
from kis_replay.synth.pacing import Pacing, arrivals
from kis_replay.synth.pricing import bs_price, greeks, implied_vol, price_bounds
from kis_replay.synth.tape import fixed

# -- decimals ---------------------------------------------------------------------------------------------


def test_fixed_keeps_trailing_zeros_and_never_prints_minus_zero():
    assert str(fixed(0.5, 2)) == "0.50"
    assert str(fixed(-0.00001, 4)) == "0.0000"
    assert str(fixed(-0.34, 2)) == "-0.34"


# -- pricing ----------------------------------------------------------------------------------------------


def test_put_call_parity_and_implied_vol_round_trip():
    spot, strike, years, rate = 352.0, 350.0, 0.05, 0.03
    for vol in (0.08, 0.18, 0.6):
        call = bs_price(True, spot, strike, years, rate, vol)
        put = bs_price(False, spot, strike, years, rate, vol)
        assert call - put == pytest.approx(spot - strike * math.exp(-rate * years), abs=1e-9)
        assert implied_vol(True, call, spot, strike, years, rate) == pytest.approx(vol, abs=1e-6)
        assert implied_vol(False, put, spot, strike, years, rate) == pytest.approx(vol, abs=1e-6)


def test_implied_vol_outside_the_bounds_is_an_error():
    lower, upper = price_bounds(True, 400.0, 350.0, 0.05, 0.03)
    with pytest.raises(ValueError, match="no-arbitrage"):
        implied_vol(True, lower, 400.0, 350.0, 0.05, 0.03)
    with pytest.raises(ValueError, match="no-arbitrage"):
        implied_vol(True, upper, 400.0, 350.0, 0.05, 0.03)


def test_greeks_match_finite_differences():
    spot, strike, years, rate, vol = 348.0, 350.0, 0.04, 0.03, 0.2
    h = 0.01
    for call in (True, False):
        g = greeks(call, spot, strike, years, rate, vol)

        def price(s=spot, t=years, v=vol, r=rate, call=call):
            return bs_price(call, s, strike, t, r, v)

        assert g.delta == pytest.approx((price(spot + h) - price(spot - h)) / (2 * h), abs=1e-5)
        assert g.gamma == pytest.approx((price(spot + h) - 2 * price() + price(spot - h)) / h**2, rel=1e-3)
        assert g.vega == pytest.approx((price(v=vol + 1e-4) - price(v=vol - 1e-4)) / 2e-4 / 100, rel=1e-4)
        assert g.theta == pytest.approx(-(price(t=years + 1e-5) - price(t=years - 1e-5)) / 2e-5 / 365, rel=1e-3)
        assert g.rho == pytest.approx((price(r=rate + 1e-5) - price(r=rate - 1e-5)) / 2e-5 / 100, rel=1e-3)
        assert (0 <= g.delta <= 1) if call else (-1 <= g.delta <= 0)


# -- the order book ---------------------------------------------------------------------------------------


def check(book: OrderBook) -> None:
    snap = book.snapshot()
    for prices, sizes, counts, ascending in ((snap.ask_prices, snap.ask_sizes, snap.ask_counts, True),
                                             (snap.bid_prices, snap.bid_sizes, snap.bid_counts, False)):
        shown = [p for p in prices if p]
        assert list(prices[: len(shown)]) == shown
        assert all((a < b) if ascending else (a > b) for a, b in itertools.pairwise(shown))
        for p, s, c in zip(prices, sizes, counts, strict=True):
            assert (s == 0 and c == 0) if not p else (s >= 1 and 0 <= c <= s)
    assert snap.ask_prices[0] and (not snap.bid_prices[0] or snap.ask_prices[0] > snap.bid_prices[0])
    assert snap.total_ask_size >= sum(snap.ask_sizes) and snap.total_bid_size >= sum(snap.bid_sizes)
    assert snap.total_ask_count >= sum(snap.ask_counts) and snap.total_bid_count >= sum(snap.bid_counts)


@pytest.mark.parametrize("seed", range(4))
def test_futures_book_follows_its_fair_price_and_keeps_invariants(seed):
    rng = random.Random(seed)
    book = OrderBook(rng, STOCK_FUTURES, BookStyle(depth=10, size_median=12, order_size=3, hidden_levels=10),
                     79_750)
    fair = 79_750.0
    for i in range(3_000):
        if i == 1_500:
            fair = 81_000.0  # the market re-prices: the book must get there
        book.step(fair)
        check(book)
    assert abs(book.mid() - fair) < 500


@pytest.mark.parametrize("seed", range(4))
def test_thin_cheap_option_book_keeps_invariants(seed):
    """An option near the 0.01 floor in a thin book: bids may run out, asks never do."""
    rng = random.Random(seed)
    style = BookStyle(depth=5, size_median=5, size_sigma=0.9, gap_prob=0.3, fill_prob=0.4, sweep_prob=0.05)
    book = OrderBook(rng, KOSPI200_OPTIONS, style, 3.0)
    empty_bids = 0
    for i in range(3_000):
        book.step(1.0 if i < 2_000 else 1_200.0)  # pinned to the floor, then far above the 10.00 tick change
        check(book)
        empty_bids += not book.bids[0][0]
        assert all(not p or p < 1_000 or p % 5 == 0 for p, _, _ in book.asks + book.bids)
    assert empty_bids > 0


# -- pacing -----------------------------------------------------------------------------------------------


def test_arrivals_stay_in_the_window_increase_and_burst_at_the_open():
    open_ns = kst_ns(dt.date(2026, 11, 24), dt.time(9))
    times = list(arrivals(random.Random(1), Pacing(base_rate=4.0), [(open_ns, open_ns + 600 * NS)],
                          open_ns - 60 * NS, open_ns + 900 * NS))
    assert times == sorted(set(times))
    assert open_ns <= times[0] and times[-1] < open_ns + 600 * NS
    first_minute = sum(t < open_ns + 60 * NS for t in times)
    last_minute = sum(t >= open_ns + 540 * NS for t in times)
    assert first_minute > 3 * last_minute
    assert 4.0 * 600 < len(times) < 4.0 * 600 * 4


# -- codes and hours --------------------------------------------------------------------------------------


def test_option_codes():
    day = dt.date(2026, 11, 24)
    put = parse_instrument("H0EUASP0", "301V06362", day)
    assert put.kind is InstrumentKind.PUT and put.strike == Decimal("362.5")
    assert put.expiry == dt.date(2026, 12, 10), "a 2024 code is priced as the front month after the date"
    call = parse_instrument("H0IOCNT0", "201XC350", day)
    assert call.kind is InstrumentKind.CALL and call.strike == 350 and call.expiry == dt.date(2026, 12, 10)
    assert parse_instrument("H0IOCNT0", "201Y03355", day).expiry == dt.date(2027, 3, 11)
    assert parse_instrument("H0ZFASP0", "111V06", day).kind is InstrumentKind.FUTURE
    for tr_id, code in (("H0ZFASP0", "201X12350"), ("H0IOCNT0", "111V06"), ("H0EUASP0", "201XC350"),
                        ("H0IOCNT0", "201X12-50"), ("H0IOCNT0", "201X12000")):
        with pytest.raises(SymbolError, match=f"{code!r}|strike"):
            parse_instrument(tr_id, code, day)


def test_kst_clock():
    ns = kst_ns(dt.date(2026, 11, 24), dt.time(23, 59, 59))
    assert kst_time(ns) == dt.time(23, 59, 59) and kst_time(ns + NS) == dt.time(0, 0, 0)
    assert ns == int(dt.datetime(2026, 11, 24, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=9))).timestamp()) * NS
    open_ns, close_ns = MarketSession.NIGHT.window(dt.date(2026, 11, 24))
    assert close_ns - open_ns == 11 * 3600 * NS
