"""``kis-replay [ARCHIVE] [options]``: serve an archive as a fake KIS real-time server.

A thin shell over :class:`~kis_replay.fake_server.FakeKisServer`: parse the options into
:class:`~kis_replay.replayer.ReplayOptions`, start the server, print the URL once it listens, show what
happens (a live status line on a terminal, one line per event otherwise, or JSON lines for CI), and on
Ctrl-C / SIGTERM close every client with 1000 and exit 0. Everything the user can get wrong (a missing or
damaged archive, a bad time, a busy port) is one ``Error:`` line with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import signal
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import click

from ..archive import ArchiveError, ArchiveReader, ArchiveWarning, format_session_time, session_window
from ..replayer import FILTER_MODES, ReplayOptionError, ReplayOptions, parse_only, parse_speed
from .shell import fail, isatty

__all__ = ["replay"]

_TIME = "HH:MM:SS[.fff]"
_STATUS_INTERVAL = 0.5


def _archive_path(archive: str | None) -> Path:
    if archive is not None:
        path = Path(archive)
        if not path.is_file():
            raise fail(f"{archive}: no such archive file" if not path.exists() else f"{archive}: not a file")
        return path
    from .. import fixtures

    try:
        return fixtures.path()
    except FileNotFoundError as exc:
        raise fail(f"no ARCHIVE given and no bundled sample session: {exc}") from None


def _window(path: Path, start: str | None, end: str | None) -> tuple[int | None, int | None, str]:
    """``--from``/``--to`` (KST session times of day) as UTC ns on the archive's session day, and its timezone."""
    with ArchiveReader(path) as reader:
        tz = reader.header.timezone
        first = reader.first_wall_ns
    try:
        start_ns, end_ns = session_window(first, start, end, tz, names=("--from", "--to"))
    except ValueError as exc:
        raise fail(str(exc)) from None
    return start_ns, end_ns, tz


class EventLog:
    """Shows the server's events: JSON lines (``--json-log``), readable lines, or nothing (``--quiet``),
    and on a terminal a status line kept at the bottom."""

    def __init__(self, mode: str, tz: str, out: TextIO, err: TextIO) -> None:
        self.mode = mode  # "json" | "text" | "quiet"
        self.tz = tz
        self.out = out
        self.err = err
        self.status_shown = False

    def __call__(self, event: dict[str, Any]) -> None:
        if self.mode == "json":
            stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")
            self.out.write(json.dumps({"time": stamp, **event}, ensure_ascii=False, default=str) + "\n")
            self.out.flush()
            return
        if event["event"] == "listening":
            speed = event["speed"] if event["speed"] == "max" else f"{event['speed']:g}x"
            self.out.write(f"kis-replay: serving {event['archive']} at {event['url']} "
                           f"(speed {speed}, {event['clock']} clock)\n")
            if event.get("routes"):  # what a newcomer can subscribe to
                self.out.write(f"kis-replay: instruments (TR:tr_key): {', '.join(event['routes'])}\n")
            self.out.flush()
            return
        if self.mode == "quiet" and event["event"] not in ("error", "warning"):
            return
        self.line(_describe(event))

    def line(self, text: str) -> None:
        if self.status_shown:
            self.err.write("\r\x1b[K")
            self.status_shown = False
        self.err.write(f"{_dt.datetime.now():%H:%M:%S} {text}\n")
        self.err.flush()

    def status(self, text: str) -> None:
        self.err.write("\r\x1b[K" + text)
        self.err.flush()
        self.status_shown = True

    def end_status(self) -> None:
        if self.status_shown:
            self.err.write("\n")
            self.err.flush()
            self.status_shown = False


def _describe(event: dict[str, Any]) -> str:
    """One readable line for an event dict."""
    kind = event["event"]
    who = f"client {event['client']}" if "client" in event else "replay"
    if kind == "connected":
        return f"{who} connected from {event['peer']} ({event['path']})"
    if kind == "subscribe":
        extra = " (encrypted)" if event.get("encrypted") else ""
        return f"{who} subscribed {event['tr_id']} {event['tr_key']}{extra}"
    if kind == "no_data":
        return f"{who}: {event['message']}"
    if kind == "unsubscribe":
        return f"{who} unsubscribed {event['tr_id']} {event['tr_key']}"
    if kind == "refused":
        route = " ".join(x for x in (event.get("tr_id"), event.get("tr_key")) if x and x != "(null)")
        return f"{who}: {event['msg_cd']} {route + ': ' if route else ''}{event['problem']}"
    if kind == "kick":
        return f"{who} disconnected by the server: {event['code']} {event['reason']}"
    if kind == "disconnected":
        reason = f" {event['reason']}" if event.get("reason") else ""
        return (f"{who} disconnected ({event['code']}{reason}, closed by {event['by']}), "
                f"{event['frames_sent']:,} frames sent")
    if kind == "end":
        return f"{who}: end of archive ({event['frames_sent']:,} frames)"
    if kind == "stopped":
        return f"stopped: {event['frames_sent']:,} frames sent"
    if kind == "fault":
        when = f" at {event['session_time']}" if event.get("session_time") else ""
        return f"{who}: scenario {event['scenario']} step {event['step']} ({event['type']}){when}: {event['what']}"
    if kind == "refused_connection":
        return f"connection to {event['path']} refused (HTTP 503): {event['reason']}"
    if kind in ("error", "warning"):
        return f"{kind}: {event.get('problem') or event.get('message')}"
    return json.dumps(event, default=str)


def _scenario_run(name: str | None, seed: int | None, path: Path, clock: str) -> Any:
    """``--scenario``, loaded and checked before the server starts (a bad file: its path, line and step)."""
    if name is None:
        if seed is not None:
            raise fail("--seed seeds a scenario's random steps: give --scenario too")
        return None
    from ..scenarios import ScenarioError, ScenarioRun, resolve_scenario

    if clock != "per-client":
        raise fail("--scenario needs --clock per-client: its steps apply to each connection's own replay")
    try:
        return ScenarioRun.prepare(resolve_scenario(name), path, seed)
    except ScenarioError as exc:
        raise fail(f"--scenario: {exc}") from None


def _status_text(server: Any, tz: str) -> str:
    s = server.status()
    replay = "-" if s.replay_ns is None else f"+{_duration(s.replay_ns)}"
    zone = "KST" if tz == "Asia/Seoul" else tz
    session = "-" if s.session_wall_ns is None else f"{format_session_time(s.session_wall_ns, tz)} {zone}"
    lag = "-" if s.lag is None else f"{max(s.lag, 0.0) * 1000:.0f} ms"
    return (f"clients {s.clients} | subscriptions {s.subscriptions} | frames {s.frames_sent:,} | "
            f"replay {replay} | session {session} | lag {lag} | buffered {s.buffered:,}")


def _duration(ns: int) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{rest // 100_000_000}"


async def _serve(server: Any, log: EventLog, show_status: bool) -> None:
    """Run ``server`` until SIGINT or SIGTERM, then close every client with 1000."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.start()
    except OSError as exc:
        raise fail(f"cannot listen on {server.host}:{server.port}: {exc.strerror or exc}") from None
    try:
        while not stop.is_set():
            if show_status:
                log.status(_status_text(server, log.tz))
            try:
                async with asyncio.timeout(_STATUS_INTERVAL if show_status else None):
                    await stop.wait()
            except TimeoutError:
                pass
    finally:
        log.end_status()
        await server.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _warning_hook(log: EventLog) -> Callable[..., None]:
    """Archive damage met while replaying becomes a logged ``warning`` event, not a Python warning dump."""
    original = warnings.showwarning

    seen: set[str] = set()  # every client's replay reads the archive again: report each damage once

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if isinstance(message, ArchiveWarning):
            if str(message) not in seen:
                seen.add(str(message))
                log({"event": "warning", "message": str(message)})
        else:
            original(message, category, *args, **kwargs)

    return show


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("archive", required=False, metavar="[ARCHIVE]")
@click.option("--speed", default="1", show_default=True, metavar="1|10|…|max",
              help="Session seconds per wall second; max: as fast as each client reads.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=21000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port; the URL printed says which).")
@click.option("--from", "start", metavar=_TIME, help="Start at this session time (KST).")
@click.option("--to", "end", metavar=_TIME, help="Stop before this session time (KST).")
@click.option("--only", multiple=True, metavar="TR[:KEY]",
              help="Serve only this TR, or this TR's instrument (repeatable).")
@click.option("--loop", is_flag=True, help="Start over at the end of the archive.")
@click.option("--clock", type=click.Choice(["per-client", "shared"]), default="per-client", show_default=True,
              help="per-client: each client's replay starts at its first subscription; "
                   "shared: one market clock from server start.")
@click.option("--filter", "filter_mode", type=click.Choice(FILTER_MODES), default="auto", show_default=True,
              help="KIS's 0.2 s quote filter: auto (only for unfiltered sources), 0.2 (always), off.")
@click.option("--approval-key", metavar="KEY", help="Accept only this approval key (OPSP0011 otherwise).")
@click.option("--allow-shared-key", is_flag=True,
              help="Let several sessions use one approval key at once (no OPSP8996).")
@click.option("--on-end", type=click.Choice(["close", "idle"]), default="close", show_default=True,
              help="At the end of the archive: close clients (1000) or keep them open.")
@click.option("--ping-interval", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds of idleness before a PINGPONG (0: never).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the URL and errors.")
@click.option("--json-log", is_flag=True, help="One JSON object per event on stdout (for CI).")
@click.option("--scenario", metavar="NAME|FILE.toml",
              help="Apply a burst/fault scenario: a built-in name (see `kis-replay scenarios`) or a TOML file.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the scenario's random steps (default: its own).")
def replay(archive: str | None, speed: str, host: str, port: int, start: str | None, end: str | None,
           only: tuple[str, ...], loop: bool, clock: str, filter_mode: str, approval_key: str | None,
           allow_shared_key: bool, on_end: str, ping_interval: float, quiet: bool, json_log: bool,
           scenario: str | None = None, seed: int | None = None) -> None:
    """Serve ARCHIVE (default: the bundled sample session) as a fake KIS real-time WebSocket server.

    Bots connect to the printed URL (any path) and subscribe as they would to KIS; each gets the
    recorded frames of what it subscribed, paced by --speed. Ctrl-C stops (clients get close 1000).
    """
    from ..fake_server import FakeKisServer

    try:
        speed_value = parse_speed(speed)
        routes = frozenset(parse_only(item) for item in only)
    except ReplayOptionError as exc:
        raise click.BadParameter(str(exc)) from None
    path = _archive_path(archive)
    run = _scenario_run(scenario, seed, path, clock)
    log = EventLog("json" if json_log else "quiet" if quiet else "text", "Asia/Seoul", sys.stdout, sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("always", ArchiveWarning)
        warnings.showwarning = _warning_hook(log)
        try:
            start_ns, end_ns, log.tz = _window(path, start, end)
            options = ReplayOptions(speed=speed_value, start_ns=start_ns, end_ns=end_ns, only=routes,
                                    filter=filter_mode, loop=loop)
            server = FakeKisServer(path, options, host=host, port=port, clock=clock,  # type: ignore[arg-type]
                                   on_end=on_end, approval_key=approval_key,  # type: ignore[arg-type]
                                   allow_shared_key=allow_shared_key, ping_interval=ping_interval or None,
                                   on_event=log, scenario=run)
        except (ArchiveError, ReplayOptionError) as exc:
            raise fail(str(exc)) from None
        except OSError as exc:
            raise fail(f"{path}: {exc.strerror or exc}") from None
        show_status = log.mode == "text" and isatty(sys.stderr)
        asyncio.run(_serve(server, log, show_status))
