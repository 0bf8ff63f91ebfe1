"""What a server plays: the archive's catalog and a timeline it can start over for each client.

With ``--clock per-client`` every client replays the session from its own first subscription, so the
server needs the timeline as a *factory*: each call starts the session over, in bounded memory, instead
of holding the session in memory. :meth:`Feed.from_archive` builds it with the replayer's
:func:`~kis_replay.replayer.build_timeline`, in chunks that replays running together share (a
:class:`~kis_replay.fake_server.shared_timeline.SharedTimeline`: fifty clients, one read of the archive);
:meth:`Feed.from_events` plays events already in memory (tests, scenarios that generate their own
timeline).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

from ..codec import FrameCipher
from ..replayer import ReplayOptions, TimelineEvent, repeat_timeline
from .catalog import Catalog
from .shared_timeline import CHUNK_EVENTS, SharedTimeline

__all__ = ["Feed"]


@dataclass(frozen=True)
class Feed:
    """``catalog``: what the session judges requests against; ``timeline()``: a fresh timeline, sorted by
    ``offset_ns``, each time it is called; ``name``: what the logs call it (the archive's path);
    ``chunks()``, when given: the same timeline in lists of events (see :meth:`chunked`)."""

    catalog: Catalog
    timeline: Callable[[], Iterator[TimelineEvent]]
    name: str = "timeline"
    chunks: Callable[[], Iterator[Sequence[TimelineEvent]]] | None = None

    def chunked(self) -> Iterator[Sequence[TimelineEvent]]:
        """A fresh timeline in chunks: what the server's replay loop walks (a list at a time costs it no
        Python call per event). An empty chunk means nothing is due yet, a point to let others run."""
        if self.chunks is not None:
            return self.chunks()
        return _batched(self.timeline())

    @classmethod
    def from_archive(cls, path: str | os.PathLike[str], options: ReplayOptions | None = None) -> Feed:
        """The feed of the archive at ``path`` under ``options`` (speed is the server's business).

        Reads the archive once up front for its catalog (:func:`~kis_replay.replayer.scan_catalog`);
        raises :class:`~kis_replay.archive.ArchiveError` (naming the file) when it is not a readable archive.
        """
        from ..archive import ArchiveReader
        from ..replayer import build_timeline, scan_catalog

        options = options or ReplayOptions()
        path = Path(path)
        with ArchiveReader(path) as reader:
            scanned = scan_catalog(reader)
        served = {route for route in scanned.routes if options.serves(*route)}
        encrypted = {tr_id for tr_id in scanned.encrypted_tr_ids if options.serves(tr_id, None)}
        catalog = Catalog.of(served, encrypted, scanned.ciphers)

        def source() -> Iterator[list[TimelineEvent]]:
            with ArchiveReader(path) as reader:  # closed when the replay ends or is dropped
                yield from _batched(build_timeline(reader, options))

        shared = SharedTimeline(source)

        def timeline() -> Iterator[TimelineEvent]:
            return chain.from_iterable(shared.chunks())

        return cls(catalog, timeline, str(path), shared.chunks)

    @classmethod
    def from_events(
        cls,
        events: Sequence[TimelineEvent],
        *,
        ciphers: Mapping[tuple[str, str], FrameCipher] | None = None,
        loop: bool = False,
        name: str = "timeline",
    ) -> Feed:
        """A feed of ``events`` (sorted by ``offset_ns``); routes and encrypted TRs are read off them."""
        events = tuple(events)
        routes = {(e.tr_id, e.tr_key) for e in events if e.tr_key is not None}
        encrypted = {e.tr_id for e in events if e.tr_key is None}
        catalog = Catalog.of(routes, encrypted, ciphers)

        def once() -> Iterable[TimelineEvent]:
            return iter(events)

        def timeline() -> Iterator[TimelineEvent]:
            return repeat_timeline(once) if loop else iter(events)

        def chunks() -> Iterator[Sequence[TimelineEvent]]:
            return _batched(repeat_timeline(once)) if loop else iter((events,))

        return cls(catalog, timeline, name, chunks)


def _batched(events: Iterator[TimelineEvent]) -> Iterator[list[TimelineEvent]]:
    """``events`` in lists of :data:`~kis_replay.fake_server.shared_timeline.CHUNK_EVENTS`."""
    while chunk := list(islice(events, CHUNK_EVENTS)):
        yield chunk

