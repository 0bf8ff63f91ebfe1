"""One instrument's stream of data frames: event times from :mod:`.pacing`, content from a book or a tape,
text from the codec.

A stream yields ``(wall_ns, text)``. The exchange time of an event is what ``BSOP_HOUR`` shows; the
frame arrives a few milliseconds later (``wall_ns``, the archive's receive time), in order, as frames of
one TCP connection do.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from ..codec import DataFrame, Record, TrSpec, get_spec
from ..codec.ticks import KOSPI200_OPTIONS, STOCK_FUTURES, PriceLadder
from .book import BookStyle, OrderBook
from .market_hours import kst_time
from .pacing import Pacing, arrivals
from .tape import OptionModel, OptionTape

__all__ = ["PACING", "QUOTE_LAYOUTS", "QuoteLayout", "futures_price", "quote_stream", "stream_events", "trade_stream"]

_MS = 1_000_000


@dataclass(frozen=True)
class QuoteLayout:
    """Where a quote TR keeps its book: field-name patterns (``{}`` is the level) and the book's look."""

    ask_price: str
    bid_price: str
    style: BookStyle
    ladder: PriceLadder

    def names(self, spec: TrSpec) -> tuple[str, ...]:
        """The snapshot fields in :class:`~.book.BookSnapshot` order, checked against the TR's table."""
        depth = self.style.depth
        names = [spec.fields[0].name, "BSOP_HOUR"]
        for pattern in (self.ask_price, self.bid_price, "ASKP_CSNU{}", "BIDP_CSNU{}", "ASKP_RSQN{}", "BIDP_RSQN{}"):
            names.extend(pattern.format(i) for i in range(1, depth + 1))
        names += ["TOTAL_ASKP_CSNU", "TOTAL_BIDP_CSNU", "TOTAL_ASKP_RSQN", "TOTAL_BIDP_RSQN",
                  "TOTAL_ASKP_RSQN_ICDC", "TOTAL_BIDP_RSQN_ICDC"]
        if sorted(names) != sorted(spec.names):
            raise AssertionError(f"{spec.tr_id}: quote layout does not match the codec's table")
        return tuple(names)


QUOTE_LAYOUTS: dict[str, QuoteLayout] = {
    "H0ZFASP0": QuoteLayout(
        "ASKP{}", "BIDP{}",
        BookStyle(depth=10, size_median=12, size_sigma=1.4, order_size=3, hidden_levels=10),
        STOCK_FUTURES,
    ),
    "H0EUASP0": QuoteLayout(
        "OPTN_ASKP{}", "OPTN_BIDP{}",
        BookStyle(depth=5, size_median=8, size_sigma=0.9, order_size=0, gap_prob=0.05, fill_prob=0.6),
        KOSPI200_OPTIONS,
    ),
}

#: Quiet-time pace of each TR (events per second per instrument), before ``--rate`` and bursts.
PACING: dict[str, Pacing] = {
    "H0ZFASP0": Pacing(base_rate=4.0),
    "H0EUASP0": Pacing(base_rate=2.0),
    "H0IOCNT0": Pacing(base_rate=0.8),
}


def _received(rng: random.Random, events: Iterator[int]) -> Iterator[tuple[int, int]]:
    """``(exchange_ns, wall_ns)``: a few ms of network latency, never reordering frames."""
    last_wall = 0
    for ns in events:
        wall = max(last_wall + 1_000, ns + 2 * _MS + int(rng.expovariate(1 / (5 * _MS))))
        last_wall = wall
        yield ns, wall


def quote_stream(
    rng: random.Random,
    tr_id: str,
    code: str,
    events: Iterator[int],
    fair: float,
    option: OptionModel | None = None,
) -> Iterator[tuple[int, str]]:
    """Order-book snapshots of one instrument. Its fair price is a random walk from ``fair`` (price units),
    or ``option``'s theoretical price when given."""
    spec = get_spec(tr_id)
    assert spec is not None
    layout = QUOTE_LAYOUTS[tr_id]
    names = layout.names(spec)
    ladder = layout.ladder
    decimal = ladder.decimal
    book = OrderBook(rng, ladder, layout.style, fair)
    for ns, wall in _received(rng, events):
        if option is not None:
            fair = option.theoretical(ns) * 100
        else:
            fair += rng.gauss(0, 0.05) * ladder.tick_above(int(fair))
        book.step(fair)
        snap = book.snapshot()
        values = (
            code, kst_time(ns),
            *map(decimal, snap.ask_prices), *map(decimal, snap.bid_prices),
            *snap.ask_counts, *snap.bid_counts, *snap.ask_sizes, *snap.bid_sizes,
            snap.total_ask_count, snap.total_bid_count, snap.total_ask_size, snap.total_bid_size,
            snap.ask_size_change, snap.bid_size_change,
        )
        record = Record.from_values(spec, dict(zip(names, values, strict=True)))
        yield wall, DataFrame.from_records([record]).text


def trade_stream(rng: random.Random, tape: OptionTape, events: Iterator[int]) -> Iterator[tuple[int, str]]:
    """H0IOCNT0 frames of one option, one trade or a sweep of several per frame."""
    spec = get_spec("H0IOCNT0")
    assert spec is not None
    for ns, wall in _received(rng, events):
        records = [Record.from_values(spec, values) for values in tape.trades(ns)]
        yield wall, DataFrame.from_records(records).text


def stream_events(rng: random.Random, tr_id: str, rate: float, window: tuple[int, int],
                  start_ns: int, end_ns: int) -> Iterator[int]:
    """The event times of one instrument in one session window, at ``rate`` × the TR's pace."""
    pacing = PACING[tr_id]
    scaled = Pacing(pacing.base_rate * rate, pacing.open_boost, pacing.open_decay_s, pacing.busy_factor,
                    pacing.quiet_mean_s, pacing.busy_mean_s)
    return arrivals(rng, scaled, [window], start_ns, end_ns)


def futures_price(rng: random.Random) -> float:
    """A stock-futures price level, log-uniform between 8 000 and 250 000 won."""
    return math.exp(rng.uniform(math.log(8_000), math.log(250_000)))
