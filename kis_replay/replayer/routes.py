"""Which routes an archive can serve, and with which recorded ciphers: its catalog, read in one pass.

The fake server uses this to tell a client asking for an instrument the recording never saw from one
asking for a recorded instrument (and the status line lists them), and to hand out the recorded acks'
key and iv. Encrypted frames carry no readable ``tr_key``; their routes are the keys their TR was
subscribed with, from the recorded acks.

:func:`scan_catalog` reads the DATA frames and the acks in the same pass: a server start decompresses
the archive once, not once for the routes and again for the ciphers.
"""

from __future__ import annotations

from itertools import groupby, repeat
from operator import attrgetter
from typing import NamedTuple

from ..archive import ArchiveReader, Direction, RecordKind
from ..codec import FrameCipher
from .ciphers import RecordedAck, SessionCiphers, ack_of
from .routing import RouteMemo

__all__ = ["ArchiveCatalog", "archive_routes", "scan_catalog"]

_TEXT = attrgetter("text")
_KIND = attrgetter("kind")


class ArchiveCatalog(NamedTuple):
    """What one pass over an archive finds (see :func:`scan_catalog`)."""

    #: every ``(tr_id, tr_key)`` with at least one server→client data frame (see :func:`archive_routes`)
    routes: set[tuple[str, str]]
    #: ``(tr_id, tr_key)`` → the cipher of the first successful subscribe ack for it (``recorded_ciphers``)
    ciphers: dict[tuple[str, str], FrameCipher]
    #: the TRs with a recorded ack whose first data frame is encrypted: the acks' ``output`` carries a
    #: key and iv for plain TRs too, so the frames, not the acks, say which TRs were encrypted
    encrypted_tr_ids: set[str]


def scan_catalog(reader: ArchiveReader) -> ArchiveCatalog:
    """The archive's routes, recorded ciphers and encrypted TRs, from one streaming pass.

    The server→client DATA and CONTROL records come in file order, in runs of one kind (a recording is
    mostly data, with a PINGPONG or an ack now and then): a run of data frames is routed by C-level maps
    (``peek_route`` memoised per instrument, no Python code per frame), a run of control records goes
    through :func:`~kis_replay.replayer.ciphers.ack_of`. Memory is the distinct routes and the acks.
    """
    records = reader.records(kinds=(RecordKind.DATA, RecordKind.CONTROL), directions=(Direction.SERVER_TO_CLIENT,))
    memo = RouteMemo()
    found: dict[tuple[str, str | None] | None, None] = {}  # distinct routes in order of first frame (None: unroutable)
    acks: list[RecordedAck] = []
    for kind, run in groupby(records, _KIND):
        if kind is RecordKind.DATA:
            found.update(zip(map(memo, map(_TEXT, run)), repeat(None)))
        else:
            acks.extend(filter(None, map(ack_of, run)))
    ciphers = SessionCiphers(acks).ciphers
    first_key: dict[str, str | None] = {}  # tr_id → the tr_key of its first data frame
    for tr_id, tr_key in filter(None, found):
        first_key.setdefault(tr_id, tr_key)
    routes = {(tr_id, tr_key) for tr_id, tr_key in filter(None, found) if tr_key is not None}
    encrypted_frames = {tr_id for tr_id, tr_key in filter(None, found) if tr_key is None}
    routes.update(route for route in ciphers if route[0] in encrypted_frames)
    encrypted = {tr_id for tr_id, _ in ciphers if tr_id in first_key and first_key[tr_id] is None}
    return ArchiveCatalog(routes, ciphers, encrypted)


def archive_routes(reader: ArchiveReader) -> set[tuple[str, str]]:
    """Every ``(tr_id, tr_key)`` with at least one server→client data frame in the archive (an encrypted
    frame's routes: its TR's recorded acks). One pass; see :func:`scan_catalog`."""
    return scan_catalog(reader).routes
