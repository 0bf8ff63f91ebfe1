"""A client's bounded send buffer: what the replay and the session want sent, waiting for the socket.

One per connection, drained in order by that connection's writer task, so frames of one instrument go
out in timeline order and acks before the frames they open. The bound is what keeps one client that
stopped reading from costing the server unbounded memory or delaying anyone else: a producer either
finds room at once (:meth:`Outbox.push` returns False when full: at a finite speed the schedule cannot
wait, so the server disconnects the client) or waits for the writer to make room (:meth:`Outbox.put`, the
backpressure of ``--speed max``, given up after ``stall_timeout`` without progress).

Plain asyncio futures rather than an ``asyncio.Queue``: the hot path is one deque append and, only
when the writer sleeps, one wake-up.
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Outbox", "OutboxClosedError", "StalledError"]


class OutboxClosedError(Exception):
    """The outbox was closed (its connection is gone) while a producer waited."""


class StalledError(Exception):
    """The writer made no room within the stall timeout: the client has stopped reading."""


class Outbox:
    """FIFO of texts for one client, holding at most ``limit``; producers wake once it is half empty."""

    __slots__ = ("_items", "_low", "_room", "_waiter", "closed", "limit")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"outbox limit must be at least 1, got {limit}")
        self.limit = limit
        self._low = max(limit // 2, 1)
        self._items: deque[str] = deque()
        self._waiter: asyncio.Future[None] | None = None  # the writer, waiting for items
        self._room: asyncio.Future[None] | None = None  # a producer, waiting for room
        self.closed = False

    def __len__(self) -> int:
        return len(self._items)

    @property
    def full(self) -> bool:
        return len(self._items) >= self.limit

    def push(self, text: str) -> bool:
        """Queue ``text`` if there is room; False (nothing queued) when the outbox is full or closed."""
        if self.closed or len(self._items) >= self.limit:
            return False
        self._items.append(text)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    async def put(self, text: str, stall_timeout: float | None) -> None:
        """Queue ``text``, waiting for room; :class:`StalledError` when none comes within ``stall_timeout``
        seconds, :class:`OutboxClosedError` when the outbox closes meanwhile."""
        while not self.push(text):
            if self.closed:
                raise OutboxClosedError
            loop = asyncio.get_running_loop()
            self._room = room = loop.create_future()
            try:
                async with asyncio.timeout(stall_timeout):
                    await room
            except TimeoutError:
                raise StalledError(f"no room in {stall_timeout} s with {len(self._items)} frames buffered") from None
            finally:
                self._room = None

    def popleft(self) -> str:
        """Take the oldest text; wakes a waiting producer once the outbox is half empty."""
        text = self._items.popleft()
        if len(self._items) <= self._low:
            self._wake_producer()
        return text

    def _wake_producer(self) -> None:
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)

    async def wait(self, deadline: float | None = None) -> None:
        """Return when something is queued, the outbox closes, or the loop time reaches ``deadline``."""
        if self._items or self.closed:
            return
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = None
        if deadline is not None:
            timer = loop.call_at(deadline, _resolve, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def wake(self) -> None:
        """Wake a waiting writer without queueing anything, so it re-reads its deadline (a scenario changed
        the PINGPONG interval)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self) -> None:
        """No more texts: wake the writer and any waiting producer."""
        self.closed = True
        for future in (self._waiter, self._room):
            if future is not None and not future.done():
                future.set_result(None)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
