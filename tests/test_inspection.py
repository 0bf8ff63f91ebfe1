"""The inspection computations from Python (what the CLI calls), on real archives written in tmp_path."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from inspect_sessions import CIPHER, MS, NOTICE_PLAIN, NS, T0, quote

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
from kis_replay.archive.index import encode_index
from kis_replay.codec import REDACTED, FrameCipher, build_reply
from kis_replay.inspection import (
    FrameDecoder,
    JsonlExport,
    SummaryBuilder,
    iso_clock,
    merged_header,
    slice_archive,
    summarize,
    verify_archive,
)
from kis_replay.inspection.verification import MAX_LISTED


@pytest.fixture(autouse=True)
def _quiet_reader() -> None:
    warnings.simplefilter("ignore", ArchiveWarning)


def _record(kind: RecordKind, payload: str, at: int = T0, conn: int = 0,
            direction: Direction = Direction.SERVER_TO_CLIENT) -> ArchiveRecord:
    return ArchiveRecord(at, at - T0, direction, conn, kind, payload.encode())


def _ack(tr_id: str, cipher: FrameCipher | None, conn: int = 0) -> ArchiveRecord:
    output = {"iv": cipher.iv, "key": cipher.key} if cipher else None
    return _record(RecordKind.CONTROL, build_reply("OPSP0000", tr_id=tr_id, tr_key="u1", output=output).to_json(),
                   conn=conn)


def _write(path: Path, texts: list[str], *, frame_seconds: float = 10.0, step_ns: int = MS) -> None:
    with ArchiveWriter(path, ArchiveHeader(), frame_seconds=frame_seconds, fsync=False) as w:
        for i, text in enumerate(texts):
            w.write(RecordKind.DATA, text, wall_ns=T0 + i * step_ns, mono_ns=i * step_ns)


# -- decoding ---------------------------------------------------------------------------------------------


def test_decoder_uses_the_ack_of_the_frames_connection_and_tr() -> None:
    other = FrameCipher.generate()
    decoder = FrameDecoder()
    notice = _record(RecordKind.DATA, f"1|H0STCNI0|001|{CIPHER.encrypt(NOTICE_PLAIN)}", conn=1)
    assert decoder.parse(notice).records == ()  # no key yet: ciphertext kept, nothing decoded
    assert decoder.observe(_ack("H0ZFASP0", None, conn=1)) is None  # an ack without output teaches nothing
    assert decoder.observe(_ack("H0STCNI0", other, conn=0)) == other
    assert decoder.observe(_ack("H0STCNI0", CIPHER, conn=1)) == CIPHER
    (record,) = decoder.parse(notice).records
    assert record.raw[3] == "주문체결"
    assert decoder.cipher_for(0, "H0STCNI0") == other
    assert decoder.cipher_for(7, "H0STCNI0") == CIPHER  # an unknown conn: the TR's latest ack


def test_jsonl_decode_shows_control_and_gap_records_parsed() -> None:
    export = JsonlExport(iso_clock("Asia/Seoul"), FrameDecoder())
    gap = json.dumps({"start_ns": T0, "end_ns": T0 + NS, "reason": "reconnect"})
    (line,) = export.lines(_record(RecordKind.GAP, gap, direction=Direction.NONE))
    assert json.loads(line)["message"] == {"start_ns": T0, "end_ns": T0 + NS, "reason": "reconnect"}
    (line,) = export.lines(_record(RecordKind.DATA, "0|H0ZFASP0|001|111V06^1"))
    obj = json.loads(line)
    assert obj["fields"] == {"0": "111V06", "1": "1"} and obj["error"] == "H0ZFASP0: 2 fields, expected 68"
    assert [json.loads(x)["fields"] for x in export.lines(_record(RecordKind.DATA, "0|H0XXXXX0|002|a^b^c^d"))] \
        == [{"0": "a", "1": "b"}, {"0": "c", "1": "d"}]
    (line,) = export.lines(_record(RecordKind.DATA, "0|H0ZFASP0|abc|x"))
    assert json.loads(line)["error"] == "H0ZFASP0: bad record count 'abc', expected 3 digits"
    assert export.problems == 2


# -- summary ----------------------------------------------------------------------------------------------


def test_peak_rate_counts_frames_less_than_a_second_apart() -> None:
    builder = SummaryBuilder()
    for at in (0, 400, 999, 1000, 1001, 1500, 3000):
        builder.add(_record(RecordKind.DATA, quote("111V06", T0 + at * MS), T0 + at * MS))
    t = builder.trs["H0ZFASP0"]
    # (0.001, 1.001] holds 0.400, 0.999, 1.000, 1.001 (and 0.000 is exactly 1 s before 1.000: out)
    assert t.peak_rate == 4 and t.peak_at_ns == T0 + 400 * MS
    assert builder.peak_rate == 4 and t.frames == 7 and t.instruments == {"111V06": 7}


# -- verify -----------------------------------------------------------------------------------------------


def test_verify_finds_an_index_that_disagrees_with_the_frames(tmp_path: Path) -> None:
    path = tmp_path / "a.kisrec.zst"
    _write(path, [quote("111V06", T0 + i * 100 * MS) for i in range(60)], frame_seconds=0.01, step_ns=5 * MS)
    with ArchiveReader(path) as reader:
        entries = list(reader.index)
    assert len(entries) == 30
    lying = [*entries]
    lying[4] = lying[4]._replace(records=lying[4].records + 1, tr_ids=frozenset({"H0IOCNT0"}))
    data = path.read_bytes()
    path.write_bytes(data[: entries[-1].end] + encode_index(lying))
    report = verify_archive(path)
    assert not report.ok and report.index_intact
    (problem,) = report.problems
    assert problem.kind == "index" and problem.offset == entries[4].offset
    assert problem.message == (f"index entry 5 (frame at offset {entries[4].offset}): records 3 in the index, "
                               "2 in the frame; TRs ['H0IOCNT0'] in the index, ['H0ZFASP0'] in the frame")


def test_record_numbers_count_records_lost_to_a_corrupt_frame(tmp_path: Path) -> None:
    path = tmp_path / "a.kisrec.zst"
    texts = [quote("111V06", T0) for _ in range(40)]
    texts[33] = texts[33][:-2]  # record 34: one field short
    _write(path, texts, frame_seconds=0.0099, step_ns=5 * MS)  # two records a frame
    with ArchiveReader(path) as reader:
        frame = reader.index[3]  # records 7 and 8
    data = bytearray(path.read_bytes())
    data[frame.offset + frame.size // 2] ^= 0x55
    path.write_bytes(bytes(data))
    report = verify_archive(path)
    assert [(p.kind, p.offset, p.record) for p in report.problems] == [("corrupt", frame.offset, None),
                                                                       ("frame", None, 34)]
    assert report.records == 38


def test_file_problems_are_listed_first_and_record_problems_capped(tmp_path: Path) -> None:
    path = tmp_path / "a.kisrec.zst"
    _write(path, ["0|H0ZFASP0|001|111V06^1"] * (MAX_LISTED + 50), frame_seconds=0.0099, step_ns=5 * MS)
    cut = tmp_path / "cut.kisrec.zst"
    with ArchiveReader(path) as reader:
        last = reader.index[-1]
    cut.write_bytes(path.read_bytes()[: last.end - 30])
    report = verify_archive(cut)
    assert [p.kind for p in report.problems[:2]] == ["index", "cut"]
    assert len(report.problems) == MAX_LISTED + 2
    assert report.problem_counts["frame"] == report.records > MAX_LISTED
    assert f"… and {report.problems_total - len(report.problems)} more" in report.render()


def test_salvage_refuses_nothing_readable_and_labels_the_copy(tmp_path: Path) -> None:
    path = tmp_path / "a.kisrec.zst"
    _write(path, [quote("111V06", T0)] * 3)
    out = tmp_path / "b.kisrec.zst"
    report = verify_archive(path, salvage=out)
    assert report.ok and report.salvaged_records == 3
    with ArchiveReader(out) as reader:
        assert reader.header.labels == {"salvaged_from": "a.kisrec.zst"}
        assert list(reader) == list(ArchiveReader(path))


# -- slice and merge --------------------------------------------------------------------------------------


def test_slice_refuses_a_window_that_ends_before_it_starts_and_its_own_input(tmp_path: Path) -> None:
    path = tmp_path / "a.kisrec.zst"
    _write(path, [quote("111V06", T0)] * 3)
    with pytest.raises(ArchiveError, match="the window ends before it starts"):
        slice_archive(path, tmp_path / "b.kisrec.zst", T0 + 2 * MS, T0 + MS)
    with pytest.raises(ArchiveError, match="would overwrite the input"):
        slice_archive(path, path, None, None)
    assert len(list(ArchiveReader(path))) == 3


def test_slice_bounds_on_exact_record_times(tmp_path: Path) -> None:
    path = tmp_path / "a.kisrec.zst"
    _write(path, [quote("111V06", T0 + i * MS) for i in range(10)])
    result = slice_archive(path, tmp_path / "b.kisrec.zst", T0 + 3 * MS, T0 + 7 * MS)
    assert result.records == 4 and result.carried_acks == 0
    assert [r.wall_ns - T0 for r in ArchiveReader(result.path)] == [3 * MS, 4 * MS, 5 * MS, 6 * MS]


def test_merged_header_unites_subscriptions_and_names_inputs() -> None:
    a = ArchiveHeader(source="ws://a", subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": "111V06"}], filtered=True,
                      labels={"day": 1})
    b = ArchiveHeader(source="synthetic", subscriptions=[{"tr_key": "111V06", "tr_id": "H0ZFASP0"},
                                                         {"tr_id": "H0IOCNT0", "tr_key": "201S11305"}],
                      filtered=False)
    h = merged_header([a, b], ["a.kisrec.zst", "b.kisrec.zst"])
    assert h.subscriptions == [{"tr_id": "H0ZFASP0", "tr_key": "111V06"}, {"tr_id": "H0IOCNT0", "tr_key": "201S11305"}]
    assert h.source == "merged" and h.filtered is None
    assert h.labels["merged_from"] == ["a.kisrec.zst", "b.kisrec.zst"]
    assert h.labels["inputs"][0] == {"file": "a.kisrec.zst", "source": "ws://a", "created": a.created,
                                     "labels": {"day": 1}}


def test_salvage_never_overwrites_its_input(tmp_path: Path) -> None:
    path = tmp_path / "a.kisrec.zst"
    _write(path, [quote("111V06", T0)] * 3)
    with pytest.raises(ArchiveError, match="would overwrite the archive being verified"):
        verify_archive(path, salvage=tmp_path / "." / "a.kisrec.zst")
    assert len(list(ArchiveReader(path))) == 3


def test_info_never_shows_a_header_value_named_like_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "a.kisrec.zst"
    header = ArchiveHeader(labels={"note": "ok", "app_key": "PSabc123", "nested": {"secretkey": "s3cr3t"}})
    with ArchiveWriter(path, header, fsync=False):
        pass
    summary = summarize(path)
    shown = json.dumps(summary.to_json()) + summary.render()
    assert "PSabc123" not in shown and "s3cr3t" not in shown
    assert summary.to_json()["header"]["labels"] == {"note": "ok", "app_key": REDACTED,
                                                      "nested": {"secretkey": REDACTED}}
