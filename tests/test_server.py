"""FakeKisServer against real websockets clients on 127.0.0.1: protocol, routing, clocks, slow clients."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as sync_connect

from kis_replay.codec import FrameCipher, SubscribeRequest, build_pingpong, parse_frame, parse_reply
from kis_replay.fake_server import FakeKisServer, Feed
from kis_replay.replayer import ReplayOptions, TimelineEvent

T0 = 1_700_000_000_000_000_000
MS = 1_000_000
TIMEOUT = 10.0  # generous per-step deadline on a busy 2-core machine


def quote_text(key: str, i: int, pad: int = 0) -> str:
    fields = [key, f"09{i % 10000:04d}", *(str(i) for _ in range(66))]
    return "0|H0ZFASP0|001|" + "^".join(fields) + ("0" * pad)


def quote(key: str, i: int, offset_ms: float, pad: int = 0) -> TimelineEvent:
    offset = round(offset_ms * MS)
    return TimelineEvent(offset, T0 + offset, "H0ZFASP0", key, quote_text(key, i, pad))


def interleaved(n: int, keys: tuple[str, ...] = ("111V06", "111V07"), step_ms: float = 1.0) -> list[TimelineEvent]:
    return [quote(keys[i % len(keys)], i, i * step_ms) for i in range(n)]


def sub(tr_key: str = "111V06", tr_id: str = "H0ZFASP0", tr_type: str = "1", key: str = "k") -> str:
    return SubscribeRequest(tr_id, tr_key, tr_type=tr_type, approval_key=key).to_json()


async def reply_of(ws: ClientConnection):
    """The next control reply, skipping data frames and PINGPONG."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            message = await ws.recv()
            if message.startswith("{") and "PINGPONG" not in message[:40]:
                return parse_reply(message)


async def drain(ws: ClientConnection) -> tuple[list[str], list[str]]:
    """Everything until the server closes: (data frames, other messages)."""
    frames, other = [], []
    async with asyncio.timeout(TIMEOUT):
        try:
            async for message in ws:
                (frames if message[:1] in ("0", "1") else other).append(message)
        except ConnectionClosed:
            pass
    return frames, other


def server(events, speed=None, **kw) -> FakeKisServer:
    return FakeKisServer(Feed.from_events(events, loop=kw.pop("loop", False), ciphers=kw.pop("ciphers", None)),
                         ReplayOptions(speed=speed), **kw)


@pytest.mark.parametrize("path", ["/", "/tryitout", "/tryitout/H0ZFASP0", "/anything/else?x=1"])
async def test_any_path_is_served(path):
    async with server(interleaved(4)) as srv, connect(srv.url + path) as ws:
        await ws.send(sub())
        reply = await reply_of(ws)
        assert (reply.msg_cd, reply.tr_id, reply.tr_key) == ("OPSP0000", "H0ZFASP0", "111V06")
        frames, _ = await drain(ws)
        assert frames == [e.text for e in interleaved(4) if e.tr_key == "111V06"]
        assert ws.close_code == 1000 and ws.close_reason == "end of archive"
    assert srv.stats.clients[1].path == path.split("?")[0] or srv.stats.clients[1].path == path


BAD_REQUESTS = [
    ("{oops", "OPSP9999"),
    ('{"body":{}}', "OPSP9998"),
    ('{"header":{"custtype":"P","tr_type":"1"}}', "OPSP9992"),
    ('{"header":{"custtype":"P","tr_type":"1"},"body":{}}', "OPSP9991"),
    ('{"header":{"tr_type":"1"},"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"111V06"}}}', "OPSP9997"),
    ('{"header":{"custtype":"Q","tr_type":"1"},"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"111V06"}}}',
     "OPSP8998"),
    ('{"header":{"custtype":"P","tr_type":"9"},"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"111V06"}}}',
     "OPSP8997"),
    ('{"header":{"custtype":"P","tr_type":"1"},"body":{"input":{"tr_id":"H0ZFASP0"}}}', "OPSP9990"),
    (sub(tr_id="H0NOTATR"), "OPSP8991"),
    (sub(tr_key=""), "OPSP8992"),
    (sub(tr_key="111/06"), "OPSP8992"),
    (sub(tr_key="1"), "OPSP8992"),
    (sub(tr_type="2"), "OPSP0003"),
]


async def test_every_protocol_reply_over_the_wire():
    events = interleaved(4)
    async with server(events, speed=1.0, on_end="idle") as srv, connect(srv.url) as ws:
        for text, msg_cd in BAD_REQUESTS:
            await ws.send(text)
            assert (await reply_of(ws)).msg_cd == msg_cd, text
        # key order and extra headers do not matter
        await ws.send(json.dumps({"body": {"input": {"tr_key": "111V06", "tr_id": "H0ZFASP0"}},
                                  "header": {"personalseckey": "1", "tr_type": "1", "custtype": "B",
                                             "approval_key": "k", "content-type": "utf-8"}}))
        ack = await reply_of(ws)
        assert (ack.msg_cd, ack.rt_cd, ack.msg1, ack.encrypt) == ("OPSP0000", "0", "SUBSCRIBE SUCCESS", "N")
        assert len(ack.key) == 32 and len(ack.iv) == 16
        await ws.send(sub())
        assert (await reply_of(ws)).msg_cd == "OPSP0002"
        # a well-formed key with no data is acked, and the server logs it
        await ws.send(sub("105V06"))
        assert (await reply_of(ws)).msg_cd == "OPSP0000"
        for i in range(39):
            await ws.send(sub(f"2{i:02d}V06"))
        codes = [(await reply_of(ws)).msg_cd for _ in range(39)]
        assert codes == ["OPSP0000"] * 39  # 41 registrations held
        await ws.send(sub("999V06"))
        assert (await reply_of(ws)).msg_cd == "OPSP0008"
        await ws.send(sub(tr_type="2"))
        unsub = await reply_of(ws)
        assert (unsub.msg_cd, unsub.msg1) == ("OPSP0001", "UNSUBSCRIBE SUCCESS")
        # a second session with the same approval key, while the first is open
        async with connect(srv.url) as other:
            await other.send(sub())
            refused = await reply_of(other)
            assert (refused.msg_cd, refused.rt_cd, refused.tr_id) == ("OPSP8996", "9", "(null)")
    assert ("H0ZFASP0", "105V06") in srv.stats.subscriptions_seen


async def test_second_session_allowed_once_the_first_closed_or_when_shared_keys_allowed():
    async with server(interleaved(2), speed=1.0, on_end="idle") as srv:
        async with connect(srv.url) as first:
            await first.send(sub())
            assert (await reply_of(first)).ok
        async with asyncio.timeout(TIMEOUT):
            while srv.stats.connected:  # the server notices the close
                await asyncio.sleep(0.01)
        async with connect(srv.url) as second:
            await second.send(sub())
            assert (await reply_of(second)).ok
    shared = server(interleaved(2), speed=1.0, on_end="idle", allow_shared_key=True)
    async with shared as srv, connect(srv.url) as a, connect(srv.url) as b:
        for ws in (a, b):
            await ws.send(sub())
            assert (await reply_of(ws)).ok


async def test_wrong_approval_key_when_one_is_required():
    async with server(interleaved(2), approval_key="sesame") as srv, connect(srv.url) as ws:
        await ws.send(sub(key="nope"))
        reply = await reply_of(ws)
        assert (reply.msg_cd, reply.msg1) == ("OPSP0011", "invalid approval : nope")
        await ws.send(sub(key="sesame"))
        assert (await reply_of(ws)).ok


async def test_per_client_routing_and_order_per_instrument():
    events = interleaved(600, keys=("111V06", "111V07", "111V08"))
    async with server(events) as srv:
        async def run(keys):
            async with connect(srv.url) as ws:
                for k in keys:
                    await ws.send(sub(k, key=f"key-{k}"))
                    assert (await reply_of(ws)).ok
                return await drain(ws)

        (a, _), (b, _) = await asyncio.gather(run(["111V06"]), run(["111V07", "111V08"]))
    assert a == [e.text for e in events if e.tr_key == "111V06"]
    assert b == [e.text for e in events if e.tr_key in ("111V07", "111V08")]  # timeline order kept


async def test_unsubscribe_stops_the_frames_of_that_route_only():
    events = interleaved(3000, step_ms=1.0)  # 3 s of session, 0.3 s at speed 10
    async with server(events, speed=10) as srv, connect(srv.url) as ws:
        await ws.send(sub("111V06"))
        await ws.send(sub("111V07"))
        seen: list[str] = []
        after_unsub: list[str] = []
        unsubscribed = False
        async with asyncio.timeout(TIMEOUT):
            async for message in ws:
                if message.startswith("{"):
                    if parse_reply(message).msg_cd == "OPSP0001":
                        unsubscribed = True
                    continue
                (after_unsub if unsubscribed else seen).append(message)
                if len(seen) == 20 and not unsubscribed:
                    await ws.send(sub("111V06", tr_type="2"))
    assert unsubscribed and any("^111V06^" not in m and "|111V06^" in m for m in seen)
    assert after_unsub and not [m for m in after_unsub if "|111V06^" in m]
    expected_07 = [e.text for e in events if e.tr_key == "111V07"]
    assert [m for m in seen + after_unsub if "|111V07^" in m] == expected_07


async def test_speed_10_follows_the_timeline_schedule():
    offsets_ms = [0, 100, 150, 500, 1000, 1010, 2000]  # session time
    events = [quote("111V06", i, ms) for i, ms in enumerate(offsets_ms)]
    async with server(events, speed=10) as srv, connect(srv.url) as ws:
        await ws.send(sub())
        await reply_of(ws)
        arrivals = []
        async with asyncio.timeout(TIMEOUT):
            async for _ in ws:
                arrivals.append(time.monotonic())
    assert len(arrivals) == len(events)
    for ms, at in zip(offsets_ms, arrivals, strict=True):
        elapsed = at - arrivals[0]
        assert ms / 10 / 1000 - 0.02 <= elapsed <= ms / 10 / 1000 + 0.15, (ms, elapsed)


async def test_twenty_clients_at_once():
    events = interleaved(400)
    async with server(events) as srv:
        async def run(i):
            async with connect(srv.url + "/tryitout") as ws:
                await ws.send(sub("111V06" if i % 2 else "111V07", key=f"k{i}"))
                assert (await reply_of(ws)).ok
                frames, _ = await drain(ws)
                return i, frames, ws.close_code

        results = await asyncio.gather(*(run(i) for i in range(20)))
        await srv.wait_until_done(TIMEOUT)
    for i, frames, code in results:
        key = "111V06" if i % 2 else "111V07"
        assert frames == [e.text for e in events if e.tr_key == key]
        assert code == 1000
    assert srv.stats.frames_sent == 20 * 200 and len(srv.stats.clients) == 20


async def test_a_stalled_client_is_disconnected_while_the_others_keep_receiving():
    # 64 KB frames: the stalled client's small socket buffer and the server's send buffer (at most
    # net.ipv4.tcp_wmem's 4 MB) fill after ~70 frames, then its outbox (64 frames): 500 frames overflow.
    events = [quote("111V06", i, i * 4.0, pad=64_000) for i in range(500)]
    kicks = []
    async with server(events, speed=4, queue_size=64, close_timeout=0.5,
                      on_event=lambda e: kicks.append(e) if e["event"] == "kick" else None) as srv:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
        sock.connect(("127.0.0.1", srv.port))
        stalled = await connect(srv.url, sock=sock, max_queue=1)
        await stalled.send(sub(key="stalled"))  # ... and never reads again
        async with connect(srv.url, max_size=None) as good:
            await good.send(sub(key="good"))
            frames, _ = await drain(good)
        assert frames == [e.text for e in events]
        assert [k["client"] for k in kicks] == [1] and kicks[0]["code"] == 1008
        assert "stopped reading" in kicks[0]["reason"]
        async with asyncio.timeout(TIMEOUT):
            while srv.stats.clients[1].open:
                await asyncio.sleep(0.01)
        assert srv.stats.clients[1].close_code == 1008
        assert srv.stats.clients[1].close_reason.startswith("client stopped reading")
        stalled.transport.abort()  # its close handshake would wait behind the unread frames


async def test_encrypted_tr_ack_carries_the_recorded_cipher_and_frames_decrypt():
    recorded = FrameCipher.generate()
    plain = "hts0001^0000012345^01^" + "체결^" * 3 + "end"
    text = "1|H0IFCNI0|001|" + recorded.encrypt(plain)
    events = [TimelineEvent(0, T0, "H0IFCNI0", None, text), quote("111V06", 1, 1.0)]
    async with server(events, ciphers={("H0IFCNI0", "hts0001"): recorded}) as srv, connect(srv.url) as ws:
        await ws.send(sub("hts0001", tr_id="H0IFCNI0"))
        ack = await reply_of(ws)
        assert (ack.ok, ack.encrypt, ack.key, ack.iv) == (True, "Y", recorded.key, recorded.iv)
        frames, _ = await drain(ws)
    assert frames == [text]
    frame = parse_frame(frames[0], cipher=ack.cipher())
    assert frame.encrypted and "^".join(frame.records[0].raw) == plain


async def test_pingpong_when_idle_and_every_kind_of_answer_is_accepted():
    async with server(interleaved(2), speed=1.0, on_end="idle", ping_interval=0.05) as srv:
        answers = {
            "text echo": lambda ws, text: ws.send(text),
            "re-serialised": lambda ws, text: ws.send(json.dumps(json.loads(text), indent=1)),
            "pong frame": lambda ws, text: ws.pong(text.encode()),
            "no answer": None,
        }
        for i, (name, answer) in enumerate(answers.items()):
            async with connect(srv.url) as ws:
                for _ in range(3):
                    async with asyncio.timeout(TIMEOUT):
                        message = await ws.recv()
                    assert json.loads(message)["header"]["tr_id"] == "PINGPONG", name
                    if answer:
                        await answer(ws, message)
                await asyncio.wait_for(await ws.ping(), TIMEOUT)  # WebSocket pings are answered too
                await ws.send(sub(key=f"k{i}"))
                assert (await reply_of(ws)).ok, name  # still served; echoes got no reply
        assert all(c.requests == 1 for c in srv.stats.clients.values())


async def test_on_end_idle_keeps_clients_open():
    events = interleaved(10)
    expected = [e.text for e in events if e.tr_key == "111V06"]
    async with server(events, on_end="idle", ping_interval=0.05) as srv, connect(srv.url) as ws:
        await ws.send(sub())
        await reply_of(ws)
        await srv.wait_until_done(TIMEOUT)
        frames, pingpongs = [], 0
        async with asyncio.timeout(TIMEOUT):
            while len(frames) < len(expected) or pingpongs < 2:  # PINGPONG goes on after the end
                message = await ws.recv()
                if "PINGPONG" in message:
                    pingpongs += 1
                else:
                    frames.append(message)
        assert frames == expected
        assert srv.stats.connected == 1


async def test_shared_clock_late_joiner_misses_what_passed():
    events = interleaved(400, step_ms=5.0)  # 2 s of session, 0.4 s at speed 5
    async with server(events, speed=5, clock="shared", allow_shared_key=True) as srv:
        early = await connect(srv.url)
        await early.send(sub())
        early_frames = []
        async with asyncio.timeout(TIMEOUT):
            while len(early_frames) < 50:
                message = await early.recv()
                if message[0] == "0":
                    early_frames.append(message)
        late = await connect(srv.url)
        await late.send(sub())
        (rest, _), (late_frames, _) = await asyncio.gather(drain(early), drain(late))
        await srv.wait_until_done(TIMEOUT)
    everything = [e.text for e in events if e.tr_key == "111V06"]
    # each gets the rest of the session from when it subscribed: the late one strictly less
    early_frames += rest
    assert early_frames == everything[-len(early_frames):]
    assert late_frames == everything[-len(late_frames):]
    assert 0 < len(late_frames) <= len(early_frames) - 50


async def test_shared_clock_at_max_speed_starts_with_the_first_subscriber_and_fans_out():
    events = interleaved(300)
    async with server(events, clock="shared", allow_shared_key=True, settle=0.5) as srv:
        async def run(key):
            async with connect(srv.url) as ws:
                await ws.send(sub(key))
                return await drain(ws)

        (a, _), (b, _) = await asyncio.gather(run("111V06"), run("111V07"))
        await srv.wait_until_done(TIMEOUT)
    assert a == [e.text for e in events if e.tr_key == "111V06"]
    assert b == [e.text for e in events if e.tr_key == "111V07"]


async def test_loop_replays_again():
    events = interleaved(6, step_ms=10.0)
    # at a finite speed: at max, an endless replay fills the client's queue and its close handshake waits
    async with server(events, speed=10, loop=True) as srv, connect(srv.url) as ws:
        await ws.send(sub())
        frames = []
        async with asyncio.timeout(TIMEOUT):
            while len(frames) < 9:
                message = await ws.recv()
                if message[0] == "0":
                    frames.append(message)
    once = [e.text for e in events if e.tr_key == "111V06"]
    assert frames == once * 3


async def test_stop_closes_clients_with_1000():
    srv = await server(interleaved(100), speed=0.001).start()
    ws = await connect(srv.url)
    await ws.send(sub())
    await reply_of(ws)
    await srv.stop()
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(TIMEOUT):
            await ws.recv()
    assert ws.close_code == 1000
    await srv.stop()  # idempotent


def test_run_in_thread_for_synchronous_code():
    events = interleaved(20)
    with server(events).run_in_thread() as handle, sync_connect(handle.url) as ws:
        ws.send(sub())
        messages = list(ws)  # until the server closes at the end of the timeline
        handle.wait_until_done(TIMEOUT)
        assert handle.stats.frames_sent == 10
    assert parse_reply(messages[0]).ok
    assert messages[1:] == [e.text for e in events if e.tr_key == "111V06"]


async def test_pingpong_like_requests_and_binary_frames_are_requests():
    async with server(interleaved(2), speed=1.0, on_end="idle") as srv, connect(srv.url) as ws:
        await ws.send(sub().encode())  # binary frame: read as UTF-8 text
        assert (await reply_of(ws)).ok
        await ws.send(b"\xff\xfe")
        assert (await reply_of(ws)).msg_cd == "OPSP9999"
        await ws.send(build_pingpong())
        await ws.send("[]")
        assert (await reply_of(ws)).msg_cd == "OPSP9999"  # the echo got nothing, the next one its reply
