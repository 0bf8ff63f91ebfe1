"""The one duration grammar: the command line (a bare number is seconds) and scenario files (units required)."""

from __future__ import annotations

import pytest

from kis_replay.durations import parse_duration_ns

S = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "ns"),
    [("300ms", 300_000_000), ("1m30s", 90 * S), ("1.5s", 1_500_000_000), ("2h", 7_200 * S), ("1d", 86_400 * S),
     ("250us", 250_000), ("0s", 0), (" 1h 30m ", 5_400 * S), ("1h30m15s500ms", 5_415 * S + 500_000_000)],
)
def test_units_add_up(text: str, ns: int) -> None:
    assert parse_duration_ns(text) == ns
    assert parse_duration_ns(text, bare_seconds=True) == ns


def test_a_bare_number_is_seconds_only_where_asked() -> None:
    assert parse_duration_ns("90", bare_seconds=True) == 90 * S
    assert parse_duration_ns("0.25", bare_seconds=True) == 250_000_000
    with pytest.raises(ValueError, match=r"^'90' is not a duration \(e\.g\. 300ms, 5s, 1m30s, 2h; units d, h, m, s, "
                                         r"ms, us\)$"):
        parse_duration_ns("90")
    with pytest.raises(ValueError, match="a bare number is seconds"):
        parse_duration_ns("90x", bare_seconds=True)


@pytest.mark.parametrize("bad", ["", "s", "1s2", "-1s", "x1s", "1h-", "5 sec", "6 hours", "1.s", "1w"])
def test_malformed_durations_are_quoted(bad: str) -> None:
    with pytest.raises(ValueError, match=f"^{bad!r} is not a duration"):
        parse_duration_ns(bad, bare_seconds=True)


@pytest.mark.parametrize("bad", [5, 1.5, None, ["1s"]])
def test_only_strings(bad: object) -> None:
    with pytest.raises(ValueError, match=r"expected a duration string with a unit like \"300ms\""):
        parse_duration_ns(bad)
