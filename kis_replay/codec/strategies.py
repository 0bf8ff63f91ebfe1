"""Hypothesis strategies for KIS real-time data, for our tests and for bot authors' own.

Every strategy draws values that the codec itself produces and reads back: records of a TR, realistic order
books and option trades, data frames (plain, multi-record, encrypted) and their wire text, subscribe requests as
different clients write them, every control reply, and garbage for fuzzing. They compose like hypothesis's own:
pass one as an argument to another, ``.map`` them, ``.filter`` them, ``.flatmap`` them.

A bot author's test, without a server or a market::

    from hypothesis import given
    from kis_replay.codec import DataFrame
    from kis_replay.codec.strategies import frame_texts, quotes, trades

    @given(quotes("H0ZFASP0"))
    def test_book_never_crosses(quote):
        book = mybot.Book.from_kis(DataFrame.from_records([quote]).text)   # your parser
        assert book.best_ask > book.best_bid

    @given(trades(code="201S11305"))
    def test_call_delta_is_used_as_is(trade):
        assert mybot.hedge_ratio(trade) == trade["DELTA"]

    @given(frame_texts("H0IOCNT0", max_records=11))
    def test_handler_accepts_batched_trades(text):
        mybot.on_message(text)          # must not raise

Examples of what the strategies draw::

    >>> quotes("H0EUASP0").example().raw[:12]          # doctest: +SKIP
    ('301V06362', '190159', '2.98', '2.99', '3.00', '0.00', '0.00', '2.97', '2.96', '2.95', '0.00', '0.00')
    >>> frame_texts("H0IOCNT0").example()[:40]         # doctest: +SKIP
    '0|H0IOCNT0|003|201W09355^093012^1.52^2^0.04^2.70^1.4'

What "realistic" means here (and what it does not):

* Instrument codes: futures 6 characters (``111V06`` stock futures, ``101W09`` KOSPI200 futures: product, underlying,
  year letter, month); options 9 characters (``201S11305``: ``2`` call / ``3`` put, ``01`` KOSPI200, year, month,
  strike).
* Prices sit on real tick grids, the ones :mod:`kis_replay.codec.ticks` defines (and the synthetic sessions use):
  stock futures by the KRX stock tick table (1 won below 2,000 up to 1,000 won from 500,000), KOSPI200 futures
  0.05 with two decimals, options 0.01 below 10.00 and 0.05 from 10.00, two decimals.
* ``quotes``: asks strictly ascend and bids strictly descend from level 1, best ask > best bid, every total ≥ the sum
  of its shown levels. H0EUASP0 books may be thin: non-empty levels first, then empty ones as ``0.00`` with zero
  counts and quantities; night books may carry zero counts with non-zero quantities, as the live feed does.
* ``trades``: the change sign agrees with the change and the rate, high ≥ price ≥ low, delta in [0, 1] for calls and
  [-1, 0] for puts, gamma and vega ≥ 0, ACML_VOL ≥ LAST_CNQN, the sell and buy volumes add up to ACML_VOL.
* Records of one frame are independent draws for one instrument, not a consistent time series: for sessions use
  :mod:`kis_replay.synth`.

This module needs ``hypothesis`` (the ``test`` extra); the rest of the codec does not import it.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import strategies as st

from .control import REPLY_CODES, ControlReply, build_reply
from .crypto import FrameCipher
from .fields import FieldType
from .frames import DataFrame, format_frame
from .records import Record
from .spec import TrKind, TrSpec, get_spec, known_tr_ids
from .ticks import KOSPI200_FUTURES, KOSPI200_UNDERLYING, ladder_for

__all__ = [
    "ciphers",
    "frame_texts",
    "frames",
    "futures_codes",
    "garbage",
    "option_codes",
    "quotes",
    "records",
    "replies",
    "subscribe_requests",
    "tr_keys",
    "trades",
]

SearchStrategy = st.SearchStrategy

_YEARS = "STVW"  # KRX year letters of recent contracts (2022 S … 2025 W; the exchange skips I, O, U)
_MONTHS = tuple(f"{m:02d}" for m in range(1, 13))
_ACK_ALPHABET = string.ascii_letters + string.digits

# -- instrument codes -----------------------------------------------------------------------------------------


def futures_codes(*, index: bool | None = None) -> SearchStrategy[str]:
    """6-character futures codes: ``1`` + underlying + year letter + month, e.g. ``111V06`` or ``101W09``.

    ``index=True`` draws only KOSPI200 futures (underlying ``01``, prices in 0.05 points), ``index=False`` only
    stock futures (an alphanumeric underlying such as ``11`` or ``1B``, prices in won), ``None`` both.
    """
    stock = st.tuples(st.sampled_from("123456789ABCDEFGH"), st.sampled_from(string.digits + "ABCDEFGH")).map(
        "".join
    )
    kospi200 = st.just(KOSPI200_UNDERLYING)
    underlying = {True: kospi200, False: stock, None: st.one_of(kospi200, stock)}[index]
    return st.builds(
        lambda u, y, m: f"1{u}{y}{m}", underlying, st.sampled_from(_YEARS), st.sampled_from(_MONTHS)
    )


def option_codes(*, right: str | None = None) -> SearchStrategy[str]:
    """9-character KOSPI200 option codes: ``2`` call / ``3`` put, ``01``, year, month, strike, e.g. ``201S11305``.

    ``right`` is ``"call"``, ``"put"`` or ``None`` for both. The same codes serve the day (H0IOCNT0) and the KRX
    night (H0EUASP0) market.
    """
    kinds = {"call": "2", "put": "3", None: "23"}.get(right)
    if kinds is None:
        raise ValueError(f"right must be 'call', 'put' or None, not {right!r}")
    return st.builds(
        lambda k, y, m, strike: f"{k}{KOSPI200_UNDERLYING}{y}{m}{strike}",
        st.sampled_from(kinds),
        st.sampled_from(_YEARS),
        st.sampled_from(_MONTHS),
        st.integers(200, 500).map(str),
    )


def tr_keys(tr_id: str) -> SearchStrategy[str]:
    """Instrument codes fit for ``tr_id``: futures for H0ZFASP0, options for the option TRs, else alphanumeric
    codes of the TR's accepted ``key_width``."""
    if tr_id == "H0ZFASP0":
        return futures_codes()
    if tr_id in ("H0EUASP0", "H0IOCNT0"):
        return option_codes()
    spec = get_spec(tr_id)
    low, high = spec.key_width if spec else (1, 12)
    return st.text(string.ascii_uppercase + string.digits, min_size=low, max_size=high)


# -- field-wise records ---------------------------------------------------------------------------------------


_PLACES = 5  # decimals of 0–4 places


def _decimal(n: int) -> str:
    """Canonical decimal text (what ``encode_value`` writes back): no ``+``, no leading zeros, no bare ``.``.

    One integer carries both the value and the number of places (``n % 5``): hypothesis pays per draw, and a
    68-field record is 68 of them.
    """
    value, places = divmod(abs(n), _PLACES)
    return format(Decimal(-value if n < 0 else value).scaleb(-places), "f")


def _hhmmss(seconds: int) -> str:
    seconds %= 86_400
    return f"{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"


def _same(text: str) -> str:
    return text


#: Per field type: what to draw, and how to write it as canonical wire text (drawn unmapped, for speed).
_FIELD_TEXT: dict[FieldType, tuple[SearchStrategy[Any], Callable[[Any], str]]] = {
    FieldType.CODE: (st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=12), _same),
    FieldType.TIME: (st.integers(0, 86_399), _hhmmss),
    FieldType.PRICE: (st.integers(0, _PLACES * 10**9), _decimal),
    FieldType.PRICE_CHANGE: (st.integers(-_PLACES * 10**9, _PLACES * 10**9), _decimal),
    FieldType.QUANTITY: (st.integers(0, 10**12), str),
    FieldType.QUANTITY_CHANGE: (st.integers(-(10**9), 10**9), str),
    FieldType.SIGN: (st.sampled_from("12345"), _same),
    FieldType.RATE: (st.integers(-_PLACES * 10**6, _PLACES * 10**6), _decimal),
    FieldType.FLAG: (st.sampled_from("YN"), _same),
}


def _spec_of(tr_id: str) -> TrSpec:
    spec = get_spec(tr_id)
    if spec is None:
        raise ValueError(f"unknown TR {tr_id!r}: the codec knows {', '.join(known_tr_ids())}")
    return spec


def records(tr_id: str, *, allow_empty: bool = False, code: str | None = None) -> SearchStrategy[Record]:
    """Records of ``tr_id`` whose every field is valid text of its type, independently drawn.

    The first field is an instrument code of the TR (:func:`tr_keys`, or ``code``), times are ``HHMMSS``,
    decimals and integers are in canonical form (so ``Record.from_values(spec, r.typed()) == r``). The values
    are not a consistent market (a price may be 0, a sign may disagree with its change): use :func:`quotes`
    and :func:`trades` for that. ``allow_empty=True`` also draws ``""`` (a valid value of every type) for
    some fields after the first.

    >>> records("H0IOCNT0").example().valid                # doctest: +SKIP
    True
    """
    spec = _spec_of(tr_id)
    first = st.just(code) if code is not None else tr_keys(tr_id)
    columns = [(first, _same), *(_FIELD_TEXT[f.type] for f in spec.fields[1:])]
    empties = st.sets(st.integers(1, spec.field_count - 1), max_size=spec.field_count // 3)

    @st.composite
    def record(draw: Any) -> Record:
        raw = [text(draw(column)) for column, text in columns]
        if allow_empty:
            for index in draw(empties):
                raw[index] = ""
        return Record.from_raw(spec, raw)

    return record()


# -- prices on tick grids ---------------------------------------------------------------------------------------


_DAY = (8 * 3600 + 45 * 60, 15 * 3600 + 45 * 60)  # 08:45:00–15:45:00 KST


_DAY_TIMES = st.integers(*_DAY)
_NIGHT_TIMES = st.integers(18 * 3600, (24 + 5) * 3600)  # 18:00:00–05:00:00 KST, across midnight


# -- quotes -----------------------------------------------------------------------------------------------------


@st.composite
def _futures_book(draw: Any, code: str | None) -> Record:
    spec = _spec_of("H0ZFASP0")
    code = draw(futures_codes()) if code is None else code
    ladder = ladder_for(code)
    low, high = (20_000, 50_000) if ladder is KOSPI200_FUTURES else (2_000, 900_000)
    bid = ladder.floor(draw(st.integers(low, high)))
    ask = ladder.up(bid, draw(st.integers(1, 3)))
    asks, bids = [ask], [bid]
    for gap in draw(st.lists(st.integers(1, 4), min_size=9, max_size=9)):
        asks.append(ladder.up(asks[-1], gap))
    for gap in draw(st.lists(st.integers(1, 4), min_size=9, max_size=9)):
        bids.append(ladder.down(bids[-1], gap))  # ≥ 2,000 won / 200 points: never runs off the grid
    values = {spec.names[0]: code, "BSOP_HOUR": _hhmmss(draw(_DAY_TIMES))}
    _fill_book(draw, values, "ASKP{}", "BIDP{}", [ladder.text(p) for p in asks], [ladder.text(p) for p in bids],
               levels=10, zero_counts=False)
    return Record.from_raw(spec, [values[name] for name in spec.names])


@st.composite
def _night_option_book(draw: Any, code: str | None) -> Record:
    spec = _spec_of("H0EUASP0")
    code = draw(option_codes()) if code is None else code
    ladder = ladder_for(code)
    bid = ladder.floor(draw(st.integers(1, 3_000)))
    ask = ladder.up(bid, draw(st.integers(1, 3)))
    asks, bids = [ask], [bid]
    for gap in draw(st.lists(st.integers(1, 3), max_size=4)):
        asks.append(ladder.up(asks[-1], gap))
    for gap in draw(st.lists(st.integers(1, 3), max_size=4)):
        below = ladder.down(bids[-1], gap)
        if below <= 0:
            break  # the book ends at the lowest tick: the deeper levels are empty
        bids.append(below)
    empty = "0.00"
    ask_texts = [ladder.text(p) for p in asks] + [empty] * (5 - len(asks))
    bid_texts = [ladder.text(p) for p in bids] + [empty] * (5 - len(bids))
    values = {spec.names[0]: code, "BSOP_HOUR": _hhmmss(draw(_NIGHT_TIMES))}
    _fill_book(draw, values, "OPTN_ASKP{}", "OPTN_BIDP{}", ask_texts, bid_texts, levels=5,
               zero_counts=draw(st.booleans()), empty=empty)
    return Record.from_raw(spec, [values[name] for name in spec.names])


def _fill_book(
    draw: Any,
    values: dict[str, str],
    ask_name: str,
    bid_name: str,
    ask_texts: list[str],
    bid_texts: list[str],
    *,
    levels: int,
    zero_counts: bool,
    empty: str | None = None,
) -> None:
    """Prices, per-level counts and quantities, totals ≥ their levels' sums, and the total changes."""
    for side, name, texts in (("ASKP", ask_name, ask_texts), ("BIDP", bid_name, bid_texts)):
        count_sum = quantity_sum = 0
        for level in range(1, levels + 1):
            price = texts[level - 1]
            values[name.format(level)] = price
            if price == empty:
                quantity = count = 0
            else:
                quantity = draw(st.integers(1, 5_000))
                count = 0 if zero_counts else draw(st.integers(1, min(quantity, 60)))
            values[f"{side}_RSQN{level}"] = str(quantity)
            values[f"{side}_CSNU{level}"] = str(count)
            quantity_sum += quantity
            count_sum += count
        values[f"TOTAL_{side}_CSNU"] = str(count_sum + (0 if zero_counts else draw(st.integers(0, 500))))
        values[f"TOTAL_{side}_RSQN"] = str(quantity_sum + draw(st.integers(0, 20_000)))
        values[f"TOTAL_{side}_RSQN_ICDC"] = str(draw(st.integers(-5_000, 5_000)))


def quotes(tr: str = "H0ZFASP0", *, code: str | None = None) -> SearchStrategy[Record]:
    """Order-book snapshots (one quote record) of ``tr``: ``"H0ZFASP0"`` (10-level stock/index futures book) or
    ``"H0EUASP0"`` (5-level KRX night option book), optionally for one instrument ``code``.

    Asks strictly ascend and bids strictly descend from level 1 on the instrument's tick grid, best ask > best
    bid, totals ≥ the sum of the shown levels. H0EUASP0 books have 1–5 levels a side, the empty ones last as
    ``0.00`` with zero count and quantity, and half of them carry zero counts everywhere (as the live night feed
    does).

    >>> q = quotes("H0ZFASP0", code="111V06").example()    # doctest: +SKIP
    >>> q["ASKP1"] > q["BIDP1"]                            # doctest: +SKIP
    True
    """
    if tr == "H0ZFASP0":
        return _futures_book(code)
    if tr == "H0EUASP0":
        return _night_option_book(code)
    raise ValueError(f"no order-book model for {tr!r} (H0ZFASP0, H0EUASP0); records({tr!r}) draws valid fields")


# -- trades -----------------------------------------------------------------------------------------------------


def _sign_of(change: int, *, limit: bool = False) -> str:
    """KIS change sign: 1 upper limit, 2 rise, 3 flat, 4 lower limit, 5 fall."""
    if change > 0:
        return "1" if limit else "2"
    if change < 0:
        return "4" if limit else "5"
    return "3"


def _fixed(units: int, places: int) -> str:
    return format(Decimal(units).scaleb(-places), "f")


@st.composite
def _option_trade(draw: Any, code: str | None) -> Record:
    spec = _spec_of("H0IOCNT0")
    code = draw(option_codes()) if code is None else code
    call = code[0] == "2"
    lad = ladder_for(code)
    price = max(1, lad.floor(draw(st.integers(1, 3_000))))
    prev = max(1, lad.floor(price + draw(st.integers(-(price // 2), price))))  # moves of -50 % … +100 %
    change = price - prev
    at_limit = change != 0 and draw(st.integers(0, 9)) == 0  # an option at its price limit now and then
    open_ = max(1, lad.floor(draw(st.integers(1, 3_000))))
    high = lad.up(max(price, open_), draw(st.integers(0, 5)))
    low = max(1, lad.down(min(price, open_), draw(st.integers(0, 5))))
    if at_limit and change > 0:
        high = price = max(price, open_)
        change = price - prev
    if at_limit and change < 0:
        low = price = min(price, open_)
        change = price - prev
    upper = price if at_limit and change > 0 else lad.up(high, draw(st.integers(1, 20)))
    lower = price if at_limit and change < 0 else max(1, lad.down(low, draw(st.integers(1, 20))))
    rate = (Decimal(change) * 100 / Decimal(prev)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    now = draw(st.integers(_DAY[0] + 15 * 60, _DAY[1]))
    opened = draw(st.integers(_DAY[0] + 15 * 60, now))
    last = draw(st.integers(1, 200))
    volume = last + draw(st.integers(0, 500_000))
    sold = draw(st.integers(0, volume))
    bought = volume - sold
    sell_count = draw(st.integers(0, min(sold, 50_000)))
    buy_count = draw(st.integers(0, min(bought, 50_000)))
    theory = max(1, lad.floor(price + draw(st.integers(-30, 30))))
    intrinsic = draw(st.integers(0, price + 20))
    bid1 = max(1, lad.down(price, draw(st.integers(0, 1))))
    ask1 = lad.up(bid1, draw(st.integers(1, 2)))
    greek = st.integers(0, 10_000)
    sign_ = 1 if call else -1

    def d(units: int, places: int = 2) -> str:
        return _fixed(units, places)

    values = {
        "OPTN_SHRN_ISCD": code,
        "BSOP_HOUR": _hhmmss(now),
        "OPTN_PRPR": d(price),
        "PRDY_VRSS_SIGN": _sign_of(change, limit=at_limit),
        "OPTN_PRDY_VRSS": d(change),
        "PRDY_CTRT": format(rate, "f"),
        "OPTN_OPRC": d(open_),
        "OPTN_HGPR": d(high),
        "OPTN_LWPR": d(low),
        "LAST_CNQN": str(last),
        "ACML_VOL": str(volume),
        "ACML_TR_PBMN": str(volume * price * 5 // 2),  # points × 250,000 won multiplier, in 1,000 won
        "HTS_THPR": d(theory),
        "HTS_OTST_STPL_QTY": str(draw(st.integers(0, 500_000))),
        "OTST_STPL_QTY_ICDC": str(draw(st.integers(-5_000, 5_000))),
        "OPRC_HOUR": _hhmmss(opened),
        "OPRC_VRSS_PRPR_SIGN": _sign_of(price - open_),
        "OPRC_VRSS_NMIX_PRPR": d(price - open_),
        "HGPR_HOUR": _hhmmss(draw(st.integers(opened, now))),
        "HGPR_VRSS_PRPR_SIGN": _sign_of(price - high),
        "HGPR_VRSS_NMIX_PRPR": d(price - high),
        "LWPR_HOUR": _hhmmss(draw(st.integers(opened, now))),
        "LWPR_VRSS_PRPR_SIGN": _sign_of(price - low),
        "LWPR_VRSS_NMIX_PRPR": d(price - low),
        "SHNU_RATE": d(draw(st.integers(0, 10_000))),
        "PRMM_VAL": d(price),
        "INVL_VAL": d(intrinsic),
        "TMVL_VAL": d(price - intrinsic),
        "DELTA": d(sign_ * draw(greek), 4),
        "GAMA": d(draw(st.integers(0, 5_000)), 4),
        "VEGA": d(draw(st.integers(0, 5_000)), 4),
        "THETA": d(-draw(st.integers(0, 5_000)), 4),
        "RHO": d(sign_ * draw(st.integers(0, 3_000)), 4),
        "HTS_INTS_VLTL": d(draw(st.integers(500, 8_000))),
        "ESDG": d(price - theory),
        "OTST_STPL_RGBF_QTY_ICDC": str(draw(st.integers(-500, 500))),
        "THPR_BASIS": d(draw(st.integers(-300, 300))),
        "UNAS_HIST_VLTL": d(draw(st.integers(500, 6_000))),
        "CTTR": d(draw(st.integers(0, 50_000))),
        "DPRT": format((Decimal(price - theory) * 100 / Decimal(theory)).quantize(Decimal("0.01")), "f"),
        "MRKT_BASIS": d(draw(st.integers(-300, 300))),
        "OPTN_ASKP1": d(ask1),
        "OPTN_BIDP1": d(bid1),
        "ASKP_RSQN1": str(ask_q := draw(st.integers(1, 500))),
        "BIDP_RSQN1": str(bid_q := draw(st.integers(1, 500))),
        "SELN_CNTG_CSNU": str(sell_count),
        "SHNU_CNTG_CSNU": str(buy_count),
        "NTBY_CNTG_CSNU": str(buy_count - sell_count),
        "SELN_CNTG_SMTN": str(sold),
        "SHNU_CNTG_SMTN": str(bought),
        "TOTAL_ASKP_RSQN": str(ask_q + draw(st.integers(0, 5_000))),
        "TOTAL_BIDP_RSQN": str(bid_q + draw(st.integers(0, 5_000))),
        "PRDY_VOL_VRSS_ACML_VOL_RATE": d(draw(st.integers(0, 30_000))),
        "AVRG_VLTL": d(draw(st.integers(500, 8_000))),
        "DSCS_LRQN_VOL": str(draw(st.integers(0, volume // 10))),
        "DYNM_MXPR": d(upper),
        "DYNM_LLAM": d(lower),
        "DYNM_PRC_LIMT_YN": draw(st.sampled_from("YN")),
    }
    return Record.from_raw(spec, [values[name] for name in spec.names])


def trades(tr: str = "H0IOCNT0", *, code: str | None = None) -> SearchStrategy[Record]:
    """Index option trades (H0IOCNT0 records), optionally for one option ``code`` (``2…`` call, ``3…`` put).

    PRDY_VRSS_SIGN agrees with OPTN_PRDY_VRSS and PRDY_CTRT (1/2 up, 3 flat, 4/5 down; 1 and 4 only at the
    real-time price limit DYNM_MXPR / DYNM_LLAM), the open/high/low signs with their differences,
    high ≥ price ≥ low > 0, delta in [0, 1] for calls and [-1, 0] for puts, gamma and vega ≥ 0, theta ≤ 0,
    ACML_VOL ≥ LAST_CNQN and SELN_CNTG_SMTN + SHNU_CNTG_SMTN = ACML_VOL, OPTN_ASKP1 > OPTN_BIDP1.

    >>> t = trades(code="301V06362").example()             # doctest: +SKIP
    >>> -1 <= t["DELTA"] <= 0                               # doctest: +SKIP
    True
    """
    if tr != "H0IOCNT0":
        raise ValueError(f"no trade model for {tr!r} (H0IOCNT0); records({tr!r}) draws valid fields")
    return _option_trade(code)


# -- frames -----------------------------------------------------------------------------------------------------


def ciphers() -> SearchStrategy[FrameCipher]:
    """Key/iv pairs as a subscribe ack hands them out: 32 and 16 ASCII letters and digits."""
    return st.builds(
        FrameCipher,
        key=st.text(_ACK_ALPHABET, min_size=32, max_size=32),
        iv=st.text(_ACK_ALPHABET, min_size=16, max_size=16),
    )


def _model_records(tr_id: str, realistic: bool, allow_empty: bool) -> Callable[[str], SearchStrategy[Record]]:
    """Records of one instrument ``code`` of ``tr_id``: the market model when there is one, else field-wise."""
    if realistic and tr_id in ("H0ZFASP0", "H0EUASP0"):
        return lambda code: quotes(tr_id, code=code)
    if realistic and tr_id == "H0IOCNT0":
        return lambda code: trades(tr_id, code=code)
    return lambda code: records(tr_id, code=code, allow_empty=allow_empty)


def frames(
    tr_id: str | None = None,
    *,
    max_records: int = 11,
    encrypted: bool = False,
    cipher: FrameCipher | None = None,
    realistic: bool = True,
    allow_empty: bool = False,
) -> SearchStrategy[DataFrame]:
    """:class:`DataFrame` objects of ``tr_id`` (default: any TR the codec knows).

    Quote TRs get one record a frame (the live service never batched them); trade TRs 1 to ``max_records``
    records of one instrument, like the live ``0|H0IOCNT0|011|…`` batches. ``realistic`` records come from
    :func:`quotes` / :func:`trades` where the TR has a market model, else from :func:`records` (with
    ``allow_empty``). ``encrypted=True`` makes ``1|…`` frames under ``cipher``, or under a drawn one; to decrypt
    them in a test, draw the cipher yourself::

        @given(ciphers().flatmap(lambda c: st.tuples(st.just(c), frames(encrypted=True, cipher=c))))
        def test_decrypts(pair):
            cipher, frame = pair
            assert parse_frame(frame.text, cipher=cipher) == frame
    """
    if tr_id is None:
        return st.sampled_from(known_tr_ids()).flatmap(
            lambda tr: frames(tr, max_records=max_records, encrypted=encrypted, cipher=cipher,
                              realistic=realistic, allow_empty=allow_empty)
        )
    spec = _spec_of(tr_id)
    batch = spec.kind is TrKind.TRADE
    counts = st.integers(1, max(1, max_records)) if batch else st.just(1)
    make = _model_records(tr_id, realistic, allow_empty)
    keys = st.builds(lambda k, n: (k, n), tr_keys(tr_id), counts)
    recs = keys.flatmap(lambda kn: st.lists(make(kn[0]), min_size=kn[1], max_size=kn[1]))
    if not encrypted:
        return recs.map(DataFrame.from_records)
    keyed = st.just(cipher) if cipher is not None else ciphers()
    return st.builds(lambda rs, c: DataFrame.from_records(rs, cipher=c), recs, keyed)


def frame_texts(
    tr_id: str | None = None,
    *,
    max_records: int = 11,
    encrypted: bool = False,
    cipher: FrameCipher | None = None,
    realistic: bool = True,
    allow_empty: bool = False,
) -> SearchStrategy[str]:
    """The wire text of :func:`frames` (same arguments), e.g. ``0|H0ZFASP0|001|111V06^092304^79700^…``."""
    return frames(tr_id, max_records=max_records, encrypted=encrypted, cipher=cipher, realistic=realistic,
                  allow_empty=allow_empty).map(format_frame)


# -- control messages -------------------------------------------------------------------------------------------

_EXTRA_HEADER = st.dictionaries(
    st.sampled_from(["personalseckey", "hashkey", "seq_no", "mac_address", "phone_number", "ip_addr"]),
    st.one_of(st.just("1"), st.text(string.ascii_letters + string.digits, max_size=12)),
    max_size=3,
)


def _shuffled(items: SearchStrategy[list[tuple[str, Any]]]) -> SearchStrategy[dict[str, Any]]:
    return items.flatmap(st.permutations).map(dict)


def subscribe_requests(
    tr_id: str | None = None, *, tr_type: str | None = None, extra_header: bool = True
) -> SearchStrategy[str]:
    """Subscribe (``tr_type`` "1") / unsubscribe ("2") request texts as different clients write them.

    Keys in any order at every level, compact or spaced JSON, ASCII-escaped or not, and (with ``extra_header``)
    extra header keys such as ``"personalseckey":"1"``. The approval key is a random UUID-shaped string, never a
    real one. Read what was drawn with ``json.loads`` (or :func:`~kis_replay.codec.parse_request`).
    """
    trs = st.just(tr_id) if tr_id is not None else st.sampled_from(known_tr_ids())
    types = st.just(tr_type) if tr_type is not None else st.sampled_from(["1", "2"])
    extras = _EXTRA_HEADER if extra_header else st.just({})

    @st.composite
    def request(draw: Any) -> str:
        tr = draw(trs)
        header = [
            ("approval_key", str(draw(st.uuids()))),
            ("custtype", draw(st.sampled_from("PB"))),
            ("tr_type", draw(types)),
            ("content-type", "utf-8"),
            *draw(extras).items(),
        ]
        inp = [("tr_id", tr), ("tr_key", draw(tr_keys(tr)))]
        body = [("input", draw(_shuffled(st.just(inp))))]
        top = [("header", draw(_shuffled(st.just(header)))), ("body", dict(body))]
        obj = draw(_shuffled(st.just(top)))
        separators = draw(st.sampled_from([(",", ":"), (", ", ": ")]))
        return json.dumps(obj, separators=separators, ensure_ascii=draw(st.booleans()))

    return request()


def replies(msg_cd: str | None = None) -> SearchStrategy[ControlReply]:
    """Server control replies for ``msg_cd`` (default: every code of :data:`~kis_replay.codec.REPLY_CODES`).

    Subscribe/unsubscribe acks may carry ``output`` with an iv and key (or none, as one real capture had);
    OPSP0011 carries the (fake) approval key appended to msg1, as the service does.
    """
    codes = st.just(msg_cd) if msg_cd is not None else st.sampled_from(sorted(REPLY_CODES))

    @st.composite
    def reply(draw: Any) -> ControlReply:
        code = draw(codes)
        tr = draw(st.sampled_from(known_tr_ids()))
        output = None
        if code in ("OPSP0000", "OPSP0001") and draw(st.booleans()):
            cipher = draw(ciphers())
            output = {"iv": cipher.iv, "key": cipher.key}
        if code == "OPSP8996":
            return build_reply(code, tr_id="(null)")
        detail = str(draw(st.uuids())) if code == "OPSP0011" else ""
        encrypt = "Y" if (spec := get_spec(tr)) is not None and spec.encrypted else "N"
        return build_reply(code, tr_id=tr, tr_key=draw(tr_keys(tr)), encrypt=encrypt, output=output, detail=detail)

    return reply()


# -- garbage ----------------------------------------------------------------------------------------------------

_NASTY = "|^0 1\x00\n\t\"{}[]:,é한\ud800\u2028="


@st.composite
def _mutated(draw: Any, texts: SearchStrategy[str]) -> str:
    """A valid message with one edit: cut, a character dropped, replaced or inserted, a part duplicated."""
    text = draw(texts)
    if not text:
        return text
    at = draw(st.integers(0, len(text) - 1))
    edit = draw(st.sampled_from(["cut", "drop", "replace", "insert", "double"]))
    char = draw(st.sampled_from(_NASTY))
    if edit == "cut":
        return text[:at]
    if edit == "drop":
        return text[:at] + text[at + 1 :]
    if edit == "replace":
        return text[:at] + char + text[at + 1 :]
    if edit == "insert":
        return text[:at] + char + text[at:]
    return text[:at] + text[at : at + 20] + text[at:]


def _frame_shaped() -> SearchStrategy[str]:
    """``enc|TR|count|payload`` with every part drawn from plausible and broken values."""
    fields = st.lists(st.text(alphabet=string.digits + ".-+ A", max_size=6), max_size=140).map("^".join)
    return st.builds(
        lambda enc, tr, count, payload: f"{enc}|{tr}|{count}|{payload}",
        st.sampled_from(["0", "1", "2", "", " 0"]),
        st.one_of(st.sampled_from([*known_tr_ids(), "H0STCNI0", "", "H0-ZF", "한글"]), st.text(max_size=9)),
        st.one_of(st.sampled_from(["001", "002", "011", "000", "01", "0001", "99999", "-01", "abc", " 1", "１"]),
                  st.text(max_size=4)),
        st.one_of(fields, st.text(string.ascii_letters + string.digits + "+/=", max_size=200), st.text()),
    )


def _json_values() -> SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.one_of(st.sampled_from(["header", "body", "input", "tr_id", "tr_key", "custtype", "tr_type",
                                           "msg_cd", "output", "key", "iv", "datetime"]), st.text(max_size=8)),
                inner,
                max_size=5,
            ),
        ),
        max_leaves=12,
    )


def garbage() -> SearchStrategy[str | bytes]:
    """Input that a server or client must survive: random text and bytes, valid frames and requests with one
    edit, frame-shaped text with broken parts, arbitrary JSON, and invalid UTF-8.

    Feed it to every parser; only :class:`~kis_replay.codec.CodecError` subclasses may come out::

        @given(garbage())
        def test_survives(data):
            try:
                mybot.on_message(data)
            except MyBotRejects:
                pass
    """
    valid_text = st.one_of(frame_texts(max_records=3, realistic=False), subscribe_requests(),
                           replies().map(ControlReply.to_json))
    text = st.one_of(
        st.text(max_size=300),
        _mutated(valid_text),
        _frame_shaped(),
        _json_values().map(lambda v: json.dumps(v, ensure_ascii=False)),
    )
    raw = st.one_of(
        st.binary(max_size=300),
        st.tuples(text, st.binary(min_size=1, max_size=4), st.integers(0, 300)).map(
            lambda t: t[0].encode("utf-8", "surrogatepass")[: t[2]] + b"\xff" + t[1]
        ),
    )
    return st.one_of(text, raw)
