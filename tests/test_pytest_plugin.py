"""The pytest plugin end to end: real pytest runs (``pytester``, in process) of test files a bot author writes.

Inner tests talk to ``kis_replay_server`` with real ``websockets`` clients on 127.0.0.1; archives are real
files written in ``tmp_path``. The record modes record from a local fake "live" service (a ``FakeKisServer``
in a thread that only accepts the approval key issued by a tiny local HTTP approval endpoint); no test
contacts a KIS host.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kis_replay.archive import ArchiveHeader, ArchiveReader, ArchiveWriter, Direction, RecordKind
from kis_replay.fake_server import FakeKisServer
from kis_replay.replayer import ReplayOptions

pytest_plugins = ["pytester"]

APP_KEY = "PSpluginAppKey0123456789abcdefghijklm"
APP_SECRET = "pluginSecret/0123456789+abcdefghijklmnopqrstuvwxyzABCDEFG="
APPROVAL = "approval-plugin-0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
SECRETS = (APP_KEY, APP_SECRET, APPROVAL)
KEYS = ("111V06", "111V07")
N = 40
MS = 1_000_000
T0 = int(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))).timestamp()) * 1_000_000_000

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

# What the inner test files import: a bot author's minimal KIS client (subscribe, read until the server closes).
CLIENT = '''
import asyncio
import json
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as sync_connect


def request(tr_id, tr_key, approval="any-key"):
    return json.dumps({"header": {"approval_key": approval, "custtype": "P", "tr_type": "1",
                                  "content-type": "utf-8"},
                       "body": {"input": {"tr_id": tr_id, "tr_key": tr_key}}})


def drain_sync(url, keys=("111V06",), approval="any-key"):
    frames, other = [], []
    with sync_connect(url, open_timeout=10) as ws:
        for key in keys:
            ws.send(request("H0ZFASP0", key, approval))
        try:
            while True:
                message = ws.recv(timeout=10)
                (frames if message[:1] in ("0", "1") else other).append(message)
        except ConnectionClosed:
            pass
    return frames, other


async def drain(url, keys=("111V06",), approval="any-key"):
    frames, other = [], []
    async with connect(url, open_timeout=10) as ws:
        for key in keys:
            await ws.send(request("H0ZFASP0", key, approval))
        try:
            async with asyncio.timeout(10):
                async for message in ws:
                    (frames if message[:1] in ("0", "1") else other).append(message)
        except ConnectionClosed:
            pass
    return frames, other
'''


def quote(key: str, i: int) -> str:
    fields = [key, f"0900{i % 60:02d}", *(str(79_000 + i) for _ in range(20)), *(str(i % 50 + 1) for _ in range(46))]
    return "0|H0ZFASP0|001|" + "^".join(fields)


def write_archive(path: Path, n: int = N, base: int = 0) -> list[str]:
    """``n`` H0ZFASP0 quotes alternating between two instruments, 1 ms apart from 09:00:00 KST; the frames of
    KEYS[0]."""
    t0 = T0
    header = ArchiveHeader(source="test", subscriptions=[{"tr_id": "H0ZFASP0", "tr_key": k} for k in KEYS],
                           filtered=True)
    mine = []
    path.parent.mkdir(parents=True, exist_ok=True)
    with ArchiveWriter(path, header, fsync=False) as writer:
        for i in range(n):
            text = quote(KEYS[i % 2], base + i)
            writer.write(RecordKind.DATA, text, direction=Direction.SERVER_TO_CLIENT, wall_ns=t0 + i * MS,
                         mono_ns=i * MS)
            if i % 2 == 0:
                mine.append(text)
    return mine


def data_frames(path: Path) -> list[str]:
    with ArchiveReader(path) as reader:
        return [r.text for r in reader.records(kinds=[RecordKind.DATA])]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("source") / "session.kisrec.zst"
    return path, write_archive(path)


@pytest.fixture
def inner(pytester):
    """A bot author's project in ``pytester.path``: an ini like ours and the tiny client; returns the runner."""
    pytester.makeini(INI)
    pytester.makepyfile(kisclient=CLIENT)
    pytester.syspathinsert()

    def run(*args: str):
        return pytester.runpytest("-p", "no:cacheprovider", "-W", "ignore::ResourceWarning", *args)

    return run


def outcome(result, **counts: int) -> None:
    outcomes = result.parseoutcomes()
    got = {k: outcomes.get(k, 0) for k in ("passed", "failed", "errors", "skipped")} | {}
    want = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0} | counts
    assert got == want, result.stdout.str()


# -- the fixture in sync and async tests ----------------------------------------------------------------------


def test_sync_and_async_tests_get_a_started_server(pytester, inner, source):
    path, mine = source
    pytester.makepyfile(test_bot=f'''
        import asyncio, threading
        import pytest
        from kisclient import drain, drain_sync

        MINE = {mine!r}

        @pytest.mark.kis_replay({str(path)!r}, speed="max")
        def test_sync(kis_replay_server):
            assert kis_replay_server.url.startswith("ws://127.0.0.1:")
            assert any(t.name == "kis-replay-server" for t in threading.enumerate())
            frames, other = drain_sync(kis_replay_server.url)
            kis_replay_server.wait_until_done()
            assert frames == MINE
            assert kis_replay_server.frames_per_client == {{1: len(MINE)}}
            assert kis_replay_server.frames_sent == len(MINE)
            assert kis_replay_server.subscriptions == {{("H0ZFASP0", "111V06")}}
            assert kis_replay_server.faults == [] and kis_replay_server.refused == []
            assert kis_replay_server.clients[1].close_code == 1000

        @pytest.mark.kis_replay({str(path)!r}, speed="max")
        async def test_async(kis_replay_server):
            # the server runs in this test's own loop: no server thread
            assert not any(t.name == "kis-replay-server" for t in threading.enumerate())
            assert kis_replay_server.server._server is not None
            frames, other = await drain(kis_replay_server.url, keys=("111V06", "111V07"))
            await kis_replay_server.wait_until_done()
            assert len(frames) == {N}
            assert kis_replay_server.frames_per_client == {{1: {N}}}
            assert kis_replay_server.subscriptions == {{("H0ZFASP0", "111V06"), ("H0ZFASP0", "111V07")}}

        async def test_two_bots_one_server(kis_replay_server):
            # without a marker: the bundled sample, at max speed; every client gets its own replay
            url = kis_replay_server.url
            (a, _), (b, _) = await asyncio.gather(drain(url, keys=("111X12",), approval="bot-a"),
                                                 drain(url, keys=("111X12",), approval="bot-b"))
            await kis_replay_server.wait_until_done()
            assert a == b and len(a) > 100
            assert sorted(kis_replay_server.frames_per_client.values()) == [len(a), len(a)]
    ''')
    outcome(inner("-q"), passed=3)


def test_pytest_asyncio_strict_mode_works_too(pytester, inner, source):
    path, mine = source
    pytester.makepyfile(test_strict=f'''
        import pytest
        from kisclient import drain

        @pytest.mark.asyncio
        @pytest.mark.kis_replay({str(path)!r})
        async def test_strict(kis_replay_server):
            assert (await drain(kis_replay_server.url))[0] == {mine!r}
    ''')
    outcome(inner("-q", "-o", "asyncio_mode=strict"), passed=1)


def test_the_server_is_stopped_after_the_test(pytester, inner, source):
    path, _ = source
    pytester.makepyfile(test_stop=f'''
        import pytest, socket, threading
        URLS = []

        @pytest.mark.kis_replay({str(path)!r})
        def test_one(kis_replay_server):
            URLS.append(kis_replay_server.server.port)

        @pytest.mark.kis_replay({str(path)!r})
        async def test_two(kis_replay_server):
            URLS.append(kis_replay_server.server.port)

        def test_after():
            assert not any(t.name == "kis-replay-server" for t in threading.enumerate())
            for port in URLS:
                with pytest.raises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", port), timeout=5)
    ''')
    outcome(inner("-q"), passed=3)


def test_archives_resolve_relative_to_the_test_file(pytester, inner, tmp_path):
    sub = pytester.mkpydir("suite")
    mine = write_archive(sub / "fixtures" / "day.kisrec.zst", n=6)
    (sub / "test_relative.py").write_text(f'''
import pytest
from kisclient import drain_sync

@pytest.mark.kis_replay("fixtures/day.kisrec.zst")
def test_relative(kis_replay_server):
    assert drain_sync(kis_replay_server.url)[0] == {mine!r}

@pytest.mark.kis_replay("fixtures/night.kisrec.zst")
def test_bundled(kis_replay_server):
    from kis_replay import fixtures
    assert kis_replay_server.archive == fixtures.path("night")
''')
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    os.chdir(elsewhere)  # pytester restores the working directory
    outcome(inner("-q", str(sub)), passed=2)


def test_module_and_class_markers_combine(pytester, inner, source):
    path, mine = source
    pytester.makepyfile(test_marks=f'''
        import pytest
        from kisclient import drain_sync

        pytestmark = pytest.mark.kis_replay({str(path)!r}, speed="max")

        class TestBot:
            pytestmark = pytest.mark.kis_replay(only=["H0ZFASP0:111V07"])

            def test_only(self, kis_replay_server):
                frames, _ = drain_sync(kis_replay_server.url, keys=("111V06", "111V07"))
                assert len(frames) == {N // 2} and all("111V07" in f[:25] for f in frames)

            @pytest.mark.kis_replay(only=[], speed=50)
            def test_override(self, kis_replay_server):
                assert kis_replay_server.server.speed == 50
                assert len(drain_sync(kis_replay_server.url)[0]) == {len(mine)}
    ''')
    outcome(inner("-q"), passed=2)


def test_replay_options_reach_the_server(pytester, inner, source):
    path, mine = source
    pytester.makepyfile(test_options=f'''
        import pytest
        from websockets.sync.client import connect
        from kisclient import drain_sync, request

        @pytest.mark.kis_replay({str(path)!r}, start="09:00:00.010", end="09:00:00.020")
        def test_window(kis_replay_server):
            assert drain_sync(kis_replay_server.url)[0] == {mine[5:10]!r}

        @pytest.mark.kis_replay({str(path)!r}, approval_key="the-key", on_end="idle", ping_interval=0.05)
        def test_session_rules(kis_replay_server):
            frames, other = [], []
            with connect(kis_replay_server.url) as ws:
                ws.send(request("H0ZFASP0", "111V06", "wrong-key"))
                ws.send(request("H0ZFASP0", "111V06", "the-key"))
                kis_replay_server.wait_until_done()  # idle: the connection stays open after the replay
                while len(frames) < {len(mine)} or "PINGPONG" not in other[-1]:
                    message = ws.recv(timeout=10)
                    (frames if message[:1] == "0" else other).append(message)
            assert [e["msg_cd"] for e in kis_replay_server.refused] == ["OPSP0011"]

        @pytest.mark.kis_replay({str(path)!r}, start="09:00:00.020", end="09:00:00.010")
        def test_backwards(kis_replay_server):
            pass
    ''')
    result = inner("-q", "-rE")
    outcome(result, passed=2, errors=1)
    result.stdout.fnmatch_lines(["@pytest.mark.kis_replay: end= 09:00:00.010 * is not after start= 09:00:00.020 *"])


def test_scenarios_apply_and_their_faults_are_shown(pytester, inner, source):
    path, mine = source
    pytester.makepyfile(test_scenario=f'''
        import pytest
        from kisclient import drain

        @pytest.mark.kis_replay({str(path)!r}, scenario="scenarios/loss.toml")
        async def test_file_beside_the_test(kis_replay_server):
            frames, _ = await drain(kis_replay_server.url)
            assert frames == {mine[:3] + mine[4:]!r}
            assert [f["what"] for f in kis_replay_server.faults] == ["dropped a H0ZFASP0:111V06 frame"]
            assert kis_replay_server.scenario == "loss"

        @pytest.mark.kis_replay({str(path)!r}, scenario="flaky-network", seed=3)
        def test_builtin_with_a_seed(kis_replay_server):
            assert kis_replay_server.server.scenario.seed == 3

        @pytest.mark.kis_replay({str(path)!r}, scenario="open-burst", clock="shared")
        def test_shared_clock(kis_replay_server):
            pass
    ''')
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "loss.toml").write_text(
        'name = "loss"\n[[step]]\ntype = "drop"\nprobability = 1.0\nafter = "6ms"\nduration = "1ms"\n')
    result = inner("-q", "-rE")
    outcome(result, passed=2, errors=1)
    assert "a scenario needs the per-client clock" in result.stdout.str()


def test_a_wider_event_loop_is_refused_with_the_reason(pytester, inner):
    pytester.makepyfile(test_loop='''
        import pytest

        @pytest.mark.asyncio(loop_scope="module")
        async def test_module_loop(kis_replay_server):
            kis_replay_server.url
    ''')
    result = inner("-q")
    outcome(result, failed=1)
    assert "kis_replay_server runs on the function-scoped event loop, but this test runs on another one" in \
        result.stdout.str()


# -- failures say what is wrong -------------------------------------------------------------------------------


def test_bad_markers_and_missing_archives_fail_with_the_reason(pytester, inner, tmp_path):
    bad = tmp_path / "bad.kisrec.zst"
    bad.write_bytes(b"this is not an archive")
    pytester.makepyfile(test_bad=f'''
        import pytest

        @pytest.mark.kis_replay(speed="fast")
        def test_speed(kis_replay_server):
            pass

        @pytest.mark.kis_replay(spede="max")
        def test_typo(kis_replay_server):
            pass

        @pytest.mark.kis_replay("recordings/missing.kisrec.zst")
        def test_missing(kis_replay_server):
            pass

        @pytest.mark.kis_replay({str(bad)!r})
        def test_not_an_archive(kis_replay_server):
            pass

        @pytest.mark.kis_replay(scenario="no-such-scenario")
        async def test_scenario(kis_replay_server):
            pass
    ''')
    result = inner("-q", "-rE")
    outcome(result, errors=5)
    text = result.stdout.str()
    assert "@pytest.mark.kis_replay(speed='fast'): speed='fast': speed 'fast' is not a number or 'max'" in text
    assert "unknown argument 'spede'" in text
    assert "archive 'recordings/missing.kisrec.zst' (looked for" in text
    assert str(pytester.path / "recordings" / "missing.kisrec.zst") in text
    assert "record it with `pytest --kis-record-mode=once`" in text
    assert f"cannot replay {bad}" in text
    assert "no built-in scenario 'no-such-scenario'" in text
    assert "Traceback" not in text and "def _plan" not in text and "During handling" not in text


def test_a_failed_test_reports_what_the_server_did(pytester, inner, source):
    path, mine = source
    pytester.makepyfile(test_report=f'''
        import pytest
        from kisclient import drain_sync

        @pytest.mark.kis_replay({str(path)!r})
        def test_fails(kis_replay_server):
            drain_sync(kis_replay_server.url, keys=("111V06", "1"))
            assert False, "the bot got it wrong"
    ''')
    result = inner("-q")
    outcome(result, failed=1)
    result.stdout.fnmatch_lines([
        "*kis-replay server*",
        f"archive {path}, served at ws://127.0.0.1:*",
        f"client 1: {len(mine)} frames, 2 requests, closed 1000 'end of archive'",
        "subscriptions acked: H0ZFASP0:111V06",
        "refused OPSP8992 H0ZFASP0:1: *",
    ])


def test_waiting_for_a_replay_nobody_started_times_out_with_the_reason(pytester, inner, source):
    path, _ = source
    pytester.makepyfile(test_wait=f'''
        import pytest

        @pytest.mark.kis_replay({str(path)!r}, timeout=0.2)
        def test_sync(kis_replay_server):
            kis_replay_server.wait_until_done()

        @pytest.mark.kis_replay({str(path)!r})
        async def test_async(kis_replay_server):
            await kis_replay_server.wait_until_done(timeout=0.2)
    ''')
    result = inner("-q")
    outcome(result, failed=2)
    result.stdout.fnmatch_lines([
        f"*TimeoutError: the replay of {path} did not finish within 0.2 s (frames sent per client: no client "
        "connected); did the bot subscribe to anything in the archive?*",
    ])


# -- no live network in tests ---------------------------------------------------------------------------------


BLOCKED = '''
import asyncio, socket, urllib.request
import pytest
from websockets.asyncio.client import connect

ORIGINAL = socket.getaddrinfo

@pytest.mark.kis_replay
def test_swallowed():
    try:
        socket.getaddrinfo("ops.koreainvestment.com", 21000)
    except Exception:
        pass  # a bot that retries quietly still fails the test

async def test_websockets(kis_replay_server):
    async with connect("ws://ops.koreainvestment.com:21000", open_timeout=5):
        pass

@pytest.mark.kis_replay
def test_rest():
    urllib.request.urlopen("https://openapi.koreainvestment.com:9443/oauth2/Approval", timeout=5)

def test_unmarked_tests_are_left_alone():
    assert socket.getaddrinfo is ORIGINAL

@pytest.mark.kis_replay
def test_loopback_is_fine(kis_replay_server):
    socket.create_connection(("127.0.0.1", kis_replay_server.server.port), timeout=5).close()
'''


def test_kis_hosts_are_blocked_in_marked_tests(pytester, inner):
    pytester.makepyfile(test_blocked=BLOCKED)
    result = inner("-q")
    outcome(result, failed=3, passed=2)
    text = result.stdout.str()
    assert "kis-replay blocked 1 attempt(s) to reach the live KIS service: getaddrinfo('ops.koreainvestment.com', " \
           "21000); point the bot at kis_replay_server.url instead" in text
    assert "create_connection('openapi.koreainvestment.com', 9443)" in text  # urllib
    assert "During handling" not in text


def test_allow_live_lifts_the_block(pytester, inner):
    pytester.makepyfile(test_allowed='''
        import socket
        import pytest
        ORIGINAL = socket.getaddrinfo

        @pytest.mark.kis_replay
        def test_not_patched(kis_replay_server):
            assert socket.getaddrinfo is ORIGINAL and "connect" not in vars(socket.socket)
    ''')
    outcome(inner("-q", "--kis-allow-live"), passed=1)
    outcome(inner("-q", "--kis-record-mode=once"), passed=1)
    outcome(inner("-q"), failed=1)


# -- record modes ---------------------------------------------------------------------------------------------


class ApprovalEndpoint(BaseHTTPRequestHandler):
    """KIS's ``POST /oauth2/Approval``: the approval key for the right app key and secret, else 403."""

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
def live(tmp_path, monkeypatch):
    """A local stand-in for KIS: the approval endpoint and a fake server that takes only the issued key."""
    source = tmp_path / "live-source.kisrec.zst"
    frames = write_archive(source, base=500)
    rest = ThreadingHTTPServer(("127.0.0.1", 0), ApprovalEndpoint)
    thread = threading.Thread(target=rest.serve_forever, daemon=True)
    thread.start()
    server = FakeKisServer(source, ReplayOptions(speed=None), approval_key=APPROVAL, on_end="idle")
    with server.run_in_thread() as running:
        monkeypatch.setenv("KIS_APP_KEY", APP_KEY)
        monkeypatch.setenv("KIS_APP_SECRET", APP_SECRET)
        monkeypatch.delenv("KIS_APPROVAL_KEY", raising=False)
        yield {"frames": frames, "server": running,
               "args": ("--kis-live-url", running.url, "--kis-rest-url", f"http://127.0.0.1:{rest.server_port}")}
    rest.shutdown()
    rest.server_close()
    thread.join(10)


RECORDED = '''
import pytest
from kisclient import drain, drain_sync

@pytest.mark.kis_replay("recordings/day.kisrec.zst", subscribe=["H0ZFASP0:111V06"], duration="0.5s")
def test_bot(kis_replay_server):
    frames, _ = drain_sync(kis_replay_server.url)
    assert frames == {frames!r}
'''


def assert_no_secrets(*places) -> None:
    for place in places:
        data = place.read_bytes() if isinstance(place, Path) else str(place).encode()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{place if isinstance(place, Path) else 'output'} holds a secret"


def test_once_records_a_missing_archive_then_replays_it(pytester, inner, live):
    pytester.makepyfile(test_recorded=RECORDED.format(frames=live["frames"]))
    archive = pytester.path / "recordings" / "day.kisrec.zst"
    first = inner("-q", "--kis-record-mode=once", *live["args"])
    outcome(first, passed=1)
    assert data_frames(archive) == live["frames"]  # recorded from "live", through the approval endpoint
    with ArchiveReader(archive) as reader:
        assert reader.header.subscriptions == [{"tr_id": "H0ZFASP0", "tr_key": "111V06"}]
    assert [c.subscriptions for c in live["server"].stats.clients.values()] == [[]]  # one session, closed
    assert_no_secrets(archive, first.stdout.str())
    assert not [p for p in archive.parent.iterdir() if p.name != "day.kisrec.zst"]  # no partial file left

    live["server"].stop()  # from now on there is no "live" service: the archive is replayed
    stamp = archive.stat().st_mtime_ns
    outcome(inner("-q", "--kis-record-mode=once", *live["args"]), passed=1)
    outcome(inner("-q"), passed=1)
    assert archive.stat().st_mtime_ns == stamp


def test_all_records_again(pytester, inner, live):
    pytester.makepyfile(test_recorded=RECORDED.format(frames=live["frames"]))
    archive = pytester.path / "recordings" / "day.kisrec.zst"
    old = write_archive(archive, n=4)
    outcome(inner("-q"), failed=1)  # replays the old recording: not what the test expects
    assert data_frames(archive) == [quote(KEYS[i % 2], i) for i in range(4)] and old
    outcome(inner("-q", "--kis-record-mode=all", *live["args"]), passed=1)
    assert data_frames(archive) == live["frames"]


def test_once_without_credentials_skips_with_the_reason(pytester, inner, monkeypatch):
    for name in ("KIS_APP_KEY", "KIS_APP_SECRET", "KIS_APPROVAL_KEY"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_recorded=RECORDED.format(frames=[]))
    result = inner("-q", "-rs", "--kis-record-mode=once")
    outcome(result, skipped=1)
    result.stdout.fnmatch_lines(["*archive 'recordings/day.kisrec.zst' (looked for * not found and it cannot be "
                                 "recorded: no credentials: set KIS_APPROVAL_KEY, or KIS_APP_KEY and KIS_APP_SECRET*"])
    result = inner("-q", "--kis-record-mode=all")
    outcome(result, errors=1)
    assert "--kis-record-mode=all cannot re-record" in result.stdout.str()


def test_a_refused_recording_fails_without_leaking_secrets_or_leaving_a_file(pytester, inner, live, monkeypatch):
    monkeypatch.setenv("KIS_APP_SECRET", APP_SECRET[::-1])  # the approval endpoint refuses it
    pytester.makepyfile(test_recorded=RECORDED.format(frames=live["frames"]))
    result = inner("-q", "--kis-record-mode=once", *live["args"])
    outcome(result, errors=1)
    text = result.stdout.str()
    assert "cannot record" in text and "refused: HTTP 403: EGW00105 invalid AppSecret" in text
    assert_no_secrets(text)
    assert APP_SECRET[::-1] not in text
    assert not (pytester.path / "recordings").exists() or not list((pytester.path / "recordings").iterdir())


def test_a_recording_that_gets_nothing_is_not_kept(pytester, inner, live):
    pytester.makepyfile(test_recorded=RECORDED.format(frames=[]).replace("111V06", "111V08"))
    result = inner("-q", "--kis-record-mode=once", *live["args"])
    outcome(result, errors=1)
    assert "received no data frames" in result.stdout.str()
    assert not list((pytester.path / "recordings").iterdir())


# -- hypothesis strategies for bot authors --------------------------------------------------------------------


def test_the_codec_strategies_are_importable_from_a_users_tests(pytester, inner):
    pytester.makepyfile(test_props='''
        from hypothesis import given, settings
        from kis_replay.codec.strategies import frames, quotes, trades

        @settings(max_examples=20, deadline=None)
        @given(quotes("H0ZFASP0"), trades("H0IOCNT0"), frames("H0IOCNT0"))
        def test_my_parser(quote, trade, frame):
            assert quote["ASKP1"] > quote["BIDP1"]
            assert trade.tr_key and frame.text.startswith("0|H0IOCNT0|")
    ''')
    outcome(inner("-q"), passed=1)
