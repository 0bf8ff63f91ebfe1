"""What a test holds: its fake KIS server, started, and what the server saw and did.

:class:`ReplayServer` runs the server on its own event loop in a thread (synchronous tests);
:class:`AsyncReplayServer` runs it in the test's own event loop (``async def`` tests), so a bot driven by
the test and the server share one loop and one clock. Both show the same things: :attr:`url` to give the
bot, the frames sent to each client, the faults the scenario applied, the subscriptions acked, and every
server event; only :meth:`wait_until_done` differs (a plain call, or a coroutine).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

__all__ = ["AsyncReplayServer", "ReplayServer"]


class _Observed:
    """The read side shared by both handles: a view of a :class:`~kis_replay.fake_server.FakeKisServer`."""

    def __init__(self, server: Any, archive: Path, timeout: float) -> None:
        self.server = server  #: the :class:`~kis_replay.fake_server.FakeKisServer` (its full API)
        self.archive = archive  #: the archive being replayed
        self.timeout = timeout  #: what :meth:`wait_until_done` waits by default, in seconds
        run = getattr(server, "scenario", None)
        self.scenario: str | None = run.scenario.name if run is not None else None  #: the scenario's name
        self.events: list[dict[str, Any]] = []  #: every server event (connected, subscribe, refused, kick, ...)
        server.add_listener(self.events.append)

    @property
    def url(self) -> str:
        """What the bot connects to instead of ``ws://ops.koreainvestment.com:21000``."""
        return str(self.server.url)

    @property
    def stats(self) -> Any:
        """The server's :class:`~kis_replay.fake_server.ServerStats` (every connection, open or closed)."""
        return self.server.stats

    @property
    def clients(self) -> dict[int, Any]:
        """Every connection so far, by number (1 is the first), as :class:`~kis_replay.fake_server.ClientStats`."""
        return dict(self.server.stats.clients)

    @property
    def frames_sent(self) -> int:
        """Data frames written to all clients."""
        return int(self.server.stats.frames_sent)

    @property
    def frames_per_client(self) -> dict[int, int]:
        """Data frames written to each connection, by connection number."""
        return {cid: c.frames_sent for cid, c in self.server.stats.clients.items()}

    @property
    def subscriptions(self) -> set[tuple[str, str]]:
        """Every ``(tr_id, tr_key)`` the server acked to any client."""
        return set(self.server.stats.subscriptions_seen)

    @property
    def refused(self) -> list[dict[str, Any]]:
        """The requests the server answered with an error (``msg_cd``, ``tr_id``, ``tr_key``, ``problem``)."""
        return [e for e in self.events if e["event"] == "refused"]

    @property
    def faults(self) -> list[dict[str, Any]]:
        """The faults the scenario applied, in order (``what``, ``client``, ``step``, ``session_time``, ...)."""
        return list(getattr(self.server, "faults", ()))

    def describe(self) -> str:
        """A few lines on what the server did, for a failed test's report."""
        lines = [f"archive {self.archive}" + (f", scenario {self.scenario}" if self.scenario else "")
                 + f", served at {self.url}"]
        clients = self.server.stats.clients
        if not clients:
            lines.append("no client connected")
        for cid, c in clients.items():
            state = "open" if c.open else f"closed {c.close_code} {c.close_reason!r}".rstrip()
            lines.append(f"client {cid}: {c.frames_sent} frames, {c.requests} requests, {state}")
        subs = sorted(self.subscriptions)
        lines.append("subscriptions acked: " + (", ".join(f"{t}:{k}" for t, k in subs) or "none"))
        lines.extend(f"refused {e['msg_cd']} {e.get('tr_id')}:{e.get('tr_key')}: {e.get('problem')}"
                     for e in self.refused)
        lines.extend(f"fault: client {f.get('client')} {f.get('session_time', '')} {f.get('what')}".replace("  ", " ")
                     for f in self.faults)
        lines.extend(f"{e['event']}: {e.get('problem') or e.get('reason') or e.get('message')}"
                     for e in self.events if e["event"] in ("kick", "error", "no_data"))
        return "\n".join(lines)

    def _timed_out(self, timeout: float) -> TimeoutError:
        return TimeoutError(
            f"the replay of {self.archive} did not finish within {timeout:g} s "
            f"(frames sent per client: {self.frames_per_client or 'no client connected'}); "
            "did the bot subscribe to anything in the archive? see kis_replay_server.describe()"
        )


class ReplayServer(_Observed):
    """A started fake KIS server on a background thread's event loop, for synchronous tests."""

    def __init__(self, server: Any, archive: Path, *, timeout: float) -> None:
        super().__init__(server, archive, timeout)
        self._thread: Any = None

    def start(self) -> ReplayServer:
        self._thread = self.server.run_in_thread()
        return self

    def wait_until_done(self, timeout: float | None = None) -> None:
        """Block until the replay is over (every started replay ended, see
        :meth:`~kis_replay.fake_server.FakeKisServer.wait_until_done`); ``TimeoutError`` saying what the
        server sent after ``timeout`` seconds (default: the marker's ``timeout``)."""
        timeout = self.timeout if timeout is None else timeout
        try:
            self._thread.wait_until_done(timeout)
        except TimeoutError:
            raise self._timed_out(timeout) from None

    def stop(self) -> None:
        """Close every client (1000) and stop the server. Idempotent."""
        if self._thread is not None:
            self._thread.stop()


class AsyncReplayServer(_Observed):
    """A started fake KIS server on the test's own event loop, for ``async def`` tests."""

    def __init__(self, server: Any, archive: Path, *, timeout: float) -> None:
        super().__init__(server, archive, timeout)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> AsyncReplayServer:
        self._loop = asyncio.get_running_loop()
        await self.server.start()
        return self

    @property
    def url(self) -> str:
        self._check_loop()
        return str(self.server.url)

    def _check_loop(self) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._loop is not None and running is not self._loop:
            raise RuntimeError(
                "kis_replay_server runs on the function-scoped event loop, but this test runs on another one "
                "(a wider loop_scope?): the server would never answer. Use the default function loop scope "
                "for tests that use kis_replay_server."
            )

    async def wait_until_done(self, timeout: float | None = None) -> None:
        """Return when the replay is over (see :meth:`ReplayServer.wait_until_done`)."""
        self._check_loop()
        timeout = self.timeout if timeout is None else timeout
        try:
            await self.server.wait_until_done(timeout)
        except TimeoutError:
            raise self._timed_out(timeout) from None

    async def stop(self) -> None:
        """Close every client (1000) and stop the server. Idempotent."""
        await self.server.stop()
