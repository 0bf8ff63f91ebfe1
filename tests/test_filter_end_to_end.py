"""The 0.2 s quote filter, visible in a replayed stream end to end.

``kis-replay replay`` (a subprocess) serves the bundled synthetic ``open`` session (header
``filtered: no``) with ``--filter auto`` or ``off``; ``kis-replay record`` (a subprocess, the real
recorder) records it; ``summarize`` (what ``kis-replay info`` prints) and the recording's receive times
show what a bot got: with the filter, each quote instrument at most once per 200 ms window and exactly the
quotes of the replayer's ``filter_quotes`` over the same archive; without it, every recorded frame.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest

from kis_replay import fixtures
from kis_replay.archive import ArchiveReader, RecordKind, session_time_to_ns
from kis_replay.codec import peek_route
from kis_replay.inspection import summarize
from kis_replay.replayer import WINDOW_NS, ReplayOptions, build_timeline, filter_quotes, is_filtered_quote

SOURCE = fixtures.path("open")
APPROVAL = "approval-filter-e2e-0123456789abcdef"
TIMEOUT = 30.0


class Process:
    """A ``python -m kis_replay`` subprocess, its output in files (no pipe can fill and block it)."""

    def __init__(self, tmp: Path, name: str, args: list[str]) -> None:
        self.out, self.err = tmp / f"{name}.out", tmp / f"{name}.err"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIS_")}
        env["KIS_APPROVAL_KEY"] = APPROVAL
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "kis_replay", *args], env=env, stdout=out,
                                         stderr=err)

    def events(self) -> list[dict]:
        """The ``--json-log`` lines written so far."""
        return [json.loads(line) for line in self.out.read_text().splitlines() if line.startswith("{")]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(TIMEOUT)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)


def until(predicate, what: str):
    deadline = time.monotonic() + TIMEOUT
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {TIMEOUT} s")
        time.sleep(0.02)
    return result


def recorded(path: Path) -> list[tuple[int, str]]:
    """(receive wall_ns, text) of the DATA frames readable so far (the file may still be written)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return [(r.wall_ns, r.text) for r in ArchiveReader(path).records(kinds=[RecordKind.DATA])]
        except Exception:
            return []


def replay_and_record(tmp: Path, replay_args: list[str], expected: int) -> Path:
    """Serve the source with ``replay_args``, record every route it has until ``expected`` data frames are
    in the recording, stop both cleanly; the recording's path."""
    server = Process(tmp, "server", ["replay", str(SOURCE), "--port", "0", "--json-log", "--on-end", "idle",
                                     *replay_args])
    recorder = None
    try:
        url = until(lambda: next((e["url"] for e in server.events() if e["event"] == "listening"), None),
                    "the server listening")
        output = tmp / "recording.kisrec.zst"
        routes = ArchiveReader(SOURCE).header.subscriptions
        subscribe = [arg for r in routes for arg in ("-s", f"{r['tr_id']}:{r['tr_key']}")]
        recorder = Process(tmp, "recorder", ["record", *subscribe, "-o", str(output), "--url", url,
                                             "--flush-interval", "0.05s"])
        until(lambda: any(e["event"] == "end" for e in server.events()), "the replay reaching the end")
        until(lambda: len(recorded(output)) >= expected, f"{expected} frames in the recording")
        assert recorder.stop() == 0, recorder.err.read_text()
        assert server.stop() == 0, server.err.read_text()
    finally:
        for process in (recorder, server):
            if process is not None:
                process.kill()
    assert "Traceback" not in server.err.read_text() + recorder.err.read_text()
    return output


def timeline(filter_mode: str, start: str | None = None, end: str | None = None) -> list:
    """The replayer's events of the source (the whole session, or ``start`` to ``end`` KST), filtered by
    :func:`filter_quotes` itself when ``filter_mode`` is ``"0.2"``."""
    with ArchiveReader(SOURCE) as reader:
        first, tz = reader.first_wall_ns, reader.header.timezone
        window = {k: session_time_to_ns(v, first, tz) for k, v in (("start_ns", start), ("end_ns", end)) if v}
        events = build_timeline(reader, ReplayOptions(filter="off", **window))
        return list(filter_quotes(events) if filter_mode == "0.2" else events)


def quote_counts(path: Path) -> Counter[tuple[str, str]]:
    """Frames per quote instrument, as ``kis-replay info`` counts them."""
    summary = summarize(path)
    return Counter({(tr, key): n for tr, s in summary.trs.items() for key, n in s.instruments.items()
                    if is_filtered_quote(tr, key)})


def test_the_source_is_an_unfiltered_synthetic_session_with_busy_quotes() -> None:
    assert ArchiveReader(SOURCE).header.filtered is False  # so that --filter auto applies
    events = timeline("off")
    per_window = Counter((e.tr_id, e.tr_key, e.wall_ns // WINDOW_NS) for e in events
                         if is_filtered_quote(e.tr_id, e.tr_key))
    assert max(per_window.values()) > 5  # without the filter, many quotes of one instrument per window


def test_filter_auto_thins_quotes_to_one_per_instrument_per_window_on_the_wire(tmp_path: Path) -> None:
    # 2.5 s of the open's busiest stretch at speed 1: the recording's receive times keep the schedule
    expected = timeline("0.2", "09:00:15", "09:00:17.5")
    quotes = Counter((e.tr_id, e.tr_key) for e in expected if is_filtered_quote(e.tr_id, e.tr_key))
    assert sum(quotes.values()) >= 10 and len(quotes) == 2
    output = replay_and_record(tmp_path, ["--filter", "auto", "--speed", "1", "--from", "09:00:15",
                                          "--to", "09:00:17.5"], len(expected))
    frames = recorded(output)
    assert [text for _, text in frames] == [e.text for e in expected]  # every trade, the filtered quotes
    assert quote_counts(output) == quotes  # what `kis-replay info` shows: filter_quotes' count per instrument
    # ... and its peak 1 s rate: at most one quote per instrument per 200 ms (6 grid points fit in a
    # sliding second), where the source peaks at hundreds
    peak = summarize(output).trs["H0ZFASP0"].peak_rate
    assert peak <= 6 * len(quotes) < summarize(SOURCE).trs["H0ZFASP0"].peak_rate
    # Filtered quotes go out at window ends, on one 200 ms grid: on the recorder's clock each lands within
    # scheduling jitter (well under 100 ms) of a grid point counted from the first quote received.
    routed = [(wall, peek_route(text)) for wall, text in frames]
    quote_times = [(wall, route) for wall, route in routed if route is not None and is_filtered_quote(*route)]
    anchor = quote_times[0][0]
    windows = Counter((route, round((wall - anchor) / WINDOW_NS)) for wall, route in quote_times)
    assert len(quote_times) == sum(quotes.values())
    assert max(windows.values()) == 1  # no instrument twice in one window


def test_filter_auto_at_max_speed_serves_exactly_filter_quotes_output(tmp_path: Path) -> None:
    expected = timeline("0.2")
    output = replay_and_record(tmp_path, ["--filter", "auto", "--speed", "max"], len(expected))
    assert [text for _, text in recorded(output)] == [e.text for e in expected]
    assert quote_counts(output) == Counter((e.tr_id, e.tr_key) for e in expected
                                           if is_filtered_quote(e.tr_id, e.tr_key))


def test_filter_off_serves_every_recorded_frame(tmp_path: Path) -> None:
    source = [r.text for r in ArchiveReader(SOURCE).records(kinds=[RecordKind.DATA])]
    output = replay_and_record(tmp_path, ["--filter", "off", "--speed", "max"], len(source))
    assert [text for _, text in recorded(output)] == source
    assert quote_counts(output) == quote_counts(SOURCE)
    assert summarize(output).data_frames == summarize(SOURCE).data_frames


@pytest.fixture(autouse=True)
def _no_approval_key_on_disk(tmp_path: Path):
    """The approval key the recorder was given is never written to the recording or the logs."""
    yield
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert APPROVAL.encode() not in path.read_bytes(), f"{path} holds the approval key"
