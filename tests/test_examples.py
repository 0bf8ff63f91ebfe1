"""The example bot's test suite (``examples/``), run as a bot author runs it: ``pytest`` in its own project.

``examples/`` has its own ``pytest.ini``; the plugin is found through kis-replay's ``pytest11`` entry
point, as in any environment where kis-replay is installed. The suite must pass, and it must fail for bots
that get the hard parts wrong: a copy of the project with a broken bot is run too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SUITE = {
    "test_a_normal_day",
    "test_the_open_burst",
    "test_dropped_connections_are_survived",
    "test_malformed_frames_are_skipped",
    "test_refused_subscriptions_are_reported",
    "test_any_quote_sets_the_book",
    "test_batched_trades_keep_the_last_price",
    "test_garbage_never_stops_the_bot",
}


def run_suite(project: Path, report: Path, *args: str) -> dict[str, str]:
    """Run ``pytest PROJECT`` in a fresh process (from ``report``'s folder, where hypothesis and friends may
    leave their caches); each test's outcome by name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIS_", "PYTEST_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"--junitxml={report}", str(project), *args],
        cwd=report.parent, env=env, capture_output=True, text=True, timeout=180,
    )
    assert report.exists(), proc.stdout + proc.stderr
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = {child.tag for child in case} & {"failure", "error", "skipped"}
        outcomes[case.get("name")] = kinds.pop() if kinds else "passed"
    return outcomes


def test_the_example_suite_passes(tmp_path):
    outcomes = run_suite(EXAMPLES, tmp_path / "report.xml")
    assert outcomes == dict.fromkeys(SUITE, "passed")


# (what the bot gets wrong, the code that does it right, the broken code, the test that must catch it)
BROKEN_BOTS = [
    ("applies frames of the wrong length",
     "        if len(fields) != n * width:\n", "        if len(fields) < width:\n",
     "test_malformed_frames_are_skipped"),
    ("gives up when the connection drops",
     "                self.drops += 1\n                log.warning(\"connection lost or refused",
     "                return\n                log.warning(\"connection lost or refused",
     "test_dropped_connections_are_survived"),
]


@pytest.mark.parametrize(("wrong", "good", "bad", "test"), BROKEN_BOTS, ids=[b[0] for b in BROKEN_BOTS])
def test_the_example_suite_fails_a_broken_bot(tmp_path, wrong, good, bad, test):
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    bot = project / "quote_bot.py"
    source = bot.read_text()
    assert source.count(good) == 1, "the example bot changed: update the broken variant"
    bot.write_text(source.replace(good, bad))
    outcomes = run_suite(project, tmp_path / "report.xml", "-k", test)
    assert outcomes == {test: "failure"}, f"the suite did not catch a bot that {wrong}"
