"""``kis-replay synth``: generate a realistic synthetic session into an archive, no credentials needed.

A thin shell over :mod:`kis_replay.synth`: options become a :class:`~kis_replay.synth.SynthSession`
(which checks them), :func:`~kis_replay.synth.recording.write_archive` writes it. The command line is
stored in the archive's labels, so a file says how to make it again.
"""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path

import click

from ..archive import ArchiveError, parse_time_of_day
from ..recorder.rotation import parse_duration
from ..synth import DEFAULT_DATE, DEFAULT_DURATION_S, DEFAULT_SEED, SYNTH_TRS, SynthError, SynthSession
from ..synth.recording import write_archive
from ..synth.session import exact
from .shell import fail, parsed_by

_DEFAULT_TRS = ("H0ZFASP0", "H0IOCNT0")


def _tr(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    trs = tuple(part.strip() for item in value for part in item.split(",") if part.strip())
    for tr_id in trs:
        if tr_id not in SYNTH_TRS:
            raise click.BadParameter(f"{tr_id!r} is not a TR synth can generate: choose from {', '.join(SYNTH_TRS)}")
    return trs or _DEFAULT_TRS


def _positive_duration(value: str) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"{value!r} is not a positive duration")
    return seconds


def _start(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.time | None:
    if value is None:
        return None
    try:
        ns = parse_time_of_day(value)
    except ValueError as exc:
        raise click.BadParameter(f"{exc} (KST time of day, e.g. 09:00:00)") from None
    seconds = ns // 1_000_000_000
    return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60, ns // 1000 % 1_000_000)


def canonical_command(session: SynthSession) -> str:
    """The options that make ``session`` again, every default spelled out and no output path.

    The label, and so the file's bytes, must not depend on how the command was typed or where it wrote.
    """
    argv = ["kis-replay", "synth"]
    for tr_id in session.tr_ids:
        argv += ["--tr", tr_id]
    argv += ["--symbols", ",".join(f"{tr}:{code}" for tr, code in session.subscriptions)]
    argv += ["--duration", f"{exact(session.duration_s)}s", "--seed", str(session.seed), "--rate", exact(session.rate),
             "--start", session.start.isoformat(), "--date", session.date.isoformat()]
    return shlex.join(argv)


@click.command()
@click.option("--tr", "trs", multiple=True, callback=_tr, metavar="TR_ID",
              help=f"TR to generate; repeat (or comma-separate) for a mixed session. {', '.join(SYNTH_TRS)}. "
                   f"[default: {' '.join(_DEFAULT_TRS)}]")
@click.option("--symbols", "symbols", multiple=True, metavar="CODES",
              help="Comma-separated instrument codes (111V06, 201X12350); TR:CODE pins one to a TR. "
                   "[default: a few per TR]")
@click.option("--duration", default=f"{DEFAULT_DURATION_S:g}s", show_default=True,
              callback=parsed_by(_positive_duration),
              help="Session length: 90, 45s, 10m, 1h30m.")
@click.option("--seed", type=click.IntRange(min=0), default=DEFAULT_SEED, show_default=True,
              help="Random seed: the same seed and options give the same bytes.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True, max=100), default=1.0, show_default=True,
              help="Activity multiplier on each TR's pace (futures books ~4/s, option trades ~0.8/s when quiet).")
@click.option("--start", callback=_start, metavar="HH:MM:SS",
              help="KST time of the first event. [default: the session open, 09:00:00 (18:00:00 night-only)]")
@click.option("--date", type=click.DateTime(formats=["%Y-%m-%d"]), default=DEFAULT_DATE.isoformat(),
              show_default=True, help="Trading day (a night session runs into the next morning).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Archive to write (.kisrec.zst); replaced if it exists.")
def synth(trs: tuple[str, ...], symbols: tuple[str, ...], duration: float, seed: int, rate: float,
          start: dt.time | None, date: dt.datetime, output: str) -> None:
    """Generate a synthetic KIS session (order books, option trades) into an archive.

    \b
    kis-replay synth --tr H0ZFASP0 --symbols 111V06,111W09 --duration 10m --seed 7 -o demo.kisrec.zst
    kis-replay synth --tr H0EUASP0 --start 23:50:00 --duration 20m -o night.kisrec.zst
    """
    codes = [code for item in symbols for code in item.split(",")]
    try:
        session = SynthSession.create(trs, codes, date=date.date(), start=start, duration_s=duration,
                                      seed=seed, rate=rate)
    except SynthError as exc:
        raise click.UsageError(str(exc)) from None
    folder = Path(output).resolve().parent
    if not folder.is_dir():
        raise click.BadParameter(f"directory {folder} does not exist", param_hint="'-o' / '--output'")
    try:
        summary = write_archive(session, output, labels={"command": canonical_command(session)})
    except (ArchiveError, OSError) as exc:
        raise fail(f"cannot write {output}: {exc}") from None
    symbols_text = ", ".join(f"{tr}:{code}" for tr, code in session.subscriptions)
    click.echo(f"wrote {summary.frames} frames ({summary.records} records) of {symbols_text} "
               f"to {summary.path} ({summary.bytes:,} bytes)")
