"""The fake KIS server: a pure per-connection :class:`KisSession` and a thin asyncio layer on websockets.

``FakeKisServer(archive, options)`` serves an archive (``async with``, or ``run_in_thread()`` for
synchronous code); :class:`KisSession`, :class:`ApprovalKeys` and :class:`Catalog` are the protocol rules,
free of I/O.
"""

from .approval import ApprovalKeys
from .catalog import Catalog
from .feed import Feed
from .server import ClientStats, FakeKisServer, ServerStats, ServerThread, Status
from .session import KisSession, Response, SessionClosedError, SessionState, Subscription

__all__ = [
    "ApprovalKeys",
    "Catalog",
    "ClientStats",
    "FakeKisServer",
    "Feed",
    "KisSession",
    "Response",
    "ServerStats",
    "ServerThread",
    "SessionClosedError",
    "SessionState",
    "Status",
    "Subscription",
]
