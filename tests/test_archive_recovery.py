"""Crash safety and damage: flushed records survive any cut; corrupt frames cost only themselves."""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from kis_replay.archive import (
    ArchiveError,
    ArchiveHeader,
    ArchiveReader,
    ArchiveRecord,
    ArchiveWarning,
    ArchiveWriter,
    Direction,
    RecordKind,
)
from kis_replay.codec import SubscribeRequest

T0 = 1_735_776_000_000_000_000  # 2025-01-02 09:00 KST


def _event(i: int) -> tuple[RecordKind, bytes, Direction]:
    """A varied, deterministic event stream: quotes of two TRs, a control message, pings."""
    if i % 97 == 0:
        return (RecordKind.CONTROL, SubscribeRequest("H0EUASP0", "301V06362", approval_key="k" * 36).to_json()
                .encode(), Direction.CLIENT_TO_SERVER)
    if i % 31 == 0:
        return RecordKind.PING, b"", Direction.SERVER_TO_CLIENT
    if i % 3 == 0:
        return (RecordKind.DATA, f"0|H0EUASP0|001|301V06362^19{i % 60:02d}59^2.98^{i}".encode(),
                Direction.SERVER_TO_CLIENT)
    return RecordKind.DATA, f"0|H0ZFASP0|001|111V06^0923{i % 60:02d}^79700^{i}".encode(), Direction.SERVER_TO_CLIENT


def _write_session(writer: ArchiveWriter, n: int, step_ns: int = 10_000_000, first: int = 0) -> None:
    for i in range(first, first + n):
        kind, payload, direction = _event(i)
        writer.write(kind, payload, direction=direction, wall_ns=T0 + i * step_ns, mono_ns=i * step_ns, conn=1)


def _read(source: Path | bytes) -> tuple[list[ArchiveRecord], list[ArchiveWarning]]:
    reader = ArchiveReader(io.BytesIO(source) if isinstance(source, bytes) else source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        records = list(reader)
    return records, reader.warnings


@pytest.fixture(scope="module")
def flushed_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[ArchiveRecord],
                                                                        list[tuple[int, int]], int]:
    """A closed archive, every record, the (file size, records) after each explicit flush, header end."""
    path = tmp_path_factory.mktemp("cut") / "s.kisrec.zst"
    points = []
    with ArchiveWriter(path, ArchiveHeader(), flush_interval=3600, frame_seconds=1.0, fsync=False) as writer:
        header_end = writer.bytes_written
        for chunk in range(40):
            _write_session(writer, 25, first=chunk * 25)
            writer.flush()
            points.append((writer.bytes_written, writer.records_written))
    records, found = _read(path)
    assert len(records) == 1000 and found == []
    return path.read_bytes(), records, points, header_end


def test_a_cut_anywhere_keeps_every_flushed_record(flushed_session) -> None:
    data, records, points, header_end = flushed_session
    rng = random.Random(20250102)
    cuts = sorted(rng.sample(range(header_end, len(data)), 1000))
    for cut in cuts:
        got, found = _read(data[:cut])
        flushed = max((n for size, n in points if size <= cut), default=0)
        assert len(got) >= flushed, f"cut at {cut}: {len(got)} records, {flushed} were flushed"
        assert got == records[: len(got)], f"cut at {cut}: records differ from what was written"
        assert found and all(w.kind in ("cut", "index") for w in found), (cut, found)
        assert not any(w.kind == "corrupt" for w in found)


def test_a_cut_reports_where_and_what_was_recovered(flushed_session) -> None:
    data, _, points, _ = flushed_session
    cut = (points[10][0] + points[11][0]) // 2  # inside a frame, after the 11th flush
    got, found = _read(data[:cut])
    kinds = {w.kind: w for w in found}
    assert set(kinds) == {"index", "cut"}
    assert kinds["cut"].offset == cut and f"cut at offset {cut}" in kinds["cut"].message
    assert kinds["cut"].records_recovered is not None and kinds["cut"].records_recovered > 0
    assert len(got) >= points[10][1]


def test_a_cut_inside_the_header_is_a_clear_error(flushed_session) -> None:
    data, _, _, header_end = flushed_session
    for cut in (1, 3, header_end // 2, header_end - 1):
        with pytest.raises(ArchiveError, match=rf"<stream>: offset {cut}: file cut inside the header frame"):
            _read(data[:cut])


def test_flush_interval_is_checked_on_write(tmp_path: Path) -> None:
    """With an interval, records reach the file without an explicit flush (the copy sees them)."""
    path = tmp_path / "live.kisrec.zst"
    writer = ArchiveWriter(path, ArchiveHeader(), flush_interval=0.02, frame_seconds=1e9, fsync=False)
    try:
        header_size = path.stat().st_size
        deadline = time.monotonic() + 10
        i = 0
        while path.stat().st_size == header_size:  # poll with a deadline: the interval must trigger
            assert time.monotonic() < deadline, "no flush within 10 s with flush_interval=0.02"
            _write_session(writer, 1, first=i)
            i += 1
        got, found = _read(path.read_bytes())
        assert len(got) == i  # the flush happened on the last write, so it carries every record
        assert [w.kind for w in found] == ["index", "cut"]  # the frame is still open
    finally:
        writer.close()


def test_without_flush_records_wait_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "held.kisrec.zst"
    with ArchiveWriter(path, ArchiveHeader(), flush_interval=3600, fsync=False) as writer:
        header_size = path.stat().st_size
        _write_session(writer, 50)
        assert path.stat().st_size == header_size
        writer.flush()
        assert len(_read(path.read_bytes())[0]) == 50


_KILLED_WRITER = """
import sys
from kis_replay.archive import ArchiveHeader, ArchiveWriter, RecordKind
with ArchiveWriter(sys.argv[1], ArchiveHeader(), flush_interval=3600) as writer:
    for i in range(300):
        writer.write(RecordKind.DATA, f"0|H0ZFASP0|001|111V06^{i}", wall_ns=10**18 + i * 10**8, mono_ns=i)
    writer.flush()
    for i in range(300, 400):  # written but never flushed: may be lost, nothing else may
        writer.write(RecordKind.DATA, f"0|H0ZFASP0|001|111V06^{i}", wall_ns=10**18 + i * 10**8, mono_ns=i)
    print("flushed", flush=True)
    sys.stdin.read()  # wait to be killed
"""


def test_kill_9_keeps_flushed_records(tmp_path: Path) -> None:
    path = tmp_path / "killed.kisrec.zst"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "flushed\n"
    finally:
        proc.kill()
        proc.wait(timeout=30)
        assert proc.stdin is not None
        proc.stdin.close()
        proc.stdout.close()
    got, found = _read(path)
    assert 300 <= len(got) <= 400
    assert [r.payload for r in got] == [f"0|H0ZFASP0|001|111V06^{i}".encode() for i in range(len(got))]
    assert [w.kind for w in found][:1] == ["index"]


# -- damage ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def closed_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ArchiveRecord]]:
    path = tmp_path_factory.mktemp("damage") / "s.kisrec.zst"
    with ArchiveWriter(path, ArchiveHeader(), frame_seconds=2.0, fsync=False) as writer:
        _write_session(writer, 1000)
    return path, list(ArchiveReader(path))


def _frame_records(records: list[ArchiveRecord], reader: ArchiveReader, n: int) -> list[ArchiveRecord]:
    entry = reader.index[n]
    return [r for r in records if entry.first_wall_ns <= r.wall_ns <= entry.last_wall_ns]


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1:]


def test_corrupt_middle_frame_is_reported_and_skipped(closed_session) -> None:
    path, records = closed_session
    reader = ArchiveReader(path)
    frame = reader.index[2]
    lost = _frame_records(records, reader, 2)
    assert len(lost) == frame.records > 0
    damaged = _flip(path.read_bytes(), frame.offset + frame.size // 2)
    got, found = _read(damaged)
    assert got == [r for r in records if r not in lost]
    (warning,) = found
    assert (warning.kind, warning.offset, warning.records_lost) == ("corrupt", frame.offset, frame.records)
    assert f"offset {frame.offset}" in warning.message


def test_corrupt_frame_without_index_is_skipped_by_resync(closed_session) -> None:
    path, records = closed_session
    reader = ArchiveReader(path)
    frame, index_start = reader.index[2], reader.index[-1].end
    lost = _frame_records(records, reader, 2)
    data = path.read_bytes()[:index_start]  # as if the writer died after its last frame
    for at in (frame.offset, frame.offset + 6, frame.offset + frame.size // 2):  # magic, block header, body
        got, found = _read(_flip(data, at))
        assert got == [r for r in records if r not in lost], at
        assert [w.kind for w in found] == ["index", "corrupt"]
        assert found[1].offset == frame.offset and found[1].records_lost is None


def test_missing_index_is_rebuilt_by_scanning(closed_session) -> None:
    path, records = closed_session
    intact = ArchiveReader(path)
    data = path.read_bytes()
    for damaged in (data[: intact.index[-1].end], _flip(data, len(data) - 30), _flip(data, len(data) - 3)):
        reader = ArchiveReader(io.BytesIO(damaged))
        with pytest.warns(ArchiveWarning, match="index"):
            assert not reader.index_intact
        assert reader.index == intact.index
        assert reader.record_count == len(records)
        assert (reader.first_wall_ns, reader.last_wall_ns) == (records[0].wall_ns, records[-1].wall_ns)
        assert list(reader) == records
        assert [w.kind for w in reader.warnings] == ["index"]


@pytest.mark.parametrize("with_index", [True, False])
def test_any_single_corrupt_byte_costs_whole_frames_and_is_reported(tmp_path: Path, with_index: bool) -> None:
    """Flip every byte of a small archive in turn: never garbage, never an unreported loss."""
    path = tmp_path / "small.kisrec.zst"
    with ArchiveWriter(path, ArchiveHeader(), frame_seconds=0.05, fsync=False) as writer:
        _write_session(writer, 12)
    records = list(ArchiveReader(path))
    reader = ArchiveReader(path)
    index, header_end = reader.index, reader.index[0].offset
    data = path.read_bytes() if with_index else path.read_bytes()[: index[-1].end]
    frames = [[r for r in records if e.first_wall_ns <= r.wall_ns <= e.last_wall_ns] for e in index]
    for at in range(len(data)):
        try:
            got, found = _read(_flip(data, at))
        except ArchiveError as exc:
            assert at < header_end, (at, exc)  # only the header frame's damage stops reading
            continue
        missing = [f for f in frames if not all(r in got for r in f)]
        assert got == [r for f in frames if f not in missing for r in f], at  # whole frames, in order
        if missing:
            damage = [w for w in found if w.kind in ("corrupt", "cut")]
            assert damage, (at, found)
            if with_index:
                assert sum(w.records_lost or 0 for w in damage) == sum(map(len, missing)), (at, found)


def test_reader_never_modifies_the_file(closed_session, tmp_path: Path) -> None:
    path, _ = closed_session
    copy = tmp_path / "copy.kisrec.zst"
    shutil.copy(path, copy)
    data = copy.read_bytes()[:-100]
    copy.write_bytes(data)
    _read(copy)
    assert copy.read_bytes() == data and os.path.getsize(copy) == len(data)


_FILE_SIZE_LIMITED_WRITER = """
import resource, signal, sys
from kis_replay.archive import ArchiveError, ArchiveHeader, ArchiveWriter, RecordKind
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, write() fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
flushed = 0
try:
    with ArchiveWriter(sys.argv[1], ArchiveHeader(), flush_interval=3600, frame_seconds=1.0) as writer:
        for i in range(100_000):
            writer.write(RecordKind.DATA, f"0|H0ZFASP0|001|111V06^{i}^{i * 7919 % 100003}",
                         wall_ns=10**18 + i * 10**7, mono_ns=i)
            if i % 50 == 49:
                writer.flush()
                flushed = writer.records_written
except ArchiveError as exc:
    print(flushed, exc, sep="\\n")
"""


def test_a_full_disk_is_a_clear_error_and_flushed_records_stay(tmp_path: Path) -> None:
    path = tmp_path / "full.kisrec.zst"
    proc = subprocess.run([sys.executable, "-c", _FILE_SIZE_LIMITED_WRITER, str(path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    flushed, message = proc.stdout.splitlines()
    assert "full.kisrec.zst: writing failed near offset" in message and "File too large" in message
    got, found = _read(path)
    assert int(flushed) > 0 and len(got) >= int(flushed)
    assert [r.payload for r in got] == [f"0|H0ZFASP0|001|111V06^{i}^{i * 7919 % 100003}".encode()
                                        for i in range(len(got))]
    assert "index" in [w.kind for w in found]


def test_writing_to_a_device_that_is_full() -> None:
    with pytest.raises(ArchiveError, match=r"/dev/full: writing failed near offset \d+: No space left on device"):
        ArchiveWriter("/dev/full", ArchiveHeader())
