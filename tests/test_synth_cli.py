"""``kis-replay synth`` as a user runs it: a real subprocess, a real archive on disk."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kis_replay.archive import ArchiveReader, RecordKind
from kis_replay.cli import cli
from kis_replay.codec import parse_frame

KST = dt.timezone(dt.timedelta(hours=9))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kis_replay", "synth", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def data(path: Path) -> list:
    return list(ArchiveReader(path).records(kinds={RecordKind.DATA}))


def test_defaults(tmp_path):
    """The issue's minimal command: only the TR and the output."""
    result = run("--tr", "H0IOCNT0", "-o", "x.kisrec.zst", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "x.kisrec.zst" in result.stdout
    reader = ArchiveReader(tmp_path / "x.kisrec.zst")
    assert reader.header.source == "synthetic" and reader.header.filtered is False
    assert [s["tr_id"] for s in reader.header.subscriptions] == ["H0IOCNT0"] * 4
    labels = reader.header.labels
    assert labels["command"] == ("kis-replay synth --tr H0IOCNT0 --symbols H0IOCNT0:201X12350,H0IOCNT0:201X12355,"
                                 "H0IOCNT0:301X12350,H0IOCNT0:301X12345 --duration 60s --seed 1 --rate 1 "
                                 "--start 09:00:00 --date 2026-11-24")
    records = data(tmp_path / "x.kisrec.zst")
    first = dt.datetime.fromtimestamp(records[0].wall_ns / 1e9, KST)
    last = dt.datetime.fromtimestamp(records[-1].wall_ns / 1e9, KST)
    assert first >= dt.datetime(2026, 11, 24, 9, 0, tzinfo=KST)
    assert last < dt.datetime(2026, 11, 24, 9, 1, 1, tzinfo=KST)
    assert any(parse_frame(r.payload).count > 1 for r in records)


def test_every_option(tmp_path):
    args = ["--tr", "H0ZFASP0", "--tr", "H0IOCNT0", "--symbols", "111V06", "--symbols", "H0IOCNT0:201X12350,301X12340",
            "--duration", "3s", "--seed", "5", "--rate", "0.5", "--start", "10:15:00", "--date", "2026-03-03",
            "--output", "every.kisrec.zst"]
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    reader = ArchiveReader(tmp_path / "every.kisrec.zst")
    assert reader.header.subscriptions == [{"tr_id": "H0ZFASP0", "tr_key": "111V06"},
                                           {"tr_id": "H0IOCNT0", "tr_key": "201X12350"},
                                           {"tr_id": "H0IOCNT0", "tr_key": "301X12340"}]
    labels = reader.header.labels
    assert (labels["seed"], labels["rate"], labels["start"], labels["date"], labels["duration_s"]) == (
        "5", "0.5", "10:15:00", "2026-03-03", "3")
    records = data(tmp_path / "every.kisrec.zst")
    assert records
    for record in records:
        when = dt.datetime.fromtimestamp(record.wall_ns / 1e9, KST)
        assert dt.datetime(2026, 3, 3, 10, 15, tzinfo=KST) <= when < dt.datetime(2026, 3, 3, 10, 15, 4, tzinfo=KST)
        assert parse_frame(record.payload).records[0]["BSOP_HOUR"] >= dt.time(10, 15)
    # later in the day the tape shows the morning so far: volume before the first trade we see
    trade = next(parse_frame(r.payload).records[0] for r in records if r.payload.startswith(b"0|H0IOCNT0"))
    assert trade["ACML_VOL"] > trade["LAST_CNQN"] and trade["OPRC_HOUR"] < dt.time(10, 15)


def test_same_command_same_bytes(tmp_path):
    args = ["--tr", "H0EUASP0", "--duration", "4s", "--seed", "9"]
    assert run(*args, "-o", "a.kisrec.zst", cwd=tmp_path).returncode == 0
    assert run(*args, "-o", "b.kisrec.zst", cwd=tmp_path).returncode == 0
    assert (tmp_path / "a.kisrec.zst").read_bytes() == (tmp_path / "b.kisrec.zst").read_bytes()


BAD_OPTIONS = [
    (["--tr", "H0STCNT0"], "Invalid value for '--tr': 'H0STCNT0' is not a TR synth can generate"),
    (["--duration", "10x"], "Invalid value for '--duration': '10x' is not a duration"),
    (["--duration", "0s"], "'0s' is not a positive duration"),
    (["--tr", "H0ZFASP0", "--symbols", "201X12350"], "symbol '201X12350' is not valid for H0ZFASP0"),
    (["--tr", "H0EUASP0", "--start", "10:00"], "H0EUASP0 trades in the night session"),
    (["--start", "25:00"], "Invalid value for '--start'"),
    (["--date", "2026-13-01"], "Invalid value for '--date'"),
    (["--seed", "-3"], "Invalid value for '--seed'"),
    (["--rate", "0"], "Invalid value for '--rate'"),
]


@pytest.mark.parametrize(("args", "message"), BAD_OPTIONS)
def test_bad_options_are_clear_errors(tmp_path, args, message):
    """Every bad option through the command itself (in process: the same click code, nine times faster)."""
    result = CliRunner().invoke(cli, ["synth", *args, "-o", str(tmp_path / "bad.kisrec.zst")])
    assert result.exit_code == 2
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "bad.kisrec.zst").exists()


def test_a_bad_option_in_a_real_process(tmp_path):
    result = run("--tr", "H0IOCNT0", "--symbols", "111V06", "-o", "bad.kisrec.zst", cwd=tmp_path)
    assert result.returncode == 2
    assert "Error: symbol '111V06' is not valid for H0IOCNT0: H0IOCNT0 takes an index-option code" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "bad.kisrec.zst").exists()


def test_missing_output_and_unwritable_output(tmp_path):
    result = run("--duration", "1s", cwd=tmp_path)
    assert result.returncode == 2 and "Missing option '-o' / '--output'" in result.stderr
    result = run("--duration", "1s", "-o", str(tmp_path / "no" / "such" / "x.kisrec.zst"), cwd=tmp_path)
    assert result.returncode != 0 and "does not exist" in result.stderr and "Traceback" not in result.stderr
