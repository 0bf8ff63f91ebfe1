"""The one error a scenario raises: a bad scenario file or step, named by file, line and step.

A scenario is checked completely before any server starts, so a typo in a CI scenario fails the job at
once with the place to fix instead of minutes into a replay.
"""

from __future__ import annotations

__all__ = ["ScenarioError"]


class ScenarioError(ValueError):
    """A scenario file or step is invalid.

    ``source`` is the file (or ``<builtin NAME>``, ``<string>``), ``line`` the 1-based line of the
    offending key or ``[[step]]`` header when known, ``step`` the 1-based step number when the problem is
    inside a step. ``str(error)`` is the whole ready-to-print message, ``FILE:LINE: step N (type): what``.
    """

    def __init__(
        self, what: str, *, source: str | None = None, line: int | None = None, step: int | None = None,
        step_type: str | None = None,
    ) -> None:
        self.what = what
        self.source = source
        self.line = line
        self.step = step
        self.step_type = step_type
        where = source or "<scenario>"
        if line is not None:
            where += f":{line}"
        if step is not None:
            where += f": step {step}" + (f" ({step_type})" if step_type else "")
        super().__init__(f"{where}: {what}")
