"""One client's KIS session as a pure state machine: request text in, reply and subscription change out.

Like websockets' ``ServerProtocol`` or h11's ``Connection``, :class:`KisSession` owns no socket and no
clock: the asyncio layer feeds it each message the client sent, sends the reply it returns, and asks it
when the next PINGPONG is due. So every rule of PROTOCOL.md (acks, the error table, the 41-registration
limit, PINGPONG timing, which frames a client is owed) is testable without a network, and the same object
can serve another I/O layer later.

States: ``OPEN`` (requests answered) → ``CLOSED`` (after :meth:`KisSession.close`; feeding it more is a
:class:`SessionClosedError`, a bug in the caller, never the client's fault).
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
from dataclasses import dataclass

from ..codec import (
    MAX_REGISTRATIONS,
    ControlMessageError,
    ControlReply,
    FrameCipher,
    build_pingpong,
    build_reply,
    is_pingpong,
    parse_pingpong,
    parse_request,
)
from .approval import ApprovalKeys
from .catalog import Catalog

__all__ = [
    "NULL_TR_ID",
    "KisSession",
    "Response",
    "SessionClosedError",
    "SessionState",
    "Subscription",
]

#: The header tr_id of replies to requests the service could not read (its OPSP8996 capture shows it).
NULL_TR_ID = "(null)"


class SessionState(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class SessionClosedError(RuntimeError):
    """Raised when a closed session is fed a message: the I/O layer must stop reading first."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """An acked registration. ``has_data`` is False for a well-formed key this archive never mentions."""

    tr_id: str
    tr_key: str
    encrypted: bool
    has_data: bool


@dataclass(frozen=True, slots=True)
class Response:
    """What one client message produced.

    ``reply`` is ``None`` only for a client's answer to PINGPONG (a text echo, re-serialised or not),
    which the service takes silently; every request gets exactly one reply. ``added`` / ``removed`` is the
    subscription change an ack makes; ``problem`` says, for the log, why a request was refused (it never
    contains the approval key).
    """

    reply: ControlReply | None
    added: Subscription | None = None
    removed: Subscription | None = None
    problem: str | None = None

    @property
    def text(self) -> str | None:
        """The reply's wire text."""
        return self.reply.to_json() if self.reply is not None else None


class KisSession:
    """The KIS real-time session of one connection.

    ``catalog`` is what the served archive offers, ``keys`` the server-wide approval-key rules (shared by
    every session of a server). ``ping_interval``: seconds without anything sent before a PINGPONG is due
    (``None``: never). ``cipher``: the key/iv that acks of unencrypted TRs carry (the service sends one
    even then); encrypted TRs get the recorded session's from ``catalog``. ``now`` is the I/O layer's
    clock (e.g. ``loop.time()``), only used for PINGPONG timing.
    """

    def __init__(
        self,
        session_id: int,
        catalog: Catalog,
        keys: ApprovalKeys,
        *,
        now: float = 0.0,
        ping_interval: float | None = 10.0,
        max_subscriptions: int = MAX_REGISTRATIONS,
        cipher: FrameCipher | None = None,
    ) -> None:
        self.session_id = session_id
        self.catalog = catalog
        self.keys = keys
        self.ping_interval = ping_interval
        self.max_subscriptions = max_subscriptions
        self.cipher = cipher or FrameCipher.generate()
        self.state = SessionState.OPEN
        self.requests = 0  #: requests answered
        self.pongs = 0  #: PINGPONG echoes received
        self._subscriptions: dict[tuple[str, str], Subscription] = {}
        #: What this client is owed: ``(tr_id, tr_key)`` of its plain subscriptions and ``(tr_id, None)``
        #: (encrypted frames carry no readable key) while it holds any key of the TR. Read on the hot path.
        self.routes: set[tuple[str, str | None]] = set()
        self._per_tr: dict[str, int] = {}
        self._last_sent = now

    # -- inbound ------------------------------------------------------------------------------------------
    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """The acked registrations, in the order they were acked."""
        return tuple(self._subscriptions.values())

    def receive(self, message: str | bytes) -> Response:
        """Answer one message from the client (text or binary; binary is read as UTF-8 text).

        Check order: PINGPONG echo → the request's shape (the codec's :func:`parse_request`) → approval
        key (OPSP0011, then OPSP8996) → tr_id (OPSP8991) → tr_key (OPSP8992) → the registration itself.
        """
        if self.state is not SessionState.OPEN:
            raise SessionClosedError(f"session {self.session_id} is closed")
        if is_pingpong(message):
            try:
                parse_pingpong(message)
            except ControlMessageError:
                pass  # mentions PINGPONG but is something else: judge it as a request
            else:
                self.pongs += 1
                return Response(None)
        self.requests += 1
        try:
            request = parse_request(message)
        except ControlMessageError as exc:
            return self._refuse(exc.msg_cd, str(exc))
        tr_id, tr_key = request.tr_id, request.tr_key
        refused = self.keys.admit(self.session_id, request.approval_key)
        if refused == "OPSP0011":
            return Response(
                build_reply(refused, tr_id=tr_id, tr_key=tr_key, detail=request.approval_key),
                problem="approval key does not match --approval-key",
            )
        if refused is not None:
            return self._refuse(refused, "approval key already in use by another open session")
        if not self.catalog.knows_tr(tr_id):
            return self._refuse(
                "OPSP8991", f"tr_id {tr_id[:40]!r} is neither a codec TR nor in this archive", tr_id, tr_key
            )
        problem = self.catalog.key_problem(tr_id, tr_key)
        if problem is not None:
            return self._refuse("OPSP8992", problem, tr_id, tr_key)
        if request.subscribe:
            return self._subscribe(tr_id, tr_key)
        return self._unsubscribe(tr_id, tr_key)

    def _refuse(self, msg_cd: str, problem: str, tr_id: str = NULL_TR_ID, tr_key: str = "") -> Response:
        return Response(build_reply(msg_cd, tr_id=tr_id, tr_key=tr_key), problem=problem)

    def _ack(self, msg_cd: str, sub: Subscription) -> ControlReply:
        cipher = (self.catalog.cipher_for(sub.tr_id, sub.tr_key) if sub.encrypted else None) or self.cipher
        return build_reply(
            msg_cd,
            tr_id=sub.tr_id,
            tr_key=sub.tr_key,
            encrypt="Y" if sub.encrypted else "N",
            output={"iv": cipher.iv, "key": cipher.key},
        )

    def _subscribe(self, tr_id: str, tr_key: str) -> Response:
        pair = (tr_id, tr_key)
        if pair in self._subscriptions:
            return self._refuse("OPSP0002", f"{tr_id} {tr_key} is already subscribed", tr_id, tr_key)
        if len(self._subscriptions) >= self.max_subscriptions:
            return self._refuse(
                "OPSP0008", f"{self.max_subscriptions} registrations already held", tr_id, tr_key
            )
        sub = Subscription(tr_id, tr_key, self.catalog.is_encrypted(tr_id), self.catalog.has_data(tr_id, tr_key))
        self._subscriptions[pair] = sub
        self.routes.add(pair)
        self.routes.add((tr_id, None))
        self._per_tr[tr_id] = self._per_tr.get(tr_id, 0) + 1
        return Response(self._ack("OPSP0000", sub), added=sub)

    def _unsubscribe(self, tr_id: str, tr_key: str) -> Response:
        sub = self._subscriptions.pop((tr_id, tr_key), None)
        if sub is None:
            return self._refuse("OPSP0003", f"{tr_id} {tr_key} is not subscribed", tr_id, tr_key)
        self._drop_route(sub)
        return Response(self._ack("OPSP0001", sub), removed=sub)

    def _drop_route(self, sub: Subscription) -> None:
        self.routes.discard((sub.tr_id, sub.tr_key))
        left = self._per_tr[sub.tr_id] - 1
        if left:
            self._per_tr[sub.tr_id] = left
        else:
            del self._per_tr[sub.tr_id]
            self.routes.discard((sub.tr_id, None))

    # -- outbound -----------------------------------------------------------------------------------------
    def wants(self, tr_id: str, tr_key: str | None) -> bool:
        """Whether a data frame routed ``(tr_id, tr_key)`` goes to this client (``tr_key`` ``None``: encrypted)."""
        return (tr_id, tr_key) in self.routes

    def sent(self, now: float) -> None:
        """The I/O layer wrote something to the client at ``now``: the connection is not idle."""
        self._last_sent = now

    @property
    def pingpong_due(self) -> float:
        """When the next PINGPONG is due, on the caller's clock (``inf``: never)."""
        if self.ping_interval is None or self.state is not SessionState.OPEN:
            return math.inf
        return self._last_sent + self.ping_interval

    def pingpong(self, now: float, when: _dt.datetime | None = None) -> str:
        """The PINGPONG text to send now (stamped ``when``, default the wall clock, in KST)."""
        self._last_sent = now
        return build_pingpong(when)

    # -- end ----------------------------------------------------------------------------------------------
    def close(self) -> tuple[Subscription, ...]:
        """The connection ended: drop every subscription and free the approval keys. Idempotent."""
        if self.state is SessionState.CLOSED:
            return ()
        self.state = SessionState.CLOSED
        dropped = self.subscriptions
        self._subscriptions.clear()
        self.routes.clear()
        self._per_tr.clear()
        self.keys.release(self.session_id)
        return dropped
