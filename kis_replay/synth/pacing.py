"""When updates happen: one instrument's event times as a Poisson process with a time-varying rate.

The live feed is bursty. Right after the open the book of every instrument churns many times a second,
and during the day there are short busy spells (news, a large order working) between quiet stretches.
The intensity here is ``base × open boost × busy``: the open boost decays exponentially from the session
open, and busy spells come from a two-state (quiet/busy) Markov switch. At the default rates a futures
book updates well over 5 times a second at the open and in busy spells, so KIS's 0.2 s quote filter
visibly thins the stream.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from .market_hours import NS

__all__ = ["Pacing", "arrivals"]


@dataclass(frozen=True)
class Pacing:
    """Shape of the intensity; ``base_rate`` is events per second in a quiet stretch of the day."""

    base_rate: float
    open_boost: float = 8.0  #: extra multiple of the base rate at the open, decaying …
    open_decay_s: float = 30.0  #: … with this time constant
    busy_factor: float = 5.0  #: multiple of the rate during a busy spell
    quiet_mean_s: float = 40.0  #: mean length of a quiet stretch
    busy_mean_s: float = 4.0  #: mean length of a busy spell


def arrivals(
    rng: random.Random, pacing: Pacing, windows: list[tuple[int, int]], start_ns: int, end_ns: int
) -> Iterator[int]:
    """Event times (UTC ns, strictly increasing) in ``[start_ns, end_ns)``, only inside the session
    ``windows`` (``(open_ns, close_ns)`` pairs, in order); each window's open has its own burst."""
    last = start_ns - 1
    for open_ns, close_ns in windows:
        lo, hi = max(open_ns, start_ns), min(close_ns, end_ns)
        if lo >= hi:
            continue
        busy = False
        switch_ns = lo + int(rng.expovariate(1 / pacing.quiet_mean_s) * NS)
        t = lo
        while True:
            since_open = (t - open_ns) / NS
            rate = pacing.base_rate * (1 + pacing.open_boost * math.exp(-since_open / pacing.open_decay_s))
            if busy:
                rate *= pacing.busy_factor
            step = int(rng.expovariate(rate) * NS) + 1
            if t + step >= switch_ns:
                # The process is memoryless: restart the wait at the regime switch with the new rate.
                t = switch_ns
                busy = not busy
                mean = pacing.busy_mean_s if busy else pacing.quiet_mean_s
                switch_ns = t + int(rng.expovariate(1 / mean) * NS) + 1
                if t >= hi:
                    break
                continue
            t += step
            if t >= hi:
                break
            if t > last:
                last = t
                yield t
