"""File names that sort by time, rotation cut points, and the command line's durations and sizes."""

import datetime as dt

import pytest

from kis_replay.codec import KST
from kis_replay.recorder.rotation import (
    RotationPolicy,
    archive_name,
    parse_duration,
    parse_rotation,
    parse_size,
    until_deadline,
)

NS = 10**9


def kst_ns(*args):
    return int(dt.datetime(*args, tzinfo=KST).timestamp()) * NS


def test_archive_name_is_kst_and_sorts_by_time():
    t = kst_ns(2026, 11, 24, 9, 0, 0)
    assert archive_name(t) == "2026-11-24T09-00-00_kis.kisrec.zst"
    names = [archive_name(t), archive_name(t, 1), archive_name(t, 2), archive_name(t + NS), archive_name(t + 3600 * NS)]
    assert sorted(names) == names


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("1.5s", 1.5), ("500ms", 0.5), ("30m", 1800), ("6h", 21600), ("1h30m", 5400), ("1d", 86400)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "6 hours", "1h-", "x1s", "1s2"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_parse_size():
    assert parse_size("512MB") == 512 * 10**6
    assert parse_size("512MiB") == 512 * 2**20
    assert parse_size("100kB") == 100_000
    assert parse_size("4096") == 4096
    with pytest.raises(ValueError, match="is not a size"):
        parse_size("12 parsecs")


def test_parse_rotation():
    assert parse_rotation("1h") == RotationPolicy(period_s=3600)
    assert parse_rotation("512MB") == RotationPolicy(max_bytes=512 * 10**6)
    with pytest.raises(ValueError, match="--rotate 'often'"):
        parse_rotation("often")
    with pytest.raises(ValueError, match="at least 4096 bytes"):
        parse_rotation("10B")


def test_time_rotation_cuts_on_kst_boundaries():
    policy = RotationPolicy(period_s=3600)
    opened = kst_ns(2026, 11, 24, 8, 45, 12)
    assert policy.next_cut_ns(opened) == kst_ns(2026, 11, 24, 9, 0, 0)
    assert not policy.due(opened, kst_ns(2026, 11, 24, 8, 59, 59), 10**12)
    assert policy.due(opened, kst_ns(2026, 11, 24, 9, 0, 0), 0)
    # a file opened exactly on a boundary runs the whole period
    assert policy.next_cut_ns(kst_ns(2026, 11, 24, 9, 0, 0)) == kst_ns(2026, 11, 24, 10, 0, 0)


def test_size_rotation():
    policy = RotationPolicy(max_bytes=10_000)
    assert policy.next_cut_ns(0) is None
    assert not policy.due(0, 10**18, 9_999)
    assert policy.due(0, 0, 10_000)


def test_until_is_the_next_kst_time_of_day():
    now = dt.datetime(2026, 11, 24, 8, 30, tzinfo=KST)
    assert until_deadline(now, "15:50") == dt.datetime(2026, 11, 24, 15, 50, tzinfo=KST)
    # a night session: started at 18:00, --until 05:00 is tomorrow morning
    night = dt.datetime(2026, 11, 24, 18, 0, tzinfo=KST)
    assert until_deadline(night, "05:00") == dt.datetime(2026, 11, 25, 5, 0, tzinfo=KST)
    # a UTC "now" is converted first
    assert until_deadline(now.astimezone(dt.UTC), "15:50:30").second == 30
    for bad in ("25:00", "9", "15:61", "noon"):
        with pytest.raises(ValueError, match="not a KST time of day"):
            until_deadline(now, bad)
