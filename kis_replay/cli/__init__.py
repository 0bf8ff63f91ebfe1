"""The ``kis-replay`` command line: thin shells over the Python API, one module per command group.

``kis-replay ARCHIVE [options]`` (or no argument at all) replays; every other first word names a
sub-command. Sub-commands load lazily so that ``kis-replay --help`` stays fast and one broken optional
dependency cannot take the whole tool down.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from .. import __version__

#: command name → "module:attribute" under kis_replay.cli
COMMANDS: dict[str, str] = {
    "replay": "replay:replay",
    "synth": "synth:synth",
    "info": "inspect:info",
    "cat": "inspect:cat",
    "verify": "inspect:verify",
    "slice": "inspect:slice_",
    "merge": "inspect:merge",
    "decode": "decode:decode",
    "record": "record:record",
    "scenarios": "scenarios:scenarios",
}

DEFAULT_COMMAND = "replay"


class KisReplayGroup(click.Group):
    """A group whose first argument is a command name, or else an archive to replay."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(f"{__name__}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(__name__):
                return None  # a command not built yet: absent, not broken
            raise
        return getattr(module, attr)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in COMMANDS and args[0] not in ("--help", "-h", "--version")):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: Any) -> None:
        formatter.write_usage(ctx.command_path, "[ARCHIVE] [OPTIONS] | COMMAND [ARGS]...")


@click.group(cls=KisReplayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kis-replay")
def cli() -> None:
    """Record and replay the KIS real-time WebSocket feed.

    kis-replay [ARCHIVE] [--speed 10] ...   serve ARCHIVE (default: the bundled sample) as a fake KIS server
    """


def main() -> None:
    cli(prog_name="kis-replay")
