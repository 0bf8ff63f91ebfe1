"""``kis-replay ARCHIVE …`` in a real subprocess: prints the URL, serves real clients, stops on SIGINT/SIGTERM
with close 1000 and exit 0; every user error is one ``Error:`` line, never a traceback."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from kis_replay.archive import ArchiveHeader, ArchiveWriter, Direction, RecordKind
from kis_replay.codec import SubscribeRequest, parse_reply

TIMEOUT = 15.0
KST = dt.timezone(dt.timedelta(hours=9))
T0 = int(dt.datetime(2026, 11, 24, 9, 0, tzinfo=KST).timestamp()) * 1_000_000_000
MS = 1_000_000
KEYS = ("111V06", "112V06")


def quote(key: str, i: int) -> str:
    return "0|H0ZFASP0|001|" + "^".join([key, f"0900{i // 100:02d}", *(str(79_000 + i) for _ in range(66))])


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """200 quotes, 10 ms apart from 09:00:00 KST, alternating two instruments."""
    path = tmp_path_factory.mktemp("replay") / "session.kisrec.zst"
    header = ArchiveHeader(source="test", subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": k} for k in KEYS],
                           filtered=True)
    with ArchiveWriter(path, header) as writer:
        for i in range(200):
            wall = T0 + i * 10 * MS
            writer.write(RecordKind.DATA, quote(KEYS[i % 2], i), direction=Direction.SERVER_TO_CLIENT,
                         wall_ns=wall, mono_ns=wall - T0)
    return path


class Cli:
    """A ``kis-replay`` subprocess whose stdout lines are read as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    @classmethod
    async def start(cls, *args: str) -> Cli:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kis_replay", *args, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env)
        return cls(proc)

    async def line(self) -> str:
        assert self.proc.stdout is not None
        async with asyncio.timeout(TIMEOUT):
            raw = await self.proc.stdout.readline()
        assert raw, f"kis-replay ended: {(await self.proc.stderr.read()).decode()}"  # type: ignore[union-attr]
        text = raw.decode().rstrip("\n")
        self.lines.append(text)
        return text

    async def url(self) -> str:
        text = await self.line()
        if text.startswith("{"):
            event = json.loads(text)
            assert event["event"] == "listening"
            return event["url"]
        assert text.startswith("kis-replay: serving "), text
        return text.split(" at ")[1].split()[0]

    async def finish(self, signum: int = signal.SIGINT) -> tuple[int, str, str]:
        if self.proc.returncode is None:
            self.proc.send_signal(signum)
        async with asyncio.timeout(TIMEOUT):
            out, err = await self.proc.communicate()
        return self.proc.returncode, "\n".join(self.lines) + out.decode(), err.decode()


def sub(key: str, approval: str = "k") -> str:
    return SubscribeRequest("H0ZFASP0", key, approval_key=approval).to_json()


async def frames_until_close(ws) -> list[str]:
    got = []
    async with asyncio.timeout(TIMEOUT):
        try:
            async for message in ws:
                if message[:1] == "0":
                    got.append(message)
        except ConnectionClosed:
            pass
    return got


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_serves_then_a_signal_closes_clients_with_1000_and_exits_0(archive, signum):
    cli = await Cli.start(str(archive), "--port", "0", "--speed", "max", "--on-end", "idle")
    try:
        url = await cli.url()
        assert url.startswith("ws://127.0.0.1:") and not url.endswith(":0")
        async with connect(url + "/tryitout") as ws:
            await ws.send(sub("111V06"))
            assert parse_reply(await asyncio.wait_for(ws.recv(), TIMEOUT)).ok
            got = []
            async with asyncio.timeout(TIMEOUT):
                while len(got) < 100:
                    got.append(await ws.recv())
            assert got == [quote(KEYS[i % 2], i) for i in range(0, 200, 2)]
            code, out, err = await cli.finish(signum)
            assert out.startswith("kis-replay: serving ")
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert ws.close_code == 1000
    finally:
        if cli.proc.returncode is None:
            cli.proc.kill()
            await cli.proc.wait()
    assert code == 0, err
    assert "Traceback" not in err
    assert "client 1 subscribed H0ZFASP0 111V06" in err
    assert "stopped: 100 frames sent" in err


async def test_json_log_and_the_end_of_the_archive(archive):
    cli = await Cli.start(str(archive), "--port", "0", "--speed", "max", "--json-log", "--only", "H0ZFASP0:112V06")
    try:
        url = await cli.url()
        async with connect(url) as ws:
            await ws.send(sub("112V06"))
            await ws.send(sub("111V06"))  # acked, but --only leaves it no data
            got = await frames_until_close(ws)
            assert ws.close_code == 1000 and ws.close_reason == "end of archive"
        assert got == [quote("112V06", i) for i in range(1, 200, 2)]
        events = []
        while not any(e["event"] == "disconnected" for e in events):
            events.append(json.loads(await cli.line()))
    finally:
        code, _, err = await cli.finish()
    assert code == 0, err
    kinds = [e["event"] for e in events]
    assert kinds[:3] == ["connected", "subscribe", "subscribe"]
    assert {"no_data", "end", "disconnected"} <= set(kinds)
    assert all("time" in e for e in events)
    no_data = next(e for e in events if e["event"] == "no_data")
    assert no_data["message"] == "no data for H0ZFASP0 111V06 in this archive"
    assert next(e for e in events if e["event"] == "disconnected")["frames_sent"] == 100


async def test_from_to_bound_the_replay_in_session_time(archive):
    cli = await Cli.start(str(archive), "--port", "0", "--speed", "max", "--quiet",
                          "--from", "09:00:00.500", "--to", "09:00:01")
    try:
        url = await cli.url()
        async with connect(url) as ws:
            await ws.send(sub("111V06"))
            got = await frames_until_close(ws)
    finally:
        code, _, err = await cli.finish()
    assert got == [quote("111V06", i) for i in range(50, 100, 2)]
    assert code == 0 and err == ""  # --quiet: nothing but the URL


async def test_no_argument_serves_the_bundled_sample():
    from kis_replay import fixtures
    from kis_replay.fake_server import Feed
    from kis_replay.replayer import ReplayOptions

    feed = Feed.from_archive(fixtures.path(), ReplayOptions(speed=None))
    route = sorted(feed.catalog.routes)[0]
    expected = [e.text for e in feed.timeline() if (e.tr_id, e.tr_key) == route]
    assert expected, "the sample session has frames"
    cli = await Cli.start("--port", "0", "--speed", "max")
    try:
        url = await cli.url()
        assert "sample.kisrec.zst" in cli.lines[0]
        async with connect(url) as ws:
            await ws.send(SubscribeRequest(*route, approval_key="k").to_json())
            got = await frames_until_close(ws)
    finally:
        code, _, err = await cli.finish()
    assert got == expected
    assert code == 0, err


def test_a_missing_archive_is_one_error_line_and_exit_1(tmp_path):
    import subprocess

    done = subprocess.run([sys.executable, "-m", "kis_replay", str(tmp_path / "missing.kisrec.zst")],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: {tmp_path / 'missing.kisrec.zst'}: no such archive file"


def test_user_errors_are_one_line_never_a_traceback(tmp_path, archive):
    from click.testing import CliRunner

    from kis_replay.cli import cli

    not_archive = tmp_path / "notes.kisrec.zst"
    not_archive.write_bytes(b"hello, not zstd")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        cases = [
            ((str(not_archive), "--port", "0"), "notes.kisrec.zst"),
            ((str(tmp_path), "--port", "0"), "not a file"),
            ((str(archive), "--port", "0", "--speed", "fast"), "speed 'fast' is not a number or 'max'"),
            ((str(archive), "--port", "0", "--speed", "-1"), "positive"),
            ((str(archive), "--port", "0", "--from", "25:00"), "--from '25:00'"),
            ((str(archive), "--port", "0", "--from", "09:00:01", "--to", "09:00:00.5"), "is not after --from"),
            ((str(archive), "--port", "0", "--only", "H0ZFASP0:"), "only 'H0ZFASP0:'"),
            ((str(archive), "--port", "0", "--clock", "solar"), "'solar' is not one of"),
            ((str(archive), "--port", str(busy.getsockname()[1])), "cannot listen on 127.0.0.1:"),
        ]
        for args, message in cases:
            result = CliRunner().invoke(cli, list(args))
            assert result.exit_code != 0, args
            assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
            assert "Error" in result.output and message in result.output, (args, result.output)
    finally:
        busy.close()
