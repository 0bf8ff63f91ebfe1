"""The archive's byte layout: round trips, the header, zstd-tool compatibility, versioning."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kis_replay import __version__
from kis_replay.archive import (
    FORMAT_VERSION,
    ArchiveError,
    ArchiveHeader,
    ArchiveReader,
    ArchiveRecord,
    ArchiveWarning,
    ArchiveWriter,
    Direction,
    RecordKind,
)

DATA_DIR = Path(__file__).parent / "data"
T0 = 1_735_776_000_000_000_000  # 2025-01-02 00:00:00 UTC = 09:00 KST

records_strategy = st.lists(
    st.builds(
        ArchiveRecord,
        wall_ns=st.integers(T0, T0 + 3_600 * 10**9),
        mono_ns=st.integers(-(2**61), 2**61 - 1),
        direction=st.sampled_from(Direction),
        conn=st.integers(0, 2**32 - 1),
        # CONTROL payloads are redacted (tested elsewhere); every other kind is stored untouched
        kind=st.sampled_from([k for k in RecordKind if k is not RecordKind.CONTROL]),
        payload=st.binary(max_size=300),
    ),
    max_size=40,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=records_strategy, frame_seconds=st.sampled_from([0.001, 1.0, 10.0]))
def test_any_records_round_trip_byte_for_byte(tmp_path: Path, records: list[ArchiveRecord],
                                              frame_seconds: float) -> None:
    path = tmp_path / "rt.kisrec.zst"
    with ArchiveWriter(path, ArchiveHeader(), frame_seconds=frame_seconds, fsync=False) as writer:
        for record in records:
            writer.write_record(record)
    reader = ArchiveReader(path)
    assert list(reader) == records
    assert reader.warnings == []
    assert reader.index_intact
    assert reader.record_count == len(records)
    assert writer.records_written == len(records)
    assert writer.bytes_written == path.stat().st_size


def test_round_trip_keeps_types_and_text(tmp_path: Path) -> None:
    path = tmp_path / "s.kisrec.zst"
    with ArchiveWriter(path, ArchiveHeader(), fsync=False) as writer:
        writer.write(RecordKind.DATA, "0|H0ZFASP0|001|111V06^가나", wall_ns=T0, mono_ns=5, conn=3)
        writer.write(RecordKind.BINARY, b"\xff\xfe\x00", wall_ns=T0 + 1, mono_ns=6)
    first, second = list(ArchiveReader(path))
    assert first == (T0, 5, Direction.SERVER_TO_CLIENT, 3, RecordKind.DATA, "0|H0ZFASP0|001|111V06^가나".encode())
    assert type(first) is ArchiveRecord and first.kind is RecordKind.DATA
    assert first.direction is Direction.SERVER_TO_CLIENT
    assert first.text == "0|H0ZFASP0|001|111V06^가나"
    assert second.text == "\ufffd\ufffd\x00"


def test_default_times_are_now(tmp_path: Path) -> None:
    import time

    path = tmp_path / "now.kisrec.zst"
    before_wall, before_mono = time.time_ns(), time.monotonic_ns()
    with ArchiveWriter(path, ArchiveHeader(), fsync=False) as writer:
        writer.write(RecordKind.OPENED, "ws://127.0.0.1:1/", direction=Direction.NONE)
    (record,) = ArchiveReader(path)
    assert before_wall <= record.wall_ns <= time.time_ns()
    assert before_mono <= record.mono_ns <= time.monotonic_ns()


def test_gap_record(tmp_path: Path) -> None:
    path = tmp_path / "gap.kisrec.zst"
    with ArchiveWriter(path, ArchiveHeader(), fsync=False) as writer:
        writer.write(RecordKind.DATA, "0|H0ZFASP0|001|x", wall_ns=T0, mono_ns=1_000)
        writer.gap(T0 + 10, T0 + 5_000, "reconnect after close 1006", conn=2)
    _, gap = ArchiveReader(path)
    assert gap.kind is RecordKind.GAP and gap.direction is Direction.NONE and gap.conn == 2
    assert gap.wall_ns == T0 + 5_000 and gap.mono_ns == 1_000 + 5_000
    assert json.loads(gap.payload) == {"start_ns": T0 + 10, "end_ns": T0 + 5_000,
                                       "reason": "reconnect after close 1006"}


def test_header_round_trip(tmp_path: Path) -> None:
    header = ArchiveHeader(
        source="ws://ops.koreainvestment.com:21000/tryitout",
        subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": "111V06"}, {"tr_id": "H0EUASP0", "tr_key": "301V06362"}],
        labels={"desk": "선물", "n": 3},
        filtered=True,
        extra={"from_the_future": [1, 2]},
    )
    path = tmp_path / "h.kisrec.zst"
    ArchiveWriter(path, header, fsync=False).close()
    read = ArchiveReader(path).header
    assert read == header
    assert read.version == FORMAT_VERSION and read.tool_version == __version__ and read.timezone == "Asia/Seoul"
    assert ArchiveHeader.from_json(header.to_json()) == header


def test_header_field_of_wrong_type_is_named() -> None:
    with pytest.raises(ArchiveError, match="'filtered'"):
        ArchiveHeader.from_json('{"filtered": "yes"}')


def test_an_empty_archive_has_a_header_and_no_records(tmp_path: Path) -> None:
    path = tmp_path / "empty.kisrec.zst"
    ArchiveWriter(path, ArchiveHeader(source="synthetic"), fsync=False).close()
    reader = ArchiveReader(path)
    assert list(reader) == [] and reader.index == [] and reader.index_intact
    assert reader.first_wall_ns is None and reader.record_count == 0


def _sample(path: Path, n: int = 2_000) -> list[ArchiveRecord]:
    with ArchiveWriter(path, ArchiveHeader(), frame_seconds=1.0, fsync=False) as writer:
        for i in range(n):
            writer.write(RecordKind.DATA, f"0|H0ZFASP0|001|111V06^{i:06d}^79700", wall_ns=T0 + i * 10**7,
                         mono_ns=i * 10**7)
    return list(ArchiveReader(path))


def test_zstd_tools_read_it(tmp_path: Path) -> None:
    path = tmp_path / "tools.kisrec.zst"
    records = _sample(path)
    assert len(ArchiveReader(path).index) == 20  # 20 s of session in 1 s frames, plus the header frame
    # zstandard's own streaming reader, across frames (the index is a skippable frame it steps over)
    with open(path, "rb") as f:
        content = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True).read()
    assert records[-1].payload in content and content.startswith(b"KISREC")
    # zstandard 0.25 has no `python -m zstandard` CLI: the zstd command line tool is the reference
    zstd_test = subprocess.run(["zstd", "-t", "-q", str(path)], capture_output=True)
    if zstd_test.returncode == 127:
        pytest.skip("zstd CLI not installed")
    assert zstd_test.returncode == 0, zstd_test.stderr
    assert subprocess.run(["zstdcat", str(path)], capture_output=True, check=True).stdout == content


def test_stored_size_is_the_records_columns_and_payload(tmp_path: Path) -> None:
    """``kis-replay info``'s uncompressed size: per record, the batch columns of section 3 of the format
    document (length u32, kind u8, direction u8, conn u32, two i64 deltas: 26 bytes) plus the payload."""
    record = ArchiveRecord(T0, 5, Direction.SERVER_TO_CLIENT, 0, RecordKind.DATA, b"0|H0ZFASP0|001|x")
    assert record.stored_size == 26 + 16
    path = tmp_path / "sizes.kisrec.zst"
    _sample(path)
    with open(path, "rb") as f:
        content = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True).read()
    reader = ArchiveReader(path)
    stored = sum(r.stored_size for r in reader.records())
    header = len(reader.header.to_json().encode())
    # what zstd decompresses to: the header frame (12-byte preamble + JSON), then each batch's 8-byte counts
    # and its records
    assert header < len(content) - stored <= 12 + header + 8 * reader.record_count


def test_not_an_archive_is_a_clear_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain.kisrec.zst"
    plain.write_bytes(zstandard.ZstdCompressor().compress(b"just some text, no preamble"))
    with pytest.raises(ArchiveError, match=r"plain\.kisrec\.zst: offset 0: .*not a kis-replay archive"):
        _ = ArchiveReader(plain).header
    text = tmp_path / "text.kisrec.zst"
    text.write_bytes(b"hello")
    with pytest.raises(ArchiveError, match=r"text\.kisrec\.zst: offset 0: not a kis-replay archive"):
        list(ArchiveReader(text))
    empty = tmp_path / "empty.kisrec.zst"
    empty.write_bytes(b"")
    with pytest.raises(ArchiveError, match="empty file"):
        _ = ArchiveReader(empty).header
    with pytest.raises(ArchiveError, match="cannot open"):
        _ = ArchiveReader(tmp_path / "missing.kisrec.zst").header


def test_a_future_format_version_is_refused_clearly(tmp_path: Path) -> None:
    body = ArchiveHeader(version=FORMAT_VERSION + 1).to_json().encode()
    preamble = struct.pack("<6sHI", b"KISREC", FORMAT_VERSION + 1, len(body))
    path = tmp_path / "future.kisrec.zst"
    path.write_bytes(zstandard.ZstdCompressor(write_checksum=True).compress(preamble + body))
    with pytest.raises(ArchiveError, match=rf"future\.kisrec\.zst: offset 0: archive format version "
                                           rf"{FORMAT_VERSION + 1} is not supported.*upgrade"):
        _ = ArchiveReader(path).header


def test_writer_refuses_bad_records(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path / "bad.kisrec.zst", ArchiveHeader(), fsync=False) as writer:
        with pytest.raises(ValueError, match="kind=99"):
            writer.write(99, b"x")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="conn=-1"):
            writer.write(RecordKind.DATA, b"x", conn=-1)
        with pytest.raises(ValueError, match="does not fit"):
            writer.write(RecordKind.DATA, b"x", wall_ns=2**63)
        with pytest.raises(TypeError, match="bytes or str"):
            writer.write(RecordKind.DATA, 5)  # type: ignore[arg-type]
        writer.write(RecordKind.DATA, b"ok", wall_ns=T0, mono_ns=0)
    with pytest.raises(ArchiveError, match="write after close"):
        writer.write(RecordKind.DATA, b"late")
    assert [r.payload for r in ArchiveReader(tmp_path / "bad.kisrec.zst")] == [b"ok"]


def test_writer_cannot_create_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="cannot create the archive"):
        ArchiveWriter(tmp_path / "no" / "such" / "dir.kisrec.zst", ArchiveHeader())
    with pytest.raises(ArchiveError, match="header cannot be stored as JSON"):
        ArchiveWriter(tmp_path / "h.kisrec.zst", ArchiveHeader(labels={"when": object()}))
    assert not (tmp_path / "h.kisrec.zst").exists()


def test_reader_takes_an_open_file(tmp_path: Path) -> None:
    path = tmp_path / "f.kisrec.zst"
    records = _sample(path, 50)
    with open(path, "rb") as f:
        assert list(ArchiveReader(io.BytesIO(f.read()))) == records
        assert list(ArchiveReader(f)) == records


# -- the version-1 golden file ---------------------------------------------------------------------------
# tests/data/archive_v1.kisrec.zst was written once by the version-1 writer (the code below, with
# frame_seconds=1.0 and created fixed) and committed: any later writer must still read it exactly.

GOLDEN_HEADER = ArchiveHeader(
    source="ws://127.0.0.1:21000/tryitout", subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": "111V06"}],
    labels={"purpose": "format v1 golden file"}, filtered=True, created="2025-01-02T00:00:00.000+00:00",
    tool_version="0.1.0", version=1,
)
GOLDEN_RECORDS = [
    ArchiveRecord(T0, 100, Direction.NONE, 1, RecordKind.OPENED, b"ws://127.0.0.1:21000/tryitout"),
    ArchiveRecord(T0 + 1_000, 200, Direction.CLIENT_TO_SERVER, 1, RecordKind.CONTROL,
                  b'{"header":{"approval_key":"<redacted>","custtype":"P","tr_type":"1",'
                  b'"content-type":"utf-8"},"body":{"input":{"tr_id":"H0ZFASP0","tr_key":"111V06"}}}'),
    ArchiveRecord(T0 + 2_000, 300, Direction.SERVER_TO_CLIENT, 1, RecordKind.CONTROL,
                  b'{"header":{"tr_id":"H0ZFASP0","tr_key":"111V06","encrypt":"N"},"body":{"rt_cd":"0",'
                  b'"msg_cd":"OPSP0000","msg1":"SUBSCRIBE SUCCESS","output":{"iv":"0123456789abcdef",'
                  b'"key":"abcdefghijklmnopabcdefghijklmnop"}}}'),
    ArchiveRecord(T0 + 3_000, 400, Direction.SERVER_TO_CLIENT, 1, RecordKind.DATA,
                  b"0|H0ZFASP0|001|111V06^090000^79700"),
    ArchiveRecord(T0 + 1_500_000_000, 1_500_000_400, Direction.SERVER_TO_CLIENT, 1, RecordKind.PING, b""),
    ArchiveRecord(T0 + 1_500_000_001, 1_500_000_401, Direction.CLIENT_TO_SERVER, 1, RecordKind.PONG, b""),
    ArchiveRecord(T0 + 1_600_000_000, 1_600_000_400, Direction.SERVER_TO_CLIENT, 1, RecordKind.BINARY,
                  b"\x00\xff\xfe"),
    ArchiveRecord(T0 + 2_500_000_000, 2_500_000_400, Direction.NONE, 1, RecordKind.CLOSED, b"1006"),
    ArchiveRecord(T0 + 3_000_000_000, 3_000_000_400, Direction.NONE, 2, RecordKind.GAP,
                  b'{"start_ns":1735776002500000000,"end_ns":1735776003000000000,"reason":"reconnect"}'),
    ArchiveRecord(T0 + 3_000_000_001, 3_000_000_401, Direction.SERVER_TO_CLIENT, 2, RecordKind.DATA,
                  b"0|H0ZFASP0|001|111V06^090003^79800"),
]


def write_golden(path: Path) -> None:
    """How the golden file was made (run by hand only when adding a format version's file)."""
    with ArchiveWriter(path, GOLDEN_HEADER, frame_seconds=1.0, fsync=False) as writer:
        for record in GOLDEN_RECORDS:
            writer.write_record(record)


def test_reads_the_version_1_golden_file() -> None:
    reader = ArchiveReader(DATA_DIR / "archive_v1.kisrec.zst")
    assert reader.header == GOLDEN_HEADER
    assert list(reader) == GOLDEN_RECORDS
    assert reader.index_intact and [e.records for e in reader.index] == [4, 3, 3]
    assert reader.index[0].tr_ids == {"H0ZFASP0"} and reader.warnings == []


def _content(path: Path) -> bytes:
    with open(path, "rb") as f:
        return zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True).read()


def test_this_writer_still_writes_the_golden_layout(tmp_path: Path) -> None:
    """Version 1's layout is frozen: a change that alters the decompressed bytes or the index needs a new
    version (and a new golden file). Compressed bytes may differ with the zstd library version."""
    write_golden(tmp_path / "again.kisrec.zst")
    golden = DATA_DIR / "archive_v1.kisrec.zst"
    assert _content(tmp_path / "again.kisrec.zst") == _content(golden)
    strip = [(e.first_wall_ns, e.last_wall_ns, e.records, e.tr_ids) for e in ArchiveReader(golden).index]
    assert [(e.first_wall_ns, e.last_wall_ns, e.records, e.tr_ids)
            for e in ArchiveReader(tmp_path / "again.kisrec.zst").index] == strip


def test_the_format_documents_reference_reader_reads_the_golden_file() -> None:
    """docs/archive-format.md ends with a reader that needs only zstandard: it must stay right."""
    doc = (Path(__file__).parent.parent / "docs" / "archive-format.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Reading an archive without kis-replay"):]
    code = section[section.index("```python") + len("```python"):]
    namespace: dict = {}
    exec(compile(code[: code.index("```")], "archive-format.md", "exec"), namespace)
    header, records = namespace["read_archive"](DATA_DIR / "archive_v1.kisrec.zst")
    assert header == json.loads(GOLDEN_HEADER.to_json())
    assert records == [tuple(r) for r in GOLDEN_RECORDS]


if __name__ == "__main__" and sys.argv[1:2] == ["--write-golden"]:  # pragma: no cover
    write_golden(DATA_DIR / "archive_v1.kisrec.zst")


def test_records_of_unknown_kinds_are_skipped_and_counted(tmp_path: Path) -> None:
    """A later writer may add kinds within version 1: an older reader skips them, counting."""
    from kis_replay.archive.batches import encode_batch
    from kis_replay.archive.header import encode_header

    payloads = [b"0|H0ZFASP0|001|a", b"from the future", b"0|H0ZFASP0|001|b", b"odd direction"]
    batch = encode_batch([len(p) for p in payloads], bytes([1, 42, 1, 1]), bytes([0, 0, 0, 9]), [0] * 4,
                         [T0, T0 + 1, T0 + 2, T0 + 3], [0, 1, 2, 3], payloads)
    cctx = zstandard.ZstdCompressor(write_checksum=True)
    path = tmp_path / "future-kinds.kisrec.zst"
    path.write_bytes(cctx.compress(encode_header(ArchiveHeader())) + cctx.compress(batch))
    reader = ArchiveReader(path)
    with pytest.warns(ArchiveWarning, match="no seek index"):
        got = list(reader)
    assert [r.payload for r in got] == [payloads[0], payloads[2]]
    assert reader.stats.records_unknown == 2 and [w.kind for w in reader.warnings] == ["index"]


def test_batches_of_one_or_many_connections_and_clock_skews_read_back_exactly(tmp_path: Path) -> None:
    """The reader decodes a batch whose connection or clock skew never changes without a value per record:
    batches that do and do not (each ``flush`` ends one) must all read back exactly, with their types."""
    batches = [
        [(T0 + i, T0 + i - 7, 4) for i in range(5)],  # one connection, one skew
        [(T0 + 10 + i, 100 + i * i, (1, 2, 1, 3, 3)[i]) for i in range(5)],  # connections and skew vary
        [(T0 + 20 + i, 5 + i, 2**32 - 1) for i in range(5)],  # the largest connection number, one skew
        [(T0 + 30 + i, -(2**61) + i * 3, 0) for i in range(5)],  # the lowest mono_ns, the skew varies
        [(T0 + 40, 9, 6)],  # a batch of one record
    ]
    path = tmp_path / "columns.kisrec.zst"
    expected = []
    with ArchiveWriter(path, ArchiveHeader(), fsync=False) as writer:
        for batch in batches:
            for wall, mono, conn in batch:
                kind = RecordKind.DATA if conn != 3 else RecordKind.PING
                record = ArchiveRecord(wall, mono, Direction.SERVER_TO_CLIENT, conn, kind, f"{wall}".encode())
                writer.write_record(record)
                expected.append(record)
            writer.flush()
    got = list(ArchiveReader(path))
    assert got == expected
    assert [(r.conn, r.mono_ns, type(r.kind), type(r.direction)) for r in got] == \
        [(r.conn, r.mono_ns, RecordKind, Direction) for r in expected]
