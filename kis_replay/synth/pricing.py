"""Black–Scholes prices, Greeks and implied volatility of European index options.

KOSPI 200 options are European and cash-settled, so Black–Scholes on the index is the model the
exchange's own theoretical prices use. The trade tape derives everything from one simulated index level:
the theoretical price from a model volatility, the implied volatility *back* from the traded price, and
the Greeks at that implied volatility, so the numbers on one record agree with each other the way a
real tape's do.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["Greeks", "bs_price", "greeks", "implied_vol", "price_bounds"]

_SQRT_2PI = math.sqrt(2 * math.pi)
MIN_VOL = 0.005
MAX_VOL = 5.0


def _cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def _pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / _SQRT_2PI


def _d1_d2(spot: float, strike: float, years: float, rate: float, vol: float) -> tuple[float, float]:
    root = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * years) / root
    return d1, d1 - root


def bs_price(call: bool, spot: float, strike: float, years: float, rate: float, vol: float) -> float:
    """The option's Black–Scholes value in index points."""
    d1, d2 = _d1_d2(spot, strike, years, rate, vol)
    discount = strike * math.exp(-rate * years)
    if call:
        return spot * _cdf(d1) - discount * _cdf(d2)
    return discount * _cdf(-d2) - spot * _cdf(-d1)


def price_bounds(call: bool, spot: float, strike: float, years: float, rate: float) -> tuple[float, float]:
    """The no-arbitrage range (exclusive) of the option's price: only inside it is there an implied vol."""
    discount = strike * math.exp(-rate * years)
    if call:
        return max(0.0, spot - discount), spot
    return max(0.0, discount - spot), discount


class Greeks(NamedTuple):
    """Sensitivities as HTS shows them: vega and rho per volatility / rate point (1 %), theta per day."""

    delta: float
    gamma: float
    vega: float
    theta: float
    rho: float


def greeks(call: bool, spot: float, strike: float, years: float, rate: float, vol: float) -> Greeks:
    d1, d2 = _d1_d2(spot, strike, years, rate, vol)
    discount = strike * math.exp(-rate * years)
    density = _pdf(d1)
    root_t = math.sqrt(years)
    gamma = density / (spot * vol * root_t)
    vega = spot * density * root_t / 100
    decay = -spot * density * vol / (2 * root_t)
    if call:
        delta = _cdf(d1)
        theta = (decay - rate * discount * _cdf(d2)) / 365
        rho = discount * years * _cdf(d2) / 100
    else:
        delta = _cdf(d1) - 1.0
        theta = (decay + rate * discount * _cdf(-d2)) / 365
        rho = -discount * years * _cdf(-d2) / 100
    return Greeks(delta, gamma, vega, theta, rho)


def implied_vol(
    call: bool, price: float, spot: float, strike: float, years: float, rate: float, guess: float = 0.2
) -> float:
    """The volatility at which Black–Scholes gives ``price``: Newton steps on vega, kept inside a
    bisection bracket so that it always converges (a few steps from a good ``guess``).

    ``price`` must lie strictly inside :func:`price_bounds`; outside it ``ValueError`` is raised. Prices
    below the value at the lowest (highest) volatility searched give that volatility.
    """
    lower, upper = price_bounds(call, spot, strike, years, rate)
    if not lower < price < upper:
        raise ValueError(f"price {price} outside the no-arbitrage range ({lower:.4f}, {upper:.4f})")
    lo, hi = MIN_VOL, MAX_VOL
    if bs_price(call, spot, strike, years, rate, lo) >= price:
        return lo
    if bs_price(call, spot, strike, years, rate, hi) <= price:
        return hi
    vol = min(max(guess, lo), hi)
    root_t = math.sqrt(years)
    for _ in range(100):
        diff = bs_price(call, spot, strike, years, rate, vol) - price
        if abs(diff) < 1e-9:
            break
        if diff < 0:
            lo = vol
        else:
            hi = vol
        d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * years) / (vol * root_t)
        vega = spot * _pdf(d1) * root_t
        step = vol - diff / vega if vega > 1e-12 else -1.0
        vol = step if lo < step < hi else 0.5 * (lo + hi)
        if hi - lo < 1e-10:
            break
    return vol
