"""The example bot's CI: a recorded KIS session replayed to it, with the bad minutes on purpose.

Each test gets ``kis_replay_server``, a fake KIS server on 127.0.0.1 replaying the marker's archive (here
kis-replay's bundled sample sessions), and points the bot at ``kis_replay_server.url``. The server closes
the session (1000) at the end of the archive, which ends ``QuoteBot.run()``. No network, no credentials,
no market hours: the same frames on every run.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from quote_bot import Book, QuoteBot

from kis_replay.archive import ArchiveReader, RecordKind
from kis_replay.codec import parse_frame
from kis_replay.codec.strategies import frames, garbage

FUTURES = ["111X12", "112X12"]
OPTIONS = ["201X12350", "201X12355", "301X12350", "301X12345"]
SUBSCRIPTIONS = {("H0ZFASP0", code) for code in FUTURES} | {("H0IOCNT0", code) for code in OPTIONS}


def new_bot(server) -> QuoteBot:
    # the fake accepts any approval key (pass approval_key= to the marker to require one)
    return QuoteBot(server.url, "ci-approval-key", quotes=FUTURES, trades=OPTIONS, reconnect_delay=0.05)


def final_state(archive: Path) -> tuple[dict[str, tuple[Decimal, Decimal]], dict[str, Decimal]]:
    """What the bot must end with: the last book and the last trade price of each instrument recorded."""
    books, prices = {}, {}
    with ArchiveReader(archive) as reader:
        for record in reader.records(kinds=[RecordKind.DATA]):
            frame = parse_frame(record.text)
            for rec in frame.records:
                if frame.tr_id == "H0ZFASP0":
                    books[rec.tr_key] = (rec["BIDP1"], rec["ASKP1"])
                else:
                    prices[rec.tr_key] = rec["OPTN_PRPR"]
    return books, prices


def assert_final_state(bot: QuoteBot, archive: Path) -> None:
    books, prices = final_state(archive)
    assert {code: (book.bid, book.ask) for code, book in bot.books.items()} == books
    assert bot.last_price == prices


@pytest.mark.kis_replay("fixtures/sample.kisrec.zst", speed="max")
async def test_a_normal_day(kis_replay_server):
    bot = new_bot(kis_replay_server)
    await asyncio.wait_for(bot.run(), 30)  # returns when the server closes the session at the end
    assert_final_state(bot, kis_replay_server.archive)
    assert bot.frames == kis_replay_server.frames_sent > 1000  # every frame sent was applied
    assert (bot.skipped, bot.drops, bot.acks, bot.errors) == (0, 0, 6, [])
    assert kis_replay_server.subscriptions == SUBSCRIPTIONS


@pytest.mark.kis_replay("fixtures/open.kisrec.zst", speed=40, scenario="open-burst")
async def test_the_open_burst(kis_replay_server):
    bot = new_bot(kis_replay_server)
    await asyncio.wait_for(bot.run(), 30)
    (burst,) = kis_replay_server.faults
    assert burst["what"].startswith("burst:") and "of 30s sent within 300ms" in burst["what"]
    assert bot.drops == 0  # kept up: a bot that falls 4096 frames behind is disconnected (1008)
    assert bot.frames == kis_replay_server.frames_sent
    assert_final_state(bot, kis_replay_server.archive)


@pytest.mark.kis_replay("fixtures/sample.kisrec.zst", speed="max", scenario="scenarios/drops.toml")
async def test_dropped_connections_are_survived(kis_replay_server):
    bot = new_bot(kis_replay_server)
    await asyncio.wait_for(bot.run(), 30)
    assert [f["what"] for f in kis_replay_server.faults] == [
        "close 1011 'server restart'; refusing new connections for 500ms",
        "dropped the TCP connection (no close frame)",
    ]
    assert bot.connections == 3 and bot.drops >= 2  # refused attempts count as drops too
    assert_final_state(bot, kis_replay_server.archive)  # the third connection replayed the whole day


@pytest.mark.kis_replay("fixtures/sample.kisrec.zst", speed="max", scenario="malformed-frames")
async def test_malformed_frames_are_skipped(kis_replay_server):
    bot = new_bot(kis_replay_server)
    await asyncio.wait_for(bot.run(), 30)
    assert len(kis_replay_server.faults) == 5  # wrong field count, bad count, truncated, bad UTF-8, unknown TR
    assert bot.skipped == 5
    assert_final_state(bot, kis_replay_server.archive)


@pytest.mark.kis_replay("fixtures/sample.kisrec.zst", speed="max", scenario="subscribe-errors")
def test_refused_subscriptions_are_reported(kis_replay_server):
    # a plain (synchronous) test: the server runs in a background thread, the bot in its own loop
    bot = new_bot(kis_replay_server)
    asyncio.run(asyncio.wait_for(bot.run(), 30))
    assert [e.split()[0] for e in bot.errors] == ["OPSP0008", "OPSP0011"]  # the first two: both futures
    assert bot.books == {}
    assert set(bot.last_price) == set(OPTIONS)


# -- the parser alone, on everything KIS can send: kis-replay's hypothesis strategies ---------------------------


@settings(max_examples=50, deadline=None)
@given(frames("H0ZFASP0"))
def test_any_quote_sets_the_book(frame):
    bot = QuoteBot("ws://unused", "k")
    bot.handle(frame.text)
    (quote,) = frame.records
    assert bot.books == {quote.tr_key: Book(quote["BIDP1"], quote["ASKP1"], quote.raw_value("BSOP_HOUR"))}
    assert bot.books[quote.tr_key].mid == (quote["BIDP1"] + quote["ASKP1"]) / 2


@settings(max_examples=50, deadline=None)
@given(frames("H0IOCNT0", max_records=11))
def test_batched_trades_keep_the_last_price(frame):
    bot = QuoteBot("ws://unused", "k")
    bot.handle(frame.text)
    assert bot.last_price == {frame.records[-1].tr_key: frame.records[-1]["OPTN_PRPR"]}


@settings(max_examples=100, deadline=None)
@given(garbage())
def test_garbage_never_stops_the_bot(data):
    bot = QuoteBot("ws://unused", "k")
    bot.handle(data)  # skipped or applied, never an exception
    assert bot.skipped + bot.frames + bot.acks + len(bot.errors) <= 1
