"""The reconnect policy, without a clock: exponential, capped, jittered, never faster than the minimum."""

import random

import pytest

from kis_replay.recorder.backoff import Backoff


def policy(**kw):
    return Backoff(rng=random.Random(7), **kw)


def test_first_attempt_is_immediate():
    b = policy()
    assert b.earliest(100.0) == 100.0


def test_delays_grow_exponentially_and_cap():
    b = policy(initial=1, maximum=8, jitter=0, min_interval=0)
    assert [b.delay(n) for n in range(6)] == [0, 1, 2, 4, 8, 8]
    assert b.delay(10_000) == 8  # no float overflow


def test_failures_without_jitter_follow_the_delays():
    b = policy(initial=1, maximum=8, jitter=0, min_interval=0)
    now, waits = 0.0, []
    for _ in range(5):
        b.attempting(now)
        nxt = b.failed(now)
        waits.append(nxt - now)
        now = nxt
    assert waits == [1, 2, 4, 8, 8]


def test_jitter_stays_within_bounds_and_varies():
    b = policy(initial=10, maximum=10, jitter=0.5, min_interval=0)
    waits = {round(b.failed(0.0), 6) for _ in range(50)}
    assert all(5 <= w <= 10 for w in waits)
    assert len(waits) > 10


def test_min_interval_holds_even_after_a_healthy_connection():
    b = policy(initial=0.01, maximum=0.01, jitter=0, min_interval=5, stable_after=1)
    b.attempting(0.0)
    b.connected(0.1)
    # dropped after a long healthy run: the exponent resets, but the attempt spacing holds
    assert b.failed(3.0) == 5.0
    b.attempting(5.0)
    assert b.failed(5.2) == 10.0


def test_flapping_connection_keeps_backing_off():
    b = policy(initial=1, maximum=100, jitter=0, min_interval=0, stable_after=60)
    now = 0.0
    for expected in (1, 2, 4, 8):
        b.attempting(now)
        b.connected(now)  # opens fine ...
        nxt = b.failed(now + 0.5)  # ... and drops at once: not a reset
        assert nxt - (now + 0.5) == expected
        now = nxt


def test_stable_connection_resets_the_exponent():
    b = policy(initial=1, maximum=100, jitter=0, min_interval=0, stable_after=60)
    for _ in range(4):
        b.failed(0.0)
    b.connected(10.0)
    assert b.failed(100.0) == 101.0


def test_severe_waits_the_maximum():
    b = policy(initial=1, maximum=30, jitter=0, min_interval=0)
    assert b.failed(0.0, severe=True) == 30.0


@pytest.mark.parametrize("kw", [{"initial": 0}, {"initial": 5, "maximum": 1}, {"jitter": 1.0}, {"factor": 0.5}])
def test_invalid_settings(kw):
    with pytest.raises(ValueError):
        Backoff(**kw)
