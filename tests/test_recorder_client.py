"""The recorder's connection loop against a tiny KIS-speaking ``websockets`` server on 127.0.0.1.

The server below is deliberately small: it parses requests and builds replies with the codec, then sends
the frames a test gives it, and can misbehave on cue (drop the TCP connection, refuse the key, send
PINGPONG or a WebSocket ping, fragment a message). Every check reads the real archive on disk.
"""

from __future__ import annotations

import asyncio
import json
import random
import time

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Opcode

from kis_replay.archive import ArchiveReader, Direction, RecordKind
from kis_replay.codec import build_pingpong, build_reply, parse_request
from kis_replay.recorder.backoff import Backoff
from kis_replay.recorder.client import Recorder, RecorderError, RecorderSettings, recording_header
from kis_replay.recorder.credentials import Credentials
from kis_replay.recorder.rolling import OutputTarget, RollingArchive
from kis_replay.recorder.rotation import RotationPolicy
from kis_replay.recorder.subscriptions import Subscription

KEY = "approval-7d1f0c3e-5b2a-4e8f-9c6d-0a1b2c3d4e5f"
FUT = Subscription("H0ZFASP0", "111V06")
OPT = Subscription("H0IOCNT0", "201S11305")
OUTPUT = {"iv": "0123456789abcdef", "key": "abcdefghijklmnopabcdefghijklmnop"}
SAMPLE = (
    "0|H0ZFASP0|001|111V06^092304^79700^79800^79900^80000^80200^80300^80500^81100^84900^85900^79500^79400"
    "^79300^79200^79100^79000^78900^78800^78700^78600^1^18^6^2^2^1^3^1^1^1^8^6^4^8^4^8^7^11^11^3^950^4148"
    "^988^6^9^1^3^15^5^10^4404^2277^1321^3440^330^2237^1835^362^83^15^36^97^6135^16509^950^0"
)


def frames(n: int, start: int = 0) -> list[str]:
    """``n`` distinct H0ZFASP0 frames (the documented sample with a running time field)."""
    head, _, rest = SAMPLE.partition("^092304^")
    return [f"{head}^{(90000 + i) % 1000000:06d}^{rest}" for i in range(start, start + n)]


class Tap(ServerConnection):
    """Server connection that notes the pong frames the client sends (unsolicited ones are invisible)."""

    def process_event(self, event):
        if getattr(event, "opcode", None) is Opcode.PONG:
            self.pongs.append(bytes(event.data))
        super().process_event(event)


class TinyKis:
    """Speaks the KIS subscribe/ack protocol through the codec, then sends ``script`` per connection.

    ``script(n)`` (n = connection number from 1) returns a list of steps: a text to send, or one of
    ``("drop",)``, ``("ping", data)``, ``("fragments", [parts])``, ``("wait_pong",)``, ``("close",)``,
    ``("await", coroutine_function)``.
    ``replies`` maps (tr_id, tr_key) to a msg_cd other than OPSP0000.
    """

    def __init__(self, script, *, replies=None, session_reply=None, expected=1):
        self.script = script
        self.expected_requests = expected  # requests per connection before the script runs (int or {n: k})
        self.replies = replies or {}
        self.session_reply = session_reply  # msg_cd answered to every request (OPSP8996, OPSP0011)
        self.connections: list[float] = []
        self.requests: list[list] = []
        self.pongs: list[list[bytes]] = []
        self.done = asyncio.Event()
        self.url = ""

    async def __aenter__(self):
        self._server = await serve(self.handler, "127.0.0.1", 0, create_connection=Tap)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/tryitout"
        return self

    async def __aexit__(self, *exc):
        self._server.close()
        await self._server.wait_closed()

    async def handler(self, ws):
        self.connections.append(time.monotonic())
        n = len(self.connections)
        ws.pongs = []
        self.pongs.append(ws.pongs)
        requests = []
        self.requests.append(requests)
        steps = self.script(n)
        try:
            while True:
                request = parse_request(await ws.recv())
                requests.append(request)
                if self.session_reply:
                    detail = request.approval_key if self.session_reply == "OPSP0011" else ""
                    await ws.send(build_reply(self.session_reply, tr_id=request.tr_id, tr_key=request.tr_key,
                                              detail=detail).to_json())
                    continue
                code = self.replies.get((request.tr_id, request.tr_key), "OPSP0000")
                await ws.send(build_reply(code, tr_id=request.tr_id, tr_key=request.tr_key,
                                          output=OUTPUT if code == "OPSP0000" else None).to_json())
                if len(requests) == self.expected(n):
                    break
            for step in steps:
                if isinstance(step, str):
                    await ws.send(step)
                elif step[0] == "drop":
                    ws.transport.abort()
                    return
                elif step[0] == "ping":
                    await ws.ping(step[1])
                elif step[0] == "fragments":
                    await ws.send(iter(step[1]))
                elif step[0] == "wait_pong":
                    await until(lambda: ws.pongs)
                elif step[0] == "await":
                    await step[1]()
                elif step[0] == "close":
                    await ws.close(1000, "bye")
                    return
            self.done.set()
            await ws.wait_closed()
        except Exception:
            return

    def expected(self, n):
        counts = self.expected_requests
        return counts.get(n, 1) if isinstance(counts, dict) else counts


async def until(predicate, timeout: float = 10.0):
    """Poll ``predicate`` until true, failing the test after ``timeout`` seconds (no blind sleeps)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.005)


def fast_backoff(min_interval: float = 0.05, **kw) -> Backoff:
    kw = {"initial": 0.01, "maximum": 0.1, "jitter": 0.0, **kw}
    return Backoff(min_interval=min_interval, rng=random.Random(1), **kw)


def make_recorder(url, out, subs=(FUT,), *, credentials=None, rotation=None, backoff=None, writer_flush=0.05,
                  **settings):
    settings = RecorderSettings(url=url, subscriptions=tuple(subs), flush_interval=0.05, **settings)
    target = OutputTarget.parse(str(out), rotating=rotation is not None)
    target.prepare()
    archive = RollingArchive(target, lambda: recording_header(settings), rotation=rotation,
                             flush_interval=writer_flush, fsync=False)
    return Recorder(settings, credentials or Credentials(approval_key=KEY), archive,
                    backoff=backoff or fast_backoff())


def read(path):
    reader = ArchiveReader(path)
    return reader, list(reader)


def of(records, kind, direction=None):
    return [r for r in records if r.kind == kind and (direction is None or r.direction == direction)]


async def test_records_every_frame_byte_for_byte_with_both_directions(tmp_path):
    sent = frames(200)
    async with TinyKis(lambda n: sent) as server:
        rec = make_recorder(server.url, tmp_path / "day.kisrec.zst")
        task = asyncio.create_task(rec.run())
        await until(lambda: rec.status.frames_total == len(sent))
        rec.stop()
        await asyncio.wait_for(task, 10)
    reader, records = read(tmp_path / "day.kisrec.zst")
    assert reader.warnings == []
    assert reader.header.source == server.url and reader.header.filtered is True
    assert reader.header.subscriptions == [{"tr_id": "H0ZFASP0", "tr_key": "111V06"}]
    assert [r.text for r in of(records, RecordKind.DATA)] == sent
    kinds = [r.kind for r in records]
    assert kinds[0] == RecordKind.OPENED and kinds[-1] == RecordKind.CLOSED
    [request] = of(records, RecordKind.CONTROL, Direction.CLIENT_TO_SERVER)
    assert parse_request(request.payload).approval_key == "<redacted>"  # the writer redacts, we never leak
    [ack] = of(records, RecordKind.CONTROL, Direction.SERVER_TO_CLIENT)
    assert json.loads(ack.payload)["body"]["output"] == OUTPUT
    assert json.loads(records[-1].payload) == {"code": 1000, "reason": "recorder stopped", "by": "client"}
    walls = [r.wall_ns for r in records]
    monos = [r.mono_ns for r in records]
    assert walls == sorted(walls) and monos == sorted(monos)
    assert all(r.conn == 1 for r in records)
    with open(tmp_path / "day.kisrec.zst", "rb") as f:
        assert KEY.encode() not in f.read()


async def test_reconnects_after_a_drop_with_gap_and_resubscription(tmp_path):
    first, second = frames(50), frames(50, start=50)
    script = {1: [*first, ("drop",)], 2: second}
    async with TinyKis(lambda n: script.get(n, []), expected=2) as server:
        rec = make_recorder(server.url, tmp_path / "r.kisrec.zst", subs=(FUT, OPT),
                            backoff=fast_backoff(min_interval=0.3))
        task = asyncio.create_task(rec.run())
        await until(lambda: rec.status.frames_total == 100)
        rec.stop()
        await asyncio.wait_for(task, 10)
    _, records = read(tmp_path / "r.kisrec.zst")
    assert [r.text for r in of(records, RecordKind.DATA)] == first + second
    assert len(server.connections) == 2
    # both connections subscribed everything
    assert [[(r.tr_id, r.tr_key) for r in reqs] for reqs in server.requests] == [
        [("H0ZFASP0", "111V06"), ("H0IOCNT0", "201S11305")]
    ] * 2
    # attempts are spaced by at least the minimum interval; the server sees the handshakes, which end
    # a few ms after each attempt starts, so its view may be off by that much
    assert rec.attempts[1] - rec.attempts[0] >= 0.3
    assert server.connections[1] - server.connections[0] >= 0.25
    [gap] = of(records, RecordKind.GAP)
    info = json.loads(gap.payload)
    closed = [r for r in of(records, RecordKind.CLOSED) if r.conn == 1]
    assert info["start_ns"] == pytest.approx(closed[0].wall_ns, abs=50_000_000)
    assert info["end_ns"] > info["start_ns"] and "connection lost" in info["reason"]
    assert json.loads(closed[0].payload)["by"] == "network"
    assert gap.conn == 2
    # the GAP sits after the second connection's acks, before its data
    order = [(r.conn, r.kind) for r in records]
    assert order.index((2, RecordKind.GAP)) < order.index((2, RecordKind.DATA))
    assert [r.conn for r in of(records, RecordKind.OPENED)] == [1, 2]
    assert "connection lost" in rec.status.last_gap


async def test_pingpong_answered_with_a_pong_frame_and_pings_recorded(tmp_path):
    pingpong = build_pingpong()
    script = [pingpong, ("wait_pong",), ("ping", b"keep"), *frames(3)]
    async with TinyKis(lambda n: script) as server:
        rec = make_recorder(server.url, tmp_path / "p.kisrec.zst")
        task = asyncio.create_task(rec.run())
        await until(lambda: rec.status.frames_total == 3)
        rec.stop()
        await asyncio.wait_for(task, 10)
    # KIS's sample client: a WebSocket pong frame carrying the PINGPONG text; websockets answers pings
    assert server.pongs[0][0] == pingpong.encode()
    assert b"keep" in server.pongs[0]
    _, records = read(tmp_path / "p.kisrec.zst")
    assert pingpong in [r.text for r in of(records, RecordKind.CONTROL, Direction.SERVER_TO_CLIENT)]
    assert [r.payload for r in of(records, RecordKind.PONG, Direction.CLIENT_TO_SERVER)] == [
        pingpong.encode(), b"keep",
    ]
    assert [r.payload for r in of(records, RecordKind.PING, Direction.SERVER_TO_CLIENT)] == [b"keep"]


async def test_fragmented_message_is_recorded_whole(tmp_path):
    text = frames(1)[0]
    parts = [text[:10], text[10:100], text[100:]]
    async with TinyKis(lambda n: [("fragments", parts)]) as server:
        rec = make_recorder(server.url, tmp_path / "f.kisrec.zst")
        task = asyncio.create_task(rec.run())
        await until(lambda: rec.status.frames_total == 1)
        rec.stop()
        await asyncio.wait_for(task, 10)
    _, records = read(tmp_path / "f.kisrec.zst")
    assert [r.text for r in of(records, RecordKind.DATA)] == [text]


async def test_refused_registration_is_dropped_the_rest_recorded(tmp_path):
    script = {1: [*frames(5), ("drop",)], 2: frames(5, 5)}
    async with TinyKis(lambda n: script.get(n, []), replies={("H0IOCNT0", "201S11305"): "OPSP8992"},
                       expected={1: 2, 2: 1}) as server:
        rec = make_recorder(server.url, tmp_path / "x.kisrec.zst", subs=(FUT, OPT))
        task = asyncio.create_task(rec.run())
        await until(lambda: rec.status.frames_total == 10)
        rec.stop()
        await asyncio.wait_for(task, 10)
    assert rec.subscriptions == (FUT,)
    assert [[(r.tr_id, r.tr_key) for r in reqs] for reqs in server.requests] == [
        [("H0ZFASP0", "111V06"), ("H0IOCNT0", "201S11305")], [("H0ZFASP0", "111V06")],
    ]


async def test_key_in_use_backs_off_the_maximum_then_gives_up(tmp_path):
    async with TinyKis(lambda n: [], session_reply="OPSP8996") as server:
        rec = make_recorder(server.url, tmp_path / "k.kisrec.zst", max_in_use=3,
                            backoff=fast_backoff(min_interval=0.0, initial=0.01, maximum=0.2))
        with pytest.raises(RecorderError, match=r"in use by another session.*giving up after 3 attempts"):
            await asyncio.wait_for(rec.run(), 10)
    assert len(server.connections) == 3
    gaps = [b - a for a, b in zip(server.connections, server.connections[1:], strict=False)]
    assert all(g >= 0.2 for g in gaps)  # severe: the maximum, not the 0.01 s initial delay
    reader, records = read(tmp_path / "k.kisrec.zst")
    assert reader.warnings == []  # closed properly, index written
    [gap] = of(records, RecordKind.GAP)
    assert "ended before the connection was back" in json.loads(gap.payload)["reason"]


async def test_invalid_approval_without_app_key_stops_without_leaking(tmp_path):
    async with TinyKis(lambda n: [], session_reply="OPSP0011") as server:
        rec = make_recorder(server.url, tmp_path / "a.kisrec.zst")
        with pytest.raises(RecorderError) as info:
            await asyncio.wait_for(rec.run(), 10)
    message = str(info.value)
    assert "refused the approval key" in message and "KIS_APP_KEY" in message and KEY not in message
    assert len(server.connections) == 1
    with open(tmp_path / "a.kisrec.zst", "rb") as f:
        assert KEY.encode() not in f.read()


async def test_unreachable_server_is_retried_and_a_gap_recorded(tmp_path):
    rec = make_recorder("ws://127.0.0.1:1/", tmp_path / "u.kisrec.zst",
                        backoff=fast_backoff(min_interval=0.05))
    task = asyncio.create_task(rec.run())
    await until(lambda: len(rec.attempts) >= 3)
    rec.stop()
    await asyncio.wait_for(task, 10)
    spacing = [b - a for a, b in zip(rec.attempts, rec.attempts[1:], strict=False)]
    assert all(s >= 0.05 for s in spacing)
    _, records = read(tmp_path / "u.kisrec.zst")
    assert [r.kind for r in records] == [RecordKind.GAP]
    assert "cannot connect to ws://127.0.0.1:1/" in json.loads(records[0].payload)["reason"]


async def test_flush_timer_makes_idle_data_readable_before_close(tmp_path):
    sent = frames(20)
    path = tmp_path / "idle.kisrec.zst"
    async with TinyKis(lambda n: sent) as server:
        # the writer itself would only flush on a write an hour after the last flush: only the
        # recorder's timer can make these frames readable while nothing more arrives
        rec = make_recorder(server.url, path, writer_flush=3600)
        task = asyncio.create_task(rec.run())
        await until(lambda: rec.status.frames_total == len(sent))

        def readable():
            with pytest.warns(UserWarning):  # no index yet: the file is still being written
                reader = ArchiveReader(path)
                got = [r.text for r in reader.records(kinds=[RecordKind.DATA])]
            return got == sent

        await until(readable)
        rec.stop()
        await asyncio.wait_for(task, 10)


async def test_size_rotation_files_are_complete_and_start_with_the_acks(tmp_path):
    sent = frames(3000)
    out = tmp_path / "rot"
    out.mkdir()
    rec = None

    def files_at_least(n):
        async def wait():
            await until(lambda: rec.status.files >= n)
        return ("await", wait)

    # the size is checked on the flush timer: send in three bursts, each after the previous file was cut
    script = [*sent[:1000], files_at_least(2), *sent[1000:2000], files_at_least(3), *sent[2000:]]
    async with TinyKis(lambda n: script) as server:
        rec = make_recorder(server.url, out, rotation=RotationPolicy(max_bytes=4096))
        task = asyncio.create_task(rec.run())
        await until(lambda: rec.status.frames_total == len(sent))
        rec.stop()
        await asyncio.wait_for(task, 10)
    paths = sorted(out.iterdir())
    assert paths == rec.archive.paths and len(paths) >= 3
    joined = []
    for i, path in enumerate(paths):
        reader, records = read(path)
        assert reader.warnings == [] and reader.header.source == server.url
        assert reader.header.labels["recording"] == {
            "id": rec.archive.recording_id, "part": i + 1, "repeated_acks": 1 if i else 0,
        }
        acks = of(records, RecordKind.CONTROL, Direction.SERVER_TO_CLIENT)
        assert json.loads(acks[0].payload)["body"]["output"] == OUTPUT
        if i:
            assert records[0].kind == RecordKind.CONTROL  # the ack comes first in every later file
        joined += [r.text for r in of(records, RecordKind.DATA)]
    assert joined == sent


async def test_records_the_bundled_sample_from_the_fake_server(tmp_path):
    """The real fake server replaying the bundled sample (filter off, max speed): what the recorder
    writes for its registrations is the sample's frames of those routes, byte for byte and in order."""
    from kis_replay import fixtures
    from kis_replay.codec import peek_route
    from kis_replay.fake_server import FakeKisServer
    from kis_replay.replayer import ReplayOptions

    subs = (Subscription("H0ZFASP0", "111X12"), Subscription("H0IOCNT0", "201X12350"))
    routes = {(s.tr_id, s.tr_key) for s in subs}
    source = [r.payload for r in ArchiveReader(fixtures.path()).records(kinds=[RecordKind.DATA])
              if peek_route(r.text) in routes]
    async with FakeKisServer(fixtures.path(), ReplayOptions(speed=None, filter="off"), on_end="idle") as server:
        rec = make_recorder(server.url, tmp_path / "sample.kisrec.zst", subs=subs)
        task = asyncio.create_task(rec.run())
        await until(lambda: rec.status.frames_total == len(source))
        rec.stop()
        await asyncio.wait_for(task, 10)
    _, records = read(tmp_path / "sample.kisrec.zst")
    assert [r.payload for r in of(records, RecordKind.DATA)] == source
    assert len(of(records, RecordKind.CONTROL, Direction.SERVER_TO_CLIENT)) >= 2  # the two acks
