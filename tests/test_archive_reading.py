"""Reading: filters agree with a brute-force filter, and the seek index spares the frames not needed."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import pytest

from kis_replay.archive import (
    ArchiveHeader,
    ArchiveReader,
    ArchiveRecord,
    ArchiveWarning,
    ArchiveWriter,
    Direction,
    RecordKind,
    session_time_to_ns,
)
from kis_replay.codec import SubscribeRequest, build_reply, peek_route

T0 = 1_735_776_000_000_000_000  # 2025-01-02 09:00:00 KST
SECOND = 10**9
KEYS = ("111V06", "111V09", "101W09")


def _route(r: ArchiveRecord) -> tuple[str, str | None] | None:
    """Brute force, straight from the codec: the route a filter must agree with."""
    if r.kind is RecordKind.DATA:
        return peek_route(r.text)
    if r.kind is RecordKind.CONTROL and b"PINGPONG" not in r.payload:
        obj = json.loads(r.payload)
        where = obj["body"]["input"] if r.direction is Direction.CLIENT_TO_SERVER else obj["header"]
        return where["tr_id"], where["tr_key"]
    return None


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ArchiveRecord]]:
    """10 minutes from 09:00 KST, 10 s frames; H0EUASP0 only in the last 2 minutes."""
    path = tmp_path_factory.mktemp("read") / "s.kisrec.zst"
    with ArchiveWriter(path, ArchiveHeader(), frame_seconds=10.0, fsync=False) as w:
        w.write(RecordKind.OPENED, "ws://127.0.0.1/", direction=Direction.NONE, wall_ns=T0, mono_ns=0, conn=1)
        for key in KEYS:
            w.write(RecordKind.CONTROL, SubscribeRequest("H0ZFASP0", key, approval_key="x" * 36).to_json(),
                    direction=Direction.CLIENT_TO_SERVER, wall_ns=T0, mono_ns=0, conn=1)
            w.write(RecordKind.CONTROL, build_reply("OPSP0000", tr_id="H0ZFASP0", tr_key=key).to_json(),
                    wall_ns=T0, mono_ns=0, conn=1)
        for i in range(6000):  # one event each 100 ms
            t = T0 + i * SECOND // 10
            if i % 100 == 50:
                w.write(RecordKind.PING, b"", wall_ns=t, mono_ns=t - T0, conn=1)
                w.write(RecordKind.PONG, b"", direction=Direction.CLIENT_TO_SERVER, wall_ns=t, mono_ns=t - T0,
                        conn=1)
            elif i >= 4800 and i % 2:
                w.write(RecordKind.DATA, f"0|H0EUASP0|001|301V06362^{i}^2.98", wall_ns=t, mono_ns=t - T0, conn=1)
            else:
                w.write(RecordKind.DATA, f"0|H0ZFASP0|001|{KEYS[i % 3]}^{i}^79700", wall_ns=t, mono_ns=t - T0,
                        conn=1)
        w.write(RecordKind.CLOSED, "1000", direction=Direction.NONE, wall_ns=T0 + 600 * SECOND,
                mono_ns=600 * SECOND, conn=1)
    return path, list(ArchiveReader(path))


def test_the_index_describes_the_frames(session) -> None:
    path, records = session
    reader = ArchiveReader(path)
    assert len(reader.index) == 61 and reader.record_count == len(records)
    assert reader.index[0].tr_ids == {"H0ZFASP0"} and reader.index[-2].tr_ids == {"H0ZFASP0", "H0EUASP0"}
    for entry in reader.index:
        assert entry.last_wall_ns - entry.first_wall_ns < 10 * SECOND


def test_reading_from_a_late_time_decompresses_only_the_frames_needed(session) -> None:
    path, records = session
    reader = ArchiveReader(path)
    start = session_time_to_ns("09:09:00", T0)
    got = list(reader.records(start_ns=start))
    assert got == [r for r in records if r.wall_ns >= start]
    assert reader.stats.frames_decompressed == 7  # 60 s of 10 s frames, and the CLOSED frame


def test_a_time_window_in_the_middle(session) -> None:
    path, records = session
    reader = ArchiveReader(path)
    start, end = session_time_to_ns("09:03:05", T0), session_time_to_ns("09:03:25.5", T0)
    got = list(reader.records(start_ns=start, end_ns=end))
    assert got == [r for r in records if start <= r.wall_ns < end]
    assert got[0].wall_ns == start and got[-1].wall_ns == end - SECOND // 10  # end is exclusive
    assert reader.stats.frames_decompressed == 3


def test_tr_filter_skips_frames_without_that_tr(session) -> None:
    path, records = session
    reader = ArchiveReader(path)
    got = list(reader.records(tr_ids=["H0EUASP0"]))
    assert got == [r for r in records if (_route(r) or ("",))[0] == "H0EUASP0"]
    assert len(got) == 600 and reader.stats.frames_decompressed == 12


@pytest.mark.parametrize("with_index", [True, False])
@pytest.mark.parametrize(
    "filters",
    [
        {"tr_ids": {"H0ZFASP0"}},
        {"tr_keys": {"111V09"}},
        {"tr_ids": {"H0ZFASP0"}, "tr_keys": {"101W09", "301V06362"}},
        {"directions": [Direction.CLIENT_TO_SERVER]},
        {"kinds": [RecordKind.CONTROL, RecordKind.OPENED, RecordKind.CLOSED]},
        {"kinds": [RecordKind.PING], "start_ns": T0 + 100 * SECOND, "end_ns": T0 + 200 * SECOND},
        {"kinds": []},
    ],
)
def test_filters_match_brute_force(session, filters: dict, with_index: bool) -> None:
    path, records = session
    data = path.read_bytes()
    if not with_index:
        data = data[: ArchiveReader(path).index[-1].end]
    reader = ArchiveReader(io.BytesIO(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        got = list(reader.records(**filters))

    def keep(r: ArchiveRecord) -> bool:
        route = _route(r)
        return (
            filters.get("start_ns", 0) <= r.wall_ns < filters.get("end_ns", 2**63)
            and ("kinds" not in filters or r.kind in filters["kinds"])
            and ("directions" not in filters or r.direction in filters["directions"])
            and ("tr_ids" not in filters or (route is not None and route[0] in filters["tr_ids"]))
            and ("tr_keys" not in filters or (route is not None and route[1] in filters["tr_keys"]))
        )

    expected = [r for r in records if keep(r)]
    assert got == expected
    assert expected or filters == {"kinds": []}  # every filter here selects something


def test_tr_key_filter_keeps_the_subscription_messages(session) -> None:
    path, _ = session
    got = list(ArchiveReader(path).records(tr_keys=["111V06"], kinds=[RecordKind.CONTROL]))
    assert [(r.direction, b"OPSP0000" in r.payload) for r in got] == [
        (Direction.CLIENT_TO_SERVER, False), (Direction.SERVER_TO_CLIENT, True)]


def test_iterators_are_independent(session) -> None:
    path, records = session
    with ArchiveReader(path) as reader:
        a, b = iter(reader), reader.records(start_ns=T0 + 300 * SECOND)
        pairs = list(zip(a, b, strict=False))
    later = [r for r in records if r.wall_ns >= T0 + 300 * SECOND]
    assert [p[0] for p in pairs] == records[: len(later)] and [p[1] for p in pairs] == later


def test_first_last_and_count_without_an_index(session) -> None:
    path, records = session
    data = path.read_bytes()[: ArchiveReader(path).index[-1].end]
    reader = ArchiveReader(io.BytesIO(data))
    with pytest.warns(ArchiveWarning, match="no seek index"):
        assert reader.record_count == len(records)
    assert (reader.first_wall_ns, reader.last_wall_ns) == (T0, T0 + 600 * SECOND)
