"""Which routes an archive can serve: the ``(tr_id, tr_key)`` pairs that have data in it.

The fake server uses this to tell a client asking for an instrument the recording never saw from one
asking for a recorded instrument (and the status line lists them). Encrypted frames carry no readable
``tr_key``; their routes are the keys their TR was subscribed with, from the recorded acks.
"""

from __future__ import annotations

from ..archive import ArchiveReader, Direction, RecordKind
from ..codec import peek_route
from .ciphers import recorded_ciphers

__all__ = ["archive_routes"]


def archive_routes(reader: ArchiveReader) -> set[tuple[str, str]]:
    """Every ``(tr_id, tr_key)`` with at least one server→client data frame in the archive.

    One streaming pass over the DATA records (``peek_route`` only, no parse): memory is the set itself.
    """
    routes: set[tuple[str, str]] = set()
    encrypted_trs: set[str] = set()
    for record in reader.records(kinds={RecordKind.DATA}, directions={Direction.SERVER_TO_CLIENT}):
        route = peek_route(record.text)
        if route is None:
            continue
        tr_id, tr_key = route
        if tr_key is None:
            encrypted_trs.add(tr_id)
        else:
            routes.add((tr_id, tr_key))
    if encrypted_trs:
        routes.update(route for route in recorded_ciphers(reader) if route[0] in encrypted_trs)
    return routes
