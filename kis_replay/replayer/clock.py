"""The replay schedule: when, on the event loop's monotonic clock, a frame at a given session offset goes out.

Frame *i* goes out at ``origin + (t_i − t_0) / speed``, every deadline computed from one absolute origin.
A replay that sleeps "the gap to the next frame" after each send drifts by every late wake-up and every
send's duration, a few microseconds each, which over a trading day's million frames adds up to seconds;
here a late wait only makes the following frames catch up, and frame 10 000 is due at the same instant
however late frames 1 … 9 999 went out.

The clock is arithmetic on floats in the event loop's time (``loop.time()``, seconds), so it is tested
without a network and shared by the fake server, the pytest plugin and the scenarios.
"""

from __future__ import annotations

import asyncio

from .options import check_speed

__all__ = ["ReplayClock"]


class ReplayClock:
    """Maps session offsets (ns since the timeline's origin) to event-loop deadlines (s) and back.

    ``speed`` ``None`` is "max": every deadline is now, :meth:`wait` returns at once, and the pace is set
    by whoever consumes the frames (the server's per-client queues). ``origin`` is the loop time of
    offset 0; give it here or with :meth:`start`, or let the first :meth:`wait` start the clock.
    """

    __slots__ = ("_high_water", "_origin", "speed")

    def __init__(self, speed: float | None, *, origin: float | None = None) -> None:
        if speed is not None:
            speed = check_speed(speed, repr(speed))
        self.speed = speed
        self._origin = origin
        self._high_water = 0  # max mode: the furthest offset waited for, the replay's position

    @property
    def started(self) -> bool:
        return self._origin is not None

    @property
    def origin(self) -> float:
        """The loop time of offset 0."""
        if self._origin is None:
            raise RuntimeError("the replay clock has not been started (call start(now) first)")
        return self._origin

    def start(self, now: float) -> None:
        """Make ``now`` (a ``loop.time()`` value) the time of offset 0."""
        self._origin = now
        self._high_water = 0

    def deadline(self, offset_ns: int) -> float:
        """The loop time at which the frame at ``offset_ns`` is due: ``origin + offset_ns / 1e9 / speed``.

        A pure function of the origin and the offset; in max mode, the origin (always already past).
        """
        if self.speed is None:
            return self.origin
        return self.origin + offset_ns / 1e9 / self.speed

    async def wait(self, offset_ns: int) -> None:
        """Return once the running loop's clock has reached :meth:`deadline` (at once in max mode).

        Never returns early: asyncio may fire a timer up to its clock resolution before the requested
        time, so the wait re-checks the clock until the deadline has passed.
        """
        loop = asyncio.get_running_loop()
        if self._origin is None:
            self.start(loop.time())
        if self.speed is None:
            if offset_ns > self._high_water:
                self._high_water = offset_ns
            return
        due = self.deadline(offset_ns)
        while (delay := due - loop.time()) > 0:
            await asyncio.sleep(delay)

    def offset_at(self, now: float) -> int:
        """The session offset (ns) that the replay has reached at loop time ``now``.

        In max mode time says nothing about progress: this is the furthest offset :meth:`wait` was asked
        for. At finite speed it is ``(now − origin) × speed``, negative before the origin.
        """
        if self.speed is None:
            self.origin  # noqa: B018  (raises the same clear error when never started)
            return self._high_water
        return round((now - self.origin) * self.speed * 1e9)
