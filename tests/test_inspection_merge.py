"""``merge`` of a rotated recording's parts gives back the record stream of the same recording unrotated.

Both recordings are written here by the recorder's own :class:`RollingArchive` from one list of events (two
connections, a reconnect in the middle part, an encrypted notice TR whose key is in the acks); one run cuts
a file every second, the other writes one file. Nothing is compared with what the merge code computes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_sessions import CIPHER, HTS_ID, MONO0, MS, NOTICE_PLAIN, NS, T0, quote

from kis_replay.archive import ArchiveError, ArchiveHeader, ArchiveReader, ArchiveRecord, Direction, RecordKind
from kis_replay.codec import build_reply
from kis_replay.inspection import merge_archives
from kis_replay.recorder.rolling import OutputTarget, PreambleRecord, RollingArchive
from kis_replay.recorder.rotation import RotationPolicy

S2C, C2S = Direction.SERVER_TO_CLIENT, Direction.CLIENT_TO_SERVER


def _events() -> list[ArchiveRecord]:
    """3.5 s of a recording: connection 0 subscribes and streams, drops at 1.75 s, connection 1 takes over."""
    notice = f"1|H0STCNI0|001|{CIPHER.encrypt(NOTICE_PLAIN)}"
    events: list[ArchiveRecord] = []

    def add(at_ms: int, kind: RecordKind, text: str, conn: int, direction: Direction = S2C) -> None:
        events.append(ArchiveRecord(T0 + at_ms * MS, MONO0 + at_ms * MS + 7, direction, conn, kind, text.encode()))

    for conn, start in ((0, 0), (1, 1_800)):
        add(start, RecordKind.OPENED, "ws://127.0.0.1/", conn, Direction.NONE)
        add(start + 1, RecordKind.CONTROL, '{"header":{"tr_type":"1"}}', conn, C2S)
        add(start + 2, RecordKind.CONTROL, build_reply("OPSP0000", tr_id="H0ZFASP0", tr_key="111V06").to_json(), conn)
        add(start + 3, RecordKind.CONTROL, build_reply(
            "OPSP0000", tr_id="H0STCNI0", tr_key=HTS_ID, output={"iv": CIPHER.iv, "key": CIPHER.key}).to_json(),
            conn)
        end = 1_750 if conn == 0 else 3_500
        for at in range(start + 50, end, 50):
            add(at, RecordKind.DATA, quote("111V06", T0 + at * MS), conn)
            if at % 500 == 0:
                add(at + 1, RecordKind.DATA, notice, conn)
        if conn == 0:
            add(1_750, RecordKind.CLOSED, "1006", conn, Direction.NONE)
    return events


def _record(events: list[ArchiveRecord], target: OutputTarget, rotation: RotationPolicy | None) -> list[Path]:
    """Write ``events`` as the recorder does: acks of the live connection become each new part's preamble."""
    archive = RollingArchive(target, lambda: ArchiveHeader(source="ws://127.0.0.1/", filtered=True),
                             rotation=rotation, fsync=False)
    archive.open(events[0].wall_ns)
    acks: list[PreambleRecord] = []
    for e in events:
        archive.rotate_if_due(e.wall_ns, e.mono_ns)
        archive.write(e.kind, e.payload, e.direction, e.conn, e.wall_ns, e.mono_ns)
        if e.kind == RecordKind.OPENED:
            acks = []
        if e.kind == RecordKind.CONTROL and e.direction == S2C:
            acks.append(PreambleRecord(e.kind, e.payload, e.direction, e.conn))
        archive.set_preamble(acks if e.kind != RecordKind.CLOSED else [])
    archive.close()
    return archive.paths


@pytest.fixture
def recordings(tmp_path: Path) -> tuple[list[ArchiveRecord], list[Path]]:
    events = _events()
    (whole,) = _record(events, OutputTarget(file=tmp_path / "whole.kisrec.zst"), None)
    (tmp_path / "parts").mkdir()
    parts = _record(events, OutputTarget(directory=tmp_path / "parts"), RotationPolicy(period_s=1))
    return list(ArchiveReader(whole)), parts


def test_merged_parts_equal_the_unrotated_recording(recordings, tmp_path: Path) -> None:
    unrotated, parts = recordings
    assert len(parts) == 4  # cuts at 1 s, 2 s, 3 s
    repeated = [ArchiveReader(p).header.labels["recording"]["repeated_acks"] for p in parts]
    assert repeated == [0, 2, 2, 2]  # conn 0's two acks at 1 s, conn 1's at 2 s and 3 s
    for order in (parts, parts[::-1]):
        out = tmp_path / f"merged-{len(list(tmp_path.iterdir()))}.kisrec.zst"
        result = merge_archives(order, out)
        merged = list(ArchiveReader(out))
        assert merged == unrotated  # every field: times, direction, connection, kind, payload
        assert result.connections == 2 and result.records == len(unrotated)
        assert ArchiveReader(out).header.labels["recording"]["parts"] == [1, 2, 3, 4]


def test_a_part_whose_previous_part_is_missing_keeps_its_acks(recordings, tmp_path: Path) -> None:
    """Parts 1 and 3: part 3's acks are connection 1's, which only the missing part 2 holds."""
    unrotated, parts = recordings
    out = tmp_path / "gap.kisrec.zst"
    merge_archives([parts[0], parts[2]], out)
    merged = list(ArchiveReader(out))
    acks = [r for r in merged if r.kind == RecordKind.CONTROL and r.direction == S2C]
    assert [(r.conn, r.wall_ns) for r in acks] == [(0, T0 + 2 * MS), (0, T0 + 3 * MS), (1, T0 + 2 * NS),
                                                   (1, T0 + 2 * NS)]
    assert {r.conn for r in merged} == {0, 1}  # numbers as recorded, not renumbered per input
    assert [r for r in merged if r.kind == RecordKind.DATA] == [
        r for r in unrotated if r.kind == RecordKind.DATA and (r.wall_ns - T0) // NS in (0, 2)]


def test_a_part_given_twice_is_named(recordings, tmp_path: Path) -> None:
    _, parts = recordings
    with pytest.raises(ArchiveError, match=rf"{parts[1].name}: part 2 of recording [0-9a-f]+ is given twice "
                                           rf"\(also as {parts[1].name}\)"):
        merge_archives([parts[1], parts[0], parts[1]], tmp_path / "twice.kisrec.zst")
    assert not (tmp_path / "twice.kisrec.zst").exists()


def test_parts_of_different_recordings_are_merged_as_separate_sessions(recordings, tmp_path: Path) -> None:
    """Two recorders' files: connections are renumbered per input and every ack is kept."""
    _, parts = recordings
    (tmp_path / "other").mkdir()
    other = _record(_events(), OutputTarget(directory=tmp_path / "other"), RotationPolicy(period_s=1))
    out = tmp_path / "two.kisrec.zst"
    result = merge_archives([parts[1], other[1]], out)
    merged = list(ArchiveReader(out))
    assert result.connections == 4  # each input's conns 0 and 1, apart
    # each part 2 holds conn 0's acks repeated at its start and conn 1's own: all kept
    assert sum(r.kind == RecordKind.CONTROL and r.direction == S2C for r in merged) == 8
    assert "recording" not in ArchiveReader(out).header.labels
