"""Many per-client replays of one archive through real sockets: each client gets its whole session, in
order, and replays that start together share one read of the archive (the SharedTimeline behind
Feed.from_archive)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from kis_replay.archive import ArchiveHeader, ArchiveWriter, Direction, RecordKind
from kis_replay.codec import SubscribeRequest, is_data_frame, parse_reply
from kis_replay.fake_server import FakeKisServer
from kis_replay.replayer import ReplayOptions

TIMEOUT = 20.0
T0 = 1_795_996_800_000_000_000
MS = 1_000_000
KEYS = ("111V06", "112V06", "113V06")
FRAMES = 1_800  # 4 chunks of the shared timeline


def quote(key: str, i: int) -> str:
    return "0|H0ZFASP0|001|" + "^".join([key, "090000", *(str(79_000 + (i * 7 + k) % 900) for k in range(66))])


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """1 800 quotes over three books, 2 ms apart (3.6 s of session)."""
    path = tmp_path_factory.mktemp("shared") / "session.kisrec.zst"
    texts = [quote(KEYS[i % 3], i) for i in range(FRAMES)]
    with ArchiveWriter(path, ArchiveHeader(source="test", filtered=True)) as writer:
        for i, text in enumerate(texts):
            writer.write(RecordKind.DATA, text, direction=Direction.SERVER_TO_CLIENT, wall_ns=T0 + 2 * i * MS,
                         mono_ns=2 * i * MS)
    return path, texts


async def client(url: str, keys: tuple[str, ...], subscribed: asyncio.Barrier) -> list[str]:
    """Subscribe to ``keys`` (all clients at once, past the barrier) and read data frames until closed."""
    async with connect(url, max_queue=None) as ws:
        await subscribed.wait()
        for key in keys:
            await ws.send(SubscribeRequest("H0ZFASP0", key, approval_key="k").to_json())
        got = []
        try:
            async for message in ws:
                if is_data_frame(message):
                    got.append(message)
                else:
                    assert parse_reply(message).ok
        except ConnectionClosed:
            pass
        return got


def subscriptions(n: int) -> list[tuple[str, ...]]:
    """Every third client takes all books, the others one or two."""
    return [KEYS if i % 3 == 0 else KEYS[i % 3:] for i in range(n)]


async def test_clients_that_start_together_share_one_read_of_the_archive(archive) -> None:
    path, texts = archive
    n = 20
    async with FakeKisServer(path, ReplayOptions(speed=4), allow_shared_key=True, settle=0.05) as srv:
        barrier = asyncio.Barrier(n)
        wanted = subscriptions(n)
        async with asyncio.timeout(TIMEOUT):
            got = await asyncio.gather(*(client(srv.url, keys, barrier) for keys in wanted))
        reads = srv.feed.chunks.__self__.reads  # the Feed's SharedTimeline
    for keys, frames in zip(wanted, got, strict=True):
        assert frames == [t for t in texts if t[15:21] in keys]
    # every replay started within a few ms of the others and lasts ~0.9 s: all walked the first read
    assert reads == 1


async def test_many_clients_at_max_speed_each_get_their_whole_session(archive) -> None:
    path, texts = archive
    n = 20
    async with FakeKisServer(path, ReplayOptions(speed=None), allow_shared_key=True, queue_size=64) as srv:
        barrier = asyncio.Barrier(n)
        wanted = subscriptions(n)
        async with asyncio.timeout(TIMEOUT):
            got = await asyncio.gather(*(client(srv.url, keys, barrier) for keys in wanted))
        stats = srv.stats
    for keys, frames in zip(wanted, got, strict=True):
        assert frames == [t for t in texts if t[15:21] in keys]
    assert stats.frames_sent == sum(len(frames) for frames in got)
    assert {c.close_code for c in stats.clients.values()} == {1000}
