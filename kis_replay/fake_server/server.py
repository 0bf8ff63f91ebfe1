"""The fake KIS server: a thin asyncio layer on ``websockets`` around the pure :class:`KisSession`.

Per connection: the handler feeds each message to the client's session and queues the reply; a writer
task drains the client's bounded :class:`Outbox` to the socket (and sends PINGPONG when idle); a replay
task walks the timeline and queues the frames the client has subscribed. One client that stops reading
fills only its own outbox and is disconnected (1008, logged with the reason); the others never wait
for it.

Clocks: ``per-client`` (default) gives each client its own replay, started by its first acked
subscription, so a CI run sees the same frames whenever its bot connects; ``shared`` runs one market
clock from server start (at max speed, from the first subscription), and a late joiner misses what has
already passed.

Everything is reachable from Python: ``async with FakeKisServer(path) as server`` (or :meth:`start` /
:meth:`stop`), :attr:`FakeKisServer.url`, :attr:`FakeKisServer.stats`,
:meth:`FakeKisServer.wait_until_done`, and :meth:`FakeKisServer.run_in_thread` for synchronous tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from typing import Any, Literal

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ..codec import MAX_REGISTRATIONS, is_data_frame
from ..replayer import ReplayClock, ReplayOptions, TimelineEvent
from ..scenarios import (
    Abort,
    Close,
    ConnectionAction,
    RejectSubscriptions,
    Scenario,
    ScenarioRun,
    SendRaw,
    SetPingPong,
)
from ..scenarios.rejections import Rejections
from .approval import ApprovalKeys
from .feed import Feed
from .outbox import Outbox, OutboxClosedError, StalledError
from .session import KisSession

__all__ = ["ClientStats", "FakeKisServer", "ServerStats", "ServerThread", "Status"]

log = logging.getLogger(__name__)

ClockMode = Literal["per-client", "shared"]
OnEnd = Literal["close", "idle"]
CLOCK_MODES = ("per-client", "shared")
ON_END = ("close", "idle")

#: WebSocket close codes the server uses
NORMAL, POLICY, INTERNAL = 1000, 1008, 1011

#: events handled between two yields to the loop when the replay is catching up or running at max speed
_YIELD_EVERY = 256
#: most messages written to a socket in one go (see _send_texts)
_WRITE_BATCH = 64


@dataclass
class ClientStats:
    """One connection's record, kept after it disconnects (for the test that drove it)."""

    id: int
    path: str
    peer: str
    frames_sent: int = 0  #: data frames written to the socket
    replies_sent: int = 0  #: control replies and PINGPONGs written
    requests: int = 0
    subscriptions: list[tuple[str, str]] = field(default_factory=list)  #: currently acked, in ack order
    open: bool = True
    close_code: int | None = None
    close_reason: str = ""


@dataclass
class ServerStats:
    """What the server has done so far; ``clients`` holds every connection, open or closed."""

    clients: dict[int, ClientStats] = field(default_factory=dict)
    subscriptions_seen: set[tuple[str, str]] = field(default_factory=set)  #: every route acked to anyone

    @property
    def connected(self) -> int:
        return sum(1 for c in self.clients.values() if c.open)

    @property
    def frames_sent(self) -> int:
        return sum(c.frames_sent for c in self.clients.values())


@dataclass(frozen=True)
class Status:
    """A snapshot for the CLI's status line.

    ``replay_ns``: the furthest session offset any replay has reached; ``session_wall_ns``: the recorded
    receive time (UTC ns) of the latest frame sent, the session clock users see in KST; ``lag``: seconds
    the most-behind replay is behind its schedule (``None`` at max speed or before any frame).
    """

    clients: int
    subscriptions: int
    frames_sent: int
    replay_ns: int | None
    session_wall_ns: int | None
    lag: float | None
    buffered: int


class _Client:
    """The server's side of one connection: its socket, session, outbox and tasks."""

    __slots__ = ("closer", "closing", "done", "lag", "outbox", "position", "rejections", "replay", "scenario",
                 "session", "stats", "writer", "ws")

    def __init__(self, ws: ServerConnection, session: KisSession, outbox: Outbox, stats: ClientStats) -> None:
        self.ws = ws
        self.session = session
        self.outbox = outbox
        self.stats = stats
        self.writer: asyncio.Task[None] | None = None
        self.replay: asyncio.Task[None] | None = None
        self.closing: tuple[int, str] | None = None  # (code, reason) when the server closes it
        self.closer: asyncio.Task[None] | None = None
        self.done = False  # its replay reached the end
        self.position: TimelineEvent | None = None  # the latest frame queued for it
        self.lag = 0.0
        self.scenario: Any = None  # its scenario stream (ClientStream), when the server runs a scenario
        self.rejections: Rejections | None = None  # its armed reject steps


class FakeKisServer:
    """A fake KIS real-time server replaying ``archive`` (a path, a prepared :class:`Feed`, or ``None`` for the
    bundled sample session).

    ``options``: what to replay and how fast (:class:`~kis_replay.replayer.ReplayOptions`; ``speed``
    ``None`` is max). ``port`` 0 picks a free port (see :attr:`port`). ``clock``: ``"per-client"`` or
    ``"shared"``. ``on_end``: ``"close"`` closes each client with 1000 at the end of the archive,
    ``"idle"`` keeps it open (PINGPONG goes on). ``approval_key``: the only key accepted (OPSP0011
    otherwise); ``allow_shared_key`` lifts the one-session-per-key rule (OPSP8996). ``ping_interval``:
    seconds of idleness before a PINGPONG (``None`` or 0: never). ``queue_size``: a client's outbox, in
    frames. ``stall_timeout``: at max speed, how long a full outbox may make no progress before the
    client is dropped. ``settle``: with the per-client clock, a client's replay starts this many seconds
    after its first acked subscription, so that the subscriptions a bot sends in one go all take effect
    before the first frame (at max speed the whole archive could otherwise pass between two of them).
    ``on_event``: called with one dict per event (the CLI's log lines).
    """

    def __init__(
        self,
        archive: str | os.PathLike[str] | Feed | None = None,
        options: ReplayOptions | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: ClockMode = "per-client",
        on_end: OnEnd = "close",
        approval_key: str | None = None,
        allow_shared_key: bool = False,
        ping_interval: float | None = 10.0,
        queue_size: int = 4096,
        stall_timeout: float = 10.0,
        close_timeout: float = 2.0,
        settle: float = 0.1,
        max_subscriptions: int = MAX_REGISTRATIONS,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        scenario: Scenario | ScenarioRun | None = None,
    ) -> None:
        if clock not in CLOCK_MODES:
            raise ValueError(f"clock {clock!r} is not one of {', '.join(CLOCK_MODES)}")
        if on_end not in ON_END:
            raise ValueError(f"on_end {on_end!r} is not one of {', '.join(ON_END)}")
        self.options = options or ReplayOptions()
        if isinstance(archive, Feed):
            self.feed = archive
        else:
            from .. import fixtures  # the bundled sample session, for a bare ``kis-replay``

            self.feed = Feed.from_archive(archive if archive is not None else fixtures.path(), self.options)
        self.host = host
        self._port = port
        self.clock_mode = clock
        self.on_end = on_end
        self.keys = ApprovalKeys(approval_key, exclusive=not allow_shared_key)
        self.ping_interval = ping_interval or None
        self.queue_size = queue_size
        self.stall_timeout = stall_timeout
        self.close_timeout = close_timeout
        self.settle = settle
        self.max_subscriptions = max_subscriptions
        self.stats = ServerStats()
        self._listeners: list[Callable[[dict[str, Any]], None]] = [on_event] if on_event else []
        self._ids = itertools.count(1)
        self._clients: dict[int, _Client] = {}
        self._server: Server | None = None
        self._shared: asyncio.Task[None] | None = None
        self._shared_clock: ReplayClock | None = None
        self._shared_position: TimelineEvent | None = None
        self._shared_lag = 0.0
        self._ended = False  # shared clock: the timeline is over
        self._done: asyncio.Event | None = None
        self._replaying: set[int] = set()  # per-client clock: ids of clients whose replay is not settled
        self._replays_finished = 0
        #: the scenario run (see kis_replay.scenarios); every fault it applied, as JSON-ready dicts
        self.scenario: ScenarioRun | None = None
        self.faults: list[dict[str, Any]] = []
        self._refuse_until = -math.inf  # loop time until which new connections get HTTP 503
        if scenario is not None:
            if clock != "per-client":
                raise ValueError("a scenario needs the per-client clock (its steps are per connection)")
            self.scenario = ScenarioRun.prepare(
                scenario, None if isinstance(archive, Feed) else self.feed.name)

    # -- lifecycle ----------------------------------------------------------------------------------------
    @property
    def speed(self) -> float | None:
        return self.options.speed

    @property
    def port(self) -> int:
        """The port listened on (the real one when started with port 0)."""
        return self._port

    @property
    def url(self) -> str:
        """What a bot connects to, e.g. ``ws://127.0.0.1:21000``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self._port}"

    def add_listener(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call ``listener`` with every event dict from now on."""
        self._listeners.append(listener)

    async def start(self) -> FakeKisServer:
        """Listen; returns once the port is bound (``OSError`` when it cannot be)."""
        if self._server is not None:
            raise RuntimeError("the server is already started")
        self._done = asyncio.Event()
        self._server = await serve(
            self._handle,
            self.host,
            self._port,
            ping_interval=None,  # KIS keeps alive with PINGPONG text; clients' pings are answered
            compression=None,
            close_timeout=self.close_timeout,
            process_request=self._admit,
        )
        self._port = self._server.sockets[0].getsockname()[1]
        if self.clock_mode == "shared" and self.speed is not None:
            self._start_shared(asyncio.get_running_loop().time())
        self._emit("listening", url=self.url, archive=self.feed.name, clock=self.clock_mode,
                   speed="max" if self.speed is None else self.speed,
                   routes=[f"{tr_id}:{tr_key}" for tr_id, tr_key in sorted(self.feed.catalog.routes)])
        return self

    async def stop(self) -> None:
        """Close every client with 1000 and stop listening. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        tasks = [c.replay for c in self._clients.values() if c.replay is not None]
        if self._shared is not None:
            tasks.append(self._shared)
        for task in tasks:
            task.cancel()
        closers = [self._close(c, NORMAL, "server stopped") for c in list(self._clients.values())]
        await asyncio.gather(*tasks, *closers, return_exceptions=True)
        server.close(close_connections=True, code=NORMAL, reason="server stopped")  # and half-open ones
        await server.wait_closed()
        self._emit("stopped", frames_sent=self.stats.frames_sent)

    async def __aenter__(self) -> FakeKisServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def wait_until_done(self, timeout: float | None = None) -> None:
        """Return when the replay is over (``TimeoutError`` after ``timeout`` seconds).

        Shared clock: the timeline has ended (and, with ``on_end="close"``, every client is disconnected).
        Per-client clock: every replay that started has ended (with ``on_end="close"``: and its client is
        disconnected), and at least one did. Never, with ``loop``.
        """
        if self._done is None:
            raise RuntimeError("the server is not started")
        async with asyncio.timeout(timeout):
            await self._done.wait()

    def run_in_thread(self, timeout: float = 10.0) -> ServerThread:
        """Start the server on its own event loop in a background thread (for synchronous tests)."""
        return ServerThread(self).start(timeout)

    def status(self) -> Status:
        """A snapshot for the status line."""
        replays: list[tuple[TimelineEvent | None, float]]
        if self.clock_mode == "shared":
            replays = [(self._shared_position, self._shared_lag)]
        else:
            replays = [(c.position, c.lag) for c in self._clients.values()]
        positions = [p for p, _ in replays if p is not None]
        return Status(
            clients=len(self._clients),
            subscriptions=sum(len(c.session.subscriptions) for c in self._clients.values()),
            frames_sent=self.stats.frames_sent,
            replay_ns=max((p.offset_ns for p in positions), default=None),
            session_wall_ns=max((p.wall_ns for p in positions), default=None),
            lag=max((lag for p, lag in replays if p is not None), default=None) if self.speed else None,
            buffered=sum(len(c.outbox) for c in self._clients.values()),
        )

    # -- events -------------------------------------------------------------------------------------------
    def _emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, **fields}
        for listener in self._listeners:
            try:
                listener(record)
            except Exception:
                log.exception("event listener failed on %s", event)

    # -- connections --------------------------------------------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        cid = next(self._ids)
        peer = ws.remote_address
        stats = ClientStats(cid, ws.request.path if ws.request else "", f"{peer[0]}:{peer[1]}" if peer else "")
        session = KisSession(cid, self.feed.catalog, self.keys, now=loop.time(), ping_interval=self.ping_interval,
                             max_subscriptions=self.max_subscriptions)
        client = _Client(ws, session, Outbox(self.queue_size), stats)
        self.stats.clients[cid] = stats
        self._clients[cid] = client
        self._emit("connected", client=cid, path=stats.path, peer=stats.peer)
        client.writer = asyncio.create_task(self._write(client))
        if self.scenario is not None:
            client.rejections = Rejections()
            client.scenario = self.scenario.stream(self.feed.timeline(), cid)
            for action in client.scenario.opening():
                self._apply(client, action, None)
        if self._ended and self.on_end == "close":
            self._close(client, NORMAL, "end of archive")
        try:
            async for message in ws:
                if client.closing is None:  # once closing, the rest is not answered
                    self._receive(client, message)
        except ConnectionClosed:
            pass
        except Exception as exc:  # a bug of ours must cost one connection, never the server
            log.exception("client %d: internal error", cid)
            self._emit("error", client=cid, problem=f"internal error: {exc!r}")
            self._kick(client, INTERNAL, "internal error")
        finally:
            await self._drop(client)

    def _receive(self, client: _Client, message: str | bytes) -> None:
        if client.rejections:
            rejection = client.rejections.judge(message)
            if rejection is not None and self.scenario is not None:
                client.stats.requests += 1
                client.outbox.push(rejection.reply.to_json())
                at = client.position.offset_ns if client.position is not None else 0
                self._fault(client, ConnectionAction(offset_ns=at, step=rejection.step, what=rejection.what))
                return
        response = client.session.receive(message)
        text = response.text
        if text is None:
            return  # a PINGPONG echo
        stats = client.stats
        stats.requests += 1
        if not client.outbox.push(text):
            if not client.outbox.closed:
                self._kick(client, POLICY, f"client stopped reading: {len(client.outbox)} messages buffered")
            return
        cid = client.stats.id
        if response.added is not None:
            sub = response.added
            stats.subscriptions.append((sub.tr_id, sub.tr_key))
            self.stats.subscriptions_seen.add((sub.tr_id, sub.tr_key))
            self._emit("subscribe", client=cid, tr_id=sub.tr_id, tr_key=sub.tr_key, encrypted=sub.encrypted,
                       has_data=sub.has_data)
            if not sub.has_data:
                self._emit("no_data", client=cid, tr_id=sub.tr_id, tr_key=sub.tr_key,
                           message=f"no data for {sub.tr_id} {sub.tr_key} in this archive")
            if self.clock_mode == "shared" and self._shared is None:  # max speed: starts with a subscriber
                self._start_shared(asyncio.get_running_loop().time() + self.settle)
            elif self.clock_mode == "per-client" and client.replay is None:
                clock = ReplayClock(self.speed)
                clock.start(asyncio.get_running_loop().time() + self.settle)
                self._replaying.add(cid)
                client.replay = asyncio.create_task(self._replay_client(client, clock))
        elif response.removed is not None:
            sub = response.removed
            with contextlib.suppress(ValueError):
                stats.subscriptions.remove((sub.tr_id, sub.tr_key))
            self._emit("unsubscribe", client=cid, tr_id=sub.tr_id, tr_key=sub.tr_key)
        elif response.problem is not None and response.reply is not None:
            reply = response.reply
            self._emit("refused", client=cid, msg_cd=reply.msg_cd, tr_id=reply.tr_id, tr_key=reply.tr_key,
                       problem=response.problem)

    def _kick(self, client: _Client, code: int, reason: str) -> None:
        """Disconnect a misbehaving ``client`` (logged), without waiting for it."""
        if client.closing is None:
            self._emit("kick", client=client.stats.id, code=code, reason=reason)
        self._close(client, code, reason)

    def _close(self, client: _Client, code: int, reason: str) -> asyncio.Task[None]:
        """Start closing ``client`` with ``code`` (idempotent: the first close wins).

        The close handshake is bounded by ``close_timeout``, then the TCP connection is aborted: a client
        that stopped reading never lets the close frame through its full buffers, and websockets' own
        close would wait for the socket to drain first.
        """
        if client.closer is None:
            client.closing = (code, reason)
            client.outbox.close()
            client.closer = asyncio.create_task(self._close_within(client.ws, code, reason))
        return client.closer

    async def _close_within(self, ws: ServerConnection, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(self.close_timeout):
                await ws.close(code, reason)
        except TimeoutError:
            ws.transport.abort()

    async def _drop(self, client: _Client) -> None:
        """The connection is over: forget the session, stop its tasks, log why it ended."""
        cid = client.stats.id
        client.session.close()
        client.outbox.close()
        # a finished replay may be closing the connection itself: let it end rather than cancel it
        for task in (None if client.done else client.replay, client.writer):
            if task is not None and not task.done():
                task.cancel()
        await asyncio.gather(*(t for t in (client.replay, client.writer) if t is not None), return_exceptions=True)
        del self._clients[cid]
        stats = client.stats
        stats.open = False
        stats.subscriptions.clear()
        ws = client.ws
        if client.closing is not None:
            stats.close_code, stats.close_reason = client.closing
            by = "server"
        else:
            stats.close_code = ws.close_code if ws.close_code is not None else 1006
            stats.close_reason = ws.close_reason or ""
            by = "client" if ws.protocol.close_rcvd is not None else "network"
        self._emit("disconnected", client=cid, code=stats.close_code, reason=stats.close_reason, by=by,
                   frames_sent=stats.frames_sent)
        self._replaying.discard(cid)
        self._check_done()

    # -- writing ------------------------------------------------------------------------------------------
    async def _write(self, client: _Client) -> None:
        """Drain the client's outbox to its socket in order; PINGPONG whenever it has been idle."""
        loop = asyncio.get_running_loop()
        ws, outbox, session, stats = client.ws, client.outbox, client.session, client.stats
        try:
            while True:
                if not outbox:
                    if outbox.closed:
                        return
                    due = session.pingpong_due
                    await outbox.wait(None if due == math.inf else due)
                    if not outbox and not outbox.closed and loop.time() >= session.pingpong_due:
                        await ws.send(session.pingpong(loop.time()))
                        stats.replies_sent += 1
                    continue
                frames = replies = 0
                batch: list[str] = []
                while outbox:
                    text = outbox.popleft()
                    if isinstance(text, SendRaw):  # a scenario's malformed frame: bytes, or text as given
                        if batch:
                            await _send_texts(ws, batch)
                            batch = []
                        await ws.send(text.payload, text=not text.binary)
                        frames += 1
                        continue
                    batch.append(text)
                    if is_data_frame(text):
                        frames += 1
                    else:
                        replies += 1
                    if len(batch) == _WRITE_BATCH:
                        await _send_texts(ws, batch)
                        batch = []
                if batch:
                    await _send_texts(ws, batch)
                stats.frames_sent += frames
                stats.replies_sent += replies
                session.sent(loop.time())
        except ConnectionClosed:
            pass

    # -- replaying ----------------------------------------------------------------------------------------
    async def _replay_client(self, client: _Client, clock: ReplayClock) -> None:
        """One client's replay (per-client clock), from its first acked subscription to the end."""
        speed, outbox, routes = self.speed, client.outbox, client.session.routes
        # A list of events at a time (a scenario's stream: one item at a time, it reacts to the replay).
        chunks = partial(zip, client.scenario) if client.scenario is not None else self.feed.chunked
        try:
            async with contextlib.aclosing(_paced(clock, chunks, partial(setattr, client, "lag"))) as runs:
                async for run in runs:
                    for event in run:
                        if type(event) is not TimelineEvent:  # a scenario's connection action, due now
                            if self._apply(client, event, clock):
                                return
                            continue
                        if (event.tr_id, event.tr_key) in routes:
                            client.position = event
                            if not outbox.push(event.text):
                                if speed is not None or outbox.closed:
                                    if not outbox.closed:
                                        self._kick(client, POLICY,
                                                   f"client stopped reading: {len(outbox)} frames buffered")
                                    return
                                await outbox.put(event.text, self.stall_timeout)
        except StalledError as exc:
            self._kick(client, POLICY, f"client stopped reading: {exc}")
            return
        except OutboxClosedError:
            return
        except Exception as exc:  # an archive that turns bad mid-way ends this replay, not the server
            log.exception("client %d: replay failed", client.stats.id)
            self._emit("error", client=client.stats.id, problem=f"replay failed: {exc}")
            self._kick(client, INTERNAL, "replay failed")
            return
        await self._finish(client)

    async def _finish(self, client: _Client) -> None:
        """The client's replay reached the end: close it once its outbox is drained, or leave it idle."""
        client.done = True
        self._replays_finished += 1
        if self.on_end == "idle":
            self._replaying.discard(client.stats.id)
            self._check_done()
        self._emit("end", client=client.stats.id, frames_sent=client.stats.frames_sent + len(client.outbox))
        if self.on_end == "close" and client.closing is None:
            client.outbox.close()  # the writer sends what is queued, then ends
            if client.writer is not None:
                await asyncio.wait({client.writer}, timeout=self.stall_timeout)
                if not client.writer.done():
                    self._kick(client, POLICY, f"client stopped reading: {len(client.outbox)} frames left at the end")
            await self._close(client, NORMAL, "end of archive")

    def _start_shared(self, origin: float) -> None:
        """Start the shared market clock at loop time ``origin``: server start at a finite speed; at max
        speed, where there is no clock to keep, the first subscription (plus ``settle``), or the whole
        archive would be gone before anyone subscribed."""
        self._shared_clock = ReplayClock(self.speed, origin=origin)
        self._shared = asyncio.create_task(self._replay_shared(self._shared_clock))

    async def _replay_shared(self, clock: ReplayClock) -> None:
        """The shared market clock: one replay, fanned out to whoever subscribed; at max speed it goes at
        the pace of the slowest subscriber (one stalled for ``stall_timeout`` is dropped)."""
        speed = self.speed
        try:
            async with contextlib.aclosing(_paced(clock, self.feed.chunked,
                                                  partial(setattr, self, "_shared_lag"))) as runs:
                async for run in runs:
                    for event in run:
                        self._shared_position = event
                        route = (event.tr_id, event.tr_key)
                        for client in list(self._clients.values()):
                            if route not in client.session.routes or client.outbox.push(event.text):
                                continue
                            if client.outbox.closed:
                                continue
                            if speed is not None:
                                self._kick(client, POLICY,
                                           f"client stopped reading: {len(client.outbox)} frames buffered")
                                continue
                            try:
                                await client.outbox.put(event.text, self.stall_timeout)
                            except StalledError as exc:
                                self._kick(client, POLICY, f"client stopped reading: {exc}")
                            except OutboxClosedError:
                                pass
        except Exception as exc:
            log.exception("shared replay failed")
            self._emit("error", problem=f"replay failed: {exc}")
        self._ended = True
        self._emit("end", frames_sent=self.stats.frames_sent)
        if self.on_end == "close":
            await asyncio.gather(*(self._finish(c) for c in list(self._clients.values())), return_exceptions=True)
        self._check_done()

    # -- scenarios ----------------------------------------------------------------------------------------
    def _admit(self, connection: ServerConnection, request: Any) -> Any:
        """Handshake hook: HTTP 503 while a scenario's ``disconnect … refuse`` is in force."""
        if asyncio.get_running_loop().time() < self._refuse_until:
            self._emit("refused_connection", path=request.path, reason="scenario: refusing connections")
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "scenario: refusing connections\n")
        return None

    def _fault(self, client: _Client, action: ConnectionAction) -> None:
        assert self.scenario is not None
        record = self.scenario.fault(action, client.stats.id)
        self.faults.append(record)
        self._emit("fault", **record)

    def _apply(self, client: _Client, action: ConnectionAction, clock: ReplayClock | None) -> bool:
        """Carry out and log one scenario action; True when it ended the connection."""
        self._fault(client, action)
        if isinstance(action, Close | Abort):
            if action.refuse_until_ns is not None:
                loop = asyncio.get_running_loop()
                until = clock.deadline(action.refuse_until_ns) if clock is not None and self.speed else (
                    loop.time() + (action.refuse_until_ns - action.offset_ns) / 1e9 / (self.speed or 1))
                self._refuse_until = max(self._refuse_until, until)
            if isinstance(action, Close):
                self._close(client, action.code, action.reason)
            elif client.closing is None:
                client.closing = (1006, "scenario: connection dropped without a close frame")
                client.outbox.close()
                client.ws.transport.abort()
            return True
        if isinstance(action, RejectSubscriptions) and client.rejections is not None:
            client.rejections.arm(action)
        elif isinstance(action, SetPingPong):
            if action.stop:
                client.session.ping_interval = None
            elif action.interval_ns is not None:
                client.session.ping_interval = action.interval_ns / 1e9 / (self.speed or 1)
            else:
                client.session.ping_interval = self.ping_interval
            client.outbox.wake()  # the writer re-reads when the next PINGPONG is due
        elif isinstance(action, SendRaw) and not client.outbox.push(action):  # type: ignore[arg-type]
            if not client.outbox.closed:
                self._kick(client, POLICY, f"client stopped reading: {len(client.outbox)} frames buffered")
            return True
        return False

    def _check_done(self) -> None:
        if self._done is None:
            return
        if self.clock_mode == "shared":
            over = self._ended and (self.on_end == "idle" or not self._clients)
        else:
            over = not self._replaying and self._replays_finished > 0
        if over:
            self._done.set()


async def _paced(
    clock: ReplayClock, chunks: Callable[[], Iterable[Sequence[Any]]], on_late: Callable[[float], None]
) -> AsyncIterator[Sequence[Any]]:
    """The pacing both clocks share: the timeline's items (``chunks()`` of them) in runs, each handed out
    when it is due; the caller only delivers them.

    First the settle time (offset 0 is at the clock's origin, at any speed); ``chunks()`` is called only
    after it. At a finite speed each item is a run of its own, handed out at its deadline, and
    ``on_late`` hears how late it went (the status line's lag). At max speed, where nothing waits, a run
    is a slice of a chunk, so that the caller's loop pays no Python call per frame for the pacing. Either
    way the loop gets a turn every :data:`_YIELD_EVERY` items handed out, and at each empty chunk (nothing
    due yet: a replay re-reading what it played), so that a replay running ahead never starves the others.

    Callers hold it in :func:`contextlib.aclosing`: a replay that ends early (a kick, a scenario's close)
    closes it at once, and with it the timeline's chunks (which frees a shared timeline's cursor).
    """
    loop = asyncio.get_running_loop()
    if (delay := clock.origin - loop.time()) > 0:
        await asyncio.sleep(delay)
    timed = clock.speed is not None
    n = 0  # items handed out since the loop's last turn
    for chunk in chunks():
        if not chunk:
            await asyncio.sleep(0)
            continue
        if timed:
            for item in chunk:
                late = loop.time() - clock.deadline(item.offset_ns)
                if late < 0:
                    await clock.wait(item.offset_ns)
                    late = loop.time() - clock.deadline(item.offset_ns)
                on_late(late)
                yield (item,)
                n += 1
                if n == _YIELD_EVERY:
                    n = 0
                    await asyncio.sleep(0)
            continue
        start, size = 0, len(chunk)
        while start < size:
            end = start + _YIELD_EVERY - n
            yield chunk if start == 0 and end >= size else chunk[start:end]
            n += min(end, size) - start
            start = end
            if n == _YIELD_EVERY:
                n = 0
                await asyncio.sleep(0)


async def _send_texts(ws: ServerConnection, texts: list[str]) -> None:
    """Send ``texts`` as text messages, in order, with one write to the socket.

    ``ws.send`` per message costs a system call per message, most of a frame's cost at max speed. Here
    every message is framed by the connection's own sans-I/O protocol (``protocol.send_text``, the frames
    exactly as ``send`` would make them) and the bytes go out in one transport write, inside
    ``send_context``: the connection's own checks (state, closing, errors) and write flow control, as
    for ``send``. The client sees the same messages; only their packing into TCP segments differs.
    """
    async with ws.send_context():
        protocol = ws.protocol
        for text in texts:
            protocol.send_text(text.encode())
        ws.transport.write(b"".join(protocol.data_to_send()))


class ServerThread:
    """A :class:`FakeKisServer` running on its own event loop in a daemon thread, for synchronous code.

    ``with server.run_in_thread() as handle:`` … ``handle.url`` … the block's end stops it.
    """

    def __init__(self, server: FakeKisServer) -> None:
        self.server = server
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="kis-replay-server", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def stats(self) -> ServerStats:
        return self.server.stats

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the server did not start within {timeout} s")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.stop()

    def wait_until_done(self, timeout: float | None = None) -> None:
        """Block until the replay is over (see :meth:`FakeKisServer.wait_until_done`)."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self.server.wait_until_done(), self._loop)
        try:
            future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (clients get 1000) and join the thread. Idempotent."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
