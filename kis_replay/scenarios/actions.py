"""What a scenario asks the server to do to one connection, besides sending timeline frames.

A client's scenario stream (:meth:`~kis_replay.scenarios.run.ScenarioRun.transform`) is a time-ordered
iterator of :class:`~kis_replay.replayer.event.TimelineEvent` (send this frame to the client if it is
subscribed) and of the :class:`ConnectionAction` subclasses here. The server waits for each item's
``offset_ns`` on its :class:`~kis_replay.replayer.clock.ReplayClock`, executes it, and records
:meth:`ConnectionAction.fault` in its fault log. Every action is an applied fault; :class:`Mark` is one the
stream itself already carries out (a dropped or duplicated frame) and needs only logging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .steps import Step

__all__ = [
    "Abort",
    "Close",
    "ConnectionAction",
    "Mark",
    "RejectSubscriptions",
    "SendRaw",
    "SetPingPong",
]


@dataclass(frozen=True, kw_only=True)
class ConnectionAction:
    """An applied fault due at ``offset_ns`` (session time since the timeline's origin)."""

    offset_ns: int
    step: Step
    #: what happened, for people: ``"dropped H0ZFASP0:111V06 frame"``, ``"close 1011 'maintenance'"``
    what: str

    def fault(self, client_no: int) -> dict[str, Any]:
        """The fault-log entry (JSON-ready): offset, client, step number, type and line, what."""
        return {
            "offset_s": round(self.offset_ns / 1e9, 6),
            "client": client_no,
            "step": self.step.number,
            "type": self.step.type,
            "line": self.step.line,
            "what": self.what,
        }


@dataclass(frozen=True, kw_only=True)
class Mark(ConnectionAction):
    """A fault the stream already applied (frame dropped, duplicated, held back, burst, stall): log only."""


@dataclass(frozen=True, kw_only=True)
class Close(ConnectionAction):
    """Close the connection with a close frame; afterwards refuse new connections until ``refuse_until_ns``."""

    code: int
    reason: str
    refuse_until_ns: int | None = None


@dataclass(frozen=True, kw_only=True)
class Abort(ConnectionAction):
    """Drop the TCP connection without a close frame (``transport.abort()``); then refuse like :class:`Close`."""

    refuse_until_ns: int | None = None


@dataclass(frozen=True, kw_only=True)
class RejectSubscriptions(ConnectionAction):
    """Answer the connection's next ``count`` subscribe requests that ``step.matches`` with ``msg_cd``
    (``build_reply(msg_cd, tr_id=, tr_key=)``) instead of subscribing."""

    count: int
    msg_cd: str


@dataclass(frozen=True, kw_only=True)
class SetPingPong(ConnectionAction):
    """Change the connection's PINGPONG: every ``interval_ns``, ``stop`` sending it, or, with neither, go
    back to the server's own interval."""

    interval_ns: int | None = None
    stop: bool = False


@dataclass(frozen=True, kw_only=True)
class SendRaw(ConnectionAction):
    """Send ``payload`` whatever the client subscribed to: ``str`` as a text frame; ``bytes`` as a binary
    frame (``binary``) or as a text frame carrying bytes that need not be UTF-8."""

    payload: str | bytes
    binary: bool = False
