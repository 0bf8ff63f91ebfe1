"""``kis-replay info | cat | verify | slice | merge`` as a user runs them: real subprocesses, real archives."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import pty
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from inspect_sessions import APPROVAL_KEY, MS, NS, T0, Expected, quote, write_session

from kis_replay.archive import (
    ArchiveHeader,
    ArchiveReader,
    ArchiveRecord,
    ArchiveWarning,
    ArchiveWriter,
    RecordKind,
)
from kis_replay.codec import get_spec

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}


def run(*args: str | Path, check_rc: int | None = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "kis_replay", *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=60)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def read_all(path: Path) -> tuple[list[ArchiveRecord], list[ArchiveWarning]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        reader = ArchiveReader(path)
        records = list(reader)
        reader.close()
    return records, reader.warnings


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Expected]:
    path = tmp_path_factory.mktemp("inspect") / "session.kisrec.zst"
    return path, write_session(path)


@pytest.fixture()
def cut_copy(session: tuple[Path, Expected], tmp_path: Path) -> Path:
    """The session with its tail cut off in the middle of the last frame of records (writer killed)."""
    path, _ = session
    with ArchiveReader(path) as reader:
        last = reader.index[-1]
    cut = tmp_path / "cut.kisrec.zst"
    cut.write_bytes(path.read_bytes()[: last.offset + last.size // 2])
    return cut


# -- info -------------------------------------------------------------------------------------------------


def test_info_reports_counts_rates_gaps_ratio_and_index(session: tuple[Path, Expected]) -> None:
    path, expected = session
    text = run("info", path).stdout
    assert "index:         intact" in text
    assert "2024-05-02 09:00:00.000 → 2024-05-02 09:00:19.901 Asia/Seoul" in text
    assert "H0ZFASP0: 111V06 117, 111V07 93" in text
    assert "09:00:15.000 → 2024-05-02 09:00:15.500  (0.500 s, conn 0): reconnect" in text
    assert APPROVAL_KEY not in text

    info = json.loads(run("info", path, "--json").stdout)
    zf = info["trs"]["H0ZFASP0"]
    assert zf["instruments"] == expected.quotes and zf["frames"] == sum(expected.quotes.values())
    assert zf["peak_rate_per_s"] == expected.peak_quotes_per_s
    trade = info["trs"]["H0IOCNT0"]
    assert (trade["frames"], trade["records"]) == (expected.trade_frames, expected.trade_records)
    assert info["trs"]["H0STCNI0"]["encrypted_frames"] == expected.notices
    assert info["trs"]["H0STCNI0"]["known"] is False
    assert info["records"] == expected.records and info["connections"] == 2
    assert info["start"]["session"] == "2024-05-02 09:00:00.000"
    assert info["start"]["utc"].startswith("2024-05-02T00:00:00")
    (gap,) = info["gaps"]
    assert (gap["from"]["ns"], gap["to"]["ns"], gap["reason"]) == expected.gap
    records, _ = read_all(path)
    uncompressed = sum(26 + len(r.payload) for r in records)  # the batch columns of the format document
    assert info["compression_ratio"] == pytest.approx(uncompressed / path.stat().st_size, abs=1e-3)
    assert info["index_intact"] is True and info["warnings"] == []
    assert info["header"]["subscriptions"][0] == {"tr_id": "H0ZFASP0", "tr_key": "111V06"}


def test_info_on_a_cut_file_says_the_index_is_not_intact(cut_copy: Path) -> None:
    text = run("info", cut_copy).stdout
    assert "NOT intact" in text and "[cut]" in text
    info = json.loads(run("info", cut_copy, "--json").stdout)
    assert info["index_intact"] is False
    assert [w["kind"] for w in info["warnings"]] == ["cut"]
    assert info["warnings"][0]["offset"] == cut_copy.stat().st_size


# -- cat --------------------------------------------------------------------------------------------------


def test_cat_raw_prints_every_payload_and_jsonl_every_record(session: tuple[Path, Expected]) -> None:
    path, expected = session
    raw = run("cat", path, "--kind", "data").stdout.splitlines()
    assert raw == [text for _, text in expected.data]
    lines = [json.loads(line) for line in run("cat", path, "--format", "jsonl").stdout.splitlines()]
    assert len(lines) == expected.records
    first = lines[0]
    assert first == {"time": "2024-05-02T09:00:00.000000+09:00", "wall_ns": T0, "direction": "none", "conn": 0,
                     "kind": "opened", "payload": "ws://127.0.0.1:21000/tryitout"}
    assert [(x["wall_ns"], x["payload"]) for x in lines if x["kind"] == "data"] == expected.data
    assert not any(APPROVAL_KEY in x.get("payload", "") for x in lines)


def test_cat_decode_names_fields_and_filters_by_tr_and_key(session: tuple[Path, Expected]) -> None:
    path, expected = session
    out = run("cat", path, "--format", "jsonl", "--decode", "--tr", "H0ZFASP0", "--key", "111V07").stdout
    lines = [json.loads(line) for line in out.splitlines()]
    data = [x for x in lines if x["kind"] == "data"]
    assert len(data) == expected.quotes["111V07"]
    assert {x["kind"] for x in lines} == {"data", "control"}  # the subscriptions of that instrument
    fields = data[0]["fields"]
    assert list(fields) == list(get_spec("H0ZFASP0").names)  # type: ignore[union-attr]
    assert fields["FUTS_SHRN_ISCD"] == "111V07" and fields["ASKP1"] == "79700" and fields["BIDP10"] == "78600"
    assert fields["BSOP_HOUR"] == "090001" and data[0]["time"] == "2024-05-02T09:00:01.101000+09:00"
    assert all(x["tr_key"] == "111V07" and x["record"] == 1 for x in data)


def test_cat_decrypts_with_the_recorded_ack_even_from_inside_the_session(session: tuple[Path, Expected]) -> None:
    path, expected = session
    out = run("cat", path, "--format", "jsonl", "--decode", "--tr", "H0STCNI0", "--kind", "data",
              "--from", "09:00:06").stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == expected.notices - 1  # the first notice is at 09:00:05.703
    assert all(x["fields"]["3"] == "주문체결" and x["tr_key"] == "kisuser01" for x in lines)


def test_cat_csv_has_the_tables_field_names_as_columns(session: tuple[Path, Expected]) -> None:
    path, expected = session
    out = run("cat", path, "--format", "csv", "--tr", "H0IOCNT0").stdout
    rows = list(csv.reader(io.StringIO(out)))
    names = get_spec("H0IOCNT0").names  # type: ignore[union-attr]
    assert rows[0] == ["received", "wall_ns", "conn", *names]
    assert len(rows) - 1 == expected.trade_records
    assert all(len(r) == 3 + len(names) for r in rows[1:])
    assert rows[1][3:6] == ["201S11305", "090001", "2.98"]
    proc = run("cat", path, "--format", "csv", check_rc=1)
    assert proc.stderr.strip() == "Error: --format csv needs exactly one --tr (its fields are the columns), got 0"


def test_cat_window_is_from_inclusive_to_exclusive(session: tuple[Path, Expected]) -> None:
    path, expected = session
    start, end = expected.data[40][0], expected.data[60][0]
    assert (start - T0) % MS == 0 and (end - T0) % MS == 0
    span = lambda ns: f"09:00:{(ns - T0) / NS:06.3f}"  # noqa: E731
    out = run("cat", path, "--kind", "data", "--format", "jsonl", "--from", span(start), "--to", span(end)).stdout
    got = [json.loads(line)["wall_ns"] for line in out.splitlines()]
    assert got == [ns for ns, _ in expected.data[40:60]]


def test_cat_into_a_closed_pipe_stops_quietly(session: tuple[Path, Expected]) -> None:
    path, _ = session
    proc = subprocess.Popen([sys.executable, "-m", "kis_replay", "cat", path, "--format", "jsonl", "--decode"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    assert proc.stdout is not None and proc.stderr is not None
    head = [proc.stdout.readline() for _ in range(2)]
    proc.stdout.close()  # what `| head -2` does
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert all(line.startswith(b"{") for line in head)
    assert stderr == ""


@pytest.mark.parametrize("args, message", [
    (["info", "{missing}"], "Error: {missing}: cannot open: No such file or directory"),
    (["cat", "{text}"], "Error: {text}: offset 0: not a kis-replay archive (not a zstd frame)"),
    (["cat", "{archive}", "--from", "25:00"], "Error: --from '25:00': time of day '25:00' is out of range"),
    (["slice", "{archive}", "--to", "9h", "-o", "{out}"], "Error: --to '9h': time of day '9h' is not HH:MM"),
    (["slice", "{archive}", "--from", "09:00:02", "--to", "09:00:02", "-o", "{out}"],
     "Error: --to 09:00:02 (09:00:02.000) is not after --from 09:00:02 (09:00:02.000): the session starts at "
     "09:00:00.000"),
    (["merge", "{archive}", "{text}", "-o", "{out}"], "Error: {text}: offset 0: not a kis-replay archive"),
])
def test_bad_input_is_one_clear_line(session: tuple[Path, Expected], tmp_path: Path, args: list[str],
                                     message: str) -> None:
    names = {"missing": str(tmp_path / "nope.kisrec.zst"), "text": str(tmp_path / "notes.txt"),
             "archive": str(session[0]), "out": str(tmp_path / "out.kisrec.zst")}
    (tmp_path / "notes.txt").write_text("not an archive\n")
    proc = run(*(a.format(**names) for a in args), check_rc=None)
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message.format(**names))


# -- verify -----------------------------------------------------------------------------------------------


def test_verify_a_good_archive(session: tuple[Path, Expected]) -> None:
    proc = run("verify", session[0], check_rc=0)
    assert proc.stdout.startswith(f"{session[0]}: OK")
    assert "not checked, no TR table: H0STCNI0 3" in proc.stdout


def test_verify_a_cut_file_names_the_cut_and_salvage_keeps_what_is_left(
    session: tuple[Path, Expected], cut_copy: Path, tmp_path: Path
) -> None:
    salvaged = tmp_path / "salvaged.kisrec.zst"
    proc = run("verify", cut_copy, "--salvage", salvaged, check_rc=1)
    assert f"[cut] offset {cut_copy.stat().st_size}: " in proc.stdout
    assert "[index]" in proc.stdout and "NOT intact" in proc.stdout
    left, _ = read_all(cut_copy)
    assert f"salvaged: {len(left)} records written to {salvaged}" in proc.stdout
    run("verify", salvaged, check_rc=0)
    kept, problems = read_all(salvaged)
    assert kept == left and problems == []
    with ArchiveReader(salvaged) as reader:
        assert reader.index_intact and reader.header.labels["salvaged_from"] == "cut.kisrec.zst"
        assert reader.header.subscriptions == ArchiveReader(session[0]).header.subscriptions


def test_verify_a_corrupted_byte_names_the_frame_offset(session: tuple[Path, Expected], tmp_path: Path) -> None:
    path, expected = session
    with ArchiveReader(path) as reader:
        frame = reader.index[3]
    data = bytearray(path.read_bytes())
    data[frame.offset + frame.size // 2] ^= 0xFF
    bad = tmp_path / "bad.kisrec.zst"
    bad.write_bytes(bytes(data))
    salvaged = tmp_path / "salvaged.kisrec.zst"
    report = json.loads(run("verify", bad, "--json", "--salvage", salvaged, check_rc=1).stdout)
    assert report["ok"] is False and report["problem_counts"] == {"corrupt": 1}
    (problem,) = report["problems"]
    assert problem["offset"] == frame.offset and f"{frame.records} records lost" in problem["message"]
    assert report["salvaged_records"] == expected.records - frame.records
    run("verify", salvaged, check_rc=0)
    kept, _ = read_all(salvaged)
    whole, _ = read_all(path)
    lost = [r for r in whole if frame.first_wall_ns <= r.wall_ns <= frame.last_wall_ns]
    assert len(lost) == frame.records
    assert kept == [r for r in whole if r not in lost]


def test_verify_names_the_tr_record_and_field_of_a_malformed_frame(tmp_path: Path) -> None:
    path = tmp_path / "malformed.kisrec.zst"
    good = quote("111V06", T0)
    short = good.rsplit("^", 1)[0]  # 67 fields
    bad_value = good.replace("^79700^", "^79x00^", 1)
    with ArchiveWriter(path, ArchiveHeader(), fsync=False) as w:
        for i, text in enumerate([good, good, short, good, bad_value, "0|H0ZFASP0|001", "{not json"]):
            kind = RecordKind.CONTROL if text.startswith("{") else RecordKind.DATA
            w.write(kind, text, wall_ns=T0 + i * MS, mono_ns=i * MS)
    proc = run("verify", path, check_rc=1)
    out = proc.stdout
    assert "4 problem(s)" in out
    assert "[frame] record 3: (09:00:00.002 conn 0) H0ZFASP0 record 1: 67 fields, expected 68" in out
    assert "[frame] record 5: (09:00:00.004 conn 0) H0ZFASP0 record 1 field 3 ASKP1: expected" in out
    assert "[frame] record 6: " in out and "[control] record 7: " in out
    report = json.loads(run("verify", path, "--json", check_rc=1).stdout)
    assert report["problems"][0] == {"kind": "frame", "record": 3, "tr_id": "H0ZFASP0",
                                     "message": "(09:00:00.002 conn 0) H0ZFASP0 record 1: 67 fields, expected 68"}
    assert report["problems"][1]["field"] == "ASKP1"


def test_verify_an_unreadable_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "x.kisrec.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 40)
    proc = run("verify", path, check_rc=2)
    assert proc.stderr == f"Error: {path}: offset 44: file cut inside the header frame\n"


# -- slice and merge --------------------------------------------------------------------------------------


def test_slice_halves_merge_back_to_the_whole(session: tuple[Path, Expected], tmp_path: Path) -> None:
    path, expected = session
    at = expected.data[100][0]  # a record exactly on the cut: it belongs to the second half only
    cut = f"09:00:{(at - T0) / NS:06.3f}"
    first, second, merged = tmp_path / "a.kisrec.zst", tmp_path / "b.kisrec.zst", tmp_path / "m.kisrec.zst"
    assert run("slice", path, "--to", cut, "-o", first).stdout.startswith(f"{first}: ")
    out = run("slice", path, "--from", cut, "-o", second).stdout
    assert "(+1 key acks from before the window)" in out  # the H0STCNI0 ack of conn 0
    a, _ = read_all(first)
    b, _ = read_all(second)
    assert max(r.wall_ns for r in a) < at
    b_data = [r for r in b if r.kind == RecordKind.DATA]
    assert b_data[0].wall_ns == at and min(r.wall_ns for r in b_data) == at
    run("merge", first, second, "-o", merged)
    m, _ = read_all(merged)
    assert [(r.wall_ns, r.text) for r in m if r.kind == RecordKind.DATA] == expected.data
    with ArchiveReader(merged) as reader:
        assert reader.index_intact
        assert reader.header.labels["merged_from"] == ["a.kisrec.zst", "b.kisrec.zst"]
        assert reader.header.labels["inputs"][1]["labels"]["slice"]["from_ns"] == at
    run("verify", merged, check_rc=0)


def _two_sessions(tmp_path: Path) -> tuple[Path, Path]:
    """Two recordings of the same minute on different instruments, each with its own conns and clocks."""
    paths = []
    for n, (code, offset, mono0) in enumerate([("111V06", 0, 10**12), ("111V07", 50 * MS, 7 * 10**9)]):
        path = tmp_path / f"in{n}.kisrec.zst"
        header = ArchiveHeader(subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": code}], filtered=True)
        with ArchiveWriter(path, header, fsync=False) as w:
            for i in range(20):
                conn = 0 if i < 10 else 1
                at = T0 + offset + i * 100 * MS
                w.write(RecordKind.DATA, quote(code, at), conn=conn, wall_ns=at, mono_ns=mono0 + i * 100 * MS)
        paths.append(path)
    return paths[0], paths[1]


def test_merge_orders_by_receive_time_and_keeps_connections_apart(tmp_path: Path) -> None:
    one, two = _two_sessions(tmp_path)
    out = tmp_path / "merged.kisrec.zst"
    assert run("merge", one, two, "-o", out).stdout.strip() == \
        f"{out}: 40 records from 2 archives, 4 connections"
    merged, _ = read_all(out)
    assert [r.wall_ns for r in merged] == sorted(r.wall_ns for r in merged)
    by_conn: dict[int, set[str]] = {}
    for r in merged:
        by_conn.setdefault(r.conn, set()).add(r.text.split("^", 1)[0][-6:])
    assert by_conn == {0: {"111V06"}, 1: {"111V07"}, 2: {"111V06"}, 3: {"111V07"}}
    # one monotonic axis: every gap between records equals the gap between their receive times
    assert all(b.mono_ns - a.mono_ns == b.wall_ns - a.wall_ns for a, b in itertools.pairwise(merged))
    with ArchiveReader(out) as reader:
        assert reader.header.subscriptions == [{"tr_id": "H0ZFASP0", "tr_key": "111V06"},
                                               {"tr_id": "H0ZFASP0", "tr_key": "111V07"}]
        assert reader.header.filtered is True and reader.index_intact
    proc = run("merge", one, two, "-o", one, check_rc=1)
    assert proc.stderr.strip() == f"Error: {one}: the output would overwrite the input archive"


# -- progress ---------------------------------------------------------------------------------------------


def test_progress_shows_on_a_terminal_and_not_in_a_pipe(session: tuple[Path, Expected], tmp_path: Path) -> None:
    big = tmp_path / "big.kisrec.zst"
    shutil.copy(session[0], big)
    with ArchiveWriter(big, ArchiveHeader(), fsync=False) as w:  # enough records for a progress tick
        for i in range(5000):
            w.write(RecordKind.DATA, quote("111V06", T0 + i * MS), wall_ns=T0 + i * MS, mono_ns=i * MS)
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "kis_replay", "verify", str(big)], stdout=subprocess.PIPE,
                              stderr=secondary, env=ENV, timeout=60, check=False)
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(primary)
    assert proc.returncode == 0
    assert b"verifying: " in seen and b"%" in seen
    quiet = run("verify", big)
    assert quiet.stderr == ""
