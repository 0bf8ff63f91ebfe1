"""A scenario applied to a replay: step times resolved, one seeded stream of actions per client.

``ScenarioRun(scenario, seed=7, session_time=...)`` is pure: the server (or a test) calls
:meth:`ScenarioRun.transform` with a client's timeline and connection number and executes what comes out.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import os
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..archive import ArchiveReader, session_time_to_ns
from ..codec import KST
from ..replayer.event import TimelineEvent
from .actions import ConnectionAction
from .errors import ScenarioError
from .scenario import Scenario
from .steps import Burst, Step
from .transforms import Item, Synthesizer, stage

__all__ = ["ClientStream", "ScenarioRun"]



class ScenarioRun:
    """One replay's use of a scenario.

    ``seed`` overrides the scenario's own (``None`` keeps it); a step's own ``seed`` wins over both.
    ``session_time`` turns a step's ``at`` (a KST time of day) into UTC ns on the archive's session day
    (``kis_replay.archive.session_time_to_ns`` bound to the archive); ``origin_wall_ns`` is the UTC ns of
    offset 0, else read off the first event a transform sees (``wall_ns − offset_ns``).
    ``synthesize`` makes the frames of injecting bursts (default: :mod:`kis_replay.synth` through the codec).
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        *,
        session_time: Callable[[dt.time], int] | None = None,
        origin_wall_ns: int | None = None,
        synthesize: Synthesizer | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.session_time = session_time
        self.origin_wall_ns = origin_wall_ns
        self._synthesize = synthesize
        if session_time is None:
            for step in scenario.steps:
                if step.at is not None:
                    raise ScenarioError(
                        f"at = {step.at} needs the archive's session clock; use after = \"…\" for a replay offset",
                        source=scenario.source, line=step.line, step=step.number, step_type=step.type,
                    )

    @classmethod
    def for_archive(
        cls, scenario: Scenario, reader: ArchiveReader, seed: int | None = None, **kwargs: Any
    ) -> ScenarioRun:
        """A run whose ``at`` times are KST times of day of ``reader``'s session (the first such instant at or
        after the archive's first record, so a night session's ``01:00`` is after midnight)."""
        first = reader.first_wall_ns
        session_time = None
        if first is not None:
            session_time = functools.partial(session_time_to_ns, first_wall_ns=first, tz=reader.header.timezone)
        return cls(scenario, seed, session_time=session_time, **kwargs)

    @classmethod
    def prepare(
        cls, scenario: Scenario | ScenarioRun, archive: str | os.PathLike[str] | None = None, seed: int | None = None
    ) -> ScenarioRun:
        """``scenario`` ready for a server replaying ``archive`` (a path: its session day places ``at``
        times); a :class:`ScenarioRun` is returned as it is."""
        if isinstance(scenario, ScenarioRun):
            return scenario
        if archive is None:
            return cls(scenario, seed)
        with ArchiveReader(archive) as reader:
            return cls.for_archive(scenario, reader, seed)

    def stream(self, events: Iterable[TimelineEvent], client_no: int) -> ClientStream:
        """:meth:`transform` for a server: with the actions due at the connection's start split off."""
        return ClientStream(self.transform(events, client_no))

    def start_of(self, step: Step, origin_wall_ns: int) -> int:
        """The offset (ns) at which ``step`` starts; ``at`` before the replay's origin gives a negative one."""
        if step.after is not None:
            return step.after
        if step.at is not None:
            assert self.session_time is not None
            return self.session_time(step.at) - origin_wall_ns
        return 0

    def _rng(self, step: Step, client_no: int) -> random.Random:
        seed = self.seed if getattr(step, "seed", None) is None else step.seed  # type: ignore[attr-defined]
        return random.Random(f"kis-replay:{seed}:{step.number}:{client_no}")

    def _synthesizer(self) -> Synthesizer:
        if self._synthesize is None:
            from .injection import synthesize_burst

            self._synthesize = synthesize_burst
        return self._synthesize

    def transform(
        self, events: Iterable[TimelineEvent], client_no: int, *, start_ns: int = 0
    ) -> Iterator[Item]:
        """The stream for connection ``client_no`` (1-based, by connection order) of the timeline ``events``.

        ``start_ns`` is the offset at which the client joined: steps due before it do not happen to this
        client (a reconnecting client is not disconnected again by a step it already lived through).
        """
        events = iter(events)
        origin = self.origin_wall_ns
        if origin is None:
            first = next(events, None)
            if first is not None:
                origin = first.wall_ns - first.offset_ns
                events = itertools.chain([first], events)
        if origin is not None and self.origin_wall_ns is None:
            self.origin_wall_ns = origin  # every client's timeline shares the origin: faults show session time
        items: Iterator[Item] = events
        for step in self.scenario.steps:
            if not step.applies_to(client_no):
                continue
            if step.at is not None and origin is None:
                continue  # an empty timeline: there is no session day to place the step on
            start = self.start_of(step, origin or 0)
            duration = getattr(step, "duration", None)
            if step.needs_start:
                if start < start_ns:
                    continue  # a moment this client did not live through
            elif duration is not None and start + duration <= start_ns:
                continue  # a stretch that was over before the client came
            synthesize = self._synthesizer() if isinstance(step, Burst) and step.window is None else None
            items = stage(items, step, start, self._rng(step, client_no),
                          origin_wall_ns=origin or 0, synthesize=synthesize)
        return items

    def fault(self, action: ConnectionAction, client_no: int, origin_wall_ns: int | None = None) -> dict[str, Any]:
        """``action.fault(client_no)`` plus the KST session time of the fault when the origin is known."""
        record = action.fault(client_no)
        origin = self.origin_wall_ns if origin_wall_ns is None else origin_wall_ns
        if origin is not None:
            when = dt.datetime.fromtimestamp((origin + action.offset_ns) / 1e9, KST)
            record["session_time"] = when.strftime("%H:%M:%S.%f")[:-3]
        record["scenario"] = self.scenario.name
        return record


class ClientStream:
    """One connection's scenario stream; :meth:`opening` takes the actions due at offset 0 or before.

    With the per-client clock a replay starts at the client's first subscription, but a step at offset 0
    (``reject`` the first subscriptions, ``pingpong`` stopped from the start) must be in force before
    that: the server applies :meth:`opening` when the client connects, then iterates the rest.
    """

    def __init__(self, items: Iterator[Item]) -> None:
        self._items = items
        self._head: list[Item] = []

    def opening(self) -> list[ConnectionAction]:
        """The leading actions due at offset ≤ 0, consumed."""
        actions = []
        for item in self._items:
            if isinstance(item, ConnectionAction) and item.offset_ns <= 0:
                actions.append(item)
            else:
                self._head.append(item)
                break
        return actions

    def __iter__(self) -> Iterator[Item]:
        yield from self._head
        self._head.clear()
        yield from self._items
