"""An order book that evolves like a market, for the quote TRs (H0ZFASP0, H0EUASP0).

The book is a small explicit state machine over price levels. One :meth:`OrderBook.step` is one market
event, chosen at random but steered towards a *fair price* that the caller moves (a random walk for
stock futures, Black–Scholes of the simulated index for options):

``move``     the touch is taken and the book shifts one tick (an ask is lifted and a bid joins there);
``trade``    an order trades part of the best level; when the level empties the spread widens;
``improve``  a wide spread is narrowed by a new order one tick inside it;
``sweep``    a large order takes several levels at once (the spread is then refilled by ``improve``);
``resize``   an order is added to or cancelled from a level (near the touch more often).

Every step keeps the invariants of the wire format: prices on the tick ladder, asks strictly ascending
and bids strictly descending over the non-empty levels, which come first (empty ones are ``0`` with zero
counts and quantities, as the live night-option feed sends them), best ask above best bid, and totals at
least the sum of the shown levels (the hidden depth beyond them is part of the totals).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ..codec.ticks import PriceLadder

__all__ = ["BookSnapshot", "BookStyle", "OrderBook"]


@dataclass(frozen=True)
class BookStyle:
    """How a market's book looks: depth shown, level sizes, whether order counts and hidden depth exist."""

    depth: int
    size_median: float  #: median quantity of a level
    size_sigma: float = 1.3  #: log-normal spread of level quantities
    order_size: float = 0.0  #: mean contracts per order, for the …CSNU counts; 0: counts are sent as 0
    hidden_levels: int = 0  #: levels beyond the shown ones that count in the totals
    gap_prob: float = 0.1  #: chance that a new deep level skips a tick
    fill_prob: float = 1.0  #: chance that a new deep level holds orders at all (thin night books)
    sweep_prob: float = 0.004  #: chance per event of a sweep through several levels


class BookSnapshot(NamedTuple):
    """One update as the quote TRs carry it; level lists run from the touch outwards."""

    ask_prices: tuple[int, ...]
    bid_prices: tuple[int, ...]
    ask_counts: tuple[int, ...]
    bid_counts: tuple[int, ...]
    ask_sizes: tuple[int, ...]
    bid_sizes: tuple[int, ...]
    total_ask_count: int
    total_bid_count: int
    total_ask_size: int
    total_bid_size: int
    ask_size_change: int
    bid_size_change: int


_EMPTY = (0, 0, 0)


class OrderBook:
    """The book of one instrument; levels are ``[price, size, count]`` lists, price ``0`` when empty."""

    def __init__(self, rng: random.Random, ladder: PriceLadder, style: BookStyle, fair: float) -> None:
        self.rng = rng
        self.ladder = ladder
        self.style = style
        self._mu = math.log(style.size_median)
        best_bid = ladder.snap(fair)
        if best_bid >= fair:
            best_bid = ladder.down(best_bid) or 0
        best_ask = ladder.up(best_bid) if best_bid else ladder.minimum
        self.asks: list[list[int]] = [self._level(best_ask)]
        self.bids: list[list[int]] = [self._level(best_bid)]
        for _ in range(style.depth - 1):
            self.asks.append(self._level(self._deeper_ask(self.asks[-1][0])))
            self.bids.append(self._level(self._deeper_bid(self.bids[-1][0])))
        self.hidden_ask = [0, 0]
        self.hidden_bid = [0, 0]
        for _ in range(style.hidden_levels):
            for hidden in (self.hidden_ask, self.hidden_bid):
                _, size, count = self._level(1)
                hidden[0] += size
                hidden[1] += count
        self._last_totals: tuple[int, int] | None = None

    # -- levels ---------------------------------------------------------------------------------------------
    def _size(self) -> int:
        return max(1, int(self.rng.lognormvariate(self._mu, self.style.size_sigma)))

    def _count(self, size: int) -> int:
        if not self.style.order_size:
            return 0
        per_order = max(1.0, self.rng.lognormvariate(math.log(self.style.order_size), 0.6))
        return max(1, min(size, round(size / per_order)))

    def _level(self, price: int) -> list[int]:
        if not price:
            return list(_EMPTY)
        size = self._size()
        return [price, size, self._count(size)]

    def _deeper_ask(self, price: int) -> int:
        if not price:
            return 0
        return self.ladder.up(price, 2 if self.rng.random() < self.style.gap_prob else 1)

    def _deeper_bid(self, price: int) -> int:
        if not price:
            return 0
        return self.ladder.down(price, 2 if self.rng.random() < self.style.gap_prob else 1)

    def _append(self, side: list[list[int]], price: int) -> None:
        """Add a level at the far end of ``side``; in a thin book it may stay empty (if one level remains)."""
        shown = sum(1 for level in side if level[0])
        if price and shown >= 1 and self.rng.random() >= self.style.fill_prob:
            price = 0
        if price and side and not side[-1][0]:
            price = 0  # empty levels only ever follow the non-empty ones
        side.append(self._level(price))

    def _join(self, side: list[list[int]], hidden: list[int], price: int) -> None:
        """A new best level at ``price``; the level pushed off the far end joins the hidden depth."""
        side.insert(0, self._level(price))
        dropped = side.pop()
        if self.style.hidden_levels:
            hidden[0] += dropped[1]
            hidden[1] += dropped[2]

    def _take_ask(self) -> None:
        taken = self.asks.pop(0)[0]
        last = next((level[0] for level in reversed(self.asks) if level[0]), 0)
        self._append(self.asks, self._deeper_ask(last))
        if not self.asks[0][0]:  # an ask side never runs dry: someone offers above what was taken
            self.asks[0] = self._level(self.ladder.up(taken))

    def _take_bid(self) -> None:
        self.bids.pop(0)
        last = next((level[0] for level in reversed(self.bids) if level[0]), 0)
        self._append(self.bids, self._deeper_bid(last))

    def _refill(self, side: list[list[int]], deeper: Callable[[int], int]) -> None:
        """Fill the first empty level of a thin side one or two ticks beyond the last non-empty one."""
        for i in range(1, len(side)):
            if not side[i][0]:
                side[i] = self._level(deeper(side[i - 1][0]))
                return

    # -- events ---------------------------------------------------------------------------------------------
    def spread_ticks(self) -> int:
        ask, bid = self.asks[0][0], self.bids[0][0]
        if not bid:
            return 2 if ask > self.ladder.minimum else 1
        ticks, price = 0, bid
        while price < ask:
            price += self.ladder.tick_above(price)
            ticks += 1
        return ticks

    def mid(self) -> float:
        ask, bid = self.asks[0][0], self.bids[0][0]
        return (ask + bid) / 2 if bid else float(ask)

    def step(self, fair: float) -> None:
        """One market event, more likely in the direction of ``fair`` (in price units) the further off it is."""
        rng = self.rng
        mid = self.mid()
        gap = (fair - mid) / self.ladder.tick_above(int(mid))
        p_up = 0.5 + 0.4 * math.tanh(gap)
        up = rng.random() < p_up
        wide = self.spread_ticks() > 1
        u = rng.random()
        if wide and u < 0.6:
            self._improve(up)
        elif u < 0.12 + 0.45 * min(1.0, max(0.0, abs(gap) - 0.5)):
            self._move(up)
        elif u < 0.75:
            self._resize()
        elif rng.random() < self.style.sweep_prob * 4:  # sweeps are drawn among the last quarter
            self._sweep(up, rng.randint(2, 4))
        else:
            self._trade(up)
        if self.style.hidden_levels:
            for hidden in (self.hidden_ask, self.hidden_bid):
                change = int(rng.gauss(0, self.style.size_median))
                hidden[0] = max(0, hidden[0] + change)
                if self.style.order_size:
                    step = (change > 0) - (change < 0)
                    hidden[1] = max(0, min(hidden[0], hidden[1] + step))

    def _move(self, up: bool) -> None:
        if up:
            price = self.asks[0][0]
            self._take_ask()
            self._join(self.bids, self.hidden_bid, price)
        elif self.bids[0][0]:
            price = self.bids[0][0]
            self._take_bid()
            self._join(self.asks, self.hidden_ask, price)

    def _trade(self, buy: bool) -> None:
        level = self.asks[0] if buy else self.bids[0]
        if not level[0]:
            return
        size = max(1, int(self.rng.lognormvariate(math.log(max(1.0, self.style.size_median / 3)), 1.0)))
        if size >= level[1]:
            self._take_ask() if buy else self._take_bid()
        else:
            level[1] -= size
            if level[2]:
                level[2] = max(1, min(level[1], level[2] - (1 if self.rng.random() < 0.5 else 0)))

    def _sweep(self, buy: bool, levels: int) -> None:
        for _ in range(levels):
            self._take_ask() if buy else self._take_bid()

    def _improve(self, bid_side: bool) -> None:
        ask, bid = self.asks[0][0], self.bids[0][0]
        if bid_side:
            price = self.ladder.up(bid) if bid else self.ladder.down(ask)
            if price and price < ask:
                self._join(self.bids, self.hidden_bid, price)
        else:
            price = self.ladder.down(ask)
            if price > bid:
                self._join(self.asks, self.hidden_ask, price)

    def _resize(self) -> None:
        rng = self.rng
        ask_side = rng.random() < 0.5
        side = self.asks if ask_side else self.bids
        shown = sum(1 for level in side if level[0])
        if shown < self.style.depth and rng.random() < 0.3:
            self._refill(side, self._deeper_ask if ask_side else self._deeper_bid)
            return
        if not shown:
            return
        index = min(int(rng.expovariate(0.45)), shown - 1)
        level = side[index]
        size = max(1, int(rng.lognormvariate(math.log(max(1.0, self.style.size_median / 2)), 1.0)))
        if rng.random() < 0.55:
            level[1] += size
            if self.style.order_size:
                level[2] = min(level[1], level[2] + 1)
        else:
            level[1] = max(1, level[1] - size)
            if level[2]:
                level[2] = max(1, min(level[1], level[2] - 1))

    # -- output ---------------------------------------------------------------------------------------------
    def snapshot(self) -> BookSnapshot:
        asks, bids = self.asks, self.bids
        total_ask = sum(level[1] for level in asks) + self.hidden_ask[0]
        total_bid = sum(level[1] for level in bids) + self.hidden_bid[0]
        last = self._last_totals or (total_ask, total_bid)
        self._last_totals = (total_ask, total_bid)
        return BookSnapshot(
            tuple(level[0] for level in asks),
            tuple(level[0] for level in bids),
            tuple(level[2] for level in asks),
            tuple(level[2] for level in bids),
            tuple(level[1] for level in asks),
            tuple(level[1] for level in bids),
            sum(level[2] for level in asks) + self.hidden_ask[1],
            sum(level[2] for level in bids) + self.hidden_bid[1],
            total_ask,
            total_bid,
            total_ask - last[0],
            total_bid - last[1],
        )
