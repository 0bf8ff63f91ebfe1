"""``@pytest.mark.kis_replay(...)``: what a test asks of its fake KIS server, checked before anything starts.

The marker's words are the CLI's (speed, scenario, clock, only, filter, ...), parsed by the same functions
(:func:`~kis_replay.replayer.parse_speed`, :func:`~kis_replay.replayer.parse_only`), so a test and a shell
command mean the same thing. A mistake is a :class:`MarkerError` whose message quotes the marker and the
bad argument: a typo in a CI marker must fail that test at once with the place to fix, not replay
something else.

Pure: no files are opened here (where the archive is, is :mod:`kis_replay.testing.location`'s job).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ..replayer import FILTER_MODES, ReplayOptionError, parse_only, parse_speed

__all__ = ["CLOCKS", "DEFAULT_DURATION", "DEFAULT_TIMEOUT", "ON_END", "MarkerError", "ReplayMarker"]

CLOCKS = ("per-client", "shared")
ON_END = ("close", "idle")
#: seconds :meth:`wait_until_done` waits unless told otherwise: a hung replay must fail a CI job, not stall it
DEFAULT_TIMEOUT = 30.0
#: seconds a recording lasts unless the marker says ``duration=``
DEFAULT_DURATION = 30.0


class MarkerError(ValueError):
    """A ``kis_replay`` marker argument is invalid; the message names the argument and what is accepted."""


@dataclass(frozen=True)
class ReplayMarker:
    """A test's replay request, as the marker gave it (defaults: the bundled sample, as fast as possible).

    ``archive``: a ``.kisrec.zst`` path, relative to the test file, or a bundled fixture's name;
    ``speed``: ``None`` is ``"max"``; ``scenario``: a built-in name, a ``.toml`` path (relative to the test
    file) or a :class:`~kis_replay.scenarios.Scenario`; ``start``/``end``: KST times of day of the session
    (``"09:00:10"``); ``only``: ``TR_ID[:TR_KEY]`` words; ``timeout``: seconds ``wait_until_done`` waits by
    default. ``subscribe`` and ``duration`` say what to record in the record modes ``once`` and ``all``.
    The other fields are :class:`~kis_replay.fake_server.FakeKisServer`'s arguments of the same names.
    """

    archive: str | None = None
    speed: float | None = None
    scenario: Any = None
    seed: int | None = None
    clock: str = "per-client"
    start: str | None = None
    end: str | None = None
    only: tuple[tuple[str, str | None], ...] = ()
    filter: str = "auto"
    loop: bool = False
    on_end: str = "close"
    approval_key: str | None = None
    allow_shared_key: bool = False
    ping_interval: float | None = 10.0
    queue_size: int = 4096
    settle: float = 0.1
    timeout: float = DEFAULT_TIMEOUT
    subscribe: tuple[str, ...] = ()
    duration: float = DEFAULT_DURATION

    @classmethod
    def from_marks(cls, marks: Iterable[tuple[tuple[Any, ...], Mapping[str, Any]]]) -> ReplayMarker:
        """The request of a test's ``kis_replay`` marks, closest first (a method's marker overrides its
        class's and module's argument by argument)."""
        merged: dict[str, Any] = {}
        for args, kwargs in reversed(list(marks)):  # farthest first, so that closer ones win
            shown = _show(args, kwargs)
            if len(args) > 1:
                raise MarkerError(f"{shown}: takes one positional argument (the archive), got {len(args)}")
            if args:
                if "archive" in kwargs:
                    raise MarkerError(f"{shown}: the archive is given twice (positionally and as archive=)")
                merged["archive"] = (args[0], shown)
            for name, value in kwargs.items():
                merged[name] = (value, shown)
        request = cls()
        known = {f.name for f in fields(cls)}
        changes: dict[str, Any] = {}
        for name, (value, shown) in merged.items():
            if name not in known:
                raise MarkerError(f"{shown}: unknown argument {name!r}; the arguments are {', '.join(sorted(known))}")
            try:
                changes[name] = _PARSERS[name](value)
            except (ReplayOptionError, ValueError, TypeError) as exc:
                raise MarkerError(f"{shown}: {name}={value!r}: {exc}") from None
        request = replace(request, **changes)
        if request.seed is not None and request.scenario is None:
            raise MarkerError(f"{_show((), {'seed': request.seed})}: seed= seeds a scenario's random steps; "
                              "give scenario= too")
        return request

    @property
    def recording_wanted(self) -> bool:
        """Whether the marker says what to record (``subscribe=``)."""
        return bool(self.subscribe)


def _show(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    words = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"@pytest.mark.kis_replay({', '.join(words)})"


def _archive(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        raise TypeError("expected a path or a bundled fixture's name")
    text = os.fspath(value)
    if not text:
        raise ValueError("the archive path is empty")
    return str(text)


def _speed(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_speed(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number or 'max'")
    return parse_speed(str(value))


def _choice(options: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(repr(o) for o in options)}")
        return str(value)

    return parse


def _optional_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    return value


def _time_of_day(value: Any) -> str | None:
    if value is None:
        return None
    from ..archive.session_time import parse_time_of_day

    if not isinstance(value, str):
        raise TypeError("expected a KST time of day such as '09:00:10'")
    parse_time_of_day(value)  # raises ValueError naming the text
    return value


def _words(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of 'TR_ID:TR_KEY' strings")
    return tuple(value)


def _only(value: Any) -> tuple[tuple[str, str | None], ...]:
    return tuple(parse_only(word) for word in _words(value))


def _subscribe(value: Any) -> tuple[str, ...]:
    from ..recorder.subscriptions import SubscriptionError, check_subscriptions, parse_subscription

    words = _words(value)
    try:
        check_subscriptions([parse_subscription(word) for word in words])
    except SubscriptionError as exc:
        raise ValueError(str(exc)) from None
    return words


def _seconds(value: Any) -> float:
    if isinstance(value, str):
        from ..recorder.rotation import parse_duration

        seconds = parse_duration(value)
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected seconds or a duration such as '30s', '2m'")
    else:
        seconds = float(value)
    if not seconds > 0:
        raise ValueError("must be more than 0")
    return seconds


def _optional_seconds(value: Any) -> float | None:
    return None if value is None or value == 0 else _seconds(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected True or False")
    return value


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("expected a positive integer")
    return value


def _non_negative(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError("expected seconds ≥ 0")
    return float(value)


def _scenario(value: Any) -> Any:
    from ..scenarios import Scenario

    if value is None or isinstance(value, Scenario):
        return value
    if not isinstance(value, str | os.PathLike):
        raise TypeError("expected a built-in scenario name, a .toml path or a Scenario")
    return os.fspath(value)


_PARSERS: dict[str, Any] = {
    "archive": _archive,
    "speed": _speed,
    "scenario": _scenario,
    "seed": _optional_int,
    "clock": _choice(CLOCKS),
    "start": _time_of_day,
    "end": _time_of_day,
    "only": _only,
    "filter": _choice(FILTER_MODES),
    "loop": _flag,
    "on_end": _choice(ON_END),
    "approval_key": _optional_text,
    "allow_shared_key": _flag,
    "ping_interval": _optional_seconds,
    "queue_size": _count,
    "settle": _non_negative,
    "timeout": _seconds,
    "subscribe": _subscribe,
    "duration": _seconds,
}
