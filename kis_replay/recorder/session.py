"""The client side of one KIS WebSocket session, as a pure state machine.

``RecorderSession`` decides what to send and what a received message means; it never touches a socket,
a clock or a file. The connection loop (:mod:`kis_replay.recorder.client`) feeds it text and acts on the
:class:`Action` values it returns: send a subscribe request, answer PINGPONG, give up on a registration,
reconnect, or stop. So the protocol rules of the recorder (which reply is fatal, which is transient,
when the session counts as established) are tested without a network.

States::

    CONNECTING --opened()--> SUBSCRIBING --every registration answered--> STREAMING
         any state --closed()--> CLOSED

What each error reply means to a recorder (PROTOCOL.md's codes):

- OPSP0000 subscribed; OPSP0002 (already subscribed) counts as subscribed too.
- OPSP0011 invalid approval: :class:`Renew` (request a new key if we can, else stop).
- OPSP8996 key in use: :class:`Reconnect` ``severe`` (another session holds the key, possibly our own
  previous one not yet timed out on the service's side: wait long, then retry).
- OPSP0007 internal error: :class:`Reconnect` (transient).
- any other error names one registration: :class:`Rejected`; retrying would only loop, so the recorder
  keeps the others. When no registration is left, :class:`Stop`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..codec import ControlMessageError, ControlReply, PingPong, is_data_frame, is_pingpong, parse_message
from .subscriptions import Subscription

__all__ = [
    "Action",
    "Established",
    "Pong",
    "Reconnect",
    "RecorderSession",
    "Rejected",
    "Renew",
    "SessionState",
    "Stop",
]

SUBSCRIBED_CODES = frozenset({"OPSP0000", "OPSP0002"})
INVALID_APPROVAL = "OPSP0011"
KEY_IN_USE = "OPSP8996"
TRANSIENT_CODES = frozenset({"OPSP0007"})


class SessionState(enum.Enum):
    CONNECTING = "connecting"
    SUBSCRIBING = "subscribing"
    STREAMING = "streaming"
    CLOSED = "closed"


@dataclass(frozen=True)
class Action:
    """Something the connection loop must do in answer to a message."""


@dataclass(frozen=True)
class Pong(Action):
    """Answer PINGPONG as KIS's own sample client does: a WebSocket pong frame carrying its text."""

    text: str


@dataclass(frozen=True)
class Established(Action):
    """Every registration has been answered and at least one is live: recording is complete again."""


@dataclass(frozen=True)
class Rejected(Action):
    """The service refused one registration for good; the others go on."""

    subscription: Subscription
    message: str


@dataclass(frozen=True)
class Reconnect(Action):
    """Close and reconnect after a backoff (``severe``: the key is in use, wait the longest)."""

    reason: str
    severe: bool = False


@dataclass(frozen=True)
class Renew(Action):
    """The approval key was refused: obtain a new one before reconnecting (or stop if we cannot)."""

    reason: str


@dataclass(frozen=True)
class Stop(Action):
    """Nothing more can be recorded in this run; exit non-zero with ``reason``."""

    reason: str


@dataclass
class RecorderSession:
    """One connection's worth of the KIS session, from the client's side.

    ``scrub`` hides secrets in messages built from server text (OPSP0011 echoes the approval key).
    ``acks`` keeps the subscribe acks' texts in arrival order: their ``output`` key/iv decrypt the
    session's encrypted frames, so every archive file of the recording starts with them.
    """

    subscriptions: tuple[Subscription, ...]
    approval_key: str
    custtype: str = "P"
    scrub: Callable[[str], str] = field(default=lambda text: text, repr=False)
    state: SessionState = SessionState.CONNECTING
    pending: set[Subscription] = field(default_factory=set)
    live: list[Subscription] = field(default_factory=list)
    rejected: list[Subscription] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)

    def opened(self) -> list[str]:
        """The socket is open: the subscribe requests to send, in order."""
        self._expect(SessionState.CONNECTING, "opened")
        self.state = SessionState.SUBSCRIBING
        self.pending = set(self.subscriptions)
        return [sub.request(self.approval_key, self.custtype).to_json() for sub in self.subscriptions]

    def received(self, text: str) -> list[Action]:
        """A text message arrived. Data frames need nothing; control messages may."""
        if self.state is SessionState.CLOSED:
            return []
        if is_data_frame(text):
            return []
        if is_pingpong(text):
            return [Pong(text)]
        try:
            message = parse_message(text)
        except ControlMessageError:
            return []  # recorded byte for byte all the same; a message we cannot read changes nothing
        if isinstance(message, PingPong):
            return [Pong(text)]
        return self._reply(message, text)

    def closed(self) -> None:
        """The connection ended (either side)."""
        self.state = SessionState.CLOSED

    def _reply(self, reply: ControlReply, text: str) -> list[Action]:
        sub = Subscription(reply.tr_id, reply.tr_key)
        describe = self.scrub(f"{reply.msg_cd} {reply.msg1}".strip())
        if reply.msg_cd == INVALID_APPROVAL:
            return [Renew(f"the service refused the approval key: {describe}")]
        if reply.msg_cd == KEY_IN_USE:
            return [Reconnect(f"the approval key is in use by another session: {describe}", severe=True)]
        if reply.msg_cd in TRANSIENT_CODES:
            return [Reconnect(f"the service reported an error: {describe}")]
        if reply.msg_cd in SUBSCRIBED_CODES:
            if sub not in self.live:
                self.live.append(sub)
                self.acks.append(text)
            self.pending.discard(sub)
            return self._settle()
        if reply.ok:  # OPSP0001 (unsubscribe ack) and anything else harmless
            return []
        target = sub if sub in self.pending else self._oldest_pending()
        if target is None:
            return []
        self.pending.discard(target)
        self.rejected.append(target)
        return [Rejected(target, f"{target}: {describe}"), *self._settle()]

    def _oldest_pending(self) -> Subscription | None:
        """Which registration an error without a usable header refers to: the first still unanswered
        (the service answers in order)."""
        return next((s for s in self.subscriptions if s in self.pending), None)

    def _settle(self) -> list[Action]:
        if self.state is not SessionState.SUBSCRIBING or self.pending:
            return []
        if not self.live:
            return [Stop("the service refused every registration: " + ", ".join(map(str, self.rejected)))]
        self.state = SessionState.STREAMING
        return [Established()]

    def _expect(self, state: SessionState, event: str) -> None:
        if self.state is not state:
            raise RuntimeError(f"{event}() in state {self.state.value}, expected {state.value}")

    @staticmethod
    def next_subscriptions(previous: Iterable[Subscription], rejected: Iterable[Subscription]) -> tuple[
        Subscription, ...
    ]:
        """The registrations of the next connection: the previous ones minus those refused for good."""
        gone = set(rejected)
        return tuple(s for s in previous if s not in gone)
