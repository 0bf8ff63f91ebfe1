"""When to try connecting again: capped exponential backoff with jitter and a hard minimum interval.

KIS blocks app keys (or IPs) that loop connect/disconnect, so the policy has two independent brakes:
the exponential delay after consecutive failures, and a minimum interval between the *starts* of any two
attempts, which holds even when a connection opens fine and drops at once. A connection only counts as
healthy again (the exponent resets) after it stayed up for ``stable_after`` seconds.

The policy is a plain object over timestamps the caller passes in (seconds on any monotonic clock) and a
random source it is given, so every rule is tested without a clock or a socket.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """Reconnect timing for one recorder.

    The delay after the n-th consecutive failure is ``min(maximum, initial * factor**(n-1))``, shortened by
    up to ``jitter`` of itself at random so that many recorders restarted together do not reconnect in
    step; the next attempt is then no earlier than ``min_interval`` after the previous attempt started.
    ``severe`` failures (the service says the key is in use) wait the full ``maximum``.
    """

    initial: float = 1.0
    maximum: float = 60.0
    min_interval: float = 5.0
    factor: float = 2.0
    jitter: float = 0.5
    stable_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    failures: int = 0
    last_attempt: float | None = None
    connected_at: float | None = None

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial:
            raise ValueError(f"backoff needs 0 < initial <= maximum, got {self.initial} and {self.maximum}")
        if self.min_interval < 0 or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValueError("backoff needs min_interval >= 0, factor >= 1 and 0 <= jitter < 1")

    def delay(self, failures: int) -> float:
        """The un-jittered delay after ``failures`` consecutive failures (0 → no delay)."""
        if failures <= 0:
            return 0.0
        # Cap the exponent before raising: 2**10000 is an OverflowError as a float.
        return min(self.maximum, self.initial * self.factor ** min(failures - 1, 64))

    def earliest(self, now: float) -> float:
        """The time before which no attempt may start, whatever the failures."""
        if self.last_attempt is None:
            return now
        return max(now, self.last_attempt + self.min_interval)

    def attempting(self, now: float) -> None:
        """A connection attempt starts at ``now``."""
        self.last_attempt = now

    def connected(self, now: float) -> None:
        """The attempt succeeded (the connection is open and subscribed) at ``now``."""
        self.connected_at = now

    def failed(self, now: float, *, severe: bool = False) -> float:
        """An attempt failed or an open connection was lost at ``now``: when to attempt next."""
        if self.connected_at is not None and now - self.connected_at >= self.stable_after:
            self.failures = 0
        self.connected_at = None
        self.failures += 1
        base = self.maximum if severe else self.delay(self.failures)
        wait = base * (1.0 - self.jitter * self.rng.random())
        return max(now + wait, self.earliest(now))
