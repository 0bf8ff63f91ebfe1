"""A scenario and its TOML file: parsed with :mod:`tomllib`, every value checked, errors with file and line.

The file format::

    name = "open-and-drop"                 # optional, defaults to the file's stem
    description = "a flood, then a cut"    # optional, shown by `kis-replay scenarios`
    seed = 7                               # optional; the random steps' seed (the run may override it)

    [[step]]
    type = "burst"
    at = 09:00:00                          # KST session time, or  after = "30s"  (replay offset)
    window = "30s"
    within = "300ms"

    [[step]]
    type = "disconnect"
    after = "45s"
    abort = true
    refuse = "5s"
    clients = [1]

tomllib reports syntax errors with line and column; for a bad value we find the line of its key by scanning
the text under the step's ``[[step]]`` header, since tomllib keeps no positions.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..durations import parse_duration_ns
from .errors import ScenarioError
from .steps import STEP_TYPES, Step, StepValueError
from .times import parse_session_time

__all__ = ["Scenario", "load_scenario", "parse_scenario"]

_TOP_KEYS = ("name", "description", "seed", "step")


@dataclass(frozen=True)
class Scenario:
    """A named list of steps, applied in order; ``seed`` drives the random steps deterministically."""

    name: str
    steps: tuple[Step, ...]
    description: str = ""
    seed: int = 0
    source: str = "<scenario>"

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        numbered = []
        for i, step in enumerate(steps, 1):
            if step.number == 0:  # built from Python: number the steps as a file would
                step = _renumber(step, i)
            numbered.append(step)
        object.__setattr__(self, "steps", tuple(numbered))


def _renumber(step: Step, number: int) -> Step:
    return replace(step, number=number)


def _strings(key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings, e.g. [\"H0ZFASP0:111V06\"], got {value!r}")
    return tuple(value)


def _clients(value: object) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(f"clients must be a list of connection numbers, e.g. [1, 2], got {value!r}")
    return tuple(value)


#: scenario-file key → converter of its TOML value; keys not listed are passed as read and checked by the step
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "at": parse_session_time,
    "after": parse_duration_ns,
    "within": parse_duration_ns,
    "window": parse_duration_ns,
    "duration": parse_duration_ns,
    "refuse": parse_duration_ns,
    "delay": parse_duration_ns,
    "jitter": parse_duration_ns,
    "interval": parse_duration_ns,
    "only": lambda v: _strings("only", v),
    "instruments": lambda v: _strings("instruments", v),
    "clients": _clients,
}


class _Lines:
    """Where keys are in the text: the ``[[step]]`` headers and the key lines under them."""

    _HEADER = re.compile(r"^\s*\[\[\s*step\s*\]\]")
    _TABLE = re.compile(r"^\s*\[")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i for i, line in enumerate(self.lines) if self._HEADER.match(line)]

    def step(self, number: int) -> int | None:
        index = number - 1
        return self.headers[index] + 1 if index < len(self.headers) else None

    def key(self, key: str, number: int | None = None) -> int | None:
        """1-based line of ``key = …`` in step ``number`` (top level when ``None``); else the header's."""
        if number is None:
            begin = 0
        else:
            begin = self.step(number)  # 1-based header line = 0-based index of the line after it
            if begin is None:
                return None
        pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=")
        for i in range(begin, len(self.lines)):
            if self._TABLE.match(self.lines[i]):
                break
            if pattern.match(self.lines[i]):
                return i + 1
        return self.step(number) if number is not None else None


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_scenario(text: str, source: str = "<string>", *, name: str | None = None) -> Scenario:
    """Parse and check a scenario file's text; raises :class:`ScenarioError` with ``source`` and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ScenarioError(f"not valid TOML: {exc}", source=source,
                            line=int(match.group(1)) if match else None) from None
    lines = _Lines(text)

    def fail(what: str, key: str | None = None, step: int | None = None, step_type: str | None = None) -> None:
        line = lines.key(key, step) if key else (lines.step(step) if step else None)
        raise ScenarioError(what, source=source, line=line, step=step, step_type=step_type)

    for key in data:
        if key not in _TOP_KEYS:
            fail(f"unknown top-level key {key!r}{_did_you_mean(key, _TOP_KEYS)}; a scenario has "
                 "name, description, seed and [[step]] tables", key)
    scenario_name = data.get("name", name or "scenario")
    if not isinstance(scenario_name, str) or not scenario_name:
        fail("name must be a non-empty string", "name")
    description = data.get("description", "")
    if not isinstance(description, str):
        fail("description must be a string", "description")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        fail(f"seed must be an integer ≥ 0, got {seed!r}", "seed")
    tables = data.get("step", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        fail("steps are written as [[step]] tables", "step")
    if not tables:
        fail("a scenario needs at least one [[step]]")

    steps = []
    for number, table in enumerate(tables, 1):
        step_type = table.get("type")
        if step_type is None:
            fail(f"the step has no type; one of: {', '.join(STEP_TYPES)}", step=number)
        if step_type not in STEP_TYPES:
            fail(f"unknown step type {step_type!r}{_did_you_mean(str(step_type), list(STEP_TYPES))}; one of: "
                 f"{', '.join(STEP_TYPES)}", "type", number)
        cls = STEP_TYPES[step_type]
        allowed = cls.keys()
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key == "type":
                continue
            if key not in allowed:
                fail(f"unknown key {key!r}{_did_you_mean(key, allowed)}; a {step_type} step takes "
                     f"{', '.join(allowed)}", key, number, step_type)
            try:
                values[key] = _CONVERT[key](value) if key in _CONVERT else value
            except ValueError as exc:
                fail(f"{key}: {exc}", key, number, step_type)
        required = [f.name for f in fields(cls) if f.init and f.default is MISSING
                    and f.default_factory is MISSING]
        missing = [key for key in required if key not in values]
        if missing:
            fail(f"missing {', '.join(missing)}", None, number, step_type)
        try:
            steps.append(cls(number=number, line=lines.step(number), **values))
        except StepValueError as exc:
            fail(str(exc), exc.key, number, step_type)
    return Scenario(scenario_name, tuple(steps), description, seed, source)


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; an unreadable file is a :class:`ScenarioError` too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("no such scenario file", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the scenario file: {exc}", source=str(path)) from None
    return parse_scenario(text, str(path), name=path.stem.removesuffix(".scenario"))
