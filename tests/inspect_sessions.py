"""Small, exactly known sessions for the inspection tests, written with the real ArchiveWriter.

Every count a test asserts (frames per TR and instrument, the burst that makes the peak rate, the gap,
the encrypted frames and the ack that unlocks them) is decided here, so the tests can state the expected
numbers instead of recomputing them with the code under test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from kis_replay.archive import ArchiveHeader, ArchiveWriter, Direction, RecordKind
from kis_replay.codec import FrameCipher, SubscribeRequest, build_pingpong, build_reply

NS = 1_000_000_000
MS = 1_000_000
#: 2024-05-02 09:00:00 KST, the session's first record.
T0 = int(dt.datetime(2024, 5, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))).timestamp()) * NS
MONO0 = 5_000 * NS  # the recording process's monotonic clock at T0

APPROVAL_KEY = "d3b07384-d113-4ec2-a8c4-approval-SECRET"
CIPHER = FrameCipher(key="abcdefghijklmnopabcdefghijklmnop", iv="0123456789abcdef")
HTS_ID = "kisuser01"

SAMPLE_QUOTE = (  # KIS's own H0ZFASP0 example (PROTOCOL.md)
    "111V06^092304^79700^79800^79900^80000^80200^80300^80500^81100^84900^85900^79500^79400^79300^79200^79100^"
    "79000^78900^78800^78700^78600^1^18^6^2^2^1^3^1^1^1^8^6^4^8^4^8^7^11^11^3^950^4148^988^6^9^1^3^15^5^10^4404^"
    "2277^1321^3440^330^2237^1835^362^83^15^36^97^6135^16509^950^0"
)
QUOTE_FIELDS = SAMPLE_QUOTE.split("^")
TRADE_FIELDS = [
    "201S11305", "093012", "2.98", "5", "-0.034", "-1.13", "3.10", "3.15", "2.90", "3", "1520", "113200", "2.99",
    "15230", "-12", "090000", "5", "-0.12", "090102", "5", "-0.17", "091500", "2", "0.08", "48.50", "2.98", "0.00",
    "2.98", "0.4812", "0.0213", "0.3121", "-0.0512", "0.0211", "18.42", "-0.01", "3", "0.12", "15.30",
    "98.20", "-0.33", "0.95", "2.99", "2.98", "12", "30", "410", "388", "-22", "790", "730", "3120", "2950",
    "85.20", "17.90", "0", "4.50", "1.50", "N",
]
NOTICE_PLAIN = f"{HTS_ID}^0000012345^00001^주문체결^111V06^1^79700"


def hhmmss(wall_ns: int) -> str:
    t = dt.datetime.fromtimestamp(wall_ns // NS, dt.timezone(dt.timedelta(hours=9)))
    return t.strftime("%H%M%S")


def quote(code: str, wall_ns: int, ask1: int = 79700) -> str:
    fields = list(QUOTE_FIELDS)
    fields[0], fields[1], fields[2] = code, hhmmss(wall_ns), str(ask1)
    return "0|H0ZFASP0|001|" + "^".join(fields)


def trades(code: str, wall_ns: int, count: int) -> str:
    records = []
    for _ in range(count):
        fields = list(TRADE_FIELDS)
        fields[0], fields[1] = code, hhmmss(wall_ns)
        records.append("^".join(fields))
    return f"0|H0IOCNT0|{count:03d}|" + "^".join(records)


@dataclass(frozen=True)
class Expected:
    """What :func:`write_session` wrote, for assertions."""

    quotes: dict[str, int]  #: H0ZFASP0 tr_key → frames
    trade_frames: int
    trade_records: int
    notices: int
    peak_quotes_per_s: int
    records: int
    data: list[tuple[int, str]]  #: (wall_ns, text) of every data frame in order
    gap: tuple[int, int, str]
    last_wall_ns: int


def write_session(path: Path, *, seconds: int = 20, burst_at: int = 10, burst: int = 25) -> Expected:
    """A 09:00:00–09:00:``seconds`` KST session on two connections.

    conn 0: subscribe requests (with an approval key the writer must redact) and acks (the notice TR's
    with ``output`` key/iv), H0ZFASP0 quotes for 111V06 and 111V07 every 200 ms each, H0IOCNT0 trades
    (3 records a frame) every second, one encrypted H0STCNI0 notice every 5 s, a PINGPONG, and at
    ``burst_at`` s a burst of ``burst`` extra 111V06 quotes within 500 ms. A GAP 15.0–15.5 s ("reconnect")
    closes conn 0; conn 1 opens at 15.5 s and gets the rest.
    """
    header = ArchiveHeader(
        source="ws://127.0.0.1:21000/tryitout",
        subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": "111V06"}, {"tr_id": "H0ZFASP0", "tr_key": "111V07"},
                       {"tr_id": "H0IOCNT0", "tr_key": "201S11305"}, {"tr_id": "H0STCNI0", "tr_key": HTS_ID}],
        labels={"purpose": "inspection tests"},
        filtered=True,
    )
    quotes = {"111V06": 0, "111V07": 0}
    data: list[tuple[int, str]] = []
    trade_frames = notices = 0
    records = 0
    gap_start, gap_end = T0 + 15 * NS, T0 + 15 * NS + 500 * MS
    with ArchiveWriter(path, header, frame_seconds=2.0, fsync=False) as w:
        def put(kind: RecordKind, payload: str, at: int, direction: Direction = Direction.SERVER_TO_CLIENT,
                conn: int = 0) -> None:
            nonlocal records
            w.write(kind, payload, direction=direction, conn=conn, wall_ns=at, mono_ns=MONO0 + at - T0)
            records += 1
            if kind == RecordKind.DATA:
                data.append((at, payload))

        def subscribe(conn: int, at: int) -> None:
            put(RecordKind.OPENED, "ws://127.0.0.1:21000/tryitout", at, Direction.NONE, conn)
            for i, sub in enumerate(header.subscriptions):
                req = SubscribeRequest(sub["tr_id"], sub["tr_key"], approval_key=APPROVAL_KEY)
                put(RecordKind.CONTROL, req.to_json(), at + (2 * i + 1) * MS, Direction.CLIENT_TO_SERVER, conn)
                encrypted = sub["tr_id"] == "H0STCNI0"
                ack = build_reply("OPSP0000", tr_id=sub["tr_id"], tr_key=sub["tr_key"],
                                  encrypt="Y" if encrypted else "N",
                                  output={"iv": CIPHER.iv, "key": CIPHER.key} if encrypted else None)
                put(RecordKind.CONTROL, ack.to_json(), at + (2 * i + 2) * MS, Direction.SERVER_TO_CLIENT, conn)

        subscribe(0, T0)
        conn = 0
        for tick in range(10, seconds * 10):  # every 100 ms from 09:00:01.000
            at = T0 + tick * 100 * MS
            if gap_start <= at < gap_end:
                continue
            if at >= gap_end and conn == 0:
                put(RecordKind.CLOSED, "1006 abnormal closure", gap_start, Direction.NONE, 0)
                w.gap(gap_start, gap_end, "reconnect", conn=0, mono_ns=MONO0 + gap_end - T0)
                records += 1
                conn = 1
                subscribe(1, gap_end)
                at += 20 * MS
            code = "111V06" if tick % 2 == 0 else "111V07"
            put(RecordKind.DATA, quote(code, at), at + 1 * MS, conn=conn)
            quotes[code] += 1
            if tick % 10 == 5:
                put(RecordKind.DATA, trades("201S11305", at, 3), at + 2 * MS, conn=conn)
                trade_frames += 1
            if tick % 50 == 7:
                put(RecordKind.DATA, f"1|H0STCNI0|001|{CIPHER.encrypt(NOTICE_PLAIN)}", at + 3 * MS, conn=conn)
                notices += 1
            if tick == 30:
                put(RecordKind.CONTROL, build_pingpong(dt.datetime.fromtimestamp(at // NS, dt.UTC)),
                    at + 4 * MS, conn=conn)
            if tick == burst_at * 10:
                for i in range(burst):
                    put(RecordKind.DATA, quote("111V06", at, 79800 + i), at + 5 * MS + i * 20 * MS, conn=conn)
                    quotes["111V06"] += 1
    # In any 1 s window around the burst: the burst, plus ~10 regular quotes (5 per instrument).
    return Expected(quotes, trade_frames, trade_frames * 3, notices, burst + 10, records, data,
                    (gap_start, gap_end, "reconnect"), data[-1][0])
