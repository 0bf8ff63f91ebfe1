"""The bundled sample sessions: findable, readable, what the README says, and made by the recorded commands."""

from __future__ import annotations

import datetime as dt
import itertools
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kis_replay import fixtures
from kis_replay.archive import SUFFIX, ArchiveReader, RecordKind
from kis_replay.cli.synth import canonical_command, synth
from kis_replay.codec import peek_route
from kis_replay.synth import SynthSession, generate

KST = dt.timezone(dt.timedelta(hours=9))
FOLDER = Path(fixtures.__file__).parent
ROOT = FOLDER.parent.parent


def recorded_commands() -> dict[str, list[str]]:
    """fixture name → the synth arguments of its line in the README."""
    commands = {}
    for line in (FOLDER / "README.md").read_text().splitlines():
        if line.startswith("kis-replay synth "):
            argv = shlex.split(line)[2:]
            output = argv[argv.index("-o") + 1]
            commands[Path(output).name.removesuffix(SUFFIX)] = argv
    return commands


def test_names_and_paths():
    assert fixtures.names() == ("night", "open", "sample")
    assert fixtures.path() == FOLDER / "sample.kisrec.zst"
    assert fixtures.path("night") == fixtures.path("night.kisrec.zst") == FOLDER / "night.kisrec.zst"
    for bad in ("nope", "../sample", ".hidden"):
        with pytest.raises(FileNotFoundError, match="there are night, open, sample"):
            fixtures.path(bad)


def test_the_top_level_fixtures_folder_is_the_package_one():
    top = ROOT / "fixtures"
    if not top.exists():
        pytest.skip("not a source checkout")
    assert top.resolve() == FOLDER.resolve()


def test_every_fixture_is_in_the_readme_and_small():
    assert set(recorded_commands()) == set(fixtures.names())
    assert sum(fixtures.path(name).stat().st_size for name in fixtures.names()) < 2_000_000


@pytest.mark.parametrize("name", ["sample", "open", "night"])
def test_fixture_reads_cleanly(name):
    reader = ArchiveReader(fixtures.path(name))
    header = reader.header
    assert header.source == "synthetic" and header.filtered is False
    assert header.labels["command"].startswith("kis-replay synth ")
    records = list(reader.records())
    assert not reader.warnings
    assert records[0].kind == RecordKind.OPENED and records[-1].kind == RecordKind.CLOSED
    routes = Counter(peek_route(r.text) for r in records if r.kind == RecordKind.DATA)
    assert {(s["tr_id"], s["tr_key"]) for s in header.subscriptions} == set(routes)


def test_the_sample_is_a_busy_day_open():
    records = list(ArchiveReader(fixtures.path("sample")).records(kinds={RecordKind.DATA}))
    first = dt.datetime.fromtimestamp(records[0].wall_ns / 1e9, KST)
    last = dt.datetime.fromtimestamp(records[-1].wall_ns / 1e9, KST)
    assert first.time() >= dt.time(9, 0) and first.time() < dt.time(9, 0, 1)
    assert dt.timedelta(minutes=2) <= last - first <= dt.timedelta(minutes=3)
    per_second = Counter((peek_route(r.text), r.wall_ns // 1_000_000_000) for r in records)
    assert max(per_second.values()) > 5
    assert {tr for (tr, _), _ in per_second} == {"H0ZFASP0", "H0IOCNT0"}


def test_the_night_fixture_crosses_midnight():
    records = list(ArchiveReader(fixtures.path("night")).records(kinds={RecordKind.DATA}))
    days = {dt.datetime.fromtimestamp(r.wall_ns / 1e9, KST).date() for r in records}
    assert days == {dt.date(2026, 11, 24), dt.date(2026, 11, 25)}


def session_of_command(argv: list[str]) -> SynthSession:
    """The session a ``kis-replay synth`` command line describes, parsed by the command itself."""
    with synth.make_context("synth", list(argv)) as ctx:
        p = ctx.params
    codes = [code for item in p["symbols"] for code in item.split(",")]
    return SynthSession.create(p["trs"], codes, date=p["date"].date(), start=p["start"],
                               duration_s=p["duration"], seed=p["seed"], rate=p["rate"])


def test_the_recorded_command_makes_the_night_fixture_again(tmp_path):
    """The README's command, run as a user runs it, gives the committed file byte for byte."""
    argv = recorded_commands()["night"]
    argv[argv.index("-o") + 1] = str(tmp_path / "night.kisrec.zst")
    result = subprocess.run([sys.executable, "-m", "kis_replay", "synth", *argv], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    fresh = ArchiveReader(tmp_path / "night.kisrec.zst")
    committed = ArchiveReader(fixtures.path("night"))
    assert fresh.header.to_json() == committed.header.to_json()
    assert list(fresh.records()) == list(committed.records()), "the generator's output changed"
    assert (tmp_path / "night.kisrec.zst").read_bytes() == fixtures.path("night").read_bytes(), (
        "same records, different bytes: the archive encoding changed; regenerate the fixtures with the "
        "commands in kis_replay/fixtures/README.md"
    )


@pytest.mark.parametrize("name", ["sample", "open"])
def test_the_recorded_command_describes_the_day_fixtures(name):
    """The README command is the one in the archive's label, and it generates the archive's frames
    (compared over the first 400: regenerating the whole file is the night test's job)."""
    session = session_of_command(recorded_commands()[name])
    reader = ArchiveReader(fixtures.path(name))
    assert reader.header.labels["command"] == canonical_command(session)
    expected = [(w, t) for w, t in itertools.islice(
        ((w, t) for w, t in generate(session) if t[:1] == "0"), 400)]
    recorded = [(r.wall_ns, r.text) for r in itertools.islice(reader.records(kinds={RecordKind.DATA}), 400)]
    assert recorded == expected
