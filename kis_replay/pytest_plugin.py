"""The kis-replay pytest plugin: a fake KIS server per test, from a recorded session, for bots' CI.

What VCR.py and pytest-recording are for HTTP, for the KIS real-time WebSocket feed::

    @pytest.mark.kis_replay("fixtures/open.kisrec.zst", speed="max", scenario="open-burst")
    async def test_bot_survives_the_open(kis_replay_server):
        bot = MyBot(url=kis_replay_server.url)
        ...
        await kis_replay_server.wait_until_done()

- ``kis_replay_server``: the fake server, started on a free port of 127.0.0.1 in the test's event loop
  (``async def`` tests) or in a background thread (plain tests); see
  :class:`~kis_replay.testing.handle.ReplayServer`.
- ``@pytest.mark.kis_replay(archive, **options)``: what it replays (see
  :class:`~kis_replay.testing.marker.ReplayMarker`); archives resolve relative to the test file, then the
  bundled fixtures.
- ``--kis-record-mode=none|once|all``: replay only (default), record missing archives, re-record all
  (see :mod:`kis_replay.testing.record_mode`); ``--kis-live-url`` / ``--kis-rest-url`` say where "live" is.
- Marked tests, and tests using the fixture, cannot reach the real KIS hosts unless ``--kis-allow-live``
  or a recording mode is given (see :mod:`kis_replay.testing.live_guard`).

Registered through the ``pytest11`` entry point, so it loads in every pytest run of an environment where
kis-replay is installed: this module imports only pytest and the standard library at load time, and the
rest when a test asks for it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

try:  # async tests are run by pytest-asyncio; without it, only synchronous tests can use the fixture
    import pytest_asyncio
except ImportError:  # pragma: no cover - pytest-asyncio is a test dependency of kis-replay itself
    pytest_asyncio = None

__all__ = ["kis_replay_server"]

MARKER = "kis_replay"
FIXTURE = "kis_replay_server"
RECORD_MODES = ("none", "once", "all")

_HANDLE = pytest.StashKey[Any]()
_GUARD = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kis-replay", "kis-replay: the KIS real-time feed, recorded and replayed")
    group.addoption(
        "--kis-record-mode", choices=RECORD_MODES, default="none",
        help="none: replay archives only (default, for CI); once: record missing archives from the live "
             "service (needs KIS_APP_KEY/KIS_APP_SECRET); all: re-record every archive.",
    )
    group.addoption("--kis-live-url", metavar="URL", default=None,
                    help="The real-time service recordings come from (default: ws://ops.koreainvestment.com:21000).")
    group.addoption("--kis-rest-url", metavar="URL", default=None,
                    help="The REST service issuing approval keys for recordings "
                         "(default: https://openapi.koreainvestment.com:9443).")
    group.addoption("--kis-allow-live", action="store_true", default=False,
                    help="Let kis_replay tests connect to the real KIS hosts (blocked by default).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kis_replay(archive=None, *, speed='max', scenario=None, clock='per-client', start=None, end=None, "
        "only=(), filter='auto', loop=False, on_end='close', seed=None, timeout=30, subscribe=(), "
        "duration='30s', ...): the KIS session kis_replay_server replays for this test (kis-replay).",
    )


# -- live network ---------------------------------------------------------------------------------------------


def _guarded(item: pytest.Item) -> bool:
    if item.get_closest_marker(MARKER) is None and FIXTURE not in getattr(item, "fixturenames", ()):
        return False
    config = item.config
    return not config.getoption("kis_allow_live") and config.getoption("kis_record_mode") == "none"


def _check_guard(item: pytest.Item) -> None:
    """Fail the test (once) if it tried to reach the live service, whatever else happened to it."""
    guard = item.stash.get(_GUARD, None)
    if guard is not None and guard.attempts and not guard.reported:
        guard.reported = True
        raise pytest.fail.Exception(guard.message(), pytrace=False) from None  # not "during handling of ..."


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    if _guarded(item):
        from .testing.live_guard import LiveNetworkGuard

        item.stash[_GUARD] = LiveNetworkGuard().install()
    try:
        return (yield)
    finally:
        _check_guard(item)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        _check_guard(item)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        return (yield)
    finally:
        guard = item.stash.get(_GUARD, None)
        if guard is not None:
            guard.uninstall()
            _check_guard(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    handle = item.stash.get(_HANDLE, None)
    if handle is not None and report.failed and call.when == "call":
        try:
            report.sections.append(("kis-replay server", handle.describe()))
        except Exception as exc:  # the report must not be lost to a description
            report.sections.append(("kis-replay server", f"(no description: {exc!r})"))
    return report


# -- the fixture ----------------------------------------------------------------------------------------------


def _plan(request: pytest.FixtureRequest) -> Any:
    """The test's :class:`~kis_replay.testing.plan.ReplayPlan`; skips or fails the test as it decides."""
    from .testing.marker import MarkerError, ReplayMarker
    from .testing.plan import PluginSettings, ReplayPlan
    from .testing.record_mode import RecordMode

    node = request.node
    try:
        marker = ReplayMarker.from_marks((m.args, m.kwargs) for m in node.iter_markers(MARKER))
    except MarkerError as exc:
        _fail(exc)
    config = request.config
    settings = PluginSettings(
        record_mode=RecordMode(config.getoption("kis_record_mode")),
        live_url=config.getoption("kis_live_url"),
        rest_url=config.getoption("kis_rest_url"),
        allow_live=config.getoption("kis_allow_live"),
    )
    plan = ReplayPlan.make(marker, Path(node.path).parent, settings)
    if plan.decision.action == "skip":
        pytest.skip(plan.decision.reason)
    if plan.decision.action == "fail":
        pytest.fail(plan.decision.reason, pytrace=False)
    return plan


def _fail(problem: Exception) -> NoReturn:
    """Fail the test with the problem's one-line message: no traceback of the plugin, no chained one."""
    raise pytest.fail.Exception(str(problem), pytrace=False) from None


def _server(plan: Any) -> Any:
    from .testing.plan import PlanError

    try:
        return plan.build_server()
    except PlanError as exc:
        _fail(exc)


@pytest.fixture
def kis_replay_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fake KIS server replaying the test's ``@pytest.mark.kis_replay`` archive (default: the bundled
    sample, at max speed), started on a free port of 127.0.0.1 and stopped after the test.

    Gives ``.url``, ``.wait_until_done()`` (awaitable in ``async def`` tests), ``.frames_per_client``,
    ``.faults``, ``.subscriptions``, ``.refused``, ``.events`` and ``.server`` (the FakeKisServer).
    """
    if inspect.iscoroutinefunction(getattr(request.node, "function", None)):
        if pytest_asyncio is None:
            pytest.fail("kis_replay_server in an async test needs pytest-asyncio (pip install pytest-asyncio)",
                        pytrace=False)
        yield request.getfixturevalue("_kis_replay_async_server")
        return
    from .testing.handle import ReplayServer
    from .testing.plan import PlanError

    plan = _plan(request)
    if plan.decision.action == "record":
        try:
            asyncio.run(plan.record())
        except PlanError as exc:
            _fail(exc)
    handle = ReplayServer(_server(plan), plan.location.path, timeout=plan.marker.timeout)
    handle.start()
    request.node.stash[_HANDLE] = handle
    try:
        yield handle
    finally:
        handle.stop()


async def _async_server(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """``kis_replay_server`` for ``async def`` tests: the server runs in the test's event loop."""
    from .testing.handle import AsyncReplayServer
    from .testing.plan import PlanError

    plan = _plan(request)
    if plan.decision.action == "record":
        try:
            await plan.record()
        except PlanError as exc:
            _fail(exc)
    handle = AsyncReplayServer(_server(plan), plan.location.path, timeout=plan.marker.timeout)
    await handle.start()
    request.node.stash[_HANDLE] = handle
    try:
        yield handle
    finally:
        await handle.stop()


if pytest_asyncio is not None:
    _kis_replay_async_server = pytest_asyncio.fixture(_async_server, name="_kis_replay_async_server")
