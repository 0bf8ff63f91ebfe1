"""Where a marker's archive and scenario files are: beside the test file first, then the bundled ones.

A test names ``"fixtures/open.kisrec.zst"`` the way VCR.py users name cassettes: relative to the test
file, so the suite runs from any working directory. A name that is not there but is one of the fixtures
installed with kis-replay (``"open"``, ``"open.kisrec.zst"``, ``"fixtures/open.kisrec.zst"``) is the
bundled one, so the first test needs no archive of its own. Anything else is missing, and
:class:`ArchiveLocation` says where a recording of it would go and where it was looked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import fixtures

__all__ = ["ArchiveLocation", "locate_archive", "locate_scenario"]

_BUNDLED_FOLDERS = ("", ".", "fixtures")


@dataclass(frozen=True)
class ArchiveLocation:
    """``path``: the archive to replay, or where a recording of it goes when it does not exist;
    ``bundled``: it is one of :mod:`kis_replay.fixtures` (never re-recorded)."""

    name: str | None
    path: Path
    bundled: bool
    exists: bool

    def describe_search(self) -> str:
        """Where the archive was looked for, for the "missing" error."""
        return (f"{self.path} (relative to the test file) and the bundled fixtures "
                f"({', '.join(fixtures.names()) or 'none'})")


def locate_archive(name: str | None, test_dir: Path) -> ArchiveLocation:
    """The archive a marker names, seen from a test file in ``test_dir``; ``None`` is the bundled sample."""
    if name is None:
        return ArchiveLocation(None, fixtures.path(), bundled=True, exists=True)
    given = Path(name).expanduser()
    local = given if given.is_absolute() else test_dir / given
    if local.exists():
        return ArchiveLocation(name, local, bundled=False, exists=True)
    if not given.is_absolute() and str(given.parent) in _BUNDLED_FOLDERS:
        try:
            return ArchiveLocation(name, fixtures.path(given.name), bundled=True, exists=True)
        except FileNotFoundError:
            pass
    return ArchiveLocation(name, local, bundled=False, exists=False)


def locate_scenario(value: Any, test_dir: Path) -> Any:
    """The :class:`~kis_replay.scenarios.Scenario` a marker names: a ``Scenario`` as it is, a path relative
    to the test file when it exists there, else what ``--scenario`` would make of it (a built-in name or a
    path from the working directory). Raises :class:`~kis_replay.scenarios.ScenarioError`."""
    from ..scenarios import Scenario, load_scenario, resolve_scenario

    if value is None or isinstance(value, Scenario):
        return value
    local = Path(value).expanduser()
    if not local.is_absolute():
        local = test_dir / local
    if local.is_file():
        return load_scenario(local)
    return resolve_scenario(value)
