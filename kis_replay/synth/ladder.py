"""Price ladders: the prices an instrument can trade at, as integers in its smallest price unit.

The simulation keeps every price as an ``int`` (won for stock futures, hundredths of a point for
options) so that a book never holds a price off its tick grid and moving "one tick" is exact; the
:class:`~decimal.Decimal` the codec encodes is made only when a record is built.
"""

from __future__ import annotations

from bisect import bisect_right
from decimal import Decimal

__all__ = ["KOSPI200_OPTIONS", "STOCK_FUTURES", "PriceLadder", "fixed"]


class PriceLadder:
    """A tick-size table: ``bounds[i]`` is where tick ``ticks[i + 1]`` starts (every bound on both grids).

    ``places`` is how many decimals the wire shows (``0``: ``79700``; ``2``: ``2.98``).
    """

    def __init__(self, bounds: tuple[int, ...], ticks: tuple[int, ...], places: int, minimum: int) -> None:
        if len(ticks) != len(bounds) + 1:
            raise ValueError("one tick per band")
        self.bounds = bounds
        self.ticks = ticks
        self.places = places
        self.minimum = minimum
        self._decimals: dict[int, Decimal] = {}

    def tick_above(self, price: int) -> int:
        """The tick size for a move up from ``price``."""
        return self.ticks[bisect_right(self.bounds, price)]

    def tick_below(self, price: int) -> int:
        """The tick size for a move down from ``price``."""
        return self.ticks[bisect_right(self.bounds, price - 1)]

    def up(self, price: int, ticks: int = 1) -> int:
        for _ in range(ticks):
            price += self.tick_above(price)
        return price

    def down(self, price: int, ticks: int = 1) -> int:
        """``ticks`` ticks lower, or ``0`` (no price: an empty level) when that falls below the minimum."""
        for _ in range(ticks):
            price -= self.tick_below(price)
            if price < self.minimum:
                return 0
        return price

    def snap(self, price: float) -> int:
        """The ladder price nearest to ``price`` (given in price units), at least the minimum."""
        p = max(round(price), self.minimum)
        tick = self.tick_below(p + 1)
        lower = p - p % tick
        return lower + tick if p - lower > tick // 2 else max(lower, self.minimum)

    def decimal(self, price: int) -> Decimal:
        """The wire value of ``price`` (``0`` → ``0.00`` on a 2-decimal ladder), cached: prices repeat."""
        value = self._decimals.get(price)
        if value is None:
            value = self._decimals[price] = Decimal(price).scaleb(-self.places)
        return value

    def to_float(self, price: int) -> float:
        return price / 10**self.places


def fixed(value: float, places: int) -> Decimal:
    """``value`` rounded to ``places`` decimals, keeping trailing zeros (``0.5`` → ``0.50``) and no ``-0``."""
    units = round(value * 10**places)
    return Decimal(units).scaleb(-places)


#: KRX stock (and stock-futures) tick sizes by price band, in won.
STOCK_FUTURES = PriceLadder(
    bounds=(2_000, 5_000, 20_000, 50_000, 200_000, 500_000),
    ticks=(1, 5, 10, 50, 100, 500, 1_000),
    places=0,
    minimum=1,
)

#: KOSPI 200 options: 0.01 points below a 10-point premium, 0.05 from 10 up (in hundredths of a point).
KOSPI200_OPTIONS = PriceLadder(bounds=(1_000,), ticks=(1, 5), places=2, minimum=1)
