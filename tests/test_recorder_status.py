"""The live status: counters, rates between two snapshots, the terminal line and the log line."""

import datetime as dt

from kis_replay.codec import KST
from kis_replay.recorder.status import RecorderStatus, log_line, terminal_line

S = 10**9


def kst_ns(h, m, s):
    return int(dt.datetime(2026, 11, 24, h, m, s, tzinfo=KST).timestamp()) * S


def test_rates_ratio_and_gap_in_both_renderings():
    status = RecorderStatus(state="streaming")
    before = status.snapshot(0)
    for _ in range(50):
        status.data(b"H0ZFASP0", 330)
    for _ in range(10):
        status.data(b"H0IOCNT0", 400)
    status.other(200)
    status.file_bytes = 1_000
    status.files = 2
    status.gap(kst_ns(9, 30, 0), kst_ns(9, 30, 7), "connection lost: code 1006")
    now = status.snapshot(2 * S)
    line = terminal_line(status, before, now, width=200)
    assert line.startswith("[streaming] | 30 frames/s (H0ZFASP0 25/s H0IOCNT0 5/s) | 60 frames | 1.0kB written")
    assert "ratio 20.7x" in line  # (50*330 + 10*400 + 200) / 1000
    assert "gap 09:30:00-09:30:07 KST (connection lost: code 1006)" in line
    log = log_line(status, before, now)
    assert log.startswith("state=streaming rate=30.0/s [H0IOCNT0=5.0/s, H0ZFASP0=25.0/s] frames=60 written=1000B")
    assert "files=2" in log and "gaps=1" in log and "last_gap=09:30:00-09:30:07 KST" in log


def test_nothing_yet():
    status = RecorderStatus()
    snap = status.snapshot(S)
    assert terminal_line(status, snap, snap) == "[starting] | 0 frames/s | 0 frames | 0B written | ratio - | no gaps"
    assert terminal_line(status, snap, snap, width=10) == "[starting]"
