"""SharedTimeline: replays that run together share one read of the source; late ones, laggards and
errors; what memory it holds. Pure: no event loop, no network (the server tests drive it through sockets).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator

import pytest

from kis_replay.fake_server.shared_timeline import SharedTimeline
from kis_replay.replayer import TimelineEvent

T0 = 1_700_000_000_000_000_000


class Chunk(list):
    """A list that can be watched with a weakref (to see which chunks are still held)."""


class Source:
    """A deterministic timeline of ``chunks`` chunks of 3 events; counts its reads, records closes."""

    def __init__(self, chunks: int, fail_at: int | None = None) -> None:
        self.chunks = chunks
        self.fail_at = fail_at
        self.reads = 0
        self.closed = 0
        self.made: list[weakref.ref[Chunk]] = []

    def __call__(self) -> Iterator[Chunk]:
        self.reads += 1
        try:
            for c in range(self.chunks):
                if c == self.fail_at:
                    raise OSError(f"archive went bad at chunk {c}")
                chunk = Chunk(TimelineEvent(i, T0 + i, "H0ZFASP0", "111V06", f"frame {i}")
                              for i in range(3 * c, 3 * c + 3))
                self.made.append(weakref.ref(chunk))
                yield chunk
        finally:
            self.closed += 1

    def expected(self) -> list[list[TimelineEvent]]:
        return [list(c) for c in self()]

    def alive(self) -> int:
        """Chunks still held by anyone (nodes only link forward: reference counting frees them at once)."""
        return sum(1 for ref in self.made if ref() is not None)


def drain(it: Iterator) -> list:
    return [list(chunk) for chunk in it if chunk]


def test_replays_that_run_together_share_one_read() -> None:
    source = Source(40)
    shared = SharedTimeline(source, join_chunks=4, max_lag=40)
    cursors = [shared.chunks() for _ in range(5)]
    got: list[list] = [[] for _ in cursors]
    for i, cursor in enumerate(cursors):  # all start before the pass grows old
        got[i].append(next(cursor))
    done = set()
    while len(done) < len(cursors):  # then walk in step, each at its own pace (0, 1, 2 … chunks a turn)
        for i, cursor in enumerate(cursors):
            for _ in range(i % 3 + 1):
                chunk = next(cursor, None)
                if chunk is None:
                    done.add(i)
                    break
                got[i].append(chunk)
    assert shared.reads == 1 and source.reads == 1
    expected = Source(40).expected()
    assert all([list(c) for c in g] == expected for g in got)
    assert source.closed == 1  # the last one out closed the source


def test_a_replay_joins_while_the_pass_is_young_and_reads_alone_after() -> None:
    source = Source(20)
    shared = SharedTimeline(source, join_chunks=4, max_lag=8)
    first = shared.chunks()
    for _ in range(3):
        next(first)  # chunks 0..2 read: the pass is young (fewer than 4)
    joiner = shared.chunks()
    assert drain(joiner) == Source(20).expected()
    assert shared.reads == 1  # the joiner walked the same chunks
    late = shared.chunks()  # chunk 19 read, the pass is old: a new read from the start
    assert drain(late) == Source(20).expected()
    assert shared.reads == 2
    assert len(drain(first)) == 17


def test_a_laggard_is_cut_loose_its_replay_unchanged_and_memory_bounded() -> None:
    source = Source(200)
    shared = SharedTimeline(source, join_chunks=4, max_lag=8)
    fast, slow = shared.chunks(), shared.chunks()
    slow_got = [list(next(slow)) for _ in range(2)]
    held = []
    for _ in range(150):
        next(fast)
        held.append(source.alive())
    assert max(held) <= 8 + 2  # the slow one's chunks were let go once it fell 8 behind
    rest = list(slow)
    assert sum(1 for chunk in rest if not chunk) == 2  # its own read, skipping what it had played …
    assert slow_got + [list(c) for c in rest if c] == Source(200).expected()  # … plays on unchanged
    assert shared.reads == 2
    assert len(drain(fast)) == 50


def test_the_source_is_read_only_when_asked_and_closed_by_the_last_one_out() -> None:
    source = Source(10)
    shared = SharedTimeline(source)
    unused = shared.chunks()
    del unused  # never started: never read
    assert source.reads == 0
    a, b = shared.chunks(), shared.chunks()
    next(a), next(b)
    a.close()
    assert source.closed == 0
    b.close()
    assert source.closed == 1
    assert drain(shared.chunks()) == Source(10).expected()  # the next replay starts a fresh read
    assert (source.reads, source.closed) == (2, 2)


def test_a_session_that_fits_in_the_young_pass_is_read_once_for_every_later_replay() -> None:
    small = Source(4)
    shared = SharedTimeline(small, join_chunks=4, max_lag=8)
    for _ in range(3):  # one after the other, as a test suite's bots do
        assert drain(shared.chunks()) == Source(4).expected()
    assert (small.reads, small.closed) == (1, 1)  # read and closed once, then walked from memory
    large = Source(5)
    shared = SharedTimeline(large, join_chunks=4, max_lag=8)
    for _ in range(2):
        assert drain(shared.chunks()) == Source(5).expected()
    assert (large.reads, large.closed) == (2, 2)  # too long to keep: each replay reads it


def test_a_source_error_reaches_every_replay_of_the_pass() -> None:
    shared = SharedTimeline(Source(10, fail_at=3))
    a, b = shared.chunks(), shared.chunks()
    for cursor in (a, b):
        for _ in range(3):
            next(cursor)
    for cursor in (a, b):
        with pytest.raises(OSError, match="chunk 3"):
            next(cursor)


def test_bounds_that_would_cut_a_joiner_loose_are_refused() -> None:
    with pytest.raises(ValueError, match="join_chunks <= max_lag"):
        SharedTimeline(Source(1), join_chunks=10, max_lag=5)
