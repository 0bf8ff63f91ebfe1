"""What every command shares with the shell around it: a failure is one ``Error:`` line and an exit code,
and live status or progress lines are drawn only on a terminal (a pipe or a CI log gets plain lines).
"""

from __future__ import annotations

from typing import TextIO

import click

__all__ = ["fail", "isatty"]


def fail(message: str, exit_code: int = 1) -> click.ClickException:
    """The exception that makes click print ``Error: <message>`` and exit with ``exit_code`` (never a
    traceback): raise it ``from None``."""
    error = click.ClickException(message)
    error.exit_code = exit_code
    return error


def isatty(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal; ``False`` for a closed or replaced stream (test runners, pipes)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
