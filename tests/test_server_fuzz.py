"""10 000 random and malformed messages from several clients at once; then the server still serves a
well-behaved client exactly right, and nothing on the way was an internal error."""

from __future__ import annotations

import asyncio
import json
import random

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from kis_replay.codec import SubscribeRequest, build_pingpong, parse_reply
from kis_replay.fake_server import FakeKisServer, Feed
from kis_replay.replayer import ReplayOptions, TimelineEvent

TIMEOUT = 30.0
CLIENTS = 5
PER_CLIENT = 2000
KEYS = ["111V06", "111V07"]


def timeline() -> list[TimelineEvent]:
    events = []
    for i in range(200):
        key = KEYS[i % 2]
        text = "0|H0ZFASP0|001|" + "^".join([key, "090000", *(str(i) for _ in range(66))])
        events.append(TimelineEvent(i * 1_000_000, 1_700_000_000_000_000_000 + i * 1_000_000, "H0ZFASP0", key, text))
    return events


def junk_value(rng: random.Random):
    return rng.choice([
        None, 1, -1.5, True, [], {}, [1, "a"], {"x": {"y": None}}, "", " ", "\x00", "한글", "1" * rng.randint(1, 300),
        "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 20))),
    ])


def mutated_request(rng: random.Random, client: int) -> str:
    """A subscribe/unsubscribe request with random damage: keys dropped, values of the wrong type or shape."""
    obj = json.loads(SubscribeRequest(
        rng.choice(["H0ZFASP0", "H0IOCNT0", "H0EUASP0", "H0XXXXX0", "", "h0zfasp0"]),
        rng.choice([*KEYS, f"1{rng.randint(0, 99):02d}V06", "", "1-1", "A" * 13]),
        tr_type=rng.choice(["1", "1", "2", "3", ""]), approval_key=f"fuzz-{client}",
        custtype=rng.choice(["P", "B", "X"])).to_json())
    for _ in range(rng.randint(0, 3)):
        body = obj.get("body")
        where = rng.choice([obj, obj.get("header"), body, body.get("input") if isinstance(body, dict) else None])
        if not isinstance(where, dict) or not where:
            continue
        key = rng.choice(list(where))
        action = rng.random()
        if action < 0.4:
            del where[key]
        elif action < 0.8:
            where[key] = junk_value(rng)
        else:
            where[rng.choice(["extra", "personalseckey", "body", "header"])] = junk_value(rng)
    return json.dumps(obj, ensure_ascii=rng.random() < 0.5)


def fuzz_message(rng: random.Random, client: int) -> tuple[str | bytes, bool]:
    """(message, expects a reply). Only a PINGPONG echo expects none."""
    kind = rng.random()
    if kind < 0.45:
        return mutated_request(rng, client), True
    if kind < 0.55:
        text = mutated_request(rng, client)
        return text[: rng.randint(0, len(text) - 1)], True  # truncated JSON
    if kind < 0.65:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 64))), True  # binary, mostly not UTF-8
    if kind < 0.70:
        return mutated_request(rng, client).encode("utf-8"), True  # a request in a binary frame
    if kind < 0.78:
        return "".join(chr(rng.randint(1, 0xD7FF)) for _ in range(rng.randint(0, 40))).replace("PINGPONG", ""), True
    if kind < 0.82:
        depth = rng.randint(10, 100_000)
        return "[" * depth + "]" * rng.choice([0, depth]), True  # deep nesting
    if kind < 0.86:
        return json.dumps(rng.choice([[], 1, "x", None, {"header": [], "body": "x"}])), True
    if kind < 0.90:
        echo = build_pingpong()
        return (echo if rng.random() < 0.5 else json.dumps(json.loads(echo), indent=2)), False
    # valid requests, to move the 41-registration limit around
    tr_type = rng.choice(["1", "1", "2"])
    return SubscribeRequest("H0ZFASP0", f"1{rng.randint(0, 59):02d}V06", tr_type=tr_type,
                            approval_key=f"fuzz-{client}").to_json(), True


async def fuzz_client(url: str, client: int) -> tuple[int, int]:
    rng = random.Random(f"fuzz:{client}")
    messages = [fuzz_message(rng, client) for _ in range(PER_CLIENT)]
    expected = sum(1 for _, reply in messages if reply)
    async with connect(url, max_size=None) as ws:
        async def read() -> int:
            replies = 0
            async with asyncio.timeout(TIMEOUT):
                while replies < expected:
                    message = await ws.recv()
                    if message.startswith("{") and "PINGPONG" not in message[:40]:
                        parse_reply(message)  # every reply is a well-formed KIS reply
                        replies += 1
            return replies

        reader = asyncio.create_task(read())
        for message, _ in messages:
            await ws.send(message)
        return await reader, expected


async def test_ten_thousand_bad_messages_then_a_good_client_is_served_right():
    events = timeline()
    log: list[dict] = []
    async with FakeKisServer(Feed.from_events(events), ReplayOptions(speed=None), on_end="idle",
                             on_event=log.append) as srv:
        results = await asyncio.gather(*(fuzz_client(srv.url, i) for i in range(CLIENTS)))
        for got, expected in results:
            assert got == expected  # exactly one reply per request, none for PINGPONG echoes
        assert CLIENTS * PER_CLIENT == 10_000

        # a text frame that is not UTF-8 breaks the WebSocket protocol itself: 1007 for that client only
        async with connect(srv.url) as broken:
            await broken.send(b"\xff\xfe not utf-8", text=True)
            try:
                async with asyncio.timeout(TIMEOUT):
                    await broken.recv()
            except ConnectionClosed:
                pass
            assert broken.close_code == 1007
        # so does a message over the 1 MiB limit: 1009
        async with connect(srv.url, max_size=None) as huge:
            await huge.send("x" * (2 << 20))
            try:
                async with asyncio.timeout(TIMEOUT):
                    await huge.recv()
            except ConnectionClosed:
                pass
            assert huge.close_code == 1009

        async with connect(srv.url + "/tryitout") as good:
            await good.send(SubscribeRequest("H0ZFASP0", "111V07", approval_key="good").to_json())
            ack = parse_reply(await asyncio.wait_for(good.recv(), TIMEOUT))
            assert ack.ok and ack.tr_key == "111V07"
            frames = [await asyncio.wait_for(good.recv(), TIMEOUT) for _ in range(100)]
            assert frames == [e.text for e in events if e.tr_key == "111V07"]
        assert not [e for e in log if e["event"] == "error"]
        assert len([e for e in log if e["event"] == "refused"]) > 5000
