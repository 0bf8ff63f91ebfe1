"""The fake KIS server: a pure per-connection :class:`KisSession` and a thin asyncio layer on websockets."""

from .approval import ApprovalKeys
from .catalog import Catalog
from .session import KisSession, Response, SessionClosedError, SessionState, Subscription

__all__ = [
    "ApprovalKeys",
    "Catalog",
    "KisSession",
    "Response",
    "SessionClosedError",
    "SessionState",
    "Subscription",
]
