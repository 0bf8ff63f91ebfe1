"""What every command shares with the shell around it: a failure is one ``Error:`` line and an exit code,
and live status or progress lines are drawn only on a terminal (a pipe or a CI log gets plain lines).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO, TypeVar

import click

__all__ = ["fail", "isatty", "parsed_by"]

T = TypeVar("T")


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


def parsed_by(parse: Callable[[str], T]) -> Callable[[click.Context, click.Parameter, str | None], T | None]:
    """A click callback that reads an option's text with ``parse`` (``None``, an option not given, passes
    through) and reports the parser's ``ValueError`` as click's usage error naming that option."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> T | None:
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return callback
