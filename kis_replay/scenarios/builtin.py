"""The built-in scenarios, one TOML file each in ``builtin/``, and ``--scenario NAME_OR_FILE`` resolution.

Built-ins are ordinary scenario files shipped with the package (read through :mod:`importlib.resources`),
so each one is also an example of the format: ``kis-replay scenarios --show NAME`` prints it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import ScenarioError
from .scenario import Scenario, load_scenario, parse_scenario

__all__ = ["builtin_names", "builtin_text", "load_builtin", "resolve_scenario"]


def _directory():  # type: ignore[no-untyped-def]
    return resources.files(__package__).joinpath("builtin")


def builtin_names() -> tuple[str, ...]:
    """The names of the built-in scenarios, sorted."""
    return tuple(sorted(entry.name.removesuffix(".toml") for entry in _directory().iterdir()
                        if entry.name.endswith(".toml")))


def builtin_text(name: str) -> str:
    """The TOML text of built-in ``name``; an unknown name is a :class:`ScenarioError` listing the known."""
    if name not in builtin_names():
        raise ScenarioError(
            f"no built-in scenario {name!r} and no such file; built-ins: {', '.join(builtin_names())}",
            source=name,
        )
    return _directory().joinpath(f"{name}.toml").read_text(encoding="utf-8")


def load_builtin(name: str) -> Scenario:
    """The built-in scenario ``name`` (see :func:`builtin_names`)."""
    return parse_scenario(builtin_text(name), f"<builtin {name}>", name=name)


def resolve_scenario(name_or_path: str | Path) -> Scenario:
    """``--scenario``'s argument: a path to a ``.toml`` file when it looks like one or exists, else a
    built-in name."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or Path(text).exists():
        return load_scenario(text)
    return load_builtin(text)
