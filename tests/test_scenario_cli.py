"""``kis-replay scenarios`` and ``kis-replay ARCHIVE --scenario …`` in real subprocesses: listing, checking,
bad files rejected with file and line before the server starts, and faults in the JSON log."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from kis_replay.archive import ArchiveHeader, ArchiveWriter, Direction, RecordKind
from kis_replay.codec import SubscribeRequest, parse_reply
from kis_replay.scenarios import builtin_names, parse_scenario

TIMEOUT = 15.0
KST = dt.timezone(dt.timedelta(hours=9))
T0 = int(dt.datetime(2026, 11, 24, 9, 0, tzinfo=KST).timestamp()) * 1_000_000_000
MS = 1_000_000
KEYS = ("111V06", "112V06")


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """200 quotes, 10 ms apart from 09:00:00 KST, alternating two instruments."""
    path = tmp_path_factory.mktemp("scenario-cli") / "session.kisrec.zst"
    header = ArchiveHeader(source="test", subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": k} for k in KEYS],
                           filtered=True)
    with ArchiveWriter(path, header) as writer:
        for i in range(200):
            wall = T0 + i * 10 * MS
            text = "0|H0ZFASP0|001|" + "^".join([KEYS[i % 2], "090000", *(str(79_000 + i) for _ in range(66))])
            writer.write(RecordKind.DATA, text, direction=Direction.SERVER_TO_CLIENT, wall_ns=wall, mono_ns=wall - T0)
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kis_replay", *args], capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def test_scenarios_lists_every_builtin_with_its_description():
    result = cli("scenarios")
    assert result.returncode == 0, result.stderr
    for name in builtin_names():
        assert any(line.startswith(name + " ") for line in result.stdout.splitlines()), name
    assert "the opening flood" in result.stdout


def test_show_prints_a_builtin_that_parses_and_check_lists_steps(tmp_path: Path):
    shown = cli("scenarios", "--show", "flaky-network")
    assert shown.returncode == 0
    copy = tmp_path / "mine.toml"
    copy.write_text(shown.stdout)
    assert [s.type for s in parse_scenario(shown.stdout).steps][-1] == "disconnect"
    checked = cli("scenarios", "--check", str(copy))
    assert checked.returncode == 0 and "5 step(s)" in checked.stdout and "disconnect line 22" in checked.stdout


def test_a_bad_scenario_file_fails_before_the_server_starts_with_file_and_line(archive: Path, tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n\n[[step]]\ntype = "disconnect"\nafter = "1s"\ncode = 1006\n')
    for args in (("scenarios", "--check", str(bad)), (str(archive), "--port", "0", "--scenario", str(bad))):
        result = cli(*args)
        assert result.returncode == 1
        assert f"{bad}:6: step 1 (disconnect): close code 1006 cannot be sent" in result.stderr
        assert "Traceback" not in result.stderr and "listening" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--scenario", "open-bust"), "no built-in scenario 'open-bust' and no such file; built-ins: "),
        (("--scenario", "nowhere/x.toml"), "nowhere/x.toml: no such scenario file"),
        (("--scenario", "open-burst", "--clock", "shared"), "--scenario needs --clock per-client"),
        (("--seed", "3"), "--seed seeds a scenario's random steps: give --scenario too"),
    ],
)
def test_scenario_option_errors(archive: Path, args, needle):
    result = cli(str(archive), "--port", "0", *args)
    assert result.returncode != 0 and needle in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


async def test_faults_are_json_log_lines_a_bot_test_can_assert_on(archive: Path, tmp_path: Path):
    scenario = tmp_path / "cut.toml"
    scenario.write_text('[[step]]\ntype = "disconnect"\nat = 09:00:00.5\ncode = 1011\nreason = "cut"\n'
                        'refuse = "1s"\n')
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kis_replay", str(archive), "--port", "0", "--speed", "2", "--json-log",
        "--scenario", str(scenario), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    try:
        async def event(kind: str) -> dict:
            async with asyncio.timeout(TIMEOUT):
                while True:
                    line = await proc.stdout.readline()
                    assert line, (await proc.stderr.read()).decode()  # type: ignore[union-attr]
                    record = json.loads(line)
                    if record["event"] == kind:
                        return record

        url = (await event("listening"))["url"]
        frames = 0
        async with connect(url) as ws:
            for key in KEYS:
                await ws.send(SubscribeRequest("H0ZFASP0", key, approval_key="k").to_json())
                assert parse_reply(await ws.recv()).msg_cd == "OPSP0000"
            async with asyncio.timeout(TIMEOUT):
                try:
                    async for message in ws:
                        frames += message[:1] == "0"
                except ConnectionClosed:
                    pass
            assert (ws.close_code, ws.close_reason) == (1011, "cut")
        fault = await event("fault")
        assert frames == 50
        assert {k: fault[k] for k in ("client", "step", "type", "line", "session_time", "scenario", "what")} == {
            "client": 1, "step": 1, "type": "disconnect", "line": 1, "session_time": "09:00:00.500",
            "scenario": "cut", "what": "close 1011 'cut'; refusing new connections for 1s"}
        assert "time" in fault
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(TIMEOUT):
            await proc.wait()
    assert proc.returncode == 0
