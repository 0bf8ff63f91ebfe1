"""Output targets and rolling files: never overwrite, rotation needs a directory, every part complete."""

import pytest

from kis_replay.archive import ArchiveHeader, ArchiveReader, Direction, RecordKind
from kis_replay.recorder.rolling import OutputError, OutputTarget, PreambleRecord, RollingArchive
from kis_replay.recorder.rotation import RotationPolicy

S = 10**9


def test_existing_dir_or_trailing_slash_is_a_directory(tmp_path):
    assert OutputTarget.parse(str(tmp_path), rotating=True) == OutputTarget(directory=tmp_path)
    new = tmp_path / "new"
    target = OutputTarget.parse(f"{new}/", rotating=False)
    target.prepare()
    assert target.directory == new and new.is_dir()


def test_file_target_refuses_overwrite_and_rotation(tmp_path):
    existing = tmp_path / "day.kisrec.zst"
    existing.write_bytes(b"precious")
    with pytest.raises(OutputError, match="the file exists; refusing to overwrite"):
        OutputTarget.parse(str(existing), rotating=False)
    with pytest.raises(OutputError, match="--rotate writes several time-named files, so -o must be a directory"):
        OutputTarget.parse(str(tmp_path / "other.kisrec.zst"), rotating=True)
    assert existing.read_bytes() == b"precious"


def test_unwritable_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="cannot create directory"):
        OutputTarget(directory=blocker / "sub").prepare()


def test_names_in_a_directory_never_collide(tmp_path):
    target = OutputTarget(directory=tmp_path)
    wall = 1_795_996_800 * S  # 2026-11-30T09:00:00 KST
    first = target.next_path(wall)
    assert first.name == "2026-11-30T09-00-00_kis.kisrec.zst"
    first.write_bytes(b"")
    assert target.next_path(wall).name == "2026-11-30T09-00-00_kis_001.kisrec.zst"


def test_time_rotation_repeats_the_preamble_and_labels_the_parts(tmp_path):
    wall = 1_795_996_800 * S + 30 * S  # 09:00:30 KST
    archive = RollingArchive(OutputTarget(directory=tmp_path), lambda: ArchiveHeader(source="ws://x", filtered=True),
                             rotation=RotationPolicy(period_s=60), fsync=False)
    archive.open(wall)
    ack = b'{"header":{"tr_id":"H0ZFASP0","tr_key":"111V06","encrypt":"N"},"body":{"msg_cd":"OPSP0000"}}'
    archive.write(RecordKind.CONTROL, ack, Direction.SERVER_TO_CLIENT, 1, wall, 5)
    archive.set_preamble([PreambleRecord(RecordKind.CONTROL, ack, Direction.SERVER_TO_CLIENT, 1)])
    archive.write(RecordKind.DATA, b"0|H0ZFASP0|001|111V06^1", Direction.SERVER_TO_CLIENT, 1, wall + S, 6)
    assert archive.rotate_if_due(wall + 29 * S, 7) is None  # 09:00:59
    second = archive.rotate_if_due(wall + 30 * S, 8)  # 09:01:00: a new file, named by its start
    assert second is not None and second.name == "2026-11-30T09-01-00_kis.kisrec.zst"
    archive.write(RecordKind.DATA, b"0|H0ZFASP0|001|111V06^2", Direction.SERVER_TO_CLIENT, 1, wall + 31 * S, 9)
    archive.close()
    archive.close()  # twice is harmless
    first, part2 = (ArchiveReader(p) for p in archive.paths)
    assert [r.payload for r in first] == [ack, b"0|H0ZFASP0|001|111V06^1"]
    records = list(part2)
    assert [(r.kind, r.payload, r.conn, r.wall_ns) for r in records] == [
        (RecordKind.CONTROL, ack, 1, wall + 30 * S), (RecordKind.DATA, b"0|H0ZFASP0|001|111V06^2", 1, wall + 31 * S),
    ]
    assert first.warnings == part2.warnings == []
    labels = [r.header.labels["recording"] for r in (first, part2)]
    assert [(x["part"], x["repeated_acks"]) for x in labels] == [(1, 0), (2, 1)]
    assert labels[0]["id"] == labels[1]["id"] == archive.recording_id
    assert archive.bytes_written == sum(p.stat().st_size for p in archive.paths)
