"""The steps as transformations of one client's stream: iterator of items in, iterator of items out.

An item is a :class:`~kis_replay.replayer.event.TimelineEvent` or a
:class:`~kis_replay.scenarios.actions.ConnectionAction`; every stage keeps its output sorted by
``offset_ns`` (ties keep their input order), so stages compose in the scenario's step order and the server
can simply wait for each item's time. A stage never touches an item it does not apply to, and passes
connection actions through unchanged.

Each stage gets its step, the step's start offset (``at``/``after`` already resolved) and, for the random
steps, a :class:`random.Random` seeded for (seed, step, client): the same input gives the same output.
Stages read ahead only as far as they must (a burst's window, a stall's frames to flush, reordered
frames), so a stream stays lazy and its memory bounded by the step, not by the archive.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from ..replayer.event import TimelineEvent
from .actions import (
    Abort,
    Close,
    ConnectionAction,
    Mark,
    RejectSubscriptions,
    SendRaw,
    SetPingPong,
)
from .malformed import make_malformed
from .steps import (
    Burst,
    Disconnect,
    Drop,
    Duplicate,
    Latency,
    Malformed,
    PingPong,
    Reject,
    Reorder,
    Stall,
    Step,
)
from .times import format_duration

__all__ = ["Item", "Synthesizer", "insert_actions", "stage"]

Item = TimelineEvent | ConnectionAction
#: makes a burst's synthetic frames: (step, start offset, origin wall ns, rng) → events sorted by offset
Synthesizer = Callable[[Burst, int, int, random.Random], list[TimelineEvent]]


def _route(event: TimelineEvent) -> str:
    return event.tr_id if event.tr_key is None else f"{event.tr_id}:{event.tr_key}"


def _at(event: TimelineEvent, offset_ns: int) -> TimelineEvent:
    """``event`` due at ``offset_ns`` (the constructor: ``dataclasses.replace`` is 5x slower per frame)."""
    return TimelineEvent(offset_ns, event.wall_ns, event.tr_id, event.tr_key, event.text)


def _matcher(step: Step) -> Callable[[str, str | None], bool]:
    """``step.matches``, or a constant when the step has no ``only`` (the per-frame hot path)."""
    return step.matches if step.only else (lambda tr_id, tr_key: True)


def _end(start: int, duration: int | None) -> float:
    return float("inf") if duration is None else start + duration


def insert_actions(items: Iterable[Item], actions: list[ConnectionAction]) -> Iterator[Item]:
    """Merge ``actions`` (sorted by offset) into ``items``: an action goes before frames of the same time but
    after actions of the same time (earlier steps' first), and actions due after the last item still come,
    at their own times."""
    pending = deque(actions)
    for item in items:
        while pending and (pending[0].offset_ns < item.offset_ns or (
                pending[0].offset_ns == item.offset_ns and isinstance(item, TimelineEvent))):
            yield pending.popleft()
        yield item
    yield from pending


# -- per-frame faults ----------------------------------------------------------------------------------------


def _drop(items: Iterable[Item], step: Drop, start: int, rng: random.Random) -> Iterator[Item]:
    end = _end(start, step.duration)
    for item in items:
        if (isinstance(item, TimelineEvent) and start <= item.offset_ns < end
                and step.matches(item.tr_id, item.tr_key) and rng.random() < step.probability):
            yield Mark(offset_ns=item.offset_ns, step=step, what=f"dropped a {_route(item)} frame")
            continue
        yield item


def _duplicate(items: Iterable[Item], step: Duplicate, start: int, rng: random.Random) -> Iterator[Item]:
    end = _end(start, step.duration)
    for item in items:
        yield item
        if (isinstance(item, TimelineEvent) and start <= item.offset_ns < end
                and step.matches(item.tr_id, item.tr_key) and rng.random() < step.probability):
            yield Mark(offset_ns=item.offset_ns, step=step, what=f"sent a {_route(item)} frame twice")
            yield item


def _reorder(items: Iterable[Item], step: Reorder, start: int, rng: random.Random) -> Iterator[Item]:
    """A chosen frame waits until ``depth`` later frames went out, then goes out at the last one's time."""
    end = _end(start, step.duration)
    held: deque[list] = deque()  # [event, frames still to pass it]
    last = 0

    def release(at: int) -> Iterator[Item]:
        while held and held[0][1] <= 0:
            event, _ = held.popleft()
            yield Mark(offset_ns=at, step=step,
                       what=f"sent a {_route(event)} frame of {event.offset_ns / 1e9:.6f}s after "
                            f"{step.depth} later frame(s)")
            yield _at(event, at)

    for item in items:
        last = item.offset_ns
        if not isinstance(item, TimelineEvent):
            yield item
            continue
        if (start <= item.offset_ns < end and step.matches(item.tr_id, item.tr_key)
                and rng.random() < step.probability):
            held.append([item, step.depth])
            continue
        yield item
        for entry in held:
            entry[1] -= 1
        yield from release(item.offset_ns)
    for entry in held:
        entry[1] = 0
    yield from release(last)


def _latency(items: Iterable[Item], step: Latency, start: int, rng: random.Random) -> Iterator[Item]:
    """Delayed frames wait in a heap until no later input can come before them."""
    end = _end(start, step.duration)
    what = f"latency {format_duration(step.delay)}" + (f" ± {format_duration(step.jitter)}" if step.jitter else "")
    if step.only:
        what += f" on {', '.join(step.only)}"
    marks: list[ConnectionAction] = [Mark(offset_ns=start, step=step, what=f"{what} begins")]
    if step.duration is not None:
        marks.append(Mark(offset_ns=start + step.duration, step=step, what=f"{what} ends"))
    heap: list[tuple[int, int, Item]] = []
    last_out: dict[tuple[str, str | None], int] = {}
    matches, delay, jitter, draw = _matcher(step), step.delay, step.jitter, rng.random
    push, pop = heapq.heappush, heapq.heappop
    for seq, item in enumerate(insert_actions(items, marks)):
        t = item.offset_ns
        while heap and heap[0][0] <= t:
            yield pop(heap)[2]
        out = t
        if type(item) is TimelineEvent and start <= t < end and matches(item.tr_id, item.tr_key):
            out = t + delay + (int(draw() * (2 * jitter + 1)) - jitter if jitter else 0)
            route = (item.tr_id, item.tr_key)
            out = max(out, t, last_out.get(route, t))  # one route never overtakes itself
            last_out[route] = out
            item = _at(item, out)
        push(heap, (out, seq, item))
    while heap:
        yield heapq.heappop(heap)[2]


# -- time-shape steps ----------------------------------------------------------------------------------------


def _burst_window(items: Iterable[Item], step: Burst, start: int) -> Iterator[Item]:
    """Frames of ``[start, start + window)`` go out within ``[start, start + within)``, keeping their
    relative spacing; the rest of the window is then quiet, so later steps' times stay session times."""
    assert step.window is not None
    end = start + step.window
    window: list[Item] = []
    done = False

    def flush() -> Iterator[Item]:
        compressed = 0
        out: list[tuple[int, int, Item]] = []
        for i, item in enumerate(window):
            if isinstance(item, TimelineEvent) and step.matches(item.tr_id, item.tr_key):
                item = _at(item, start + (item.offset_ns - start) * step.within // step.window)
                compressed += 1
            out.append((item.offset_ns, i, item))
        out.sort(key=lambda entry: entry[:2])
        what = (f"burst: {compressed} frames of {format_duration(step.window)} sent within "
                f"{format_duration(step.within)}")
        yield Mark(offset_ns=start, step=step, what=what)
        for _, _, item in out:
            yield item

    for item in items:
        if done or item.offset_ns < start:
            yield item
        elif item.offset_ns < end:
            window.append(item)
        else:
            yield from flush()
            done = True
            yield item
    if not done:
        yield from flush()


def _burst_inject(
    items: Iterable[Item], step: Burst, start: int, events: list[TimelineEvent]
) -> Iterator[Item]:
    mark = Mark(offset_ns=start, step=step,
                what=f"burst: {len(events)} synthetic frames of {', '.join(step.instruments)} within "
                     f"{format_duration(step.within)}")
    pending: deque[Item] = deque([mark, *events])
    for item in items:
        while pending and pending[0].offset_ns <= item.offset_ns:
            yield pending.popleft()
        yield item
    yield from pending


def _stall(items: Iterable[Item], step: Stall, start: int) -> Iterator[Item]:
    """No frame (of ``only``) goes out in ``[start, start + duration)``; held frames are dropped or go out
    at the end. PINGPONG stops and restarts through :class:`SetPingPong` when ``pingpong = false``."""
    end = start + step.duration
    what = f"stall {format_duration(step.duration)} begins (PINGPONG {'goes on' if step.pingpong else 'stops'})"
    first: ConnectionAction = (Mark(offset_ns=start, step=step, what=what) if step.pingpong
                               else SetPingPong(offset_ns=start, step=step, what=what, stop=True))
    held: list[TimelineEvent] = []
    started = ended = False

    def finish() -> Iterator[Item]:
        verb = "sent now" if step.backlog == "flush" else "dropped"
        what = f"stall ends: {len(held)} frame(s) {verb}"
        if step.pingpong:
            yield Mark(offset_ns=end, step=step, what=what)
        else:
            yield SetPingPong(offset_ns=end, step=step, what=what + "; PINGPONG back to normal")
        if step.backlog == "flush":
            for event in held:
                yield _at(event, end)

    for item in items:
        t = item.offset_ns
        if not started and t >= start:
            started = True
            yield first
        if started and not ended and t >= end:
            ended = True
            yield from finish()
        if (started and not ended and isinstance(item, TimelineEvent)
                and step.matches(item.tr_id, item.tr_key)):
            held.append(item)
            continue
        yield item
    if not started:
        yield first
    if not ended:
        yield from finish()


# -- connection steps ----------------------------------------------------------------------------------------


def _disconnect(items: Iterable[Item], step: Disconnect, start: int) -> Iterator[Item]:
    refuse_until = start + step.refuse if step.refuse is not None else None
    then = f"; refusing new connections for {format_duration(step.refuse)}" if step.refuse else ""
    action: ConnectionAction
    if step.abort:
        action = Abort(offset_ns=start, step=step, what=f"dropped the TCP connection (no close frame){then}",
                       refuse_until_ns=refuse_until)
    else:
        action = Close(offset_ns=start, step=step, what=f"close {step.code} {step.reason!r}{then}",
                       code=step.code, reason=step.reason, refuse_until_ns=refuse_until)
    return insert_actions(items, [action])


def _reject(items: Iterable[Item], step: Reject, start: int) -> Iterator[Item]:
    scope = f" to {', '.join(step.only)}" if step.only else ""
    action = RejectSubscriptions(offset_ns=start, step=step, count=step.count, msg_cd=step.msg_cd,
                                 what=f"the next {step.count} subscription(s){scope} get {step.msg_cd}")
    return insert_actions(items, [action])


def _pingpong(items: Iterable[Item], step: PingPong, start: int) -> Iterator[Item]:
    what = "PINGPONG stops" if step.stop else f"PINGPONG every {format_duration(step.interval or 0)}"
    actions: list[ConnectionAction] = [
        SetPingPong(offset_ns=start, step=step, what=what, interval_ns=step.interval, stop=step.stop)
    ]
    if step.duration is not None:
        actions.append(SetPingPong(offset_ns=start + step.duration, step=step, what="PINGPONG back to normal"))
    return insert_actions(items, actions)


def _malformed(items: Iterable[Item], step: Malformed, start: int) -> Iterator[Item]:
    """Just before the first frame (of ``only``) due at or after ``start``, send a broken copy of it; when the
    stream has none, use the last such frame before ``start``."""
    last: TimelineEvent | None = None
    sent = False

    def action(base: TimelineEvent, at: int) -> SendRaw:
        payload = make_malformed(step.kind, base.text)
        binary = step.binary
        if binary and isinstance(payload, str):
            payload = payload.encode("utf-8")
        frame = "binary frame" if binary else ("text frame of raw bytes" if isinstance(payload, bytes)
                                               else "text frame")
        return SendRaw(offset_ns=at, step=step, payload=payload, binary=binary,
                       what=f"{step.kind} {frame} made from a {_route(base)} frame")

    end = start
    for item in items:
        end = max(end, item.offset_ns)
        if not sent and isinstance(item, TimelineEvent) and step.matches(item.tr_id, item.tr_key):
            if item.offset_ns >= start:
                sent = True
                yield action(item, item.offset_ns)
            else:
                last = item
        yield item
    if not sent:  # at the end of the stream, or at start if that is later
        if last is not None:
            yield action(last, end)
        else:
            yield Mark(offset_ns=end, step=step,
                       what=f"{step.kind}: not sent, no frame{' of ' + ', '.join(step.only) if step.only else ''} "
                            "to make it from")


def stage(
    items: Iterable[Item],
    step: Step,
    start: int,
    rng: random.Random,
    *,
    origin_wall_ns: int = 0,
    synthesize: Synthesizer | None = None,
) -> Iterator[Item]:
    """The stream ``items`` with ``step`` applied, starting at offset ``start``."""
    if isinstance(step, Drop):
        return _drop(items, step, start, rng)
    if isinstance(step, Duplicate):
        return _duplicate(items, step, start, rng)
    if isinstance(step, Reorder):
        return _reorder(items, step, start, rng)
    if isinstance(step, Latency):
        return _latency(items, step, start, rng)
    if isinstance(step, Burst):
        if step.window is not None:
            return _burst_window(items, step, start)
        if synthesize is None:
            raise RuntimeError("an injecting burst needs a synthesizer")
        return _burst_inject(items, step, start, synthesize(step, start, origin_wall_ns, rng))
    if isinstance(step, Stall):
        return _stall(items, step, start)
    if isinstance(step, Disconnect):
        return _disconnect(items, step, start)
    if isinstance(step, Reject):
        return _reject(items, step, start)
    if isinstance(step, PingPong):
        return _pingpong(items, step, start)
    if isinstance(step, Malformed):
        return _malformed(items, step, start)
    raise TypeError(f"no transformation for {type(step).__name__}")
