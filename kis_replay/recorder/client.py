"""The recorder's connection loop: the thin asyncio layer between ``websockets`` and the pure parts.

Everything that crosses the wire is recorded where it crosses: a :class:`RecordingConnection` sees every
WebSocket frame as the protocol parses it (``process_event``), before any decoding or queueing, so DATA,
CONTROL, PING and PONG records carry the exact received bytes, in wire order, stamped on arrival (wall
and monotonic ns). What the recorder sends (subscribe requests, PINGPONG answers, keepalive pings) is
recorded as it is sent. Decisions are not made here: :class:`~kis_replay.recorder.session.RecorderSession`
says what a message means, :class:`~kis_replay.recorder.backoff.Backoff` when to reconnect,
:class:`~kis_replay.recorder.rolling.RollingArchive` where bytes go.

Failure policy (also in the README):

- dropped connection, refused connection, OPSP0007: GAP record, reconnect with backoff, re-subscribe;
- OPSP8996 (key in use): reconnect after the maximum backoff; ``max_in_use`` times in a row → exit ≠ 0;
- OPSP0011 (approval refused): request a new approval key once if ``KIS_APP_KEY``/``KIS_APP_SECRET`` are
  set, else (or if the new key is refused too) exit ≠ 0;
- a registration the service refuses (bad tr_id/tr_key): logged, dropped, the rest go on; none left → exit ≠ 0;
- the archive cannot be written (disk full): exit ≠ 0 after closing what can be closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import struct
import time
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.frames import Frame, Opcode

from ..archive.header import ArchiveHeader
from ..archive.records import Direction, RecordKind
from .approval import ApprovalError, obtain_approval_key
from .backoff import Backoff
from .credentials import Credentials
from .rolling import PreambleRecord, RollingArchive
from .session import Action, Established, Pong, Reconnect, RecorderSession, Rejected, Renew, Stop
from .status import RecorderStatus
from .subscriptions import Subscription

__all__ = [
    "DEFAULT_REST_URL",
    "DEFAULT_URL",
    "Recorder",
    "RecorderError",
    "RecorderSettings",
    "RecordingConnection",
    "recording_header",
]

DEFAULT_URL = "ws://ops.koreainvestment.com:21000"
DEFAULT_REST_URL = "https://openapi.koreainvestment.com:9443"

log = logging.getLogger("kis_replay.recorder")

_S2C = Direction.SERVER_TO_CLIENT
_C2S = Direction.CLIENT_TO_SERVER
_DATA_PREFIXES = (b"0", b"1")  # the first byte of a data frame (JSON control messages start with "{")
_DATA = RecordKind.DATA
_TEXT = Opcode.TEXT


class RecorderError(Exception):
    """The recording cannot go on (refused credentials, no registration left, the archive failed)."""


@dataclass(frozen=True)
class RecorderSettings:
    """How to record. Times are seconds."""

    url: str
    subscriptions: tuple[Subscription, ...]
    rest_url: str = DEFAULT_REST_URL
    custtype: str = "P"
    flush_interval: float = 1.0
    stop_after: float | None = None  #: end the recording this long after it started (--duration/--until)
    open_timeout: float = 10.0
    close_timeout: float = 2.0
    ping_interval: float | None = 20.0  #: WebSocket keepalive pings (dead-connection detection)
    max_in_use: int = 5  #: consecutive OPSP8996 replies before giving up
    max_message: int = 16 << 20


def recording_header(settings: RecorderSettings) -> ArchiveHeader:
    """The header of every file of a live recording: the URL, what was registered, already filtered."""
    return ArchiveHeader(
        source=settings.url,
        subscriptions=[{"tr_id": s.tr_id, "tr_key": s.tr_key} for s in settings.subscriptions],
        filtered=True,
        labels={"recorder": {"custtype": settings.custtype}},
    )


class RecordingConnection(ClientConnection):
    """A client connection that shows every frame it receives or sends to ``link`` as it happens.

    ``process_event`` is where websockets hands over each parsed frame; hooking it (as
    ``ClientConnection`` itself does for the handshake) is the only place where PING/PONG frames and the
    exact bytes of each message are visible, in wire order, before any queueing. A data frame, once
    recorded, needs nothing more: it is not queued for ``recv()`` at all (the hot path, a few
    microseconds a frame); control messages and everything else go on to websockets as usual.
    """

    def __init__(self, *args: Any, link: _Link, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.link = link

    def process_event(self, event: Any) -> None:
        if isinstance(event, Frame) and self.link.received(event, self):
            return
        super().process_event(event)

    async def ping(self, data: Any = None) -> Any:
        if data is None:  # choose the payload here (as websockets would) so that it can be recorded
            data = struct.pack("!I", random.getrandbits(32))
        waiter = await super().ping(data)
        self.link.sent(RecordKind.PING, data.encode() if isinstance(data, str) else bytes(data))
        return waiter


@dataclass
class _Ended:
    """Why a connection ended, for the backoff and the GAP record."""

    reason: str
    severe: bool = False
    renew: bool = False


class _Link:
    """One connection, as the recorder sees it: records its frames and feeds its session at wire time.

    Control messages go through the :class:`RecorderSession` the moment they are recorded, so what they
    cause (a GAP record when the session is re-established) lands in the archive right after them, before
    any later frame. What must be awaited (a pong, a close) is started as a task.
    """

    def __init__(self, recorder: Recorder, conn: int, session: RecorderSession) -> None:
        self.recorder = recorder
        self.conn = conn
        self.session = session
        self.ended: _Ended | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self._parts: list[bytes] = []
        self._binary = False
        self._status = recorder.status

    def received(self, frame: Frame, ws: ClientConnection) -> bool:
        """Record ``frame``; ``True`` when it was a whole data frame, which nobody needs to read again."""
        try:
            if frame.fin and frame.opcode is _TEXT:
                data = frame.data
                if type(data) is not bytes:  # websockets may hand over a bytearray or memoryview
                    data = bytes(data)
                if data[:1] in _DATA_PREFIXES:
                    end = data.find(b"|", 2)
                    self._status.data(data[2:end] if end > 0 else b"?", len(data))
                    self.recorder.archive.write(_DATA, data, _S2C, self.conn, time.time_ns(), time.monotonic_ns())
                    return True
            self._received(frame, ws)
        except Exception as exc:  # never let an error escape into websockets' protocol code
            self.recorder.fail(f"cannot write the archive: {exc}")
        return False

    def sent(self, kind: RecordKind, payload: bytes) -> None:
        try:
            self._write(kind, payload, _C2S)
        except Exception as exc:
            self.recorder.fail(f"cannot write the archive: {exc}")

    def end(self, ended: _Ended, ws: ClientConnection) -> None:
        """Close this connection for ``ended``'s reason (the first reason wins)."""
        if self.ended is None:
            self.ended = ended
            self.spawn(ws.close(1000, "recorder reconnecting"))

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _received(self, frame: Frame, ws: ClientConnection) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            self._binary = opcode is Opcode.BINARY
            if frame.fin:
                self._message(bytes(frame.data), ws)
            else:
                self._parts = [bytes(frame.data)]
        elif opcode is Opcode.CONT:
            self._parts.append(bytes(frame.data))
            if frame.fin:
                payload, self._parts = b"".join(self._parts), []
                self._message(payload, ws)
        elif opcode is Opcode.PING:
            data = bytes(frame.data)
            self._write(RecordKind.PING, data, _S2C)
            self._write(RecordKind.PONG, data, _C2S)  # websockets answers every ping with its data
        elif opcode is Opcode.PONG:
            self._write(RecordKind.PONG, bytes(frame.data), _S2C)

    def _message(self, payload: bytes, ws: ClientConnection) -> None:
        status = self.recorder.status
        if self._binary:
            status.other(len(payload))
            self._write(RecordKind.BINARY, payload, _S2C)
        elif payload[:1] in _DATA_PREFIXES:  # a data frame that came in fragments
            end = payload.find(b"|", 2)
            status.data(payload[2:end] if end > 0 else b"?", len(payload))
            self._write(RecordKind.DATA, payload, _S2C)
        else:
            status.other(len(payload))
            self._write(RecordKind.CONTROL, payload, _S2C)
            for action in self.session.received(payload.decode("utf-8", "replace")):
                self.recorder.act(action, self, ws)

    def _write(self, kind: RecordKind, payload: bytes, direction: Direction) -> None:
        self.recorder.archive.write(kind, payload, direction, self.conn, time.time_ns(), time.monotonic_ns())


class Recorder:
    """Record ``settings.subscriptions`` from ``settings.url`` into ``archive`` until stopped.

    :meth:`run` returns normally when stopped (:meth:`stop`, the deadline) and raises
    :class:`RecorderError` when the recording cannot go on; either way the archive is closed with its
    index. ``backoff`` is the reconnect policy (tests give small intervals).
    """

    def __init__(
        self,
        settings: RecorderSettings,
        credentials: Credentials,
        archive: RollingArchive,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.archive = archive
        self.backoff = backoff or Backoff()
        self.status = RecorderStatus()
        self.subscriptions = tuple(settings.subscriptions)
        self.attempts: list[float] = []  #: monotonic start time of every connection attempt
        self._stop = asyncio.Event()
        self._fatal: str | None = None
        self._conn = 0
        self._gap_from: int | None = None
        self._gap_reason = ""
        self._gap_attempts = 0
        self._renewed = False  #: a new approval key was requested and no session has been established since
        self._last_close_wall: int | None = None
        self._established_once = False

    # -- control -------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop recording (signal handlers call this): close the connection, flush, write the index."""
        self._stop.set()

    def fail(self, reason: str) -> None:
        """Stop recording because it cannot go on; :meth:`run` raises :class:`RecorderError`."""
        if self._fatal is None:
            self._fatal = reason
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the loop ------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Obtain an approval key if needed, open the archive, record until stopped."""
        started_wall = time.time_ns()
        if not self.credentials.approval_key:
            await self._renew_key()
        self.archive.open(started_wall)
        self.status.files = 1
        timers = [asyncio.create_task(self._flush_timer())]
        if self.settings.stop_after is not None:
            timers.append(asyncio.create_task(self._deadline(self.settings.stop_after)))
        try:
            await self._connect_loop(started_wall)
        finally:
            for timer in timers:
                timer.cancel()
            await asyncio.gather(*timers, return_exceptions=True)
            self._finish()
        if self._fatal is not None:
            raise RecorderError(self._fatal)

    async def _connect_loop(self, started_wall: int) -> None:
        next_at = self.backoff.earliest(time.monotonic())
        in_use = 0
        while not self.stopping:
            if not await self._wait_until(next_at):
                break
            now = time.monotonic()
            self.backoff.attempting(now)
            self.attempts.append(now)
            ended = await self._connect_once()
            if self.stopping:
                break
            if ended is None:  # stopped cleanly from inside the connection
                break
            now = time.monotonic()
            if self._gap_from is None:
                # missing since the recording started, or since the last established connection ended
                self._gap_from = self._last_close_wall if self._established_once and self._last_close_wall \
                    else started_wall
                self._gap_reason = ended.reason
                self._gap_attempts = 0
            self._gap_attempts += 1
            if ended.renew:
                if self._renewed or not self.credentials.can_renew:
                    hint = "" if self.credentials.can_renew else (
                        " (set KIS_APP_KEY and KIS_APP_SECRET so that the recorder can request a new one)"
                    )
                    self.fail(ended.reason + hint)
                    break
                self._renewed = True
                await self._renew_key()
            in_use = in_use + 1 if ended.severe else 0
            if in_use >= self.settings.max_in_use:
                self.fail(f"{ended.reason}; giving up after {in_use} attempts in a row")
                break
            next_at = self.backoff.failed(now, severe=ended.severe)
            self.status.state = f"waiting {max(0.0, next_at - now):.1f}s ({ended.reason})"
            log.warning("%s; reconnecting in %.1f s", ended.reason, max(0.0, next_at - now))

    async def _wait_until(self, deadline: float) -> bool:
        """Sleep until ``deadline`` (monotonic s) unless stopped first; whether to go on."""
        delay = deadline - time.monotonic()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
        return not self.stopping

    async def _connect_once(self) -> _Ended | None:
        """One connection: open, subscribe, record until it ends. ``None`` when stopped on purpose."""
        self._last_close_wall = None
        self.status.state = "connecting"
        session = RecorderSession(
            self.subscriptions, self.credentials.approval_key or "", self.settings.custtype,
            scrub=self.credentials.scrub,
        )
        link = _Link(self, self._conn + 1, session)
        try:
            ws = await connect(
                self.settings.url,
                create_connection=functools.partial(RecordingConnection, link=link),  # type: ignore[arg-type]
                open_timeout=self.settings.open_timeout,
                close_timeout=self.settings.close_timeout,
                ping_interval=self.settings.ping_interval,
                max_size=self.settings.max_message,
                compression=None,
            )
        except InvalidURI as exc:
            self.fail(f"bad --url: {exc}")
            return None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            detail = self.credentials.scrub(str(exc)) or type(exc).__name__
            return _Ended(f"cannot connect to {self.settings.url}: {detail}")
        self._conn = link.conn
        self.status.connections += 1
        self._record_event(RecordKind.OPENED, self.settings.url.encode(), link.conn)
        log.info("connected to %s (connection %d)", self.settings.url, link.conn)
        closer = asyncio.create_task(self._close_on_stop(ws))
        try:
            self.status.state = "subscribing"
            for text in session.opened():
                link.sent(RecordKind.CONTROL, text.encode())
                await ws.send(text)
            while True:
                await ws.recv(decode=False)  # the link has recorded and interpreted it already
        except ConnectionClosed as exc:
            if link.ended is None and not self.stopping:
                link.ended = _Ended(f"connection lost: {_describe_close(exc)}")
        except Exception as exc:  # a bug or an OS error mid-session: record it, reconnect, do not die
            log.exception("unexpected error on connection %d", link.conn)
            if link.ended is None:
                link.ended = _Ended(f"connection failed: {type(exc).__name__}: {self.credentials.scrub(str(exc))}")
            await ws.close(1011, "recorder error")
        finally:
            closer.cancel()
            for task in list(link.tasks):
                task.cancel()
            await asyncio.gather(closer, *link.tasks, return_exceptions=True)
            session.closed()
            self._last_close_wall = time.time_ns()
            self._record_closed(ws, link.conn)
            self.archive.set_preamble([])
        return None if self.stopping else link.ended

    def act(self, action: Action, link: _Link, ws: ClientConnection) -> None:
        """Do what the session asks, at the moment the message that asked for it was recorded."""
        if isinstance(action, Pong):
            link.spawn(self._pong(ws, link, action.text))
        elif isinstance(action, Established):
            self._established(link.conn, link.session)
        elif isinstance(action, Rejected):
            log.error("registration refused, recording the others: %s", action.message)
            self.subscriptions = RecorderSession.next_subscriptions(self.subscriptions, [action.subscription])
        elif isinstance(action, Reconnect):
            link.end(_Ended(action.reason, severe=action.severe), ws)
        elif isinstance(action, Renew):
            link.end(_Ended(action.reason, renew=True), ws)
        elif isinstance(action, Stop):
            self.fail(action.reason)

    async def _pong(self, ws: ClientConnection, link: _Link, text: str) -> None:
        """Answer PINGPONG as KIS's own sample client does: a pong frame carrying the PINGPONG text."""
        link.sent(RecordKind.PONG, text.encode())
        with contextlib.suppress(ConnectionClosed):
            await ws.pong(text)

    def _established(self, conn: int, session: RecorderSession) -> None:
        now_wall, now_mono = time.time_ns(), time.monotonic_ns()
        self.backoff.connected(time.monotonic())
        self._renewed = False
        self._established_once = True
        self.status.state = "streaming"
        self.archive.set_preamble(
            [PreambleRecord(RecordKind.CONTROL, text.encode(), _S2C, conn) for text in session.acks]
        )
        if self._gap_from is not None:
            reason = self._gap_reason
            if self._gap_attempts > 1:
                reason += f" (back after {self._gap_attempts} attempts)"
            self.archive.gap(self._gap_from, now_wall, reason, conn=conn, mono_ns=now_mono)
            self.status.gap(self._gap_from, now_wall, reason)
            log.warning("recording again; gap of %.1f s: %s", (now_wall - self._gap_from) / 1e9, reason)
            self._gap_from = None
        log.info("recording %d registrations on connection %d", len(session.live), conn)

    async def _close_on_stop(self, ws: ClientConnection) -> None:
        await self._stop.wait()
        await ws.close(1000, "recorder stopped")

    async def _renew_key(self) -> None:
        try:
            key = await obtain_approval_key(self.settings.rest_url, self.credentials)
        except ApprovalError as exc:
            raise RecorderError(str(exc)) from None
        self.credentials = self.credentials.with_approval_key(key)
        log.info("obtained an approval key from %s", self.settings.rest_url)

    # -- timers --------------------------------------------------------------------------------------

    async def _flush_timer(self) -> None:
        """Flush every ``flush_interval`` even when nothing arrives (a kill -9 loses at most that much),
        and cut to a new file when the rotation policy says so."""
        interval = self.settings.flush_interval
        while True:
            await asyncio.sleep(interval)
            try:
                self.archive.flush()
                if self.archive.rotate_if_due() is not None:
                    self.status.files += 1
                    log.info("new archive file %s", self.archive.current_path)
            except Exception as exc:
                self.fail(f"cannot write the archive: {exc}")
                return
            self.status.file_bytes = self.archive.bytes_written

    async def _deadline(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        log.info("recording time is up")
        self.stop()

    # -- records -------------------------------------------------------------------------------------

    def _record_event(self, kind: RecordKind, payload: bytes, conn: int) -> None:
        try:
            self.archive.write(kind, payload, Direction.NONE, conn, time.time_ns(), time.monotonic_ns())
        except Exception as exc:
            self.fail(f"cannot write the archive: {exc}")

    def _record_closed(self, ws: ClientConnection, conn: int) -> None:
        protocol = ws.protocol
        rcvd, sent = protocol.close_rcvd, protocol.close_sent
        close = rcvd or sent
        info = {
            "code": close.code if close else 1006,
            "reason": close.reason if close else "",
            "by": _closed_by(rcvd is not None, sent is not None, protocol.close_rcvd_then_sent),
        }
        self._record_event(RecordKind.CLOSED, json.dumps(info, separators=(",", ":")).encode(), conn)

    def _finish(self) -> None:
        """Close an open gap (stopped while offline), then the archive."""
        try:
            if self._gap_from is not None:
                now = time.time_ns()
                reason = self._gap_reason + "; the recording ended before the connection was back"
                self.archive.gap(self._gap_from, now, reason, conn=self._conn, mono_ns=time.monotonic_ns())
                self.status.gap(self._gap_from, now, reason)
                self._gap_from = None
            self.archive.close()
        except Exception as exc:
            self.fail(f"cannot finish the archive: {exc}")
        self.status.file_bytes = self.archive.bytes_written
        self.status.state = "stopped"


def _closed_by(rcvd: bool, sent: bool, rcvd_then_sent: bool | None) -> str:
    if rcvd and (not sent or rcvd_then_sent):
        return "server"
    if sent:
        return "client"
    return "network"


def _describe_close(exc: ConnectionClosed) -> str:
    close = exc.rcvd or exc.sent
    if close is None:
        return "no close frame (1006)"
    return f"code {close.code}" + (f" {close.reason!r}" if close.reason else "")
