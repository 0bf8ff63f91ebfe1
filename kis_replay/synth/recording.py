"""A synthetic session written as a recording: the one part of :mod:`kis_replay.synth` that touches a file.

The archive looks like what ``kis-replay record`` writes for one connection: OPENED, each subscribe
request (approval key already :data:`~kis_replay.codec.REDACTED`) followed by its ack, the data frames,
CLOSED. The header says ``source="synthetic"`` and ``filtered=False`` (no 0.2 s filter was applied, so
the replayer's filter has something to do) and carries the generator parameters as labels.

Bytes are a function of the session alone: timestamps come from the simulation clock, ``created`` is
the moment the simulated connection opened, and the writer's flushes are not timed by the real clock.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..archive import ArchiveHeader, ArchiveWriter, Direction, RecordKind
from ..codec import REDACTED, SubscribeRequest, is_data_frame, parse_reply
from .generator import generate
from .market_hours import NS, kst_ns
from .session import SynthSession

__all__ = ["SynthSummary", "write_archive"]

_MS = 1_000_000


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`write_archive` wrote."""

    path: Path
    frames: int  #: data frames
    records: int  #: data records (a trade frame can carry several)
    first_ns: int  #: wall time of the first data frame (0 if none)
    last_ns: int
    bytes: int


def header_for(session: SynthSession, labels: dict[str, str] | None = None) -> ArchiveHeader:
    """The archive header of ``session``; ``created`` is the simulated connection's opening instant."""
    opened = _opened_ns(session)
    created = dt.datetime.fromtimestamp(opened // NS, dt.UTC).isoformat(timespec="milliseconds")
    return ArchiveHeader(
        source="synthetic",
        subscriptions=[{"tr_id": tr_id, "tr_key": tr_key} for tr_id, tr_key in session.subscriptions],
        labels={**session.labels(), **(labels or {})},
        filtered=False,
        created=created,
    )


def _opened_ns(session: SynthSession) -> int:
    return session.start_ns - NS  # a second before the start: before every ack (see generator.acks)


def write_archive(
    session: SynthSession, path: str | os.PathLike[str], *, labels: dict[str, str] | None = None
) -> SynthSummary:
    """Generate ``session`` into an archive at ``path`` (replaced atomically when complete)."""
    path = Path(path)
    partial = path.with_name(path.name + ".part")
    midnight = kst_ns(session.date, dt.time(0))
    frames = records = 0
    first = last = 0

    def mono(wall_ns: int) -> int:
        return wall_ns - midnight  # the simulated process's monotonic clock: ns since the day began

    try:
        # flush_interval=inf: blocks end where the data says, not where the real clock happens to be.
        with ArchiveWriter(partial, header_for(session, labels), flush_interval=float("inf"), fsync=False) as out:
            opened = _opened_ns(session)
            out.write(RecordKind.OPENED, b"synthetic", direction=Direction.NONE, wall_ns=opened,
                      mono_ns=mono(opened))
            for wall_ns, text in generate(session):
                if is_data_frame(text):
                    out.write(RecordKind.DATA, text, wall_ns=wall_ns, mono_ns=mono(wall_ns))
                    frames += 1
                    records += int(text.split("|", 3)[2])
                    first = first or wall_ns
                    last = wall_ns
                    continue
                reply = parse_reply(text)
                request = SubscribeRequest(reply.tr_id, reply.tr_key, approval_key=REDACTED).to_json()
                sent = wall_ns - _MS
                out.write(RecordKind.CONTROL, request, direction=Direction.CLIENT_TO_SERVER,
                          wall_ns=sent, mono_ns=mono(sent))
                out.write(RecordKind.CONTROL, text, wall_ns=wall_ns, mono_ns=mono(wall_ns))
            closed = max(last, session.end_ns)
            info = json.dumps({"code": 1000, "reason": "synthetic session ended", "by": "client"},
                              separators=(",", ":"))
            out.write(RecordKind.CLOSED, info, direction=Direction.NONE, wall_ns=closed, mono_ns=mono(closed))
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return SynthSummary(path, frames, records, first, last, path.stat().st_size)
