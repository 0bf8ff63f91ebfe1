"""``kis-replay scenarios``: list the built-in scenarios, print one, or check a scenario file."""

from __future__ import annotations

import click

from ..scenarios import ScenarioError, builtin_names, load_builtin, resolve_scenario
from ..scenarios.builtin import builtin_text
from .shell import fail


@click.command()
@click.option("--show", "show", metavar="NAME", help="Print the TOML of built-in NAME (a starting point to copy).")
@click.option("--check", "check", metavar="FILE_OR_NAME",
              help="Check a scenario file (or built-in) and list its steps; exit 1 with file and line if bad.")
def scenarios(show: str | None, check: str | None) -> None:
    """Burst and fault scenarios for `kis-replay ARCHIVE --scenario NAME_OR_FILE.toml`.

    Without options, lists the built-in scenarios with what each does.
    """
    try:
        if show is not None:
            click.echo(builtin_text(show), nl=False)
            return
        if check is not None:
            scenario = resolve_scenario(check)
            click.echo(f"{scenario.source}: {scenario.name}: {len(scenario.steps)} step(s), seed {scenario.seed}")
            for step in scenario.steps:
                line = f"line {step.line}" if step.line else ""
                click.echo(f"  {step.number:>2}. {step.type:<10} {line}")
            return
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    names = builtin_names()
    width = max(len(name) for name in names)
    for name in names:
        scenario = load_builtin(name)
        steps = ", ".join(dict.fromkeys(step.type for step in scenario.steps))
        click.echo(f"{name:<{width}}  {scenario.description}  [{steps}]")
    click.echo("\nUse: kis-replay ARCHIVE --scenario NAME (or a .toml file); "
               "kis-replay scenarios --show NAME prints one to copy.")
