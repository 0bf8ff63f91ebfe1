"""ReplayOptions and the CLI's parse helpers: good words in, clear errors out."""

from __future__ import annotations

import pytest

from kis_replay.replayer import ReplayOptionError, ReplayOptions, parse_only, parse_speed


@pytest.mark.parametrize(
    ("text", "speed"),
    [("1", 1.0), ("10", 10.0), ("0.5", 0.5), ("max", None), ("MAX", None), (" 10x ", 10.0), ("2.5X", 2.5)],
)
def test_parse_speed(text: str, speed: float | None) -> None:
    assert parse_speed(text) == speed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fast", r"speed 'fast' is not a number or 'max'"),
        ("", r"speed '' is not a number"),
        ("0", r"speed '0' must be a positive number"),
        ("-2", r"speed '-2' must be a positive number"),
        ("nan", r"speed 'nan' must be a positive number"),
        ("inf", r"speed 'inf' must be a positive number"),
    ],
)
def test_parse_speed_errors(text: str, message: str) -> None:
    with pytest.raises(ReplayOptionError, match=message) as info:
        parse_speed(text)
    assert isinstance(info.value, ValueError)  # click.BadParameter-friendly


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("H0ZFASP0:111V06", ("H0ZFASP0", "111V06")),
        ("H0IOCNT0", ("H0IOCNT0", None)),
        ("H0EUASP0:301V06362", ("H0EUASP0", "301V06362")),
        ("H0NEWTR0:ANYKEY", ("H0NEWTR0", "ANYKEY")),  # a TR the codec does not know yet: no width check
    ],
)
def test_parse_only(text: str, route: tuple[str, str | None]) -> None:
    assert parse_only(text) == route


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"only '': '' is not a TR id"),
        (":111V06", r"only ':111V06': '' is not a TR id"),
        ("H0ZF ASP0", r"is not a TR id"),
        ("H0ZFASP0:", r"only 'H0ZFASP0:': the instrument code after ':' is empty"),
        ("H0ZFASP0:1", r"H0ZFASP0 codes are 6 to 9 characters long, '1' has 1"),
    ],
)
def test_parse_only_errors(text: str, message: str) -> None:
    with pytest.raises(ReplayOptionError, match=message):
        parse_only(text)


def test_options_defaults_and_validation() -> None:
    options = ReplayOptions()
    assert (options.speed, options.filter, options.loop, options.only) == (1.0, "auto", False, frozenset())
    with pytest.raises(ReplayOptionError, match=r"filter '0.3' is not one of 'auto', '0.2', 'off'"):
        ReplayOptions(filter="0.3")
    with pytest.raises(ReplayOptionError, match=r"end of the replay \(5 ns\) is not after its start \(5 ns\)"):
        ReplayOptions(start_ns=5, end_ns=5)
    with pytest.raises(ReplayOptionError, match="positive number"):
        ReplayOptions(speed=0)
    with pytest.raises(ReplayOptionError, match=r"only: 'H0ZFASP0' is not a \(tr_id, tr_key or None\) pair"):
        ReplayOptions(only=frozenset({"H0ZFASP0"}))  # type: ignore[arg-type]


def test_serves() -> None:
    everything = ReplayOptions()
    assert everything.serves("H0ZFASP0", "111V06") and everything.serves("H0IFCNI0", None)
    some = ReplayOptions(only=frozenset({("H0ZFASP0", "111V06"), ("H0IOCNT0", None), ("H0IFCNI0", "hts01")}))
    assert some.serves("H0ZFASP0", "111V06")
    assert not some.serves("H0ZFASP0", "111V09")
    assert some.serves("H0IOCNT0", "201S11305")
    assert not some.serves("H0EUASP0", "301V06362")
    assert some.serves("H0IFCNI0", None)  # encrypted: routed by TR
    assert not some.serves("H0STCNI0", None)
