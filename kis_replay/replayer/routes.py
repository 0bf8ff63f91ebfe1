"""Which routes an archive can serve: the ``(tr_id, tr_key)`` pairs that have data in it.

The fake server uses this to tell a client asking for an instrument the recording never saw from one
asking for a recorded instrument (and the status line lists them). Encrypted frames carry no readable
``tr_key``; their routes are the keys their TR was subscribed with, from the recorded acks.
"""

from __future__ import annotations

from operator import attrgetter

from ..archive import ArchiveReader, Direction, RecordKind
from .ciphers import recorded_ciphers
from .routing import RouteMemo

__all__ = ["archive_routes"]

_TEXT = attrgetter("text")


def archive_routes(reader: ArchiveReader) -> set[tuple[str, str]]:
    """Every ``(tr_id, tr_key)`` with at least one server→client data frame in the archive.

    One streaming pass over the DATA records (``peek_route`` only, no parse, memoised per instrument):
    memory is the set itself.
    """
    records = reader.records(kinds={RecordKind.DATA}, directions={Direction.SERVER_TO_CLIENT})
    found = set(map(RouteMemo(), map(_TEXT, records)))  # the distinct routes (None: not a data frame)
    routes = {(tr_id, tr_key) for tr_id, tr_key in filter(None, found) if tr_key is not None}
    encrypted_trs = {tr_id for tr_id, tr_key in filter(None, found) if tr_key is None}
    if encrypted_trs:
        routes.update(route for route in recorded_ciphers(reader) if route[0] in encrypted_trs)
    return routes
