"""Session time: KST time of day typed by a user ⇄ the UTC ns instants the archive stores."""

from __future__ import annotations

import datetime as dt

import pytest

from kis_replay.archive import format_session_time, session_time_to_ns, session_window

KST = dt.timezone(dt.timedelta(hours=9))


def ns(*args: int, nanos: int = 0) -> int:
    """UTC ns of a KST wall-clock time."""
    return int(dt.datetime(*args, tzinfo=KST).timestamp()) * 10**9 + nanos


DAY_START = ns(2025, 1, 2, 8, 45)  # a day session's first record, 08:45 KST (23:45 UTC the day before)
NIGHT_START = ns(2025, 1, 2, 18, 0, 0, nanos=123)  # a night session from 18:00 KST


@pytest.mark.parametrize(
    ("time_of_day", "first", "expected"),
    [
        ("09:30:00", DAY_START, ns(2025, 1, 2, 9, 30)),
        ("09:30", DAY_START, ns(2025, 1, 2, 9, 30)),
        ("09:30:00.250", DAY_START, ns(2025, 1, 2, 9, 30, nanos=250_000_000)),
        ("9:30:00.000000001", DAY_START, ns(2025, 1, 2, 9, 30, nanos=1)),
        ("08:45:00", DAY_START, DAY_START),  # the start itself (≥, not >)
        # just before the first record (a recording whose first frame came a little late): that same morning
        ("08:44:59.999", DAY_START, ns(2025, 1, 2, 8, 44, 59, nanos=999_000_000)),
        ("02:45", DAY_START, ns(2025, 1, 2, 2, 45)),  # exactly the 6 h look-back
        ("02:44:59", DAY_START, ns(2025, 1, 3, 2, 44, 59)),  # further back than 6 h: the next day
        (dt.time(15, 45, 0, 500_000), DAY_START, ns(2025, 1, 2, 15, 45, nanos=500_000_000)),
        ("18:30:00", NIGHT_START, ns(2025, 1, 2, 18, 30)),
        ("01:00", NIGHT_START, ns(2025, 1, 3, 1, 0)),  # after midnight: the next calendar day
        ("18:00:00", NIGHT_START, ns(2025, 1, 2, 18, 0)),  # 123 ns before the start: that evening
        ("05:00", NIGHT_START, ns(2025, 1, 3, 5, 0)),  # the night session's close, after midnight
        ("23:59:59.999999999", NIGHT_START, ns(2025, 1, 2, 23, 59, 59, nanos=999_999_999)),
        ("00:00", NIGHT_START, ns(2025, 1, 3, 0, 0)),
    ],
)
def test_session_time_to_ns(time_of_day: str | dt.time, first: int, expected: int) -> None:
    assert session_time_to_ns(time_of_day, first) == expected


def test_other_timezone() -> None:
    first = ns(2025, 1, 2, 9, 0)  # 00:00 UTC
    assert session_time_to_ns("00:30", first, tz="UTC") == first + 1800 * 10**9
    assert session_time_to_ns("09:30", first, tz="Asia/Seoul") == first + 1800 * 10**9


@pytest.mark.parametrize("bad", ["9.30", "24:00", "09:60", "09:30:61", "09:30:00.1234567891", "", "noon"])
def test_bad_time_of_day_is_named(bad: str) -> None:
    with pytest.raises(ValueError, match="time of day"):
        session_time_to_ns(bad, DAY_START)


def test_unknown_timezone_is_named() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        session_time_to_ns("09:00", DAY_START, tz="Mars/Olympus")


def test_format_session_time() -> None:
    assert format_session_time(ns(2025, 1, 2, 9, 30, 5, nanos=250_999_999)) == "09:30:05.250"
    assert format_session_time(ns(2025, 1, 3, 1, 0)) == "01:00:00.000"
    assert format_session_time(ns(2025, 1, 2, 0, 0), tz="UTC") == "15:00:00.000"


def test_format_and_parse_agree() -> None:
    """Every instant from 6 h before the first record to 18 h after it reads back from its own text."""
    hour = 3600 * 10**9
    for first in (DAY_START, NIGHT_START):
        for step in range(-6 * hour, 18 * hour, 777_777_777_777):
            t = first + step + 10**6
            instant = t - t % 10**6  # whole milliseconds (what format shows), still ≥ first - 6 h
            assert session_time_to_ns(format_session_time(instant), first) == instant


def test_session_window_places_both_bounds_on_the_session_day() -> None:
    assert session_window(NIGHT_START, "23:00", "01:00") == (ns(2025, 1, 2, 23, 0), ns(2025, 1, 3, 1, 0))
    assert session_window(DAY_START, None, "09:30") == (None, ns(2025, 1, 2, 9, 30))
    assert session_window(DAY_START, "09:30", None) == (ns(2025, 1, 2, 9, 30), None)
    assert session_window(DAY_START, None, None) == (None, None)


@pytest.mark.parametrize(("start", "end"), [("10:00", "10:00"), ("10:00", "09:59:59.999")])
def test_session_window_refuses_an_end_not_after_the_start(start: str, end: str) -> None:
    with pytest.raises(ValueError, match=rf"^--to {end} \(.*\) is not after --from {start} \(10:00:00.000\): "
                                         r"the session starts at 08:45:00.000"):
        session_window(DAY_START, start, end, names=("--from", "--to"))


def test_session_window_names_the_malformed_bound_even_without_a_session() -> None:
    with pytest.raises(ValueError, match=r"^to '25:00': time of day '25:00' is out of range; expected HH:MM:SS"):
        session_window(DAY_START, "09:00", "25:00")
    with pytest.raises(ValueError, match=r"^from 'noon': time of day 'noon' is not HH:MM"):
        session_window(None, "noon", None)  # an empty archive: nothing to place the times on, still checked
    assert session_window(None, "09:00", "08:00") == (None, None)
