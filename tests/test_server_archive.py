"""FakeKisServer over a real ``.kisrec.zst`` written with ArchiveWriter: the catalog it reads, the recorded
cipher of an encrypted TR, the --speed 10 schedule of the archive's own timeline, and the thread runner."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as sync_connect

from kis_replay.archive import ArchiveError, ArchiveHeader, ArchiveWriter, Direction, RecordKind
from kis_replay.codec import FrameCipher, SubscribeRequest, build_reply, parse_frame, parse_reply
from kis_replay.fake_server import FakeKisServer, Feed
from kis_replay.replayer import ReplayOptions

TIMEOUT = 10.0
KST = dt.timezone(dt.timedelta(hours=9))
T0 = int(dt.datetime(2026, 11, 24, 9, 0, tzinfo=KST).timestamp()) * 1_000_000_000
MS = 1_000_000
RECORDED = FrameCipher("R" * 16 + "k" * 16, "0123456789abcdef")
NOTICE = "H0IFCNI0"  # an encrypted fill-notice TR the codec has no table for
#: (offset ms, instrument): an uneven schedule, two futures books and a fill notice
SCHEDULE = [(0, "111V06"), (40, "112V06"), (100, "111V06"), (130, NOTICE), (400, "112V06"), (1000, "111V06"),
            (1020, "111V06"), (1500, NOTICE), (2000, "112V06")]


def quote(key: str, i: int) -> str:
    return "0|H0ZFASP0|001|" + "^".join([key, "090000", *(str(79_000 + i) for _ in range(66))])


def notice_plain(i: int) -> str:
    return "^".join(["hts0001", f"{i:010d}", "체결", "111V06", "79700"])


def write_archive(path: Path) -> list[str]:
    """The archive and the frames it holds, in order."""
    header = ArchiveHeader(source="test", filtered=True,
                           subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": "111V06"}])
    texts = []
    with ArchiveWriter(path, header) as writer:
        def write(kind, payload, direction, ms):
            wall = T0 + ms * MS
            writer.write(kind, payload, direction=direction, wall_ns=wall, mono_ns=wall - T0)

        ack = build_reply("OPSP0000", tr_id=NOTICE, tr_key="hts0001", encrypt="Y",
                          output={"iv": RECORDED.iv, "key": RECORDED.key})
        write(RecordKind.CONTROL, ack.to_json(), Direction.SERVER_TO_CLIENT, -5)
        for i, (ms, what) in enumerate(SCHEDULE):
            text = f"1|{NOTICE}|001|" + RECORDED.encrypt(notice_plain(i)) if what == NOTICE else quote(what, i)
            texts.append(text)
            write(RecordKind.DATA, text, Direction.SERVER_TO_CLIENT, ms)
    return texts


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("server") / "session.kisrec.zst"
    return path, write_archive(path)


def sub(tr_key: str, tr_id: str = "H0ZFASP0", key: str = "k") -> str:
    return SubscribeRequest(tr_id, tr_key, approval_key=key).to_json()


def test_the_catalog_comes_from_the_archive(archive):
    path, _ = archive
    feed = Feed.from_archive(path, ReplayOptions())
    catalog = feed.catalog
    assert {("H0ZFASP0", "111V06"), ("H0ZFASP0", "112V06")} <= catalog.routes
    assert catalog.encrypted_tr_ids == {NOTICE}
    assert catalog.cipher_for(NOTICE, "anyone") == RECORDED
    assert catalog.knows_tr(NOTICE) and catalog.has_data(NOTICE, "hts0002")
    only = Feed.from_archive(path, ReplayOptions(only=frozenset({("H0ZFASP0", "112V06")})))
    assert not only.catalog.has_data("H0ZFASP0", "111V06") and only.catalog.has_data("H0ZFASP0", "112V06")


def test_a_file_that_is_not_an_archive_is_an_archive_error_naming_it(tmp_path):
    bad = tmp_path / "bad.kisrec.zst"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(ArchiveError, match=r"bad\.kisrec\.zst"):
        FakeKisServer(bad)


async def test_encrypted_frames_decrypt_with_the_recorded_key_from_the_ack(archive):
    path, texts = archive
    async with FakeKisServer(path, ReplayOptions(speed=None)) as srv, connect(srv.url) as ws:
        await ws.send(sub("hts0001", NOTICE))
        ack = parse_reply(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert (ack.ok, ack.encrypt, ack.cipher()) == (True, "Y", RECORDED)
        got = []
        async with asyncio.timeout(TIMEOUT):
            try:
                async for message in ws:
                    got.append(message)
            except ConnectionClosed:
                pass
    assert got == [t for t in texts if t.startswith("1|")]
    plains = ["^".join(parse_frame(t, cipher=ack.cipher()).records[0].raw) for t in got]
    assert plains == [notice_plain(i) for i, (_, what) in enumerate(SCHEDULE) if what == NOTICE]


async def test_speed_10_keeps_the_archive_schedule(archive):
    path, texts = archive
    async with FakeKisServer(path, ReplayOptions(speed=10)) as srv, connect(srv.url) as ws:
        for key in ("111V06", "112V06"):
            await ws.send(sub(key))
            assert parse_reply(await asyncio.wait_for(ws.recv(), TIMEOUT)).ok
        arrivals = []
        async with asyncio.timeout(TIMEOUT):
            try:
                async for message in ws:
                    arrivals.append((time.monotonic(), message))
            except ConnectionClosed:
                pass
    expected = [(ms, text) for (ms, what), text in zip(SCHEDULE, texts, strict=True) if what != NOTICE]
    assert [m for _, m in arrivals] == [t for _, t in expected]
    first = arrivals[0][0]
    for (ms, _), (at, _) in zip(expected, arrivals, strict=True):
        due = ms / 1000 / 10  # session seconds at speed 10
        assert due - 0.02 <= at - first <= due + 0.15, (ms, at - first)
    assert arrivals[-1][0] - first >= 0.2 - 0.02  # 2 s of session took 0.2 s, not less


def test_run_in_thread_serves_an_archive_to_synchronous_code(archive):
    path, texts = archive
    events = []
    server = FakeKisServer(path, ReplayOptions(speed=None), on_event=events.append)
    with server.run_in_thread() as handle, sync_connect(handle.url + "/tryitout/H0ZFASP0") as ws:
        ws.send(sub("112V06"))
        messages = list(ws)
        handle.wait_until_done(TIMEOUT)
    assert json.loads(messages[0])["body"]["msg_cd"] == "OPSP0000"
    assert messages[1:] == [t for t in texts if "|112V06^" in t]
    assert [e["event"] for e in events][-1] == "stopped"
    assert handle.stats.clients[1].close_code == 1000
