"""Instrument codes: what a synthetic session's ``tr_key`` means, and which codes each TR accepts.

KRX short codes, as they appear in KIS's own examples (``111V06``, ``101W09``, ``201S11305``,
``301V06362``)::

    1 11 V 06        futures:  kind 1, underlying 11, year V (2024), month 06
    2 01 S 11 305    option:   kind 2 (call) / 3 (put), underlying 01 (KOSPI 200), year S (2022),
                               month 11, strike 305 (a strike ending in 2 or 7 is x2.5 / x7.5)
    2 01 X C  350    the older 8-character option form: one month character 1-9, A-C

The simulation needs only the option's kind, strike and expiry; the expiry is the second Thursday of the
code's month. A code whose year or month we cannot read, or whose expiry is before the session, is priced
as the front month after the session date instead: a user asking for ``201S11305`` in 2026 still gets a
consistent (if anachronistic) tape, rather than an error about a field we only use for realism.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from decimal import Decimal

from ..codec import get_spec

__all__ = [
    "DEFAULT_SYMBOLS",
    "Instrument",
    "InstrumentKind",
    "SymbolError",
    "parse_instrument",
]

#: Year letters of KRX derivative codes (I, O and U are skipped): A = 2006 … S = 2022, T = 2023, V = 2024.
_YEAR_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"
_FIRST_YEAR = 2006
_MONTH_CHARS = "123456789ABC"

_FUTURE = re.compile(r"1[0-9A-Z]{5,8}\Z")
_OPTION = re.compile(r"[23][0-9A-Z]{4,5}[0-9]{3}\Z")

#: Symbols of a session when the user names none: two stock futures; four KOSPI 200 options around 350
#: (December 2026, the front month after the default date).
DEFAULT_SYMBOLS: dict[str, tuple[str, ...]] = {
    "H0ZFASP0": ("111X12", "112X12"),
    "H0IOCNT0": ("201X12350", "201X12355", "301X12350", "301X12345"),
    "H0EUASP0": ("201X12352", "301X12347"),
}

_ACCEPTS = {
    "H0ZFASP0": ("future", "a stock-futures code like 111X12 (6-9 letters/digits starting with 1)"),
    "H0IOCNT0": ("option", "an index-option code like 201X12350 (calls 2…, puts 3…; 8-9 characters)"),
    "H0EUASP0": ("option", "a night-option code like 301X12347 (calls 2…, puts 3…; 9 characters)"),
}


class SymbolError(ValueError):
    """A symbol that the TR it was given for cannot carry; the message names both and what is expected."""


class InstrumentKind(enum.Enum):
    FUTURE = "future"
    CALL = "call"
    PUT = "put"


@dataclass(frozen=True)
class Instrument:
    """A parsed instrument code. ``strike`` and ``expiry`` are set for options only."""

    code: str
    kind: InstrumentKind
    underlying: str
    strike: Decimal | None = None
    expiry: dt.date | None = None

    @property
    def is_option(self) -> bool:
        return self.kind is not InstrumentKind.FUTURE


def accepted_symbols(tr_id: str) -> str:
    """What ``tr_id`` accepts, for error messages."""
    return _ACCEPTS[tr_id][1]


def parse_instrument(tr_id: str, code: str, session_date: dt.date) -> Instrument:
    """Read ``code`` as an instrument of ``tr_id``'s market; :class:`SymbolError` when it is not one."""
    spec = get_spec(tr_id)
    if spec is None or tr_id not in _ACCEPTS:
        raise SymbolError(f"no synthetic market for TR {tr_id!r}")
    lo, hi = spec.key_width
    what, expected = _ACCEPTS[tr_id]
    if not (lo <= len(code) <= hi) or not code.isascii() or not code.isalnum():
        raise SymbolError(f"symbol {code!r} is not valid for {tr_id}: expected {expected}")
    if what == "future":
        if not _FUTURE.match(code):
            raise SymbolError(f"symbol {code!r} is not valid for {tr_id}: expected {expected}")
        return Instrument(code, InstrumentKind.FUTURE, code[1:3])
    if not _OPTION.match(code):
        raise SymbolError(f"symbol {code!r} is not valid for {tr_id}: expected {expected}")
    kind = InstrumentKind.CALL if code[0] == "2" else InstrumentKind.PUT
    strike_code = int(code[-3:])
    strike = Decimal(strike_code) + (Decimal("0.5") if strike_code % 10 in (2, 7) else 0)
    if strike <= 0:
        raise SymbolError(f"symbol {code!r} is not valid for {tr_id}: strike {code[-3:]} is zero")
    return Instrument(code, kind, code[1:3], strike, _expiry(code, session_date))


def _second_thursday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(3 - first.weekday()) % 7 + 7)


def _front_month(after: dt.date) -> dt.date:
    year, month = after.year, after.month
    while True:
        expiry = _second_thursday(year, month)
        if expiry >= after:
            return expiry
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _expiry(code: str, session_date: dt.date) -> dt.date:
    """The option's expiry from its year and month characters, else the front month (see module doc)."""
    year_char = code[3]
    month_text = code[4:-3]
    month = None
    if len(month_text) == 1 and month_text in _MONTH_CHARS:
        month = _MONTH_CHARS.index(month_text) + 1
    elif len(month_text) == 2 and month_text.isdigit() and 1 <= int(month_text) <= 12:
        month = int(month_text)
    if month is not None and year_char in _YEAR_LETTERS:
        expiry = _second_thursday(_FIRST_YEAR + _YEAR_LETTERS.index(year_char), month)
        if expiry >= session_date:
            return expiry
    return _front_month(session_date)
