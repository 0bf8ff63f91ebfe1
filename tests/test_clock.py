"""ReplayClock: deadline arithmetic (pure) and waiting on a real event loop."""

from __future__ import annotations

import asyncio

import pytest

from kis_replay.replayer import ReplayClock, ReplayOptionError

S = 1_000_000_000


@pytest.mark.parametrize(
    ("speed", "offset_ns", "expected"),
    [
        (1.0, 0, 100.0),
        (1.0, 1_500_000_000, 101.5),
        (10.0, 1_500_000_000, 100.15),
        (0.5, 1_500_000_000, 103.0),
        (None, 1_500_000_000, 100.0),  # max: always due
        (None, 10**15, 100.0),
    ],
)
def test_deadline(speed: float | None, offset_ns: int, expected: float) -> None:
    clock = ReplayClock(speed, origin=100.0)
    assert clock.deadline(offset_ns) == pytest.approx(expected, abs=1e-9)


def test_start_sets_the_origin() -> None:
    clock = ReplayClock(2.0)
    assert not clock.started
    clock.start(50.0)
    assert clock.origin == 50.0
    assert clock.deadline(4 * S) == pytest.approx(52.0)


def test_deadline_of_event_10000_ignores_how_late_the_others_were() -> None:
    """No drift: the deadline is one multiplication from the origin, not a sum of waits."""
    fresh = ReplayClock(1.0, origin=0.0)
    late = ReplayClock(1.0, origin=0.0)
    for i in range(10_000):
        late.deadline(i * 1_000_000)  # as if each wait returned late; nothing accumulates
    offset = 9_999 * 1_000_000
    assert late.deadline(offset) == fresh.deadline(offset) == pytest.approx(9.999)
    # a timeline of 10 000 steps of 0.1 ms: float step sums drift, the absolute formula does not
    summed = sum(0.0001 for _ in range(10_000))
    assert fresh.deadline(10_000 * 100_000) == 1.0 != summed


def test_offset_at_inverts_deadline() -> None:
    for speed in (1.0, 10.0, 0.5):
        clock = ReplayClock(speed, origin=7.25)
        for offset in (0, 1, 123_456_789, 3_600 * S):
            assert abs(clock.offset_at(clock.deadline(offset)) - offset) <= 1_000  # float rounding only
    assert ReplayClock(1.0, origin=10.0).offset_at(9.0) == -S


def test_unstarted_clock_says_so() -> None:
    with pytest.raises(RuntimeError, match="not been started"):
        ReplayClock(1.0).deadline(0)
    with pytest.raises(RuntimeError, match="not been started"):
        ReplayClock(None).offset_at(0.0)


@pytest.mark.parametrize("speed", [0, -1.0, float("nan"), float("inf")])
def test_bad_speed_is_refused(speed: float) -> None:
    with pytest.raises(ReplayOptionError, match="positive number"):
        ReplayClock(speed)


async def test_wait_never_returns_before_the_deadline() -> None:
    loop = asyncio.get_running_loop()
    clock = ReplayClock(100.0)  # 1 s of session = 10 ms
    clock.start(loop.time())
    for offset in range(0, 2 * S, 100_000_000):  # 20 frames, 1 ms apart in real time
        await clock.wait(offset)
        assert loop.time() >= clock.deadline(offset)


async def test_late_waits_catch_up_instead_of_accumulating() -> None:
    """Started 10 s in the past at speed 1: the first ten seconds of frames are all already due, so they go
    out at once; a clock that slept each frame's gap would take ten seconds here."""
    loop = asyncio.get_running_loop()
    clock = ReplayClock(1.0)
    begin = loop.time()
    clock.start(begin - 10.0)
    for offset in range(0, 10 * S, S // 100):  # 1 000 frames, 10 ms apart
        await clock.wait(offset)
    assert loop.time() - begin < 2.0
    # …and the next frame is still due at its absolute time, not "now + gap"
    await clock.wait(10 * S + 20_000_000)
    assert loop.time() >= begin + 0.02


async def test_first_wait_starts_the_clock() -> None:
    loop = asyncio.get_running_loop()
    clock = ReplayClock(1000.0)
    before = loop.time()
    await clock.wait(0)
    assert before <= clock.origin <= loop.time()


async def test_max_speed_never_sleeps_and_tracks_progress() -> None:
    loop = asyncio.get_running_loop()
    clock = ReplayClock(None)
    begin = loop.time()
    for offset in range(0, 3_600 * S, S):  # an hour of session time
        await clock.wait(offset)
    assert loop.time() - begin < 1.0
    assert clock.offset_at(loop.time()) == 3_599 * S


async def test_wait_can_be_cancelled() -> None:
    clock = ReplayClock(1.0)
    task = asyncio.create_task(clock.wait(3_600 * S))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
