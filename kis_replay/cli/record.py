"""``kis-replay record``: capture a live KIS session into archives, unattended, for a whole trading day.

A thin shell: options are parsed into the recorder's objects (:mod:`kis_replay.recorder`), every mistake
the recorder can see before connecting is a one-line error, and the run itself is
:class:`~kis_replay.recorder.client.Recorder`. Credentials come only from the environment or
``--env-file``, never from options (they would show in ``ps`` and shell history).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import TextIO

import click

from ..codec import MAX_REGISTRATIONS
from ..recorder.backoff import Backoff
from ..recorder.client import DEFAULT_REST_URL, DEFAULT_URL, Recorder, RecorderError, RecorderSettings, recording_header
from ..recorder.credentials import Credentials, CredentialsError
from ..recorder.rolling import OutputError, OutputTarget, RollingArchive
from ..recorder.rotation import RotationPolicy, parse_duration, parse_rotation, until_deadline
from ..recorder.status import RecorderStatus, log_line, terminal_line
from ..recorder.subscriptions import SubscriptionError, check_subscriptions, parse_subscription, read_subscriptions_file
from .shell import fail, isatty, parsed_by

log = logging.getLogger("kis_replay.recorder")


_duration = parsed_by(parse_duration)
_rotation = parsed_by(parse_rotation)


class _Scrubbing(logging.Filter):
    """Last line of defence: no log line leaves with a secret in it, whatever code produced it."""

    def __init__(self, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = self.scrub(message), ()
        if record.exc_info:  # tracebacks are not scrubbable piecemeal: keep the one line
            record.msg += f" ({record.exc_info[1]!r})"
            record.exc_info, record.exc_text = None, None
        return True


class _LineClearingFormatter(logging.Formatter):
    """On a terminal, a log line first erases the status line it would otherwise run into."""

    def format(self, record: logging.LogRecord) -> str:
        return "\r\x1b[K" + super().format(record)


def _setup_logging(stream: TextIO, tty: bool, scrub: Callable[[str], str]) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    fmt, datefmt = "%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"
    handler.setFormatter(_LineClearingFormatter(fmt, datefmt) if tty else logging.Formatter(fmt, datefmt))
    handler.addFilter(_Scrubbing(scrub))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return handler


async def _report(status: RecorderStatus, stream: TextIO, tty: bool, every: float) -> None:
    """The live status: redrawn every second on a terminal, one log line per ``every`` otherwise."""
    interval = 1.0 if tty else every
    before = status.snapshot(time.monotonic_ns())
    while True:
        await asyncio.sleep(interval)
        now = status.snapshot(time.monotonic_ns())
        if tty:
            stream.write("\r\x1b[K" + terminal_line(status, before, now))
            stream.flush()
        else:
            log.info("%s", log_line(status, before, now))
        before = now


async def _record(recorder: Recorder, stream: TextIO, tty: bool, status_every: float) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, recorder.stop)
    reporter = asyncio.create_task(_report(recorder.status, stream, tty, status_every))
    try:
        await recorder.run()
    finally:
        reporter.cancel()
        await asyncio.gather(reporter, return_exceptions=True)
        if tty:
            stream.write("\r\x1b[K")
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


@click.command()
@click.option("-s", "--subscribe", "subscribe", multiple=True, metavar="TR_ID:TR_KEY",
              help="Register a TR for an instrument, e.g. H0ZFASP0:111V06. Repeatable; "
                   f"at most {MAX_REGISTRATIONS} in all.")
@click.option("--subscriptions", "subscriptions_file", type=click.Path(dir_okay=False),
              help="File of TR_ID:TR_KEY registrations (one or more a line, # comments).")
@click.option("-o", "--output", required=True, metavar="DIR_OR_FILE",
              help="A directory (existing, or ending in /) for time-named files, or one new file.")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="The real-time WebSocket service.")
@click.option("--rest-url", default=DEFAULT_REST_URL, show_default=True,
              help="The REST service that issues approval keys (used with KIS_APP_KEY/KIS_APP_SECRET).")
@click.option("--duration", callback=_duration, metavar="TIME", help="Stop after this long (6h, 90m, 30s).")
@click.option("--until", "until", metavar="HH:MM", help="Stop at this KST time of day (the next one to come).")
@click.option("--rotate", callback=_rotation, metavar="TIME|SIZE",
              help="Start a new file every TIME (1h, cut on KST boundaries) or at SIZE (512MB). Needs -o DIR.")
@click.option("--flush-interval", default="1s", show_default=True, callback=_duration, metavar="TIME",
              help="Longest time a received frame stays in memory: at most this much is lost on a crash.")
@click.option("--custtype", type=click.Choice(["P", "B"]), default="P", show_default=True,
              help="P: individual, B: corporate customer.")
@click.option("--env-file", type=click.Path(dir_okay=False),
              help="Read KIS_APPROVAL_KEY or KIS_APP_KEY/KIS_APP_SECRET from this NAME=value file.")
@click.option("--max-backoff", default="60s", show_default=True, callback=_duration, metavar="TIME",
              help="Longest wait between reconnect attempts.")
@click.option("--min-reconnect-interval", default="5s", show_default=True, callback=_duration, metavar="TIME",
              help="Shortest time between two connection attempts (KIS blocks keys that reconnect in a loop).")
@click.option("--status-interval", default="60s", callback=_duration, hidden=True,
              help="Seconds between status log lines when stderr is not a terminal.")
def record(
    subscribe: tuple[str, ...],
    subscriptions_file: str | None,
    output: str,
    url: str,
    rest_url: str,
    duration: float | None,
    until: str | None,
    rotate: RotationPolicy | None,
    flush_interval: float,
    custtype: str,
    env_file: str | None,
    max_backoff: float,
    min_reconnect_interval: float,
    status_interval: float,
) -> None:
    """Record a live KIS real-time session into .kisrec.zst archives.

    \b
    Credentials (environment or --env-file, never options):
      KIS_APPROVAL_KEY                 a WebSocket approval key, or
      KIS_APP_KEY + KIS_APP_SECRET     to request one (and a fresh one if it is refused later)

    SIGINT/SIGTERM end the recording cleanly (exit 0). A killed recorder loses at most --flush-interval.
    """
    try:
        subs = [parse_subscription(text, where="--subscribe") for text in subscribe]
        if subscriptions_file is not None:
            subs += read_subscriptions_file(subscriptions_file)
        subs, warnings = check_subscriptions(subs)
    except SubscriptionError as exc:
        raise fail(str(exc)) from None
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if duration is not None and until is not None:
        raise click.UsageError("give --duration or --until, not both")
    stop_after = duration
    if until is not None:
        try:
            deadline = until_deadline(dt.datetime.now(dt.UTC), until)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--until") from None
        stop_after = (deadline - dt.datetime.now(dt.UTC)).total_seconds()
    if flush_interval is None or flush_interval <= 0:
        raise click.BadParameter("must be more than 0", param_hint="--flush-interval")
    if not url.startswith(("ws://", "wss://")):
        raise click.BadParameter(f"{url!r} is not a ws:// or wss:// URL", param_hint="--url")
    try:
        backoff = Backoff(initial=min(1.0, max_backoff or 1.0), maximum=max_backoff or 1.0,
                          min_interval=min_reconnect_interval or 0.0)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-backoff/--min-reconnect-interval") from None
    try:
        credentials = Credentials.load(env_file=env_file)
    except CredentialsError as exc:
        raise fail(str(exc)) from None
    try:
        target = OutputTarget.parse(output, rotating=rotate is not None)
        target.prepare()
    except OutputError as exc:
        raise fail(str(exc)) from None

    settings = RecorderSettings(
        url=url, subscriptions=tuple(subs), rest_url=rest_url, custtype=custtype,
        flush_interval=flush_interval, stop_after=stop_after,
    )
    archive = RollingArchive(target, lambda: recording_header(settings), rotation=rotate,
                             flush_interval=flush_interval)
    recorder = Recorder(settings, credentials, archive, backoff=backoff)
    stream = sys.stderr
    tty = isatty(stream)
    handler = _setup_logging(stream, tty, lambda text: recorder.credentials.scrub(text))
    log.info("recording %d registrations from %s into %s", len(subs), url, output)
    failure: str | None = None
    try:
        asyncio.run(_record(recorder, stream, tty, status_interval or 60.0))
    except RecorderError as exc:
        failure = recorder.credentials.scrub(str(exc))
    finally:
        status = recorder.status
        log.info("wrote %d frames in %d file(s), %d bytes, %d gap(s)", status.frames_total, len(archive.paths),
                 status.file_bytes, status.gaps)
        log.removeHandler(handler)
    for path in archive.paths:
        click.echo(str(path))
    if failure is not None:
        raise fail(failure)
