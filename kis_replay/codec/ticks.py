"""KRX tick sizes: the prices an instrument can be quoted and traded at.

One table of each rule, used by the synthetic sessions (:mod:`kis_replay.synth`) and by the hypothesis
strategies (:mod:`kis_replay.codec.strategies`), so that what the two generate agrees, and a bot author can
ask the same question of a price in their own tests::

    >>> from decimal import Decimal
    >>> tick_size("111V06", Decimal("79700"))
    Decimal('100')
    >>> tick_size("201S11305", Decimal("9.99")), tick_size("201S11305", Decimal("10.00"))
    (Decimal('0.01'), Decimal('0.05'))

A :class:`PriceLadder` keeps prices as integers in the instrument's smallest unit (won for stock futures,
hundredths of a point for KOSPI 200 futures and options), so that a price is never off its grid and "one
tick" is exact; the :class:`~decimal.Decimal` the wire shows is made only at the end.

The rules (KRX, as the fake feed models them):

* stock futures, the KRX stock table since 2023: 1 won below 2,000; 5 to 5,000; 10 to 20,000; 50 to 50,000;
  100 to 200,000; 500 to 500,000; 1,000 from 500,000 on;
* KOSPI 200 futures: 0.05 points;
* KOSPI 200 options: 0.01 points below a premium of 10, 0.05 from 10 up.
"""

from __future__ import annotations

from bisect import bisect_right
from decimal import Decimal

__all__ = [
    "KOSPI200_FUTURES",
    "KOSPI200_OPTIONS",
    "KOSPI200_UNDERLYING",
    "STOCK_FUTURES",
    "PriceLadder",
    "ladder_for",
    "tick_size",
]


class PriceLadder:
    """A tick-size table: ``bounds[i]`` is where tick ``ticks[i + 1]`` starts (every bound on both grids).

    Prices are ``int`` units of the last decimal the wire shows; ``places`` is how many decimals that is
    (``0``: ``79700``; ``2``: ``2.98``); ``minimum`` is the lowest price there is. A price on a band's lower
    bound moves up by that band's tick and down by the tick of the band below, as exchange tables work.
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
        """The tick size for a move up from ``price`` (the tick of the band ``price`` lies in)."""
        return self.ticks[bisect_right(self.bounds, price)]

    def tick_below(self, price: int) -> int:
        """The tick size for a move down from ``price``."""
        return self.ticks[bisect_right(self.bounds, price - 1)]

    def up(self, price: int, ticks: int = 1) -> int:
        """``ticks`` ticks higher."""
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

    def floor(self, price: int) -> int:
        """The highest grid price at or below ``price`` (``price`` ≥ the minimum)."""
        return price - price % self.tick_above(price)

    def snap(self, price: float) -> int:
        """The grid price nearest to ``price`` (given in price units), at least the minimum."""
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

    def text(self, price: int) -> str:
        """The wire text of ``price`` (``300`` → ``"3.00"``; never an exponent)."""
        return format(Decimal(price).scaleb(-self.places), "f")

    def to_float(self, price: int) -> float:
        return price / 10**self.places


#: Stock futures, by the KRX stock table (in won).
STOCK_FUTURES = PriceLadder(
    bounds=(2_000, 5_000, 20_000, 50_000, 200_000, 500_000),
    ticks=(1, 5, 10, 50, 100, 500, 1_000),
    places=0,
    minimum=1,
)

#: KOSPI 200 futures: 0.05 points (in hundredths of a point).
KOSPI200_FUTURES = PriceLadder(bounds=(), ticks=(5,), places=2, minimum=5)

#: KOSPI 200 options: 0.01 points below a 10-point premium, 0.05 from 10 up (in hundredths of a point).
KOSPI200_OPTIONS = PriceLadder(bounds=(1_000,), ticks=(1, 5), places=2, minimum=1)

#: The underlying digits of KOSPI 200 contracts in a KRX derivative code (``101W09``, ``201S11305``).
KOSPI200_UNDERLYING = "01"


def ladder_for(code: str) -> PriceLadder:
    """The ladder of a KRX derivative by its code: ``1`` + ``01`` (KOSPI 200 futures, ``101W09``), ``1`` + another
    underlying (stock futures, ``111V06``), ``2``/``3`` + ``01`` (KOSPI 200 call/put options, ``201S11305``).

    Raises :class:`ValueError` naming the code when it is none of these (e.g. stock options, whose tick
    rules are not modelled).
    """
    if len(code) >= 6 and code[0] == "1":
        return KOSPI200_FUTURES if code[1:3] == KOSPI200_UNDERLYING else STOCK_FUTURES
    if len(code) >= 8 and code[0] in "23" and code[1:3] == KOSPI200_UNDERLYING:
        return KOSPI200_OPTIONS
    raise ValueError(f"no tick rule for instrument code {code!r}: expected KOSPI 200 or stock futures "
                     "(1…) or KOSPI 200 options (201…/301…)")


def tick_size(code: str, price: Decimal) -> Decimal:
    """The tick of the band ``price`` lies in, for instrument ``code`` (see :func:`ladder_for`).

    A price is on the grid when ``price % tick_size(code, price) == 0``.
    """
    ladder = ladder_for(code)
    units = int(price.scaleb(ladder.places).to_integral_value())
    return Decimal(ladder.tick_above(units)).scaleb(-ladder.places)
