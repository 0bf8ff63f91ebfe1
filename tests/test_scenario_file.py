"""Scenario files: parsing, every check, and errors that name the file, the line and the step."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from kis_replay.durations import parse_duration_ns as parse_duration
from kis_replay.scenarios import (
    STEP_TYPES,
    Burst,
    Disconnect,
    Drop,
    Scenario,
    ScenarioError,
    builtin_names,
    load_builtin,
    load_scenario,
    parse_scenario,
    resolve_scenario,
)
from kis_replay.scenarios.times import parse_session_time

GOOD = """\
name = "demo"
description = "a bit of everything"
seed = 3

[[step]]
type = "burst"
at = 09:00:00
window = "30s"
within = "300ms"

[[step]]
type = "disconnect"
after = "1m30s"
code = 1011
reason = "maintenance"
refuse = "5s"
clients = [1, 2]

[[step]]
type = "drop"
probability = 0.25
only = ["H0ZFASP0:111V06", "H0IOCNT0"]
"""


def test_a_good_file_gives_typed_steps():
    scenario = parse_scenario(GOOD, "demo.toml")
    assert (scenario.name, scenario.description, scenario.seed) == ("demo", "a bit of everything", 3)
    burst, disconnect, drop = scenario.steps
    assert burst == Burst(at=dt.time(9), window=30_000_000_000, within=300_000_000, number=1)
    assert burst.line == 5
    assert disconnect == Disconnect(after=90_000_000_000, code=1011, reason="maintenance",
                                    refuse=5_000_000_000, clients=(1, 2), number=2)
    assert isinstance(drop, Drop) and drop.probability == 0.25 and drop.line == 19
    assert drop.matches("H0ZFASP0", "111V06") and drop.matches("H0IOCNT0", "201X12350")
    assert not drop.matches("H0ZFASP0", "112V06")


@pytest.mark.parametrize(
    ("text", "line", "step", "needle"),
    [
        ("[[step]]\ntype = \"drop\"\nprobability = 1.5\n", 3, 1, "probability must be a number in (0, 1]"),
        ("[[step]]\ntype = \"drop\"\nprobabilty = 0.5\n", 3, 1, "did you mean 'probability'"),
        ("[[step]]\ntype = \"stal\"\nafter = \"1s\"\n", 2, 1, "did you mean 'stall'"),
        ("[[step]]\ntype = \"stall\"\nafter = \"1s\"\n", 1, 1, "missing duration"),
        ("[[step]]\ntype = \"stall\"\nduration = \"5\"\nafter = \"1s\"\n", 3, 1, "is not a duration"),
        ("[[step]]\ntype = \"stall\"\nduration = \"5s\"\n", 2, 1, "needs a start"),
        ("x = 1\n[[step]]\ntype = \"drop\"\nprobability = 0.5\n", 1, None, "unknown top-level key 'x'"),
        ("seed = -1\n[[step]]\ntype = \"drop\"\nprobability = 0.5\n", 1, None, "seed must be"),
        ("[[step]]\ntype = \"drop\"\nprobability = 0.5\n\n[[step]]\ntype = \"disconnect\"\nafter = \"2s\"\n"
         "code = 1006\n", 8, 2, "cannot be sent in a close frame"),
        ("[[step]]\ntype = \"disconnect\"\nafter = \"2s\"\nonly = [\"H0ZFASP0\"]\n", 4, 1, "takes no 'only'"),
        ("[[step]]\ntype = \"reject\"\nmsg_cd = \"OPSP0000\"\n", 3, 1, "not an error code"),
        ("[[step]]\ntype = \"malformed\"\nafter = \"1s\"\nkind = \"garbled\"\n", 4, 1, "kind must be one of"),
        ("[[step]]\ntype = \"burst\"\nat = \"9 o'clock\"\nwindow = \"1s\"\nwithin = \"1ms\"\n", 3, 1,
         "not a KST time of day"),
        ("[[step]]\ntype = \"burst\"\nafter = \"0s\"\nwindow = \"1s\"\nwithin = \"2s\"\n", 5, 1,
         "within must be shorter than window"),
        ("[[step]]\ntype = \"burst\"\nafter = \"0s\"\ncount = 10\nwithin = \"2s\"\n"
         "instruments = [\"H0ZFASP0\"]\n", 6, 1, "TR_ID:CODE"),
        ("[[step]]\ntype = \"drop\"\nprobability = 0.5\nonly = [\"H0ZFASP0:1\"]\n", 4, 1, "characters long"),
        ("[[step]]\ntype = \"drop\"\nprobability = 0.5\nclients = [0]\n", 4, 1, "clients must be"),
        ("[[step]]\ntype = \"pingpong\"\n", 1, 1, "interval"),
        ("[[step]]\ntype = \"drop\"\nprobability = 0.5\nat = 09:00:00\nafter = \"1s\"\n", 5, 1, "not both"),
        ("name = \"x\"\n", None, None, "at least one [[step]]"),
        ("[[step]]\nprobability = 0.5\n", 1, 1, "no type"),
        ("[[step]]\ntype = \"drop\"\nprobability = = 0.5\n", 3, None, "not valid TOML"),
    ],
)
def test_a_bad_file_is_rejected_with_file_line_and_step(text, line, step, needle):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "ci/bad.toml")
    error = info.value
    assert needle in str(error)
    assert (error.source, error.line, error.step) == ("ci/bad.toml", line, step)
    where = "ci/bad.toml" + (f":{line}" if line else "")
    assert str(error).startswith(where + ":")


def test_a_missing_or_unreadable_file_is_a_scenario_error(tmp_path: Path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b"name = \"\xe9\"\n")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(bad)


def test_a_file_is_named_after_its_stem_unless_it_says(tmp_path: Path):
    path = tmp_path / "my-faults.toml"
    path.write_text("[[step]]\ntype = \"drop\"\nprobability = 0.1\n")
    assert load_scenario(path).name == "my-faults"
    assert resolve_scenario(str(path)).source == str(path)


def test_every_step_type_is_shown_in_a_builtin():
    used = {step.type for name in builtin_names() for step in load_builtin(name).steps}
    assert used == set(STEP_TYPES)


def test_builtins_all_load_and_have_descriptions():
    names = builtin_names()
    assert {"open-burst", "flaky-network", "frozen-feed", "dropped-connection", "malformed-frames",
            "subscribe-errors", "pingpong-silence", "slow-network"} <= set(names)
    for name in names:
        scenario = resolve_scenario(name)
        assert scenario.name == name and scenario.description and scenario.steps


def test_an_unknown_builtin_lists_the_known_ones():
    with pytest.raises(ScenarioError, match=r"built-ins: .*open-burst"):
        resolve_scenario("open-bust")


def test_python_built_scenarios_number_their_steps():
    scenario = Scenario("inline", (Drop(probability=0.5), Disconnect(after=0, abort=True)))
    assert [step.number for step in scenario.steps] == [1, 2]


@pytest.mark.parametrize(
    ("text", "ns"),
    [("300ms", 300_000_000), ("1m30s", 90_000_000_000), ("1.5s", 1_500_000_000), ("2h", 7_200_000_000_000),
     ("250us", 250_000), ("0s", 0)],
)
def test_durations(text, ns):
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["5", 5, "", "5 sec", "s", "1s2", "-1s"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_session_times():
    assert parse_session_time("09:03:00.250") == dt.time(9, 3, 0, 250_000)
    assert parse_session_time(dt.time(1, 0)) == dt.time(1, 0)
    with pytest.raises(ValueError):
        parse_session_time("25:00")


def test_the_scenarios_package_does_not_read_shared_specs():
    # the product must never depend on ../shared at run time
    source = Path(__file__).parents[1] / "kis_replay" / "scenarios"
    for path in source.rglob("*.py"):
        assert "shared/" not in path.read_text(), path
    assert subprocess.run([sys.executable, "-c", "import kis_replay.scenarios"], check=False).returncode == 0
