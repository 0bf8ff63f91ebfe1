"""The timeline, ciphers and routes of real archives written with ArchiveWriter in tmp_path."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest
from test_filter import fut_quote, opt_quote, trade

from kis_replay.archive import ArchiveHeader, ArchiveReader, ArchiveWriter, Direction, RecordKind
from kis_replay.codec import FrameCipher, SubscribeRequest, build_pingpong, build_reply, parse_frame, peek_route
from kis_replay.replayer import (
    WINDOW_NS,
    ReplayOptions,
    archive_routes,
    build_timeline,
    is_filtered_quote,
    recorded_ciphers,
    scan_catalog,
)

MS = 1_000_000
T0 = 1_700_000_000_000 * MS + 30 * MS  # not on the 200 ms grid
K1 = FrameCipher("k" * 16 + "1" * 16, "i" * 15 + "1")
K2 = FrameCipher("k" * 16 + "2" * 16, "i" * 15 + "2")
NOTICE_PLAIN = "hts01^0000012345^매수^101W09^1^345.50"
ROUTES = [("H0ZFASP0", "111V06"), ("H0EUASP0", "301V06362"), ("H0IOCNT0", "201S11305"), ("H0IFCNI0", "hts01")]


def notice(cipher: FrameCipher) -> str:
    return "1|H0IFCNI0|001|" + cipher.encrypt(NOTICE_PLAIN)


def write_session(path: Path, *, filtered: bool | None) -> list[tuple[int, str]]:
    """Two connections of 3 s each: acks (K1, then K2 after the reconnect), PINGPONGs, requests, quotes
    every 30 ms, option quotes every 70 ms, trades every 110 ms, one fill notice per connection.
    Returns the server→client data frames as ``(wall_ns, text)``, in the order written."""
    data: list[tuple[int, str]] = []
    with ArchiveWriter(path, ArchiveHeader(filtered=filtered), frame_seconds=0.5, fsync=False) as w:
        for conn, cipher, start in ((0, K1, T0), (1, K2, T0 + 3_000 * MS)):
            w.write(RecordKind.OPENED, "ws://127.0.0.1/tryitout", direction=Direction.NONE, conn=conn,
                    wall_ns=start, mono_ns=start)
            for tr_id, tr_key in ROUTES:
                request = SubscribeRequest(tr_id, tr_key, approval_key="secret-approval-key").to_json()
                w.write(RecordKind.CONTROL, request, direction=Direction.CLIENT_TO_SERVER, conn=conn,
                        wall_ns=start, mono_ns=start)
                ack = build_reply("OPSP0000", tr_id=tr_id, tr_key=tr_key, encrypt="Y" if tr_id == "H0IFCNI0" else "N",
                                  output={"iv": cipher.iv, "key": cipher.key})
                w.write(RecordKind.CONTROL, ack.to_json(), conn=conn, wall_ns=start, mono_ns=start)
            for ms in range(1, 3_000):
                wall = start + ms * MS
                frames = []
                if ms % 30 == 0:
                    frames.append(fut_quote("111V06", ms))
                if ms % 70 == 0:
                    frames.append(opt_quote("301V06362", ms))
                if ms % 110 == 0:
                    frames.append(trade("201S11305", ms))
                if ms == 1_500:
                    frames.append(notice(cipher))
                if ms % 1_000 == 0:
                    w.write(RecordKind.CONTROL, build_pingpong(), conn=conn, wall_ns=wall, mono_ns=wall)
                for text in frames:
                    w.write(RecordKind.DATA, text, conn=conn, wall_ns=wall, mono_ns=wall)
                    data.append((wall, text))
            w.write(RecordKind.CLOSED, "1006", direction=Direction.NONE, conn=conn,
                    wall_ns=start + 3_000 * MS, mono_ns=start + 3_000 * MS)
    return data


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[tuple[int, str]]]]:
    root = tmp_path_factory.mktemp("archives")
    out = {}
    for name, filtered in (("live", True), ("synthetic", False), ("unknown", None)):
        path = root / f"{name}.kisrec.zst"
        out[name] = (path, write_session(path, filtered=filtered))
    return out


def timeline(path: Path, **options: object) -> list:
    with ArchiveReader(path) as reader:
        return list(build_timeline(reader, ReplayOptions(**options)))  # type: ignore[arg-type]


def test_unfiltered_timeline_is_every_server_data_frame_in_order(archives: dict) -> None:
    path, data = archives["live"]
    events = timeline(path)
    assert len(events) == len(data)
    # the encrypted notice of the second connection is re-encrypted: compare it by plaintext below
    plain = [(e.wall_ns, e.text) for e in events if not e.text.startswith("1|")]
    assert plain == [(w, t) for w, t in data if not t.startswith("1|")]
    assert [e.offset_ns for e in events] == [w - data[0][0] for w, _ in data]
    assert all(e.text[:2] in ("0|", "1|") for e in events)  # no acks, requests or PINGPONGs replayed
    assert [(e.tr_id, e.tr_key) for e in events] == [peek_route(t) for _, t in data]


@pytest.mark.parametrize(("name", "mode", "thinned"), [
    ("synthetic", "auto", True), ("live", "auto", False), ("unknown", "auto", False),
    ("live", "0.2", True), ("synthetic", "off", False),
])
def test_auto_filter_follows_the_header(archives: dict, name: str, mode: str, thinned: bool) -> None:
    path, data = archives[name]
    events = timeline(path, filter=mode)
    quotes = [e for e in events if is_filtered_quote(e.tr_id, e.tr_key)]
    recorded_quotes = [(w, t) for w, t in data if is_filtered_quote(*peek_route(t))]  # type: ignore[misc]
    assert [e.offset_ns for e in events] == sorted(e.offset_ns for e in events)
    if not thinned:
        assert len(quotes) == len(recorded_quotes)
        return
    windows = {(peek_route(t), w // WINDOW_NS) for w, t in recorded_quotes}
    assert len(quotes) == len(windows) < len(recorded_quotes)
    assert all(e.wall_ns % WINDOW_NS == 0 for e in quotes)  # out at window ends
    trades = [e.text for e in events if e.tr_id == "H0IOCNT0"]
    assert trades == [t for _, t in data if t.startswith("0|H0IOCNT0")]


def test_from_and_to_seek_and_set_the_origin(archives: dict) -> None:
    path, data = archives["live"]
    start, end = T0 + 1_234 * MS, T0 + 2_345 * MS
    with ArchiveReader(path) as reader:
        in_range = sum(1 for e in reader.index if e.last_wall_ns >= start and e.first_wall_ns < end)
        events = list(build_timeline(reader, ReplayOptions(start_ns=start, end_ns=end)))
        with_notices = sum(1 for e in reader.index if "H0IFCNI0" in e.tr_ids)
        # the index skipped the rest: at most the header, the range, and the look-up of the notice TR's
        # acks (the frames that hold H0IFCNI0 at all)
        assert reader.stats.frames_decompressed <= 1 + in_range + with_notices < len(reader.index)
    expected = [(w, t) for w, t in data if start <= w < end]
    assert [(e.wall_ns, e.text) for e in events if not e.text.startswith("1|")] == [
        (w, t) for w, t in expected if not t.startswith("1|")]
    assert events[0].offset_ns == 0 and events[0].wall_ns == expected[0][0]
    assert events[-1].offset_ns == expected[-1][0] - expected[0][0]


def test_only_limits_by_tr_and_by_route(archives: dict) -> None:
    path, data = archives["live"]
    trades = timeline(path, only=frozenset({("H0IOCNT0", None)}))
    assert [e.text for e in trades] == [t for _, t in data if t.startswith("0|H0IOCNT0")]
    assert trades[0].offset_ns == 0
    both = timeline(path, only=frozenset({("H0ZFASP0", "111V06"), ("H0IFCNI0", None)}))
    assert {(e.tr_id, e.tr_key) for e in both} == {("H0ZFASP0", "111V06"), ("H0IFCNI0", None)}
    assert timeline(path, only=frozenset({("H0ZFASP0", "999V99")})) == []


def test_loop_restarts_with_increasing_offsets(archives: dict) -> None:
    path, _ = archives["synthetic"]
    with ArchiveReader(path) as reader:
        once = list(build_timeline(reader, ReplayOptions(filter="auto")))
        looped = list(itertools.islice(build_timeline(reader, ReplayOptions(loop=True)), 3 * len(once)))
    span = once[-1].offset_ns
    period = span + span // (len(once) - 1)
    for n in range(3):
        cycle = looped[n * len(once):(n + 1) * len(once)]
        assert [e.text for e in cycle] == [e.text for e in once]
        assert [e.offset_ns for e in cycle] == [e.offset_ns + n * period for e in once]
    assert [e.offset_ns for e in looped] == sorted(e.offset_ns for e in looped)


def test_recorded_ciphers_come_from_the_first_acks(archives: dict) -> None:
    path, data = archives["live"]
    with ArchiveReader(path) as reader:
        ciphers = recorded_ciphers(reader)
    assert ciphers == {route: K1 for route in ROUTES}
    first_notice = next(t for _, t in data if t.startswith("1|"))
    assert parse_frame(first_notice, cipher=ciphers[("H0IFCNI0", "hts01")]).records[0].raw[0] == "hts01"


def test_later_connections_frames_decrypt_with_the_handed_out_key(archives: dict) -> None:
    path, data = archives["live"]
    recorded = [t for _, t in data if t.startswith("1|")]
    assert K2.decrypt(recorded[1].split("|")[3]) == NOTICE_PLAIN  # the recording: second key
    notices = [e for e in timeline(path) if e.tr_id == "H0IFCNI0"]
    assert notices[0].text == recorded[0]  # first connection: exactly as recorded
    assert [K1.decrypt(e.text.split("|")[3]) for e in notices] == [NOTICE_PLAIN, NOTICE_PLAIN]
    assert notices[1].text.startswith("1|H0IFCNI0|001|")


def test_archive_routes(archives: dict) -> None:
    path, _ = archives["live"]
    with ArchiveReader(path) as reader:
        assert archive_routes(reader) == set(ROUTES)


def test_scan_catalog_finds_routes_ciphers_and_encrypted_trs_in_one_pass(archives: dict) -> None:
    path, _ = archives["live"]
    with ArchiveReader(path) as reader:
        frames = len(reader.index)
        before = reader.stats.frames_decompressed
        scanned = scan_catalog(reader)
        assert reader.stats.frames_decompressed - before == frames  # each frame once, not once per question
        assert scanned.routes == archive_routes(reader) == set(ROUTES)
        assert scanned.ciphers == recorded_ciphers(reader) == {route: K1 for route in ROUTES}
    # every TR was acked with a key and iv; only the notices' frames were recorded encrypted
    assert scanned.encrypted_tr_ids == {"H0IFCNI0"}


def test_scan_catalog_judges_a_tr_encrypted_by_its_first_frame_and_needs_an_ack(tmp_path: Path) -> None:
    path = tmp_path / "mixed.kisrec.zst"
    ack = build_reply("OPSP0000", tr_id="H0IFCNI0", tr_key="hts01", encrypt="Y",
                      output={"iv": K1.iv, "key": K1.key})
    with ArchiveWriter(path, ArchiveHeader(filtered=True), fsync=False) as w:
        w.write(RecordKind.DATA, "1|H0STCNI0|001|" + K1.encrypt("no ack for this TR"), wall_ns=T0, mono_ns=0)
        w.write(RecordKind.CONTROL, ack.to_json(), wall_ns=T0 + MS, mono_ns=1)
        w.write(RecordKind.DATA, "0|H0IFCNI0|001|hts01^plain", wall_ns=T0 + 2 * MS, mono_ns=2)
        w.write(RecordKind.CONTROL, build_pingpong(), wall_ns=T0 + 3 * MS, mono_ns=3)
        w.write(RecordKind.DATA, notice(K1), wall_ns=T0 + 4 * MS, mono_ns=4)
        w.write(RecordKind.DATA, trade("201S11305", 1), wall_ns=T0 + 5 * MS, mono_ns=5)
    with ArchiveReader(path) as reader:
        scanned = scan_catalog(reader)
    assert scanned.encrypted_tr_ids == set()  # H0IFCNI0's first frame is plain; H0STCNI0 has no ack
    assert scanned.routes == {("H0IFCNI0", "hts01"), ("H0IOCNT0", "201S11305")}
    assert scanned.ciphers == {("H0IFCNI0", "hts01"): K1}


def test_bad_records_are_skipped_with_a_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "bad.kisrec.zst"
    with ArchiveWriter(path, ArchiveHeader(filtered=True), fsync=False) as w:
        w.write(RecordKind.CONTROL, '{"header":{"tr_id":"H0IFCNI0","tr_key":"hts01","encrypt":"Y"},"body":'
                '{"rt_cd":"0","msg_cd":"OPSP0000","msg1":"SUBSCRIBE SUCCESS","output":{"iv":"short","key":"x"}}}',
                wall_ns=T0, mono_ns=0)
        w.write(RecordKind.DATA, b"\xff\xfe not a frame", wall_ns=T0 + MS, mono_ns=1)
        w.write(RecordKind.DATA, trade("201S11305", 1), wall_ns=T0 + 2 * MS, mono_ns=2)
        w.write(RecordKind.DATA, "1|H0IFCNI0|001|not-base64", wall_ns=T0 + 3 * MS, mono_ns=3)
    with caplog.at_level(logging.WARNING, logger="kis_replay.replayer"), ArchiveReader(path) as reader:
        assert recorded_ciphers(reader) == {}
        events = list(build_timeline(reader, ReplayOptions()))
    assert [e.tr_id for e in events] == ["H0IOCNT0", "H0IFCNI0"]  # without its key, replayed as recorded
    assert events[0].offset_ns == 0
    assert f"received at {T0} ns" in caplog.text and "iv" in caplog.text
    assert f"received at {T0 + MS} ns that is not a data frame" in caplog.text
