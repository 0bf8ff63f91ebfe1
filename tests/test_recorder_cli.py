"""``kis-replay record`` end to end: a real subprocess recording from the real fake server on 127.0.0.1.

The source is a small archive written in ``tmp_path``; the fake server (``FakeKisServer``) replays it; the
recorder's archive is read back with ``ArchiveReader`` and compared with the source byte for byte. The
approval endpoint is ``http.server`` in a thread. Every run's archive, stdout and stderr are searched for
the app key, the secret and the approval keys.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kis_replay.archive import ArchiveHeader, ArchiveReader, ArchiveWriter, Direction, RecordKind
from kis_replay.fake_server import FakeKisServer
from kis_replay.replayer import ReplayOptions

APP_KEY = "PSe2eAppKey0123456789abcdefghijklmno"
APP_SECRET = "e2eSecret/0123456789+abcdefghijklmnopqrstuvwxyzABCDEFGH="
APPROVAL = "approval-e2e-0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
STALE = "approval-stale-99887766-5544-3322-1100-ffeeddccbbaa"
SECRETS = (APP_KEY, APP_SECRET, APPROVAL, STALE)
SAMPLE = (
    "0|H0ZFASP0|001|111V06^092304^79700^79800^79900^80000^80200^80300^80500^81100^84900^85900^79500^79400"
    "^79300^79200^79100^79000^78900^78800^78700^78600^1^18^6^2^2^1^3^1^1^1^8^6^4^8^4^8^7^11^11^3^950^4148"
    "^988^6^9^1^3^15^5^10^4404^2277^1321^3440^330^2237^1835^362^83^15^36^97^6135^16509^950^0"
)
SUBSCRIBED, OTHER = "111V06", "111V07"


def write_source(path: Path, n: int, spacing_ns: int = 1_000_000) -> list[str]:
    """A source archive of ``n`` H0ZFASP0 frames alternating between two instruments; returns the
    frames of the subscribed one, in order."""
    t0, m0 = time.time_ns(), time.monotonic_ns()
    mine = []
    with ArchiveWriter(path, ArchiveHeader(source="test", filtered=True), fsync=False) as writer:
        for i in range(n):
            key = SUBSCRIBED if i % 2 == 0 else OTHER
            text = SAMPLE.replace("111V06", key).replace("^092304^", f"^{(90000 + i) % 1_000_000:06d}^")
            writer.write(RecordKind.DATA, text, wall_ns=t0 + i * spacing_ns, mono_ns=m0 + i * spacing_ns)
            if key == SUBSCRIBED:
                mine.append(text)
    return mine


class Run:
    """A ``kis-replay record`` subprocess with its output in files (no pipe can fill and block it)."""

    def __init__(self, tmp: Path, args: list[str], env: dict[str, str]) -> None:
        self.out_path, self.err_path = tmp / f"stdout-{id(self)}", tmp / f"stderr-{id(self)}"
        base = {k: v for k, v in os.environ.items() if not k.startswith("KIS_")}
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "kis_replay", "record", *args],
                                         env={**base, **env}, stdout=out, stderr=err)

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    @property
    def stdout(self) -> str:
        return self.out_path.read_text()

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def runs(tmp_path):
    """Start recorder runs; all are killed at the end, and their outputs checked for secrets."""
    started: list[Run] = []

    def start(args, env):
        run = Run(tmp_path, [str(a) for a in args], env)
        started.append(run)
        return run

    yield start
    for run in started:
        run.kill()
    assert_no_secrets(tmp_path)


def assert_no_secrets(folder: Path) -> None:
    """No file under ``folder`` (archives, stdout, stderr, logs) holds a secret, except the source."""
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "source.kisrec.zst" and path.suffix != ".env":
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in data, f"{path} contains a secret"


def until(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.01)


def data_texts(path: Path, conn: int | None = None) -> list[str]:
    reader = ArchiveReader(path)
    return [r.text for r in reader.records(kinds=[RecordKind.DATA]) if conn is None or r.conn == conn]


class ApprovalEndpoint(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        good = body == {"grant_type": "client_credentials", "appkey": APP_KEY, "secretkey": APP_SECRET}
        reply = {"approval_key": APPROVAL} if good else {"error_code": "EGW00105",
                                                          "error_description": "invalid AppSecret"}
        data = json.dumps(reply).encode()
        self.send_response(200 if good else 403)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def rest_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApprovalEndpoint)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_records_the_fake_server_byte_for_byte_and_stops_cleanly_on_sigterm(tmp_path, runs):
    mine = write_source(tmp_path / "source.kisrec.zst", 2000)
    out = tmp_path / "out"
    out.mkdir()
    # idle after the replay: the server sends PINGPONG every 0.2 s, which the recorder must answer
    server = FakeKisServer(tmp_path / "source.kisrec.zst", ReplayOptions(speed=None), on_end="idle",
                           ping_interval=0.2)
    with server.run_in_thread() as handle:
        run = runs(["-s", f"H0ZFASP0:{SUBSCRIBED}", "-o", out, "--url", handle.url, "--flush-interval", "0.1s",
                    "--status-interval", "0.2s"], {"KIS_APPROVAL_KEY": APPROVAL})
        until(lambda: handle.stats.frames_sent == len(mine), what="the server sending every frame")
        [path] = until_files(out, 1)
        until(lambda: len(data_texts_quiet(path)) == len(mine), what="the recorder flushing every frame")
        until(lambda: pongs_quiet(path), what="a PINGPONG answered")
        assert run.stop(signal.SIGTERM) == 0
    assert [str(path)] == run.stdout.split()
    assert path.name.endswith("_kis.kisrec.zst") and path.name[:2] == "20"
    reader = ArchiveReader(path)
    records = list(reader)
    assert reader.warnings == []  # SIGTERM: flushed, index written, closed
    assert [r.text for r in records if r.kind == RecordKind.DATA] == mine
    assert reader.header.source == handle.url and reader.header.filtered is True
    assert reader.header.subscriptions == [{"tr_id": "H0ZFASP0", "tr_key": SUBSCRIBED}]
    acks = [r for r in records if r.kind == RecordKind.CONTROL and r.direction == Direction.SERVER_TO_CLIENT]
    assert json.loads(acks[0].payload)["body"]["msg_cd"] == "OPSP0000"
    assert json.loads(records[-1].payload)["by"] == "client"
    # PINGPONG answered as KIS's sample client does: a pong frame carrying the PINGPONG text
    pingpongs = [r.payload for r in records if r.kind == RecordKind.CONTROL and b"PINGPONG" in r.payload]
    pongs = [r.payload for r in records if r.kind == RecordKind.PONG and r.direction == Direction.CLIENT_TO_SERVER]
    assert pongs and pongs == pingpongs[: len(pongs)]
    # not a terminal: a status log line per --status-interval
    assert "state=streaming rate=" in run.stderr and "frames=1000" in run.stderr


def data_texts_quiet(path: Path) -> list[str]:
    """The DATA frames readable so far from a file still being written (its warnings are expected)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return data_texts(path)
        except Exception:
            return []


def pongs_quiet(path: Path) -> bool:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return any(r.kind == RecordKind.PONG for r in ArchiveReader(path).records(kinds=[RecordKind.PONG]))
        except Exception:
            return False


def until_files(folder: Path, n: int) -> list[Path]:
    until(lambda: len(list(folder.iterdir())) >= n, what=f"{n} files in {folder}")
    return sorted(folder.iterdir())


def test_approval_key_from_app_key_and_secret_renewed_when_refused(tmp_path, runs, rest_url):
    mine = write_source(tmp_path / "source.kisrec.zst", 400)
    env_file = tmp_path / "kis.env"
    env_file.write_text(f"KIS_APP_KEY={APP_KEY}\nKIS_APP_SECRET={APP_SECRET}\n")
    server = FakeKisServer(tmp_path / "source.kisrec.zst", ReplayOptions(speed=None), on_end="idle",
                           approval_key=APPROVAL)
    out = tmp_path / "renewed.kisrec.zst"
    with server.run_in_thread() as handle:
        # a stale key in the environment: the service refuses it (OPSP0011, echoing it), the recorder gets
        # a fresh one from the REST endpoint with the app key and secret of the env file
        run = runs(["-s", f"H0ZFASP0:{SUBSCRIBED}", "-o", out, "--url", handle.url, "--rest-url", rest_url,
                    "--env-file", env_file, "--flush-interval", "0.1s", "--min-reconnect-interval", "0.1s"],
                   {"KIS_APPROVAL_KEY": STALE})
        until(lambda: len(data_texts_quiet(out)) == len(mine), what="the recording after renewal")
        assert run.stop(signal.SIGINT) == 0
    assert data_texts(out) == mine
    records = list(ArchiveReader(out))
    refused = [r for r in records if r.kind == RecordKind.CONTROL and b"OPSP0011" in r.payload]
    assert refused and b"<redacted>" in refused[0].payload
    assert "obtained an approval key" in run.stderr


def test_wrong_secret_is_a_clear_error_and_writes_nothing(tmp_path, runs, rest_url):
    out = tmp_path / "never.kisrec.zst"
    run = runs(["-s", f"H0ZFASP0:{SUBSCRIBED}", "-o", out, "--url", "ws://127.0.0.1:1", "--rest-url", rest_url],
               {"KIS_APP_KEY": APP_KEY, "KIS_APP_SECRET": "wrong-" + APP_SECRET})
    assert run.wait() == 1
    assert f"Error: approval key request to {rest_url}/oauth2/Approval refused: HTTP 403" in run.stderr
    assert "EGW00105 invalid AppSecret" in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()


def test_refuses_42_registrations_before_connecting(tmp_path, runs):
    subs = tmp_path / "subs.txt"
    subs.write_text("\n".join(f"H0ZFASP0:111V{i:02d}" for i in range(42)) + "\n")
    run = runs(["--subscriptions", subs, "-o", tmp_path / "x.kisrec.zst", "--url", "ws://127.0.0.1:1"],
               {"KIS_APPROVAL_KEY": APPROVAL})
    assert run.wait() == 1
    assert "Error: 42 registrations, but the service accepts at most 41 per session" in run.stderr
    assert not (tmp_path / "x.kisrec.zst").exists()


def test_missing_credentials_and_unknown_tr(tmp_path, runs):
    run = runs(["-s", "H0STCNT0:005930", "-o", tmp_path / "x.kisrec.zst"], {})
    assert run.wait() == 1
    assert "warning: H0STCNT0 is not a TR this version knows" in run.stderr
    assert "Error: no credentials: set KIS_APPROVAL_KEY" in run.stderr


def test_reconnects_after_the_server_closes_with_gap_and_spacing(tmp_path, runs):
    mine = write_source(tmp_path / "source.kisrec.zst", 300)
    connects: list[float] = []
    server = FakeKisServer(
        tmp_path / "source.kisrec.zst", ReplayOptions(speed=None), on_end="close",
        on_event=lambda e: connects.append(time.monotonic()) if e.get("event") == "connected" else None,
    )
    out = tmp_path / "re.kisrec.zst"
    with server.run_in_thread() as handle:
        # the server closes every connection at the end of its replay: a drop, as the recorder sees it
        run = runs(["-s", f"H0ZFASP0:{SUBSCRIBED}", "-o", out, "--url", handle.url, "--flush-interval", "0.1s",
                    "--min-reconnect-interval", "0.4s", "--max-backoff", "1s"],
                   {"KIS_APPROVAL_KEY": APPROVAL})
        until(lambda: len(data_texts_quiet(out)) >= 2 * len(mine), what="two full connections recorded")
        assert run.stop() == 0
    assert len(connects) >= 2
    # spaced by the minimum interval (as seen by the server: handshake ends, off by a few ms each)
    assert all(b - a >= 0.35 for a, b in itertools.pairwise(connects))
    assert data_texts(out, conn=1) == mine
    assert data_texts(out, conn=2) == mine
    records = list(ArchiveReader(out))
    gaps = [json.loads(r.payload) for r in records if r.kind == RecordKind.GAP]
    assert gaps and "connection lost: code 1000 'end of archive'" in gaps[0]["reason"]
    requests = [r for r in records if r.kind == RecordKind.CONTROL and r.direction == Direction.CLIENT_TO_SERVER]
    assert {r.conn for r in requests} >= {1, 2}  # subscribed again on the new connection


def test_kill_9_loses_at_most_the_flush_interval(tmp_path, runs):
    mine = write_source(tmp_path / "source.kisrec.zst", 4000, spacing_ns=200_000)  # 5000 frames/s
    flush = 0.25
    out = tmp_path / "killed.kisrec.zst"
    server = FakeKisServer(tmp_path / "source.kisrec.zst", ReplayOptions(speed=1.0, loop=True), on_end="idle")
    with server.run_in_thread() as handle:
        run = runs(["-s", f"H0ZFASP0:{SUBSCRIBED}", "-o", out, "--url", handle.url,
                    "--flush-interval", f"{flush}s"], {"KIS_APPROVAL_KEY": APPROVAL})
        until(lambda: len(data_texts_quiet(out)) >= 3000, what="a busy recording")
        killed_ns = time.time_ns()
        run.proc.kill()
        run.proc.wait(10)
        sent = handle.stats.frames_sent
    reader = ArchiveReader(out)
    with pytest.warns(UserWarning):
        records = list(reader)  # a cut file reads with warnings, never an exception
    assert any(w.kind in ("cut", "index") for w in reader.warnings)
    data = [r for r in records if r.kind == RecordKind.DATA]
    texts = [r.text for r in data]
    # what was kept is exactly the start of what the server sent (the source, looped), byte for byte
    assert texts == (mine * (len(texts) // len(mine) + 1))[: len(texts)]
    assert len(texts) <= sent
    # what was lost: at most the flush interval (plus scheduling slack on a busy CI machine)
    lost_window = (killed_ns - data[-1].wall_ns) / 1e9
    print(f"kill -9: kept {len(texts)} of {sent} frames sent; last {lost_window:.3f} s before the kill lost")
    assert lost_window <= flush + 0.75, f"the last {lost_window:.2f} s before the kill were lost"
    # and in frames, against what the server says it sent (some of which were still in flight)
    rate = len(data) / ((data[-1].wall_ns - data[0].wall_ns) / 1e9)
    assert sent - len(texts) <= rate * (flush + 0.75), f"{sent - len(texts)} frames lost at {rate:.0f}/s"


def test_rotation_writes_complete_files_that_merge_back(tmp_path, runs):
    mine = write_source(tmp_path / "source.kisrec.zst", 6000, spacing_ns=250_000)  # 1.5 s at speed 1
    out = tmp_path / "rotated"
    out.mkdir()
    server = FakeKisServer(tmp_path / "source.kisrec.zst", ReplayOptions(speed=1.0), on_end="idle")
    with server.run_in_thread() as handle:
        run = runs(["-s", f"H0ZFASP0:{SUBSCRIBED}", "-o", out, "--url", handle.url, "--flush-interval", "0.05s",
                    "--rotate", "8kB"], {"KIS_APPROVAL_KEY": APPROVAL})
        until(lambda: handle.stats.frames_sent == len(mine), what="the server sending every frame")
        until(lambda: sum(len(data_texts_quiet(p)) for p in out.iterdir()) == len(mine), what="all frames on disk")
        assert run.stop() == 0
    paths = sorted(out.iterdir())
    assert len(paths) >= 3
    assert run.stdout.split() == [str(p) for p in paths]
    joined = []
    for part, path in enumerate(paths, 1):
        reader = ArchiveReader(path)
        records = list(reader)
        assert reader.warnings == []  # each file complete: header, records, index
        assert reader.header.labels["recording"]["part"] == part
        assert any(r.kind == RecordKind.CONTROL and b"OPSP0000" in r.payload for r in records[:3])
        joined += [r.text for r in records if r.kind == RecordKind.DATA]
    assert joined == mine
    merged = tmp_path / "merged.kisrec.zst"
    result = subprocess.run([sys.executable, "-m", "kis_replay", "merge", *map(str, paths), "-o", str(merged)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert data_texts(merged) == mine
    # parts of one recording: connection numbers as recorded, and the acks repeated at each later part's
    # start are dropped, so the merge holds the acks of the first part only
    merged_records = list(ArchiveReader(merged))
    first_part = list(ArchiveReader(paths[0]))
    assert {r.conn for r in merged_records} == {r.conn for p in paths for r in ArchiveReader(p)}

    def acks(records):
        return [r.payload for r in records if r.kind == RecordKind.CONTROL and b"OPSP0000" in r.payload]

    assert acks(merged_records) == acks(first_part) and len(acks(first_part)) == 1
