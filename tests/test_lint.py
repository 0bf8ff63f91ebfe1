"""The tree stays ruff-clean: CI runs the same check a developer runs (``ruff check kis_replay tests benchmarks``),
with the project's own configuration from pyproject.toml."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("kis_replay", "tests", "benchmarks")


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed (the test extra has it)")
def test_the_tree_is_ruff_clean() -> None:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *PATHS], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"ruff check {' '.join(PATHS)} found problems:\n{proc.stdout}{proc.stderr}"
