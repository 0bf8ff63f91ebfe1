"""The replayer: from an archive and a user's options to a timeline of frames and the clock that paces it.

Pure: no sockets, no files of its own (the archive reader streams the records). The fake server consumes
:func:`build_timeline` and :class:`ReplayClock`; the scenarios transform the timeline, which is a plain
iterator of :class:`TimelineEvent` sorted by ``offset_ns``.
"""

from .ciphers import RecordedAck, SessionCiphers, recorded_acks, recorded_ciphers
from .clock import ReplayClock
from .event import TimelineEvent
from .options import FILTER_MODES, ReplayOptionError, ReplayOptions, parse_only, parse_speed
from .quote_filter import WINDOW_NS, QuoteFilter, filter_quotes, is_filtered_quote
from .routes import ArchiveCatalog, archive_routes, scan_catalog
from .timeline import LOOP_GAP_NS, build_timeline, filter_applies, repeat_timeline, session_events

__all__ = [
    "FILTER_MODES",
    "LOOP_GAP_NS",
    "WINDOW_NS",
    "ArchiveCatalog",
    "QuoteFilter",
    "RecordedAck",
    "ReplayClock",
    "ReplayOptionError",
    "ReplayOptions",
    "SessionCiphers",
    "TimelineEvent",
    "archive_routes",
    "build_timeline",
    "filter_applies",
    "filter_quotes",
    "is_filtered_quote",
    "parse_only",
    "parse_speed",
    "recorded_acks",
    "recorded_ciphers",
    "repeat_timeline",
    "scan_catalog",
    "session_events",
]
