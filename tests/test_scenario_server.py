"""Every scenario step against the real FakeKisServer and real websockets clients on 127.0.0.1.

The archive is a real ``.kisrec.zst`` on disk: 300 H0ZFASP0 quotes, 10 ms apart, two instruments, from
09:00:00 KST. What the client receives is checked against that timeline transformed by the same
:class:`ScenarioRun` (the pure part is tested in ``test_scenario_transforms.py``), and against the server's
fault log. Timing checks are loose (the machine is shared): they only tell a burst or a stall from
ordinary pacing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from kis_replay.archive import ArchiveHeader, ArchiveWriter, Direction, RecordKind
from kis_replay.codec import FrameError, SubscribeRequest, parse_frame, parse_reply
from kis_replay.fake_server import FakeKisServer
from kis_replay.replayer import ReplayOptions
from kis_replay.scenarios import ScenarioRun, builtin_names, load_builtin, parse_scenario
from kis_replay.scenarios.malformed import UNKNOWN_TR

TIMEOUT = 15.0
MS = 1_000_000
KST = dt.timezone(dt.timedelta(hours=9))
T0 = int(dt.datetime(2026, 11, 24, 9, 0, tzinfo=KST).timestamp()) * 1_000_000_000
KEYS = ("111V06", "112V06")
N = 300


def quote(key: str, i: int) -> str:
    fields = [key, f"0900{i // 100:02d}", *(str(79_000 + i) for _ in range(20)), *(str(i % 50 + 1) for _ in range(46))]
    return "0|H0ZFASP0|001|" + "^".join(fields)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "session.kisrec.zst"
    header = ArchiveHeader(source="test", subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": k} for k in KEYS],
                           filtered=True)
    with ArchiveWriter(path, header) as writer:
        for i in range(N):
            wall = T0 + i * 10 * MS
            writer.write(RecordKind.DATA, quote(KEYS[i % 2], i), direction=Direction.SERVER_TO_CLIENT,
                         wall_ns=wall, mono_ns=wall - T0)
    return path


def scenario(text: str):
    return parse_scenario(text, "test.toml")


def serve(archive: Path, text_or_scenario, speed: float | None = 1.0, **kwargs) -> FakeKisServer:
    sc = scenario(text_or_scenario) if isinstance(text_or_scenario, str) else text_or_scenario
    kwargs.setdefault("settle", 0.05)
    return FakeKisServer(archive, ReplayOptions(speed=speed, filter="off"), scenario=sc, **kwargs)


def sub(key: str = "111V06", approval: str = "k") -> str:
    return SubscribeRequest("H0ZFASP0", key, approval_key=approval).to_json()


async def subscribe(ws: ClientConnection, *keys: str) -> None:
    for key in keys or KEYS:
        await ws.send(sub(key))
        reply = parse_reply(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert reply.msg_cd == "OPSP0000", reply


async def receive_all(ws: ClientConnection) -> list[tuple[float, str | bytes]]:
    """(arrival time, message) until the server closes; PINGPONG included."""
    got = []
    async with asyncio.timeout(TIMEOUT):
        try:
            async for message in ws:
                got.append((time.monotonic(), message))
        except ConnectionClosed:
            pass
    return got


def frames(got) -> list[str]:
    return [m for _, m in got if isinstance(m, str) and m[:1] in ("0", "1")]


def expected(srv: FakeKisServer, archive: Path, client: int = 1) -> list[str]:
    """What the client should get: the server's own timeline, through a fresh run of the same scenario."""
    from kis_replay.fake_server import Feed

    feed = Feed.from_archive(archive, srv.options)
    run = ScenarioRun.prepare(srv.scenario.scenario, archive)
    return [item.text for item in run.transform(feed.timeline(), client) if hasattr(item, "text")]


# -- frame steps ----------------------------------------------------------------------------------------------


async def test_burst_window_arrives_compressed(archive):
    text = '[[step]]\ntype = "burst"\nat = 09:00:00.5\nwindow = "2s"\nwithin = "100ms"\n'
    async with serve(archive, text, speed=2) as srv, connect(srv.url) as ws:
        await subscribe(ws)
        got = await receive_all(ws)
    assert frames(got) == expected(srv, archive) and len(frames(got)) == N
    window = [(t, m) for t, m in got
              if isinstance(m, str) and m[:1] == "0" and 50 <= int(m.split("^")[2]) - 79_000 < 250]
    assert len(window) == 200
    assert window[-1][0] - window[0][0] < 0.5  # 2 s of session at speed 2, sent within ~0.05 s
    (fault,) = srv.faults
    assert fault["what"] == "burst: 200 frames of 2s sent within 100ms"
    assert fault["session_time"] == "09:00:00.500" and fault["client"] == 1 and fault["line"] == 1


async def test_burst_injects_synthetic_frames_to_subscribers(archive):
    text = ('[[step]]\ntype = "burst"\nafter = "1s"\ncount = 40\nwithin = "50ms"\n'
            'instruments = ["H0ZFASP0:111V06", "H0ZFASP0:113V06"]\n')
    async with serve(archive, text, speed=None) as srv, connect(srv.url) as ws:
        await subscribe(ws, "111V06")
        got = frames(await receive_all(ws))
    archived = {quote(k, i) for i, k in enumerate(KEYS[i % 2] for i in range(N))}
    injected = [f for f in got if f not in archived]
    assert len(injected) == 20  # 113V06's 20 are not routed to a client that did not subscribe it
    assert all(parse_frame(f).tr_key == "111V06" and parse_frame(f).records[0].valid for f in injected)
    assert len(got) == N // 2 + 20
    assert got == [f for f in expected(srv, archive) if f.split("^")[0].endswith("111V06")]


@pytest.mark.parametrize("step", ["drop", "duplicate", "reorder"])
async def test_random_frame_faults_are_the_seeded_transform_and_repeat_exactly(archive, step):
    text = f'seed = 11\n[[step]]\ntype = "{step}"\nprobability = 0.1\n'
    runs = []
    for _ in range(2):
        async with serve(archive, text, speed=None) as srv, connect(srv.url) as ws:
            await subscribe(ws)
            got = frames(await receive_all(ws))
        assert got == expected(srv, archive)
        assert 5 < len(srv.faults) < 60
        runs.append((got, srv.faults))
    assert runs[0] == runs[1]
    assert runs[0][0] != [quote(KEYS[i % 2], i) for i in range(N)]


async def test_latency_delays_the_first_frame(archive):
    async with serve(archive, '[[step]]\ntype = "latency"\ndelay = "1.8s"\n', speed=3) as srv, \
            connect(srv.url) as ws:
        await subscribe(ws, "111V06")
        acked = time.monotonic()
        got = await receive_all(ws)
    first = next(t for t, m in got if isinstance(m, str) and m[:1] == "0")
    assert first - acked >= 0.6  # 1.8 s of session at speed 3
    assert frames(got) == [quote("111V06", i) for i in range(0, N, 2)]
    assert [f["what"] for f in srv.faults] == ["latency 1.8s begins"]


@pytest.mark.parametrize("pingpong", [True, False])
async def test_stall_sends_nothing_and_pingpong_goes_on_or_stops(archive, pingpong):
    text = f'[[step]]\ntype = "stall"\nafter = "1s"\nduration = "1.2s"\npingpong = {str(pingpong).lower()}\n'
    async with serve(archive, text, speed=2, ping_interval=0.1) as srv, connect(srv.url) as ws:
        await subscribe(ws)
        got = await receive_all(ws)
    data = [(t, m) for t, m in got if isinstance(m, str) and m[:1] == "0"]
    assert [m for _, m in data] == expected(srv, archive)
    assert len(data) == N - 120  # the frames of 1.0 s … 2.19 s are dropped
    gap_start = max(range(len(data) - 1), key=lambda i: data[i + 1][0] - data[i][0])
    assert data[gap_start + 1][0] - data[gap_start][0] >= 0.45  # 1.2 s of session at speed 2
    pings = [t for t, m in got if "PINGPONG" in m[:40] and data[gap_start][0] < t < data[gap_start + 1][0]]
    assert (len(pings) >= 2) if pingpong else (pings == [])
    assert [f["what"].split(":")[0].split(" (")[0] for f in srv.faults] == ["stall 1.2s begins", "stall ends"]


# -- malformed frames -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["field-count", "count-field", "truncated", "unknown-tr"])
async def test_malformed_text_frames_reach_the_client(archive, kind):
    text = f'[[step]]\ntype = "malformed"\nafter = "500ms"\nkind = "{kind}"\nonly = ["H0ZFASP0:112V06"]\n'
    async with serve(archive, text, speed=None) as srv, connect(srv.url) as ws:
        await subscribe(ws, "111V06")  # malformed frames go out whatever the client subscribed
        got = frames(await receive_all(ws))
    bad = [f for f in got if not f.startswith("0|H0ZFASP0|001|111V06")]
    assert len(bad) == 1
    if kind == "unknown-tr":
        assert bad[0].startswith(f"0|{UNKNOWN_TR}|001|112V06")
    else:
        with pytest.raises(FrameError):
            parse_frame(bad[0])
    assert got.index(bad[0]) == 26  # just before the 112V06 frame of 0.51 s: after 26 frames of 111V06
    assert srv.faults[0]["what"].startswith(kind)


async def test_invalid_utf8_as_binary_frame_and_as_text_frame(archive):
    text = ('[[step]]\ntype = "malformed"\nafter = "100ms"\nkind = "invalid-utf8"\nbinary = true\n'
            '[[step]]\ntype = "malformed"\nafter = "200ms"\nkind = "invalid-utf8"\n')
    async with serve(archive, text, speed=None) as srv, connect(srv.url, close_timeout=0.5) as ws:
        await subscribe(ws)
        got = await receive_all(ws)
        sent = ws.protocol.close_sent
    binary = [m for _, m in got if isinstance(m, bytes)]
    assert len(binary) == 1 and b"\xff\xfe" in binary[0]
    with pytest.raises(FrameError, match="not UTF-8"):
        parse_frame(binary[0])
    # a text frame that is not UTF-8 breaks the WebSocket protocol: the client library fails the connection
    assert sent is not None and sent.code == 1007
    assert len(frames(got)) == 20
    assert [f["type"] for f in srv.faults] == ["malformed", "malformed"]


# -- connection steps -------------------------------------------------------------------------------------------


async def test_disconnect_with_a_close_frame_then_refuse_reconnects(archive):
    text = ('[[step]]\ntype = "disconnect"\nat = 09:00:01\ncode = 1011\nreason = "maintenance"\nrefuse = "2s"\n'
            "clients = [1]\n")
    async with serve(archive, text, speed=2) as srv:
        async with connect(srv.url) as ws:
            await subscribe(ws)
            got = await receive_all(ws)
            assert (ws.close_code, ws.close_reason) == (1011, "maintenance")
        closed = time.monotonic()
        assert len(frames(got)) == 100
        with pytest.raises(InvalidStatus) as refused:
            async with connect(srv.url):
                pass
        assert refused.value.response.status_code == 503
        async with asyncio.timeout(TIMEOUT):
            while True:  # poll with a deadline: the refusal lifts 2 s of session (1 s) after the close
                try:
                    async with connect(srv.url) as ws2:
                        await subscribe(ws2)
                        again = frames(await receive_all(ws2))
                    break
                except InvalidStatus:
                    await asyncio.sleep(0.05)
        assert time.monotonic() - closed >= 0.7
        assert len(again) == N  # client 2 is not in the step's clients
    assert srv.faults[0] | {} == {
        "offset_s": 1.0, "client": 1, "step": 1, "type": "disconnect", "line": 1, "session_time": "09:00:01.000",
        "what": "close 1011 'maintenance'; refusing new connections for 2s", "scenario": "scenario"}
    assert srv.stats.clients[1].close_code == 1011


async def test_disconnect_abort_drops_tcp_without_a_close_frame(archive):
    async with serve(archive, '[[step]]\ntype = "disconnect"\nafter = "300ms"\nabort = true\n') as srv, \
            connect(srv.url) as ws:
        await subscribe(ws)
        got = await receive_all(ws)
        assert ws.close_code == 1006 and ws.protocol.close_rcvd is None
    assert len(frames(got)) == 30
    assert srv.faults[0]["what"] == "dropped the TCP connection (no close frame)"


@pytest.mark.parametrize(("msg_cd", "msg1"), [("OPSP0008", "MAX SUBSCRIBE OVER"),
                                              ("OPSP0011", "invalid approval : SECRET-KEY"),
                                              ("OPSP8996", "ALREADY IN USE appkey")])
async def test_reject_answers_the_next_subscriptions_with_the_chosen_error(archive, msg_cd, msg1):
    text = f'[[step]]\ntype = "reject"\ncount = 2\nmsg_cd = "{msg_cd}"\n'
    async with serve(archive, text, speed=None, on_end="idle") as srv, connect(srv.url) as ws:
        replies = []
        for key in ("111V06", "112V06", "111V06"):
            await ws.send(sub(key, approval="SECRET-KEY"))
            replies.append(parse_reply(await asyncio.wait_for(ws.recv(), TIMEOUT)))
    assert [(r.msg_cd, r.msg1) for r in replies] == [(msg_cd, msg1), (msg_cd, msg1), ("OPSP0000", "SUBSCRIBE SUCCESS")]
    assert [f["what"] for f in srv.faults] == [
        f"the next 2 subscription(s) get {msg_cd}",
        f"answered subscribe H0ZFASP0 111V06 with {msg_cd}",
        f"answered subscribe H0ZFASP0 112V06 with {msg_cd}",
    ]
    assert "SECRET-KEY" not in json.dumps(srv.faults)  # the approval key is never logged


async def test_pingpong_interval_changes_and_stops(archive):
    # the archive's 3 s are followed by an idle connection; PINGPONG every 200 ms from 3 s, then none after 4 s
    text = ('[[step]]\ntype = "pingpong"\nafter = "3s"\ninterval = "200ms"\nduration = "1s"\n'
            '[[step]]\ntype = "disconnect"\nafter = "4.5s"\n')
    async with serve(archive, text, speed=2, on_end="idle", ping_interval=30) as srv, connect(srv.url) as ws:
        await subscribe(ws)
        got = await receive_all(ws)
    pings = [t for t, m in got if "PINGPONG" in m[:40]]
    assert 3 <= len(pings) <= 6
    assert [f["what"] for f in srv.faults] == ["PINGPONG every 200ms", "PINGPONG back to normal", "close 1001 ''"]


async def test_every_builtin_runs_against_the_server(archive):
    for name in builtin_names():
        async with serve(archive, load_builtin(name), speed=100) as srv:
            for _ in range(2):  # a bot reconnecting once
                try:
                    async with connect(srv.url) as ws:
                        for key in (*KEYS, *KEYS):  # subscribe-errors rejects the first two
                            await ws.send(sub(key))
                        await receive_all(ws)
                except InvalidStatus:
                    pass
            assert srv.faults, name
            assert all(f["scenario"] == name for f in srv.faults)


def test_a_scenario_needs_the_per_client_clock(archive):
    with pytest.raises(ValueError, match="per-client"):
        FakeKisServer(archive, scenario=load_builtin("open-burst"), clock="shared")
