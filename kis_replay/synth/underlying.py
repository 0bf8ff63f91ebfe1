"""The simulated KOSPI 200 index that every option of a session is priced from.

Several option streams read the index at their own event times, in whatever order the merge visits
them. So the path is laid down on a fixed 100 ms grid from its own random generator, extended on
demand: the level at a given time is the same whoever asks first, and adding an instrument to a session
does not change another's prices.
"""

from __future__ import annotations

import math
import random

from .market_hours import NS

__all__ = ["IndexPath"]

_STEP_NS = NS // 10
_TRADING_SECONDS_PER_YEAR = 252 * 6.75 * 3600


class IndexPath:
    """Geometric Brownian motion with rare jumps, from ``level`` at ``origin_ns``, annual volatility ``vol``."""

    def __init__(self, rng: random.Random, level: float, vol: float, origin_ns: int) -> None:
        self.rng = rng
        self.origin_ns = origin_ns
        self.vol = vol
        self._sigma = vol * math.sqrt(_STEP_NS / NS / _TRADING_SECONDS_PER_YEAR)
        self._levels = [level]
        #: yesterday's close: where every option's previous close (PRDY_*) is priced from
        self.previous_close = level * math.exp(rng.gauss(0.0, 0.01))

    def at(self, ns: int) -> float:
        """The index level at ``ns`` (the level of the last grid point at or before it)."""
        index = max(0, (ns - self.origin_ns) // _STEP_NS)
        levels = self._levels
        rng, sigma = self.rng, self._sigma
        while len(levels) <= index:
            shock = rng.gauss(0.0, sigma)
            if rng.random() < 1e-4:  # a jump: a few basis points, now and then
                shock += rng.gauss(0.0, 12 * sigma)
            levels.append(levels[-1] * math.exp(shock))
        return levels[index]
