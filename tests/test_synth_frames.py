"""Every synthetic frame, parsed by the codec and checked against the spec's invariants independently.

The checks here do not use the generator's own models: tick grids, book ordering, totals, and for
option trades the Black–Scholes consistency of price, implied volatility and delta are recomputed from
the record alone (plus the expiry the code names) with ``statistics.NormalDist``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from decimal import Decimal
from statistics import NormalDist

import pytest

from kis_replay.codec import PriceSign, parse_frame, parse_reply
from kis_replay.synth import SynthSession, generate

KST = dt.timezone(dt.timedelta(hours=9))
N = NormalDist()
RATE = 0.03  # the rate the tape documents (kis_replay.synth.tape.RATE)


def futures_tick(price: int) -> int:
    """KRX stock-futures tick by price band, written out again here on purpose."""
    for bound, tick in ((2_000, 1), (5_000, 5), (20_000, 10), (50_000, 50), (200_000, 100), (500_000, 500)):
        if price < bound:
            return tick
    return 1_000


def option_on_grid(price: Decimal) -> bool:
    cents = price * 100
    return cents == cents.to_integral_value() and (price < 10 or cents % 5 == 0)


def kst_seconds(wall_ns: int) -> int:
    t = dt.datetime.fromtimestamp(wall_ns // 1_000_000_000, KST)
    return t.hour * 3600 + t.minute * 60 + t.second


def seconds_of(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@pytest.fixture(scope="module")
def day_session() -> list[tuple[int, str]]:
    session = SynthSession.create(
        ["H0ZFASP0", "H0IOCNT0"],
        ["111V06", "112W09", "201X12350", "201X12365", "301X12350", "301X12330"],
        duration_s=20, seed=11,
    )
    return list(generate(session))


@pytest.fixture(scope="module")
def night_session() -> list[tuple[int, str]]:
    session = SynthSession.create(["H0EUASP0"], start=dt.time(23, 59, 30), duration_s=60, seed=5)
    return list(generate(session))


def data_frames(messages: list[tuple[int, str]], tr_id: str):
    for wall_ns, text in messages:
        if text[:1] == "0" and text.split("|", 2)[1] == tr_id:
            yield wall_ns, parse_frame(text)


def check_book(record, depth: int, ask: str, bid: str, options: bool) -> None:
    asks = [record[ask.format(i)] for i in range(1, depth + 1)]
    bids = [record[bid.format(i)] for i in range(1, depth + 1)]
    for side, prices, ascending in (("ASKP", asks, True), ("BIDP", bids, False)):
        shown = [p for p in prices if p != 0]
        assert prices[: len(shown)] == shown, f"{side}: empty levels must come last: {prices}"
        pairs = list(itertools.pairwise(shown))
        assert all((a < b) if ascending else (a > b) for a, b in pairs), f"{side} order: {prices}"
        sizes = [record[f"{side}_RSQN{i}"] for i in range(1, depth + 1)]
        counts = [record[f"{side}_CSNU{i}"] for i in range(1, depth + 1)]
        for price, size, count in zip(prices, sizes, counts, strict=True):
            if price == 0:
                assert size == 0 and count == 0
            else:
                assert size >= 1 and 0 <= count <= size
                if options:
                    assert option_on_grid(price), price
                else:
                    assert price == price.to_integral_value() and int(price) % futures_tick(int(price)) == 0
        assert record[f"TOTAL_{side}_RSQN"] >= sum(sizes)
        assert record[f"TOTAL_{side}_CSNU"] >= sum(counts)
    assert asks[0] > 0, "there is always an offer"
    if bids[0]:
        assert asks[0] > bids[0]


def check_quotes(messages, tr_id: str, depth: int, ask: str, bid: str, options: bool) -> int:
    last_totals: dict[str, tuple[int, int]] = {}
    frames = 0
    for wall_ns, frame in data_frames(messages, tr_id):
        assert frame.count == 1, "quote TRs come one record per frame"
        (record,) = frame.records
        record.validate()  # every field has its type
        check_book(record, depth, ask, bid, options)
        key = record.tr_key
        totals = (record["TOTAL_ASKP_RSQN"], record["TOTAL_BIDP_RSQN"])
        before = last_totals.get(key, totals)
        assert record["TOTAL_ASKP_RSQN_ICDC"] == totals[0] - before[0]
        assert record["TOTAL_BIDP_RSQN_ICDC"] == totals[1] - before[1]
        last_totals[key] = totals
        lag = (kst_seconds(wall_ns) - seconds_of(record["BSOP_HOUR"])) % 86_400
        assert lag <= 1, f"BSOP_HOUR {record['BSOP_HOUR']} vs receive time {lag} s later"
        frames += 1
    return frames


def test_futures_books_keep_every_invariant(day_session):
    assert check_quotes(day_session, "H0ZFASP0", 10, "ASKP{}", "BIDP{}", options=False) > 300


def test_night_option_books_keep_every_invariant(night_session):
    assert check_quotes(night_session, "H0EUASP0", 5, "OPTN_ASKP{}", "OPTN_BIDP{}", options=True) > 100


def test_night_books_are_thin_like_the_live_ones(night_session):
    """Some levels empty (0.00 with zero counts), counts not sent: as in KIS's own H0EUASP0 example."""
    empty = 0
    for _, frame in data_frames(night_session, "H0EUASP0"):
        record = frame.records[0]
        empty += sum(record[f"OPTN_ASKP{i}"] == 0 for i in range(1, 6))
        assert record["TOTAL_ASKP_CSNU"] == 0
    assert empty > 0


def test_books_move(day_session):
    """A random walk of the mid: the best ask takes several values per instrument."""
    seen = defaultdict(set)
    for _, frame in data_frames(day_session, "H0ZFASP0"):
        seen[frame.tr_key].add(frame.records[0]["ASKP1"])
    assert set(seen) == {"111V06", "112W09"}
    assert all(len(prices) >= 3 for prices in seen.values()), seen


def implied_spot(call: bool, delta: float, vol: float, strike: float, years: float) -> float:
    d1 = N.inv_cdf(delta if call else delta + 1)
    return strike * math.exp(d1 * vol * math.sqrt(years) - (RATE + vol * vol / 2) * years)


def bs(call: bool, spot: float, strike: float, years: float, vol: float) -> float:
    d1 = (math.log(spot / strike) + (RATE + vol * vol / 2) * years) / (vol * math.sqrt(years))
    d2 = d1 - vol * math.sqrt(years)
    disc = strike * math.exp(-RATE * years)
    if call:
        return spot * N.cdf(d1) - disc * N.cdf(d2)
    return disc * N.cdf(-d2) - spot * N.cdf(-d1)


def sign_of(diff: Decimal) -> PriceSign:
    return PriceSign.RISE if diff > 0 else PriceSign.FALL if diff < 0 else PriceSign.FLAT


def test_option_trades_are_consistent(day_session):
    expiry = dt.datetime(2026, 12, 10, 15, 20, tzinfo=KST)  # second Thursday of X (2026) 12
    last: dict[str, dict] = {}
    batch_sizes = set()
    checked_bs = 0
    for _wall_ns, frame in data_frames(day_session, "H0IOCNT0"):
        assert 1 <= frame.count <= 11
        batch_sizes.add(frame.count)
        assert len({r.tr_key for r in frame.records}) == 1, "a frame carries one instrument"
        for record in frame.records:
            r = record.typed()
            code = r["OPTN_SHRN_ISCD"]
            call = code.startswith("2")
            price = r["OPTN_PRPR"]
            # Greeks: signs and ranges
            assert (0 <= r["DELTA"] <= 1) if call else (-1 <= r["DELTA"] <= 0), r["DELTA"]
            assert r["GAMA"] >= 0 and r["VEGA"] >= 0 and r["HTS_INTS_VLTL"] > 0
            # premium = intrinsic + time value; ESDG = price - theoretical
            assert r["PRMM_VAL"] == price == r["INVL_VAL"] + r["TMVL_VAL"]
            assert r["ESDG"] == price - r["HTS_THPR"]
            # the day's range and its signs
            assert r["OPTN_LWPR"] <= price <= r["OPTN_HGPR"]
            assert r["OPTN_LWPR"] <= r["OPTN_OPRC"] <= r["OPTN_HGPR"]
            assert r["OPRC_VRSS_NMIX_PRPR"] == price - r["OPTN_OPRC"]
            assert r["OPRC_VRSS_PRPR_SIGN"] == sign_of(price - r["OPTN_OPRC"])
            assert r["HGPR_VRSS_NMIX_PRPR"] == price - r["OPTN_HGPR"] <= 0
            assert r["HGPR_VRSS_PRPR_SIGN"] == sign_of(price - r["OPTN_HGPR"])
            assert r["LWPR_VRSS_NMIX_PRPR"] == price - r["OPTN_LWPR"] >= 0
            assert r["LWPR_VRSS_PRPR_SIGN"] == sign_of(price - r["OPTN_LWPR"])
            assert r["PRDY_VRSS_SIGN"] == sign_of(r["OPTN_PRDY_VRSS"])
            prev_close = price - r["OPTN_PRDY_VRSS"]
            assert abs(r["PRDY_CTRT"] - r["OPTN_PRDY_VRSS"] / prev_close * 100) <= Decimal("0.01")
            # volumes
            assert r["ACML_VOL"] == r["SELN_CNTG_SMTN"] + r["SHNU_CNTG_SMTN"]
            assert r["NTBY_CNTG_CSNU"] == r["SHNU_CNTG_CSNU"] - r["SELN_CNTG_CSNU"]
            before = last.get(code)
            if before is not None:
                assert r["ACML_VOL"] == before["ACML_VOL"] + r["LAST_CNQN"]
                assert r["ACML_TR_PBMN"] > before["ACML_TR_PBMN"]
                assert r["HTS_OTST_STPL_QTY"] - before["HTS_OTST_STPL_QTY"] == r["OTST_STPL_RGBF_QTY_ICDC"]
                assert r["OPTN_OPRC"] == before["OPTN_OPRC"] and r["OPRC_HOUR"] == before["OPRC_HOUR"]
            assert r["LAST_CNQN"] >= 1
            last[code] = r
            # the touch around the trade, the dynamic limits around the price
            assert r["OPTN_BIDP1"] <= price <= r["OPTN_ASKP1"] and r["OPTN_BIDP1"] < r["OPTN_ASKP1"]
            assert r["TOTAL_ASKP_RSQN"] >= r["ASKP_RSQN1"] and r["TOTAL_BIDP_RSQN"] >= r["BIDP_RSQN1"]
            assert r["DYNM_LLAM"] <= price <= r["DYNM_MXPR"]
            assert option_on_grid(price)
            # Black–Scholes: the spot implied by (delta, IV) prices the option at its traded price
            delta, vol = float(r["DELTA"]), float(r["HTS_INTS_VLTL"]) / 100
            if 0.15 < abs(delta) < 0.85:
                now = dt.datetime.combine(dt.date(2026, 11, 24), r["BSOP_HOUR"], KST)
                years = (expiry - now).total_seconds() / (365 * 86_400)
                strike = float(code[-3:]) + (0.5 if code[-1] in "27" else 0)
                spot = implied_spot(call, delta, vol, strike, years)
                assert bs(call, spot, strike, years, vol) == pytest.approx(float(price), abs=0.02)
                intrinsic = max(0.0, (spot - strike) if call else (strike - spot))
                assert float(r["INVL_VAL"]) == pytest.approx(intrinsic, abs=0.05)
                checked_bs += 1
    assert set(last) == {"201X12350", "201X12365", "301X12350", "301X12330"}
    assert checked_bs > 20
    assert max(batch_sizes) >= 2, "trade TRs sometimes batch several records per frame"


def test_session_starts_with_one_ack_per_subscription(day_session):
    acks = [parse_reply(text) for _, text in day_session if text.startswith("{")]
    assert [(a.tr_id, a.tr_key) for a in acks] == [
        ("H0ZFASP0", "111V06"), ("H0ZFASP0", "112W09"), ("H0IOCNT0", "201X12350"), ("H0IOCNT0", "201X12365"),
        ("H0IOCNT0", "301X12350"), ("H0IOCNT0", "301X12330"),
    ]
    assert all(a.msg_cd == "OPSP0000" and a.ok and len(a.key or "") == 32 and len(a.iv or "") == 16 for a in acks)
    assert day_session[: len(acks)] == [(w, t) for w, t in day_session if t.startswith("{")]


def test_messages_are_in_time_order(day_session, night_session):
    for messages in (day_session, night_session):
        walls = [w for w, _ in messages]
        assert walls == sorted(walls)
