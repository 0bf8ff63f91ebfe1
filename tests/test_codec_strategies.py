"""The public strategies keep their promises: checked here by assertions of our own, from the raw text where we
can, never by asking the strategy.

The tick tables and code shapes below are written out again on purpose: a test that imported them from the
strategies module could not catch a wrong table.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from kis_replay.codec import DataFrame, FrameCipher, PriceSign, Record, TrKind, get_spec, parse_frame
from kis_replay.codec.strategies import (
    ciphers,
    frame_texts,
    frames,
    futures_codes,
    garbage,
    option_codes,
    quotes,
    records,
    replies,
    subscribe_requests,
    tr_keys,
    trades,
)

FUTURES_CODE = re.compile(r"1[0-9A-Z]{2}[A-Z](0[1-9]|1[0-2])\Z")
OPTION_CODE = re.compile(r"[23]01[A-Z](0[1-9]|1[0-2])[0-9]{3}\Z")
TWO_DECIMALS = re.compile(r"[0-9]+\.[0-9]{2}\Z")
UP, DOWN = (PriceSign.UPPER_LIMIT, PriceSign.RISE), (PriceSign.LOWER_LIMIT, PriceSign.FALL)


def _first(strategy: st.SearchStrategy, condition: Callable[[Any], bool]) -> Any:
    """The first drawn example that satisfies ``condition``: ``find`` without its (slow) shrinking, to show that
    a strategy reaches a case at all."""
    return find(strategy, condition, settings=settings(max_examples=1_000, phases=[Phase.generate], database=None))


def _stock_futures_tick(price: Decimal) -> Decimal:
    """KRX stock tick table (2023 bands), as stock futures use it and the synthetic sessions draw it."""
    for bound, tick in ((2_000, 1), (5_000, 5), (20_000, 10), (50_000, 50), (200_000, 100), (500_000, 500)):
        if price < bound:
            return Decimal(tick)
    return Decimal(1_000)


def _option_tick(price: Decimal) -> Decimal:
    return Decimal("0.01") if price < 10 else Decimal("0.05")


def _on_grid(price: Decimal, tick: Decimal) -> bool:
    return price % tick == 0


def _side(book: Record, price: str, levels: int) -> list[tuple[Decimal, int, int]]:
    side = "ASKP" if "ASKP" in price else "BIDP"
    return [(book[price.format(i)], book[f"{side}_CSNU{i}"], book[f"{side}_RSQN{i}"]) for i in range(1, levels + 1)]


def _check_totals(book: Record, asks: list[tuple[Decimal, int, int]], bids: list[tuple[Decimal, int, int]]) -> None:
    for side, levels in (("ASKP", asks), ("BIDP", bids)):
        assert book[f"TOTAL_{side}_CSNU"] >= sum(count for _, count, _ in levels)
        assert book[f"TOTAL_{side}_RSQN"] >= sum(quantity for _, _, quantity in levels)


# -- codes ------------------------------------------------------------------------------------------------------


@given(futures_codes(), option_codes(right="call"), option_codes(right="put"))
def test_codes_have_krx_shapes(futures: str, call: str, put: str) -> None:
    assert FUTURES_CODE.match(futures) and len(futures) == 6
    assert OPTION_CODE.match(call) and call[0] == "2" and len(call) == 9
    assert OPTION_CODE.match(put) and put[0] == "3"


@given(st.sampled_from(["H0ZFASP0", "H0EUASP0", "H0IOCNT0"]).flatmap(lambda tr: st.tuples(st.just(tr), tr_keys(tr))))
def test_tr_keys_fit_the_tr(pair: tuple[str, str]) -> None:
    tr_id, key = pair
    spec = get_spec(tr_id)
    assert spec is not None
    assert spec.key_width[0] <= len(key) <= spec.key_width[1]


# -- quotes -----------------------------------------------------------------------------------------------------


@given(quotes("H0ZFASP0"))
def test_futures_books(book: Record) -> None:
    code = book["FUTS_SHRN_ISCD"]
    assert FUTURES_CODE.match(code)
    asks, bids = _side(book, "ASKP{}", 10), _side(book, "BIDP{}", 10)
    ask_prices, bid_prices = [p for p, _, _ in asks], [p for p, _, _ in bids]
    assert all(a < b for a, b in itertools.pairwise(ask_prices))  # asks ascend
    assert all(a > b for a, b in itertools.pairwise(bid_prices))  # bids descend
    assert ask_prices[0] > bid_prices[0] > 0
    index_futures = code[1:3] == "01"
    for price, text in zip(ask_prices + bid_prices, book.raw[2:22], strict=True):
        if index_futures:
            assert TWO_DECIMALS.match(text) and _on_grid(price, Decimal("0.05"))
        else:
            assert text.isdigit() and _on_grid(price, _stock_futures_tick(price))
    for _, count, quantity in asks + bids:
        assert 1 <= count <= quantity
    _check_totals(book, asks, bids)
    assert "084500" <= book.raw_value("BSOP_HOUR") <= "154500"


@given(quotes("H0EUASP0"))
def test_night_option_books(book: Record) -> None:
    assert OPTION_CODE.match(book["OPTN_SHRN_ISCD"])
    asks, bids = _side(book, "OPTN_ASKP{}", 5), _side(book, "OPTN_BIDP{}", 5)
    for prefix in ("OPTN_ASKP", "OPTN_BIDP"):
        texts = [book.raw_value(f"{prefix}{i}") for i in range(1, 6)]
        assert all(TWO_DECIMALS.match(t) for t in texts)
        shown = [t for t in texts if t != "0.00"]
        assert texts == shown + ["0.00"] * (5 - len(shown)) and shown  # non-empty levels first, at least one
    for levels, ascending in ((asks, True), (bids, False)):
        prices = [p for p, _, _ in levels if p != 0]
        pairs = itertools.pairwise(prices)
        assert all((a < b) if ascending else (a > b) for a, b in pairs)
        assert all(_on_grid(p, _option_tick(p)) for p in prices)
        for price, count, quantity in levels:
            if price == 0:
                assert count == quantity == 0
            else:
                assert quantity >= 1 and count <= quantity
    assert asks[0][0] > bids[0][0] > 0
    _check_totals(book, asks, bids)
    hour = book.raw_value("BSOP_HOUR")
    assert hour >= "180000" or hour <= "050000"


def test_night_books_show_thin_and_countless_books() -> None:
    thin = _first(quotes("H0EUASP0"), lambda b: b["OPTN_ASKP5"] == 0 and b["OPTN_BIDP2"] == 0)
    assert thin.raw_value("OPTN_ASKP5") == "0.00"
    countless = _first(quotes("H0EUASP0"), lambda b: b["TOTAL_ASKP_CSNU"] == 0 and b["TOTAL_ASKP_RSQN"] > 0)
    assert countless["ASKP_RSQN1"] > 0
    index = _first(quotes("H0ZFASP0"), lambda b: b["FUTS_SHRN_ISCD"][1:3] == "01")
    assert "." in index.raw_value("ASKP1")
    big = _first(quotes("H0ZFASP0"), lambda b: b["BIDP10"] >= 500_000)
    assert big["BIDP10"] % 1_000 == 0


# -- trades -----------------------------------------------------------------------------------------------------


def _sign_agrees(sign: PriceSign, change: Decimal) -> bool:
    return (sign in UP and change > 0) or (sign in DOWN and change < 0) or (sign is PriceSign.FLAT and change == 0)


@given(trades())
def test_option_trades(trade: Record) -> None:
    code = trade["OPTN_SHRN_ISCD"]
    assert OPTION_CODE.match(code)
    price, change, rate = trade["OPTN_PRPR"], trade["OPTN_PRDY_VRSS"], trade["PRDY_CTRT"]
    sign = trade["PRDY_VRSS_SIGN"]
    assert _sign_agrees(sign, change) and _sign_agrees(sign, rate)
    previous = price - change
    assert previous > 0
    assert abs(rate - change * 100 / previous) <= Decimal("0.005")
    if sign is PriceSign.UPPER_LIMIT:
        assert price == trade["DYNM_MXPR"]
    if sign is PriceSign.LOWER_LIMIT:
        assert price == trade["DYNM_LLAM"]
    high, low, open_ = trade["OPTN_HGPR"], trade["OPTN_LWPR"], trade["OPTN_OPRC"]
    assert trade["DYNM_MXPR"] >= high >= price >= low >= trade["DYNM_LLAM"] >= 0 and low > 0
    assert high >= open_ >= low
    assert _sign_agrees(trade["OPRC_VRSS_PRPR_SIGN"], trade["OPRC_VRSS_NMIX_PRPR"])
    assert trade["OPRC_VRSS_NMIX_PRPR"] == price - open_
    assert trade["HGPR_VRSS_NMIX_PRPR"] == price - high <= 0
    assert trade["LWPR_VRSS_NMIX_PRPR"] == price - low >= 0
    for name in ("OPTN_PRPR", "OPTN_OPRC", "OPTN_HGPR", "OPTN_LWPR", "OPTN_ASKP1", "OPTN_BIDP1"):
        assert TWO_DECIMALS.match(trade.raw_value(name))
        assert _on_grid(trade[name], _option_tick(trade[name]))
    delta = trade["DELTA"]
    assert (0 <= delta <= 1) if code[0] == "2" else (-1 <= delta <= 0)
    assert trade["GAMA"] >= 0 and trade["VEGA"] >= 0 and trade["THETA"] <= 0
    assert trade["ACML_VOL"] >= trade["LAST_CNQN"] >= 1
    assert trade["SELN_CNTG_SMTN"] + trade["SHNU_CNTG_SMTN"] == trade["ACML_VOL"]
    assert trade["NTBY_CNTG_CSNU"] == trade["SHNU_CNTG_CSNU"] - trade["SELN_CNTG_CSNU"]
    assert trade["OPTN_ASKP1"] > trade["OPTN_BIDP1"] > 0
    assert trade["TOTAL_ASKP_RSQN"] >= trade["ASKP_RSQN1"] and trade["TOTAL_BIDP_RSQN"] >= trade["BIDP_RSQN1"]
    assert trade["PRMM_VAL"] == price and trade["TMVL_VAL"] == price - trade["INVL_VAL"]
    hours = [trade.raw_value(n) for n in ("OPRC_HOUR", "HGPR_HOUR", "LWPR_HOUR", "BSOP_HOUR")]
    assert hours[0] <= min(hours[1:3]) and max(hours[:3]) <= hours[3]


@given(trades(code="301V06362"))
def test_trades_of_one_put(trade: Record) -> None:
    assert trade["OPTN_SHRN_ISCD"] == "301V06362"
    assert trade["DELTA"] <= 0 and trade["RHO"] <= 0


def test_trades_reach_limits_and_both_rights() -> None:
    assert _first(trades(), lambda t: t["PRDY_VRSS_SIGN"] is PriceSign.UPPER_LIMIT)["OPTN_PRDY_VRSS"] > 0
    assert _first(trades(), lambda t: t["PRDY_VRSS_SIGN"] is PriceSign.LOWER_LIMIT)["OPTN_PRDY_VRSS"] < 0
    assert _first(trades(), lambda t: t["DELTA"] < 0)["OPTN_SHRN_ISCD"][0] == "3"
    assert _first(trades(), lambda t: t["OPTN_PRPR"] >= 10).raw_value("OPTN_PRPR")[-1] in "05"


# -- records, frames, ciphers -----------------------------------------------------------------------------------


@given(st.sampled_from(["H0ZFASP0", "H0EUASP0", "H0IOCNT0"]).flatmap(records))
def test_records_are_valid_field_by_field(record: Record) -> None:
    assert record.valid
    record.validate()  # every field reads as its type
    assert all(v != "" for v in record.raw)  # allow_empty is off by default


@given(frames(max_records=5))
def test_frames_batch_only_trades(frame: DataFrame) -> None:
    spec = get_spec(frame.tr_id)
    assert spec is not None
    head = frame.text.split("|", 3)
    assert head[0] == "0" and head[1] == frame.tr_id and head[2] == f"{frame.count:03d}"
    if spec.kind is TrKind.QUOTE:
        assert frame.count == 1
    assert 1 <= frame.count <= 5
    assert len({r.tr_key for r in frame.records}) == 1  # one instrument a frame: routing uses the first


def test_frames_draw_multi_record_trade_batches() -> None:
    batch = _first(frames("H0IOCNT0", max_records=3), lambda f: f.count == 3)  # (up to 11: the properties)
    assert batch.text.startswith("0|H0IOCNT0|003|")
    assert len(batch.text.split("|", 3)[3].split("^")) == 3 * 58


@given(frame_texts(encrypted=True, max_records=2))
def test_encrypted_frame_texts(text: str) -> None:
    enc, tr_id, count, payload = text.split("|", 3)
    assert enc == "1" and get_spec(tr_id) is not None and count.isdigit()
    assert re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", payload) and "^" not in payload


@given(ciphers())
def test_ciphers_are_ack_shaped(cipher: FrameCipher) -> None:
    assert re.fullmatch(r"[A-Za-z0-9]{32}", cipher.key) and re.fullmatch(r"[A-Za-z0-9]{16}", cipher.iv)


# -- control messages and garbage -------------------------------------------------------------------------------


@given(subscribe_requests())
def test_subscribe_requests_are_kis_shaped(text: str) -> None:
    obj = json.loads(text)
    assert set(obj) == {"header", "body"}
    header, inp = obj["header"], obj["body"]["input"]
    assert {"approval_key", "custtype", "tr_type", "content-type"} <= set(header)
    assert header["custtype"] in ("P", "B") and header["tr_type"] in ("1", "2")
    assert re.fullmatch(r"[0-9a-f-]{36}", header["approval_key"])  # UUID-shaped, never a real key
    assert get_spec(inp["tr_id"]) is not None and inp["tr_key"]


def test_subscribe_requests_vary_like_real_clients() -> None:
    assert _first(subscribe_requests(), lambda t: list(json.loads(t)) == ["body", "header"])
    assert _first(subscribe_requests(), lambda t: next(iter(json.loads(t)["header"])) != "approval_key")
    assert _first(subscribe_requests(), lambda t: json.loads(t)["header"].get("personalseckey") == "1")
    assert _first(subscribe_requests(), lambda t: ", " in t)
    plain = _first(subscribe_requests(tr_id="H0EUASP0", tr_type="2", extra_header=False), lambda t: True)
    assert json.loads(plain)["header"]["tr_type"] == "2" and len(json.loads(plain)["header"]) == 4


@given(replies())
def test_replies_carry_msg_cd_and_table_text(reply: object) -> None:
    obj = json.loads(reply.to_json())  # type: ignore[attr-defined]
    assert obj["body"]["msg_cd"].startswith("OPSP")
    output = obj["body"].get("output")
    if output is not None:
        assert obj["body"]["msg_cd"] in ("OPSP0000", "OPSP0001")
        assert len(output["key"]) == 32 and len(output["iv"]) == 16


def test_garbage_covers_the_failure_kinds() -> None:
    def frame_error(text: str | bytes) -> bool:
        try:
            parse_frame(text)
        except Exception:  # only whether it failed matters here
            return True
        return False

    assert isinstance(_first(garbage(), lambda g: isinstance(g, bytes) and b"\xff" in g), bytes)
    assert _first(garbage(), lambda g: isinstance(g, str) and g.startswith("0|H0") and frame_error(g))
    assert _first(garbage(), lambda g: isinstance(g, str) and g.startswith('{"header"'))
