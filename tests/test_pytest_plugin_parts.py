"""The pytest plugin's pure parts: the marker, archive location, the record-mode rule, the live-network guard.

The plugin end to end (real pytest runs through ``pytester``) is ``test_pytest_plugin.py``.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from kis_replay import fixtures
from kis_replay.testing.live_guard import LiveNetworkBlocked, LiveNetworkGuard, is_kis_host
from kis_replay.testing.location import locate_archive, locate_scenario
from kis_replay.testing.marker import DEFAULT_TIMEOUT, MarkerError, ReplayMarker
from kis_replay.testing.record_mode import RECORD_HINT, Decision, RecordMode, decide


def marker(*args, **kwargs) -> ReplayMarker:
    return ReplayMarker.from_marks([(args, kwargs)])


# -- the marker -----------------------------------------------------------------------------------------------


def test_defaults_are_the_bundled_sample_at_max_speed():
    m = ReplayMarker.from_marks([])
    assert (m.archive, m.speed, m.scenario, m.clock, m.on_end, m.filter) == (None, None, None, "per-client", "close",
                                                                            "auto")
    assert m.timeout == DEFAULT_TIMEOUT and not m.recording_wanted


@pytest.mark.parametrize(("given", "speed"), [("max", None), ("10", 10.0), ("10x", 10.0), (2, 2.0), (0.5, 0.5),
                                              (None, None)])
def test_speed_words_are_the_cli_words(given, speed):
    assert marker(speed=given).speed == speed


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"speed": "fast"}, "@pytest.mark.kis_replay(speed='fast'): speed='fast': speed 'fast' is not a number or 'max'"),
    ({"speed": 0}, "speed=0: speed '0' must be a positive number"),
    ({"speed": True}, "speed=True: expected a number or 'max'"),
    ({"clock": "wall"}, "clock='wall': expected one of 'per-client', 'shared'"),
    ({"only": ["H0ZFASP0:1"]}, "only=['H0ZFASP0:1']: only 'H0ZFASP0:1': H0ZFASP0 codes are"),
    ({"start": "9am"}, "start='9am': time of day '9am' is not HH:MM[:SS[.fff]]"),
    ({"subscribe": ["H0ZFASP0"]}, "subscribe=['H0ZFASP0']: 'H0ZFASP0' is not TR_ID:TR_KEY"),
    ({"duration": "soon"}, "duration='soon':"),
    ({"timeout": -1}, "timeout=-1: must be more than 0"),
    ({"loop": "yes"}, "loop='yes': expected True or False"),
    ({"scenario": 3}, "scenario=3: expected a built-in scenario name"),
    ({"spede": "max"}, "unknown argument 'spede'; the arguments are allow_shared_key, approval_key, archive"),
])
def test_a_bad_argument_is_named_with_the_marker(kwargs, message):
    with pytest.raises(MarkerError) as err:
        marker(**kwargs)
    assert message in str(err.value)


def test_a_seed_needs_a_scenario():
    with pytest.raises(MarkerError, match=r"seed=3\): seed= seeds a scenario's random steps; give scenario= too"):
        marker(seed=3)
    assert marker(seed=3, scenario="flaky-network").seed == 3


def test_archive_once_only():
    with pytest.raises(MarkerError, match="takes one positional argument"):
        marker("a", "b")
    with pytest.raises(MarkerError, match="given twice"):
        marker("a", archive="b")
    with pytest.raises(MarkerError, match="the archive path is empty"):
        marker("")


def test_closer_marks_override_argument_by_argument():
    function = (("mine.kisrec.zst",), {"speed": 10})
    klass = ((), {"scenario": "open-burst", "speed": "max"})
    module = (("module.kisrec.zst",), {"clock": "shared"})
    m = ReplayMarker.from_marks([function, klass, module])  # closest first, as iter_markers gives them
    assert (m.archive, m.speed, m.scenario, m.clock) == ("mine.kisrec.zst", 10.0, "open-burst", "shared")


def test_values_are_parsed():
    m = marker("x.kisrec.zst", only=["H0ZFASP0:111V06", "H0IOCNT0"], subscribe="H0ZFASP0:111V06", duration="2m",
               ping_interval=0, start="09:00:10", seed=7, scenario="flaky-network")
    assert m.only == (("H0ZFASP0", "111V06"), ("H0IOCNT0", None))
    assert m.subscribe == ("H0ZFASP0:111V06",) and m.recording_wanted and m.duration == 120.0
    assert m.ping_interval is None and m.start == "09:00:10" and m.seed == 7


# -- where archives are ---------------------------------------------------------------------------------------


def test_no_archive_is_the_bundled_sample(tmp_path):
    loc = locate_archive(None, tmp_path)
    assert loc.bundled and loc.exists and loc.path == fixtures.path()


@pytest.mark.parametrize("name", ["open", "open.kisrec.zst", "fixtures/open.kisrec.zst"])
def test_bundled_fixtures_by_name(tmp_path, name):
    loc = locate_archive(name, tmp_path)
    assert loc.bundled and loc.path == fixtures.path("open")


def test_the_test_files_folder_wins_over_the_bundled_fixture(tmp_path):
    (tmp_path / "fixtures").mkdir()
    mine = tmp_path / "fixtures" / "open.kisrec.zst"
    mine.write_bytes(b"")
    loc = locate_archive("fixtures/open.kisrec.zst", tmp_path)
    assert loc.path == mine and loc.exists and not loc.bundled


def test_a_missing_archive_is_where_a_recording_goes(tmp_path):
    loc = locate_archive("recordings/day.kisrec.zst", tmp_path)
    assert not loc.exists and not loc.bundled and loc.path == tmp_path / "recordings" / "day.kisrec.zst"
    assert str(loc.path) in loc.describe_search() and "sample" in loc.describe_search()
    elsewhere = locate_archive("elsewhere/open.kisrec.zst", tmp_path)  # a folder of its own: not the bundled one
    assert not elsewhere.exists and not elsewhere.bundled


def test_absolute_paths_are_kept(tmp_path):
    path = tmp_path / "a.kisrec.zst"
    assert locate_archive(str(path), Path("/nonexistent")).path == path


def test_scenarios_resolve_beside_the_test_then_built_in(tmp_path):
    (tmp_path / "drop.toml").write_text('[[step]]\ntype = "drop"\nprobability = 0.5\n')
    assert locate_scenario("drop.toml", tmp_path).steps[0].type == "drop"
    assert locate_scenario("open-burst", tmp_path).name == "open-burst"
    assert locate_scenario(None, tmp_path) is None


# -- record modes ---------------------------------------------------------------------------------------------

NO_CREDENTIALS = "no credentials: set KIS_APPROVAL_KEY, or KIS_APP_KEY and KIS_APP_SECRET"


@pytest.mark.parametrize(("mode", "exists", "subscribes", "credentials", "action"), [
    (RecordMode.NONE, True, False, None, "replay"),
    (RecordMode.NONE, True, True, NO_CREDENTIALS, "replay"),
    (RecordMode.NONE, False, True, None, "fail"),
    (RecordMode.ONCE, True, True, None, "replay"),
    (RecordMode.ONCE, False, True, None, "record"),
    (RecordMode.ONCE, False, True, NO_CREDENTIALS, "skip"),
    (RecordMode.ONCE, False, False, None, "fail"),
    (RecordMode.ALL, True, True, None, "record"),
    (RecordMode.ALL, False, True, None, "record"),
    (RecordMode.ALL, True, True, NO_CREDENTIALS, "fail"),
    (RecordMode.ALL, True, False, None, "fail"),
])
def test_record_mode_rule(mode, exists, subscribes, credentials, action):
    decision = decide(mode, archive="'day.kisrec.zst'", exists=exists, bundled=False, subscribes=subscribes,
                      credentials=credentials)
    assert decision.action == action
    if action in ("fail", "skip"):
        assert "'day.kisrec.zst'" in decision.reason


def test_bundled_fixtures_are_never_recorded():
    for mode in RecordMode:
        assert decide(mode, archive="x", exists=True, bundled=True, subscribes=True, credentials=None) == \
            Decision("replay")


def test_messages_say_what_to_do():
    missing = decide(RecordMode.NONE, archive="'d'", exists=False, bundled=False, subscribes=False, credentials=None)
    assert missing.reason == f"archive 'd' not found; {RECORD_HINT}" and "--kis-record-mode=once" in missing.reason
    skip = decide(RecordMode.ONCE, archive="'d'", exists=False, bundled=False, subscribes=True,
                  credentials=NO_CREDENTIALS)
    assert skip.reason == f"archive 'd' not found and it cannot be recorded: {NO_CREDENTIALS}"
    what = decide(RecordMode.ONCE, archive="'d'", exists=False, bundled=False, subscribes=False, credentials=None)
    assert "add subscribe=['TR_ID:TR_KEY', ...]" in what.reason


# -- the live-network guard -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "kis"), [
    ("ops.koreainvestment.com", True), ("openapi.koreainvestment.com", True), ("OPENAPIVTS.koreainvestment.com.", True),
    ("koreainvestment.com", True), (b"ops.koreainvestment.com", True), ("127.0.0.1", False), ("localhost", False),
    ("notkoreainvestment.com", False), ("koreainvestment.com.evil.example", False), (None, False), (21000, False),
])
def test_kis_hosts(host, kis):
    assert is_kis_host(host) is kis


def test_the_guard_refuses_kis_hosts_everywhere_and_remembers():
    before = (socket.getaddrinfo, socket.create_connection, socket.socket.connect, socket.socket.connect_ex)
    with LiveNetworkGuard() as guard:
        with pytest.raises(LiveNetworkBlocked, match=r"ops\.koreainvestment\.com.*blocked in tests"):
            socket.getaddrinfo("ops.koreainvestment.com", 21000)
        with pytest.raises(LiveNetworkBlocked):
            socket.create_connection(("openapi.koreainvestment.com", 9443), timeout=1)
        with socket.socket() as sock, pytest.raises(LiveNetworkBlocked):
            sock.connect(("openapivts.koreainvestment.com", 29443))
        with socket.socket() as sock, pytest.raises(LiveNetworkBlocked):
            sock.connect_ex(("ops.koreainvestment.com", 21000))
        errors = []
        thread = threading.Thread(target=lambda: errors.append(_attempt("ops.koreainvestment.com")))
        thread.start()
        thread.join(10)
        assert isinstance(errors[0], LiveNetworkBlocked)  # every thread, not only the test's
        assert socket.getaddrinfo("127.0.0.1", 80)  # everything else goes through
    assert [a.call for a in guard.attempts] == ["getaddrinfo", "create_connection", "socket.connect",
                                                "socket.connect_ex", "getaddrinfo"]
    assert "blocked 5 attempt(s)" in guard.message() and "--kis-allow-live" in guard.message()
    assert (socket.getaddrinfo, socket.create_connection, socket.socket.connect, socket.socket.connect_ex) == before
    assert "connect" not in vars(socket.socket)


def _attempt(host: str) -> BaseException | None:
    try:
        socket.getaddrinfo(host, 21000)
    except BaseException as exc:
        return exc
    return None


def test_guards_nest():
    original = socket.getaddrinfo
    with LiveNetworkGuard() as outer:
        with LiveNetworkGuard() as inner:
            assert isinstance(_attempt("ops.koreainvestment.com"), LiveNetworkBlocked)
        assert isinstance(_attempt("ops.koreainvestment.com"), LiveNetworkBlocked)
    assert socket.getaddrinfo is original
    assert len(inner.attempts) == 1 and len(outer.attempts) == 1
