"""The pacing both of the server's replay loops run through (``_paced``), with a real ReplayClock on the
running event loop: what it hands out, when, and when it gives the loop a turn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from kis_replay.fake_server.server import _YIELD_EVERY, _paced
from kis_replay.replayer import ReplayClock, TimelineEvent

MS = 1_000_000


def event(i: int, offset_ns: int = 0) -> TimelineEvent:
    return TimelineEvent(offset_ns, offset_ns, "H0ZFASP0", "111V06", f"0|H0ZFASP0|001|111V06^{i}")


async def test_max_speed_hands_out_slices_and_gives_the_loop_a_turn_every_yield_every_items() -> None:
    sizes = [512, 100, 0, 300, 1, 700]  # the empty chunk (nothing due yet) is a turn for the others too
    events = [event(i) for i in range(sum(sizes))]
    chunks, start = [], 0
    for size in sizes:
        chunks.append(events[start:start + size])
        start += size
    empty_after = 612  # items handed out before the empty chunk
    turns = 0

    async def other_replay() -> None:  # one tick per turn the pacing gives the loop
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    clock = ReplayClock(None)
    clock.start(asyncio.get_running_loop().time())
    lags: list[float] = []
    got: list[TimelineEvent] = []
    runs_seen: list[tuple[int, int, int]] = []  # (items before the run, its length, turns so far)
    other = asyncio.create_task(other_replay())
    await asyncio.sleep(0)  # it is waiting on its first turn from here
    try:
        async with contextlib.aclosing(_paced(clock, lambda: iter(chunks), lags.append)) as runs:
            async for run in runs:
                runs_seen.append((len(got), len(run), turns))
                got.extend(run)
    finally:
        other.cancel()
    assert got == events  # every item, in order, none twice
    assert lags == []  # max speed: no schedule to be late for
    assert len(runs_seen) < len(events) // 100  # slices, not one item at a time
    for before, length, turns_so_far in runs_seen:
        assert before % _YIELD_EVERY + length <= _YIELD_EVERY  # a run never straddles a turn
        assert turns_so_far == before // _YIELD_EVERY + (before >= empty_after)
    assert turns == len(events) // _YIELD_EVERY + 1


async def test_finite_speed_hands_out_each_item_at_its_deadline_and_reports_how_late() -> None:
    loop = asyncio.get_running_loop()
    clock = ReplayClock(10.0)
    clock.start(loop.time() + 0.02)  # a settle time of 20 ms
    events = [event(i, offset_ns=i * 50 * MS) for i in range(6)]  # due every 5 ms after the settle
    lags: list[float] = []
    handed: list[tuple[TimelineEvent, float]] = []
    async with contextlib.aclosing(_paced(clock, lambda: iter([events[:4], [], events[4:]]), lags.append)) as runs:
        async for run in runs:
            assert len(run) == 1  # paced one item at a time
            handed.append((run[0], loop.time()))
    assert [e for e, _ in handed] == events
    for e, at in handed:
        assert at >= clock.deadline(e.offset_ns)  # never early
    assert len(lags) == len(events) and all(lag >= 0 for lag in lags)


async def test_the_timeline_is_asked_for_after_the_settle_time_and_closed_when_the_replay_ends_early() -> None:
    loop = asyncio.get_running_loop()
    clock = ReplayClock(None)
    clock.start(loop.time() + 0.02)
    asked_at: list[float] = []
    closed = asyncio.Event()

    def chunks() -> Iterator[list[TimelineEvent]]:
        asked_at.append(loop.time())
        try:
            for i in range(10):
                yield [event(i)]
        finally:
            closed.set()

    async with contextlib.aclosing(_paced(clock, chunks, lambda late: None)) as runs:
        async for run in runs:
            assert run == [event(0)]
            break  # a replay that ends early (a kick, a scenario's close)
    assert asked_at and asked_at[0] >= clock.origin
    assert closed.is_set()  # the chunks' generator was closed when the pacing was, not at some later GC
