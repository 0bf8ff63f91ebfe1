"""One decoded timeline for many per-client replays: the archive is read once while clients keep up.

With the per-client clock every client replays the session from its own first subscription, so fifty
clients meant fifty reads of the archive: fifty times the decompression, routing and event building for
the same events. :class:`SharedTimeline` reads the timeline in chunks (lists of events) and lets every
replay that starts while the read is young walk the same chunks.

A *pass* is one read of the source. Its chunks form a linked list that only points forward: each replay
(a *cursor*) holds the chunk it is on, and through the links every later one; a chunk that no cursor holds
any more is freed by reference counting, i.e. as soon as every replay has passed it. Bounds on memory:

- a new replay joins the current pass only while the pass is young (at most ``join_chunks`` produced):
  the pass keeps its first chunks for joiners until then; later replays start a pass of their own;
- a cursor more than ``max_lag`` chunks behind the newest is cut loose (a client slower than the others,
  or stalled): the pass drops its hold on it, and when the replay asks for more it reads the source again
  on its own, skipping the chunks it has played (one empty chunk per skipped one, so that its consumer can
  let others run meanwhile). The source is deterministic, so what it then plays is what it would have.

So memory is at most ``max(join_chunks, max_lag)`` chunks per pass, however many clients share it. A
session short enough to fit in the young pass (``join_chunks`` chunks) is kept once read: a test suite
whose bots replay a small fixture one after the other reads it once. Pure Python with no event loop; a
lock makes one pass safe to share between servers on different threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence

from ..replayer import TimelineEvent

__all__ = ["CHUNK_EVENTS", "SharedTimeline"]

#: events per chunk: large enough that per-chunk bookkeeping is noise, small enough to be cheap to hold
CHUNK_EVENTS = 512

Chunk = Sequence[TimelineEvent]


class _Node:
    """One chunk of a pass, linked to the next once that is read."""

    __slots__ = ("events", "index", "next")

    def __init__(self, events: Chunk, index: int) -> None:
        self.events = events
        self.index = index
        self.next: _Node | None = None


class _Cursor:
    """Where one replay is in its pass: ``node`` is the chunk it played last (``None`` once cut loose)."""

    __slots__ = ("node", "played")

    def __init__(self, node: _Node) -> None:
        self.node: _Node | None = node
        self.played = 0  # chunks handed out, the skip count should it be cut loose


class _Pass:
    """One read of the source and the cursors walking it."""

    __slots__ = ("cursors", "error", "exhausted", "source", "start")

    def __init__(self, source: Iterator[Chunk]) -> None:
        self.source = source
        self.start: _Node | None = _Node((), -1)  # before chunk 0; dropped when the pass is no longer young
        self.cursors: set[_Cursor] = set()
        self.exhausted = False
        self.error: BaseException | None = None


class SharedTimeline:
    """``chunks()`` iterates the timeline in chunks, sharing one read of ``source()`` between the
    iterations that run together (see the module's docstring).

    ``source`` returns a fresh iterator of chunks each time it is called, the same chunks every time.
    """

    def __init__(
        self,
        source: Callable[[], Iterator[Chunk]],
        *,
        join_chunks: int = 16,
        max_lag: int = 64,
    ) -> None:
        if not 1 <= join_chunks <= max_lag:
            raise ValueError(f"need 1 <= join_chunks <= max_lag (a joiner must not start cut loose), got "
                             f"join_chunks={join_chunks}, max_lag={max_lag}")
        self._source = source
        self.join_chunks = join_chunks
        self.max_lag = max_lag
        self._lock = threading.RLock()  # re-entrant: a collected cursor may leave while another holds it
        self._current: _Pass | None = None  # the pass a new replay joins, while it is young
        #: passes started (reads of the source, private re-reads of cut-loose cursors included)
        self.reads = 0

    def chunks(self) -> Iterator[Chunk]:
        """The timeline, chunk by chunk, from its start. An empty chunk means nothing is due yet (a replay
        that was cut loose re-reading what it has already played).

        Lazy: the replay joins a pass (or starts one) when it asks for its first chunk, and leaves it when
        it ends or is closed; the last one out closes the source.
        """
        with self._lock:
            run = self._current
            if run is None or run.start is None:
                run = self._current = _Pass(self._source())
                self.reads += 1
            cursor = _Cursor(run.start)  # type: ignore[arg-type]  (a young pass has its start)
            run.cursors.add(cursor)
        try:
            while True:
                with self._lock:
                    events = self._advance(run, cursor)  # never a node here: it would hold all that follow
                if events is None:
                    break
                cursor.played += 1
                yield events
        finally:
            with self._lock:
                self._leave(run, cursor)
        if cursor.node is None:  # cut loose: on its own from here
            yield from self._alone(cursor.played)

    def _advance(self, run: _Pass, cursor: _Cursor) -> Chunk | None:
        """The cursor's next chunk (reading it from the source when it is the newest), or ``None`` at the
        end or when the cursor was cut loose. Called with the lock held."""
        node = cursor.node
        if node is None:
            return None
        following = node.next
        if following is None:
            if run.error is not None:
                raise run.error
            if run.exhausted:
                return None
            try:
                events = next(run.source)
            except StopIteration:
                run.exhausted = True
                return None
            except BaseException as exc:
                run.error = exc
                raise
            following = node.next = _Node(events, node.index + 1)
            if run.start is not None and following.index >= self.join_chunks:
                run.start = None  # no longer young: the first chunks go once every cursor has passed them
            for other in list(run.cursors):  # cut loose whoever is too far behind, freeing what it held
                if other.node is not None and following.index - other.node.index > self.max_lag:
                    other.node = None
        cursor.node = following
        return following.events

    def _leave(self, run: _Pass, cursor: _Cursor) -> None:
        """The cursor is done with the pass; the last one out closes the source (and its archive).

        A pass that read the whole timeline while still young is kept: a session that small (at most
        ``join_chunks`` chunks) is read once, and every later replay walks it from memory.
        """
        run.cursors.discard(cursor)
        if not run.cursors:
            _close(run.source)
            if self._current is run and not (run.exhausted and run.start is not None):
                self._current = None

    def _alone(self, played: int) -> Iterator[Chunk]:
        """A cut-loose replay: its own read of the source, from where it was."""
        with self._lock:
            self.reads += 1
        source = self._source()
        try:
            for skipped, chunk in enumerate(source):
                yield chunk if skipped >= played else ()
        finally:
            _close(source)


def _close(source: Iterator[Chunk]) -> None:
    """Close a source that can be closed (a generator: its ``finally`` closes the archive)."""
    close = getattr(source, "close", None)
    if close is not None:
        close()
