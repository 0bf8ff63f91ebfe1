"""Synthetic frames for an injecting burst, made by :mod:`kis_replay.synth` (so through the codec).

A burst of ``count`` frames for ``instruments`` takes each instrument's first frames of a synthetic
session started at the burst's KST time (the TR's session open when that time is outside its trading
hours), seeded from the run's random generator, and spreads them evenly over ``[start, start + within)``
round-robin across the instruments. The frames are real frames of the TR (field count, types, a
consistent book), so a bot cannot tell them from the feed, only that there are suddenly very many.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

from ..codec import KST
from ..replayer.event import TimelineEvent
from ..synth import SynthError, SynthSession, generate
from .steps import Burst

__all__ = ["synthesize_burst"]

_NS = 1_000_000_000


def _frames(tr_id: str, code: str, n: int, when: dt.datetime, seed: int) -> list[str]:
    """The first ``n`` data frames of a synthetic session of one instrument from ``when`` (KST)."""
    session = None
    for start in (when.time().replace(microsecond=0), None):
        try:
            session = SynthSession.create([tr_id], [f"{tr_id}:{code}"], date=when.date(), start=start,
                                          duration_s=3600, seed=seed, rate=100)
            break
        except SynthError:
            continue
    if session is None:  # the TR has no session on that day at all: take the default trading day
        session = SynthSession.create([tr_id], [f"{tr_id}:{code}"], duration_s=3600, seed=seed, rate=100)
    data = (text for _, text in generate(session) if text[:1] in ("0", "1"))
    frames = list(itertools.islice(data, n))
    while len(frames) < n:  # an hour at the top rate is plenty; repeat rather than fail if not
        frames.extend(frames[: n - len(frames)])
    return frames


def synthesize_burst(step: Burst, start: int, origin_wall_ns: int, rng: random.Random) -> list[TimelineEvent]:
    """The burst's frames as timeline events, sorted by offset, ``count`` of them."""
    assert step.count is not None
    routes = step.routes
    per_route = [step.count // len(routes) + (1 if i < step.count % len(routes) else 0)
                 for i in range(len(routes))]
    wall = origin_wall_ns + start
    when = dt.datetime.fromtimestamp(wall // _NS, KST)
    texts = {route: _frames(*route, n, when, rng.randrange(1 << 30))
             for route, n in zip(routes, per_route, strict=True)}
    order = [routes[i % len(routes)] for i in range(step.count)]
    cursors = dict.fromkeys(routes, 0)
    events = []
    for i, route in enumerate(order):
        text = texts[route][cursors[route]]
        cursors[route] += 1
        offset = start + i * step.within // step.count
        events.append(TimelineEvent(offset, origin_wall_ns + offset, route[0], route[1], text))
    return events
