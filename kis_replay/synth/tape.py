"""The trade tape of one index option (H0IOCNT0): every number on a record derived from one state.

Per trade the tape reads the simulated index level, prices the option at its model volatility (the
exchange's theoretical price, ``HTS_THPR``), quotes a one- or two-tick market around it, and trades at
the ask (a buy) or the bid (a sell). The implied volatility is solved *from the traded price* and the
Greeks are taken at that volatility, so price, IV and Greeks agree (δ in [0, 1] for calls and [-1, 0]
for puts, γ and vega ≥ 0); premium = intrinsic + time value; open/high/low, their times and signs
follow the prices; cumulative volume and value only grow, and buy volume + sell volume = volume.

A frame sometimes carries several trades (a sweep: one aggressive order filling against a few levels),
with counts 002…011, as the live service batches trade records.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal
from typing import Any

from ..codec import PriceSign
from ..codec.ticks import KOSPI200_OPTIONS
from .instruments import Instrument, InstrumentKind
from .market_hours import NS, kst_time
from .pricing import bs_price, greeks, implied_vol, price_bounds
from .underlying import IndexPath

__all__ = ["RATE", "OptionModel", "OptionTape", "fixed", "smile_vol"]

#: Risk-free rate (KRW, continuously compounded) of every synthetic option.
RATE = 0.03
#: KOSPI 200 option multiplier: won per index point, for the traded value (ACML_TR_PBMN, won).
MULTIPLIER = 250_000
_YEAR_NS = 365 * 86_400 * NS
_MIN_YEARS = 1 / (365 * 24)
_LADDER = KOSPI200_OPTIONS


def fixed(value: float, places: int) -> Decimal:
    """``value`` rounded to ``places`` decimals, keeping trailing zeros (``0.5`` → ``0.50``) and no ``-0``."""
    units = round(value * 10**places)
    return Decimal(units).scaleb(-places)


def smile_vol(base: float, strike: float, spot: float) -> float:
    """Model volatility with a KOSPI-like skew: higher for low strikes, rising again far out."""
    m = math.log(strike / spot)
    return min(1.5, max(0.05, base * (1 - 1.2 * m + 6 * m * m)))


class OptionModel:
    """What prices one option: the index path, its base volatility and the expiry instant."""

    def __init__(self, instrument: Instrument, index: IndexPath, base_vol: float, expiry_ns: int) -> None:
        assert instrument.strike is not None
        self.instrument = instrument
        self.call = instrument.kind is InstrumentKind.CALL
        self.strike = float(instrument.strike)
        self.index = index
        self.base_vol = base_vol
        self.expiry_ns = expiry_ns

    def years(self, ns: int) -> float:
        return max(_MIN_YEARS, (self.expiry_ns - ns) / _YEAR_NS)

    def theoretical(self, ns: int, spot: float | None = None) -> float:
        """The model price in index points at ``ns``."""
        spot = self.index.at(ns) if spot is None else spot
        vol = smile_vol(self.base_vol, self.strike, spot)
        return bs_price(self.call, spot, self.strike, self.years(ns), RATE, vol)


def _sign(diff: int) -> PriceSign:
    return PriceSign.RISE if diff > 0 else PriceSign.FALL if diff < 0 else PriceSign.FLAT


class OptionTape:
    """State of one option's day: previous close, open/high/low, volumes, open interest, quotes."""

    def __init__(
        self, rng: random.Random, model: OptionModel, session_open_ns: int, start_ns: int, trade_rate: float
    ) -> None:
        self.rng = rng
        self.model = model
        self.code = model.instrument.code
        spot0 = model.index.at(start_ns)
        prev_theo = model.theoretical(start_ns - 86_400 * NS, model.index.previous_close)
        self.prev_close = _LADDER.snap(prev_theo * 100)
        moneyness = abs(math.log(model.strike / spot0))
        liquidity = math.exp(-25 * moneyness)
        self.prev_volume = max(100, int(rng.uniform(20_000, 120_000) * liquidity))
        self.open_interest = max(100, int(rng.uniform(10_000, 60_000) * (0.3 + liquidity)))
        self.prev_open_interest = max(0, self.open_interest + int(rng.gauss(0, self.open_interest * 0.03)))
        self.hist_vol = model.base_vol * rng.uniform(0.8, 1.1)
        self.mispricing = 0.0
        self.basis_noise = 0.0
        self.volume = self.value = 0
        self.buy_volume = self.sell_volume = self.buys = self.sells = 0
        self.iv_sum, self.iv_count = 0.0, 0
        self.open: tuple[int, dt.time] | None = None
        self.high: tuple[int, dt.time] | None = None
        self.low: tuple[int, dt.time] | None = None
        self.last_price = self.prev_close
        elapsed_s = (start_ns - session_open_ns) / NS
        if elapsed_s > 60:
            self._prehistory(session_open_ns, start_ns, elapsed_s, trade_rate)

    def _prehistory(self, open_ns: int, start_ns: int, elapsed_s: float, trade_rate: float) -> None:
        """A session that starts after the open shows the morning so far: volume, open, high and low."""
        rng = self.rng
        self.volume = max(1, int(elapsed_s * trade_rate * 4 * rng.uniform(0.6, 1.4)))
        self.buy_volume = int(self.volume * rng.uniform(0.4, 0.6))
        self.sell_volume = self.volume - self.buy_volume
        self.buys = max(1, self.buy_volume // 4)
        self.sells = max(1, self.sell_volume // 4)
        now = _LADDER.snap(self.model.theoretical(start_ns) * 100)
        first = _LADDER.snap(self.prev_close * math.exp(rng.gauss(0, 0.04)))
        high = _LADDER.up(max(first, now), rng.randint(0, 4))
        low = _LADDER.down(min(first, now), rng.randint(0, 4)) or _LADDER.minimum

        def moment() -> dt.time:
            return kst_time(open_ns + int(rng.uniform(0, elapsed_s) * NS))

        self.open = (first, kst_time(open_ns + int(rng.uniform(0, min(elapsed_s, 30)) * NS)))
        self.high, self.low = (high, moment()), (low, moment())
        self.value = self.volume * (first + now) // 2 * (MULTIPLIER // 100)
        self.last_price = now

    # -- one frame ------------------------------------------------------------------------------------------
    def trades(self, ns: int) -> list[dict[str, Any]]:
        """The records of one frame at exchange time ``ns``: one trade, or a sweep of 2–11."""
        rng = self.rng
        count = rng.randint(2, 11) if rng.random() < 0.15 else 1
        buy = rng.random() < 0.5
        model = self.model
        spot = model.index.at(ns)
        years = model.years(ns)
        theo = model.theoretical(ns, spot)
        self.mispricing = 0.9 * self.mispricing + rng.gauss(0, 0.004)
        mid = theo * math.exp(self.mispricing) * 100
        bid = _LADDER.snap(mid)
        if bid >= mid:
            bid = _LADDER.down(bid) or _LADDER.minimum
        ask = _LADDER.up(bid, 2 if rng.random() < 0.2 else 1)
        self.basis_noise = 0.9 * self.basis_noise + rng.gauss(0, 0.03)
        futures_theo = spot * math.exp(RATE * years)
        futures = round((futures_theo + self.basis_noise) / 0.05) * 0.05
        when = kst_time(ns)
        records = []
        for _ in range(count):
            records.append(self._trade(when, buy, ask if buy else bid, ask, bid, spot, years, theo,
                                       futures_theo, futures))
            if rng.random() < 0.4:  # the sweep walks through the level
                if buy:
                    ask = _LADDER.up(ask)
                elif bid > _LADDER.minimum:
                    bid = _LADDER.down(bid)
        return records

    def _trade(
        self, when: dt.time, buy: bool, price: int, ask: int, bid: int, spot: float, years: float,
        theo: float, futures_theo: float, futures: float,
    ) -> dict[str, Any]:
        rng = self.rng
        model = self.model
        call, strike = model.call, model.strike
        # Dynamic price limits around the previous trade hold a jump back ...
        band = max(int(self.last_price * 0.3), 20)
        limit_up = _LADDER.snap(self.last_price + band)
        limit_down = max(_LADDER.minimum, _LADDER.snap(self.last_price - band))
        price = min(max(price, limit_down), limit_up)
        # ... but never below the no-arbitrage bound, where no volatility would give the price.
        lower, upper = price_bounds(call, spot, strike, years, RATE)
        while price <= lower * 100:
            price = _LADDER.up(price)
        while price >= upper * 100 and price > _LADDER.minimum:
            price = _LADDER.down(price) or _LADDER.minimum
        limit_up, limit_down = max(limit_up, price), min(limit_down, price)
        # The touch after the trade: the order traded against is still the best level on its side.
        if buy:
            ask, bid = price, min(bid, _LADDER.down(price))
        else:
            ask, bid = max(ask, _LADDER.up(price)), price

        size = max(1, int(rng.lognormvariate(math.log(3), 1.1)))
        self.volume += size
        self.value += price * size * (MULTIPLIER // 100)
        if buy:
            self.buy_volume += size
            self.buys += 1
        else:
            self.sell_volume += size
            self.sells += 1
        if self.open is None:
            self.open = self.high = self.low = (price, when)
        assert self.high is not None and self.low is not None
        if price > self.high[0]:
            self.high = (price, when)
        if price < self.low[0]:
            self.low = (price, when)
        before = self.open_interest
        u = rng.random()
        if u < 0.4:
            self.open_interest += size
        elif u < 0.7:
            self.open_interest = max(0, self.open_interest - size)
        self.last_price = price

        p = price / 100
        try:
            iv = implied_vol(call, p, spot, strike, years, RATE, smile_vol(model.base_vol, strike, spot))
        except ValueError:  # pragma: no cover - the price was moved inside the bounds above
            iv = smile_vol(model.base_vol, strike, spot)
        g = greeks(call, spot, strike, years, RATE, iv)
        self.iv_sum += iv
        self.iv_count += 1
        intrinsic = fixed(max(0.0, spot - strike) if call else max(0.0, strike - spot), 2)
        price_dec = _LADDER.decimal(price)
        ask_size = max(1, int(rng.lognormvariate(math.log(15), 1.0)))
        bid_size = max(1, int(rng.lognormvariate(math.log(15), 1.0)))
        change = price - self.prev_close
        open_price, open_time = self.open
        high_price, high_time = self.high
        low_price, low_time = self.low
        theo_dec = fixed(theo, 2)
        return {
            "OPTN_SHRN_ISCD": self.code,
            "BSOP_HOUR": when,
            "OPTN_PRPR": price_dec,
            "PRDY_VRSS_SIGN": _sign(change),
            "OPTN_PRDY_VRSS": Decimal(change).scaleb(-2),
            "PRDY_CTRT": fixed(100 * change / self.prev_close, 2),
            "OPTN_OPRC": _LADDER.decimal(open_price),
            "OPTN_HGPR": _LADDER.decimal(high_price),
            "OPTN_LWPR": _LADDER.decimal(low_price),
            "LAST_CNQN": size,
            "ACML_VOL": self.volume,
            "ACML_TR_PBMN": self.value,
            "HTS_THPR": theo_dec,
            "HTS_OTST_STPL_QTY": self.open_interest,
            "OTST_STPL_QTY_ICDC": self.open_interest - self.prev_open_interest,
            "OPRC_HOUR": open_time,
            "OPRC_VRSS_PRPR_SIGN": _sign(price - open_price),
            "OPRC_VRSS_NMIX_PRPR": Decimal(price - open_price).scaleb(-2),
            "HGPR_HOUR": high_time,
            "HGPR_VRSS_PRPR_SIGN": _sign(price - high_price),
            "HGPR_VRSS_NMIX_PRPR": Decimal(price - high_price).scaleb(-2),
            "LWPR_HOUR": low_time,
            "LWPR_VRSS_PRPR_SIGN": _sign(price - low_price),
            "LWPR_VRSS_NMIX_PRPR": Decimal(price - low_price).scaleb(-2),
            "SHNU_RATE": fixed(100 * self.buy_volume / self.volume, 2),
            "PRMM_VAL": price_dec,
            "INVL_VAL": intrinsic,
            "TMVL_VAL": price_dec - intrinsic,
            "DELTA": fixed(g.delta, 4),
            "GAMA": fixed(g.gamma, 4),
            "VEGA": fixed(g.vega, 4),
            "THETA": fixed(g.theta, 4),
            "RHO": fixed(g.rho, 4),
            "HTS_INTS_VLTL": fixed(iv * 100, 2),
            "ESDG": price_dec - theo_dec,
            "OTST_STPL_RGBF_QTY_ICDC": self.open_interest - before,
            "THPR_BASIS": fixed(futures_theo - spot, 2),
            "UNAS_HIST_VLTL": fixed(self.hist_vol * 100, 2),
            "CTTR": fixed(100 * self.buy_volume / self.sell_volume, 2) if self.sell_volume else fixed(0, 2),
            "DPRT": fixed(100 * (p - theo) / theo, 2) if theo > 0.005 else fixed(0, 2),
            "MRKT_BASIS": fixed(futures - spot, 2),
            "OPTN_ASKP1": _LADDER.decimal(ask),
            "OPTN_BIDP1": _LADDER.decimal(bid),
            "ASKP_RSQN1": ask_size,
            "BIDP_RSQN1": bid_size,
            "SELN_CNTG_CSNU": self.sells,
            "SHNU_CNTG_CSNU": self.buys,
            "NTBY_CNTG_CSNU": self.buys - self.sells,
            "SELN_CNTG_SMTN": self.sell_volume,
            "SHNU_CNTG_SMTN": self.buy_volume,
            "TOTAL_ASKP_RSQN": ask_size + sum(int(rng.lognormvariate(math.log(20), 1.0)) for _ in range(4)),
            "TOTAL_BIDP_RSQN": bid_size + sum(int(rng.lognormvariate(math.log(20), 1.0)) for _ in range(4)),
            "PRDY_VOL_VRSS_ACML_VOL_RATE": fixed(100 * self.volume / self.prev_volume, 2),
            "AVRG_VLTL": fixed(100 * self.iv_sum / self.iv_count, 2),
            "DSCS_LRQN_VOL": 0,
            "DYNM_MXPR": _LADDER.decimal(limit_up),
            "DYNM_LLAM": _LADDER.decimal(limit_down),
            "DYNM_PRC_LIMT_YN": False,
        }
