"""The steps a scenario is made of: one frozen dataclass per step type, checked when built.

Times are integers of nanoseconds of *session* time (the timeline's offsets, before speed scaling: at
``--speed 10`` a 10 s stall lasts 1 s of wall time). A step starts at a KST session time (``at``) or a
replay offset (``after``); frame steps may last a ``duration`` (default: to the end of the replay).
``only`` limits a step to some TRs or routes (``"H0ZFASP0"``, ``"H0ZFASP0:111V06"``), ``clients`` to some
connections by connection order (1 is the first client to connect; a reconnect is a new number).

A bad value raises :class:`StepValueError` naming the key, so the file loader can point at its line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ..codec import REPLY_CODES, get_spec
from ..replayer.options import ReplayOptionError, ReplayOptions, parse_only

__all__ = [
    "MALFORMED_KINDS",
    "STEP_TYPES",
    "Burst",
    "Disconnect",
    "Drop",
    "Duplicate",
    "Latency",
    "Malformed",
    "PingPong",
    "Reject",
    "Reorder",
    "Stall",
    "Step",
    "StepValueError",
]

#: the malformed frames a ``malformed`` step can send, see :mod:`kis_replay.scenarios.malformed`
MALFORMED_KINDS = ("field-count", "count-field", "truncated", "invalid-utf8", "unknown-tr")


class StepValueError(ValueError):
    """A step's value is invalid; ``key`` is the scenario-file key to blame."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _check_duration(key: str, value: int | None, *, positive: bool = True) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise StepValueError(key, f"{key} must be a duration in ns, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise StepValueError(key, f"{key} must be {'positive' if positive else 'zero or more'}, got {value} ns")


def _check_probability(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise StepValueError("probability", f"probability must be a number in (0, 1], got {value!r}")


def _check_int(key: str, value: int, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"≥ {low}"
        raise StepValueError(key, f"{key} must be an integer {bound}, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class Step:
    """What every step has: when it starts, what and whom it applies to, and where it was written."""

    type: ClassVar[str] = ""
    #: whether ``only`` makes sense for this step (frame steps and reject)
    takes_only: ClassVar[bool] = True
    #: whether the step needs ``at`` or ``after`` (a point in time) rather than defaulting to the start
    needs_start: ClassVar[bool] = False

    at: dt.time | None = None
    after: int | None = None
    only: tuple[str, ...] = ()
    clients: tuple[int, ...] = ()
    #: 1-based position in the scenario and line of its ``[[step]]`` header, for messages and the fault log
    number: int = 0
    line: int | None = field(default=None, compare=False)
    _routes: ReplayOptions = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.at is not None and self.after is not None:
            raise StepValueError("after", "give either at (a KST session time) or after (a replay offset), not both")
        if self.needs_start and self.at is None and self.after is None:
            raise StepValueError("type", f"a {self.type} step needs a start: at = 09:03:00 or after = \"30s\"")
        if self.at is not None and not isinstance(self.at, dt.time):
            raise StepValueError("at", f"at must be a time of day, got {self.at!r}")
        _check_duration("after", self.after, positive=False)
        object.__setattr__(self, "only", tuple(self.only))
        object.__setattr__(self, "clients", tuple(self.clients))
        if self.only and not self.takes_only:
            raise StepValueError("only", f"a {self.type} step applies to whole connections: it takes no 'only'")
        pairs = []
        for item in self.only:
            if not isinstance(item, str):
                raise StepValueError("only", f"only entries are strings like \"H0ZFASP0:111V06\", got {item!r}")
            try:
                pairs.append(parse_only(item))
            except ReplayOptionError as exc:
                raise StepValueError("only", str(exc)) from None
        object.__setattr__(self, "_routes", ReplayOptions(only=frozenset(pairs)))
        for client in self.clients:
            _check_int("clients", client, 1)

    def matches(self, tr_id: str, tr_key: str | None) -> bool:
        """Whether a frame of this route is one the step applies to (``only``, empty meaning all)."""
        return self._routes.serves(tr_id, tr_key)

    def applies_to(self, client_no: int) -> bool:
        return not self.clients or client_no in self.clients

    @property
    def label(self) -> str:
        return f"step {self.number} ({self.type})"

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The scenario-file keys of this step type."""
        return tuple(f.name for f in fields(cls) if f.init and f.name not in ("number", "line"))


@dataclass(frozen=True, kw_only=True)
class Burst(Step):
    """Replay ``window`` of the archive compressed into ``within`` (``window`` mode), or inject ``count``
    synthetic frames for ``instruments`` evenly within ``within`` (``count`` mode)."""

    type: ClassVar[str] = "burst"
    needs_start: ClassVar[bool] = True
    within: int
    window: int | None = None
    count: int | None = None
    instruments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_duration("within", self.within)
        _check_duration("window", self.window)
        object.__setattr__(self, "instruments", tuple(self.instruments))
        if (self.window is None) == (self.count is None):
            raise StepValueError(
                "type", "a burst needs either window (replay a stretch of the archive faster) or count and "
                "instruments (inject synthetic frames), not both",
            )
        if self.window is not None:
            if self.instruments:
                raise StepValueError("instruments", "instruments go with count (injection), not with window")
            if self.within >= self.window:
                raise StepValueError("within", "within must be shorter than window: a burst compresses time")
            return
        _check_int("count", self.count, 1, 1_000_000)  # type: ignore[arg-type]
        if not self.instruments:
            raise StepValueError("instruments", "an injecting burst needs instruments = [\"H0ZFASP0:111V06\", …]")
        for item in self.instruments:
            try:
                tr_id, tr_key = parse_only(item) if isinstance(item, str) else (None, None)
            except ReplayOptionError as exc:
                raise StepValueError("instruments", str(exc)) from None
            if tr_id is None or tr_key is None:
                raise StepValueError("instruments", f"instruments are \"TR_ID:CODE\" strings, got {item!r}")
            spec = get_spec(tr_id)
            if spec is None or spec.encrypted:
                raise StepValueError("instruments", f"{item!r}: cannot synthesise frames of TR {tr_id}")

    @property
    def routes(self) -> tuple[tuple[str, str], ...]:
        return tuple(parse_only(item) for item in self.instruments)  # type: ignore[misc]


@dataclass(frozen=True, kw_only=True)
class Stall(Step):
    """Send no frames for ``duration``: they are dropped (``backlog = "drop"``) or all go out when the stall
    ends (``"flush"``). PINGPONG goes on unless ``pingpong = false``."""

    type: ClassVar[str] = "stall"
    needs_start: ClassVar[bool] = True
    duration: int
    pingpong: bool = True
    backlog: str = "drop"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_duration("duration", self.duration)
        if not isinstance(self.pingpong, bool):
            raise StepValueError("pingpong", f"pingpong must be true or false, got {self.pingpong!r}")
        if self.backlog not in ("drop", "flush"):
            raise StepValueError("backlog", f"backlog must be \"drop\" or \"flush\", got {self.backlog!r}")


@dataclass(frozen=True, kw_only=True)
class Disconnect(Step):
    """Close the connection with ``code`` and ``reason``, or drop it without a close frame (``abort``);
    then answer new connections with HTTP 503 for ``refuse``."""

    type: ClassVar[str] = "disconnect"
    takes_only: ClassVar[bool] = False
    needs_start: ClassVar[bool] = True
    code: int = 1001
    reason: str = ""
    abort: bool = False
    refuse: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.abort, bool):
            raise StepValueError("abort", f"abort must be true or false, got {self.abort!r}")
        _check_int("code", self.code, 1000, 4999)
        if self.code in (1004, 1005, 1006, 1015) or 1016 <= self.code < 3000:
            raise StepValueError(
                "code", f"close code {self.code} cannot be sent in a close frame (use abort = true to drop "
                "the connection without one, as a 1006 'abnormal closure' is seen by the client)",
            )
        if not isinstance(self.reason, str) or len(self.reason.encode()) > 123:
            raise StepValueError("reason", "reason must be a string of at most 123 UTF-8 bytes")
        if self.abort and (self.reason or self.code != 1001):
            raise StepValueError("abort", "abort drops the TCP connection without a close frame: no code or reason")
        _check_duration("refuse", self.refuse)


@dataclass(frozen=True, kw_only=True)
class Malformed(Step):
    """Send one malformed frame made from the next frame due (of ``only``), just before it."""

    type: ClassVar[str] = "malformed"
    needs_start: ClassVar[bool] = True
    kind: str
    binary: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind not in MALFORMED_KINDS:
            raise StepValueError("kind", f"kind must be one of {', '.join(MALFORMED_KINDS)}; got {self.kind!r}")
        if not isinstance(self.binary, bool):
            raise StepValueError("binary", f"binary must be true or false, got {self.binary!r}")


@dataclass(frozen=True, kw_only=True)
class _FrameFault(Step):
    """A per-frame fault drawn with ``probability`` from a generator seeded with ``seed`` (else the run's)."""

    probability: float
    duration: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_probability(self.probability)
        _check_duration("duration", self.duration)
        if self.seed is not None:
            _check_int("seed", self.seed, 0)


@dataclass(frozen=True, kw_only=True)
class Duplicate(_FrameFault):
    """Send a frame twice, back to back."""

    type: ClassVar[str] = "duplicate"


@dataclass(frozen=True, kw_only=True)
class Drop(_FrameFault):
    """Do not send a frame."""

    type: ClassVar[str] = "drop"


@dataclass(frozen=True, kw_only=True)
class Reorder(_FrameFault):
    """Hold a frame back and send it after the next ``depth`` frames."""

    type: ClassVar[str] = "reorder"
    depth: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("depth", self.depth, 1, 1000)


@dataclass(frozen=True, kw_only=True)
class Latency(Step):
    """Delay every frame by ``delay`` ± ``jitter`` (uniform); frames of one route stay in order, as on one
    TCP connection, while a delayed route can fall behind an undelayed one."""

    type: ClassVar[str] = "latency"
    delay: int
    jitter: int = 0
    duration: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_duration("delay", self.delay, positive=False)
        _check_duration("jitter", self.jitter, positive=False)
        _check_duration("duration", self.duration)
        if self.seed is not None:
            _check_int("seed", self.seed, 0)
        if self.delay == 0 and self.jitter == 0:
            raise StepValueError("delay", "a latency step needs a delay or a jitter above 0")


@dataclass(frozen=True, kw_only=True)
class Reject(Step):
    """Answer the next ``count`` subscribe requests (of ``only``) with the error ``msg_cd``."""

    type: ClassVar[str] = "reject"
    count: int = 1
    msg_cd: str = "OPSP0008"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("count", self.count, 1)
        errors = [code for code, (rt_cd, _) in REPLY_CODES.items() if rt_cd != "0"]
        if self.msg_cd not in errors:
            raise StepValueError(
                "msg_cd", f"msg_cd {self.msg_cd!r} is not an error code of the service; one of: "
                + ", ".join(f"{code} ({REPLY_CODES[code][1].strip(' :')})" for code in errors),
            )


@dataclass(frozen=True, kw_only=True)
class PingPong(Step):
    """Send PINGPONG every ``interval``, or stop sending it (``stop``); back to normal after ``duration``."""

    type: ClassVar[str] = "pingpong"
    takes_only: ClassVar[bool] = False
    interval: int | None = None
    stop: bool = False
    duration: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.stop, bool):
            raise StepValueError("stop", f"stop must be true or false, got {self.stop!r}")
        _check_duration("interval", self.interval)
        _check_duration("duration", self.duration)
        if self.stop == (self.interval is not None):
            raise StepValueError("interval", "a pingpong step takes interval = \"3s\" or stop = true (one of them)")


#: type name → step class, in the order the README lists them
STEP_TYPES: dict[str, type[Step]] = {
    cls.type: cls
    for cls in (Burst, Stall, Disconnect, Malformed, Duplicate, Reorder, Drop, Latency, Reject, PingPong)
}


def step_from_values(step_type: str, values: dict[str, Any]) -> Step:
    """Build a step of ``step_type`` from already converted values (see :mod:`.scenario_file`)."""
    cls = STEP_TYPES[step_type]
    return cls(**values)
