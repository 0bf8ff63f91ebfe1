"""KRX trading sessions in KST, and the conversion of session time to the archive's UTC nanoseconds.

A synthetic session is simulated on one integer clock: UTC nanoseconds, the archive's own timestamps.
Everything a frame shows of time (``BSOP_HOUR``) is read off that clock in KST, so a night session that
crosses midnight wraps ``235959`` → ``000000`` by construction, never by a special case.
"""

from __future__ import annotations

import datetime as dt
import enum

from ..codec import KST

__all__ = ["NS", "SESSION_OF_TR", "MarketSession", "kst_ns", "kst_time"]

NS = 1_000_000_000
_DAY_NS = 86_400 * NS
_KST_OFFSET_NS = round(KST.utcoffset(None).total_seconds()) * NS


class MarketSession(enum.Enum):
    """A KRX derivatives session: its KST opening and closing times (the night one ends the next day)."""

    DAY = (dt.time(9, 0), dt.time(15, 45))
    NIGHT = (dt.time(18, 0), dt.time(5, 0))

    @property
    def opens(self) -> dt.time:
        return self.value[0]

    @property
    def closes(self) -> dt.time:
        return self.value[1]

    def window(self, day: dt.date) -> tuple[int, int]:
        """``(open_ns, close_ns)`` of this session on trading day ``day`` (a night session closes the next day)."""
        open_ns = kst_ns(day, self.opens)
        close_ns = kst_ns(day, self.closes)
        if close_ns <= open_ns:
            close_ns += _DAY_NS
        return open_ns, close_ns

    def describe(self) -> str:
        return f"{self.name.lower()} session {self.opens:%H:%M}–{self.closes:%H:%M} KST"


#: Which session each TR we synthesise trades in. (KRX index options open at 08:45; synthetic day sessions
#: start every TR at 09:00, the stock market's open, where the burst of the day is.)
SESSION_OF_TR: dict[str, MarketSession] = {
    "H0ZFASP0": MarketSession.DAY,
    "H0IOCNT0": MarketSession.DAY,
    "H0EUASP0": MarketSession.NIGHT,
}


def kst_ns(day: dt.date, time_of_day: dt.time) -> int:
    """UTC nanoseconds of ``time_of_day`` KST on ``day``: pure integer arithmetic, no clock is read."""
    days = (day - dt.date(1970, 1, 1)).days
    seconds = time_of_day.hour * 3600 + time_of_day.minute * 60 + time_of_day.second
    return days * _DAY_NS + seconds * NS + time_of_day.microsecond * 1000 - _KST_OFFSET_NS


def kst_time(ns: int) -> dt.time:
    """The KST time of day (whole seconds, as ``BSOP_HOUR`` shows it) of UTC nanoseconds ``ns``."""
    seconds = ((ns + _KST_OFFSET_NS) // NS) % 86_400
    return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)
