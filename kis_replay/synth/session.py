"""The parameters of a synthetic session, checked once: which TRs and symbols, when, how long, which seed.

Everything a generated archive contains follows from a :class:`SynthSession`, and nothing else (no clock
is read), so the same session gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ..codec import get_spec
from .instruments import DEFAULT_SYMBOLS, SymbolError, accepted_symbols, parse_instrument
from .market_hours import NS, SESSION_OF_TR, MarketSession, kst_ns

__all__ = [
    "DEFAULT_DATE",
    "DEFAULT_DURATION_S",
    "DEFAULT_SEED",
    "SYNTH_TRS",
    "SynthError",
    "SynthSession",
    "exact",
]

#: The trading day when none is given: fixed, so that the same seed gives the same bytes on any day.
DEFAULT_DATE = dt.date(2026, 11, 24)
DEFAULT_DURATION_S = 60.0
DEFAULT_SEED = 1
MAX_DURATION_S = 24 * 3600
#: The TRs this package can simulate.
SYNTH_TRS = tuple(SESSION_OF_TR)


class SynthError(ValueError):
    """Parameters that do not describe a session we can generate; the message says which and why."""


@dataclass(frozen=True)
class SynthSession:
    """A validated synthetic session. Build it with :meth:`create`."""

    subscriptions: tuple[tuple[str, str], ...]  #: (tr_id, tr_key) in subscription order
    date: dt.date  #: the trading day (a night session runs from its evening into the next morning)
    start: dt.time  #: KST time of day of the first event
    duration_s: float
    seed: int
    rate: float  #: activity multiplier: 1.0 is the default pace of each TR

    @classmethod
    def create(
        cls,
        trs: Iterable[str] = ("H0ZFASP0",),
        symbols: Iterable[str] = (),
        *,
        date: dt.date | None = None,
        start: dt.time | None = None,
        duration_s: float = DEFAULT_DURATION_S,
        seed: int = DEFAULT_SEED,
        rate: float = 1.0,
    ) -> SynthSession:
        """Check and resolve the parameters; raises :class:`SynthError` naming the bad one.

        ``symbols`` are instrument codes, or ``TR:CODE`` to pin one to a TR. A bare code goes to every
        requested TR that accepts it; a TR that gets no symbol uses its defaults (``DEFAULT_SYMBOLS``).
        """
        tr_ids = list(dict.fromkeys(trs))
        if not tr_ids:
            raise SynthError("no TR given: pass at least one of " + ", ".join(SYNTH_TRS))
        for tr_id in tr_ids:
            if tr_id not in SESSION_OF_TR:
                known = "known to the codec but not simulated" if get_spec(tr_id) else "unknown"
                raise SynthError(f"TR {tr_id!r} is {known}: synth generates " + ", ".join(SYNTH_TRS))
        date = date or DEFAULT_DATE
        chosen: dict[str, list[str]] = {tr_id: [] for tr_id in tr_ids}
        for item in symbols:
            _assign(item.strip(), tr_ids, chosen, date)
        subscriptions = []
        for tr_id in tr_ids:
            for code in chosen[tr_id] or DEFAULT_SYMBOLS[tr_id]:
                if (tr_id, code) not in subscriptions:
                    subscriptions.append((tr_id, code))
        if not (0 < duration_s <= MAX_DURATION_S):
            raise SynthError(f"duration {duration_s:g} s is out of range: give more than 0 and at most 24 h")
        if not (0 < rate <= 100):
            raise SynthError(f"rate {rate:g} is out of range: give a multiplier above 0 and at most 100")
        if seed < 0:
            raise SynthError(f"seed {seed} is negative")
        sessions = {SESSION_OF_TR[tr_id] for tr_id in tr_ids}
        if start is None:
            start = (MarketSession.DAY if MarketSession.DAY in sessions else MarketSession.NIGHT).opens
        session = cls(tuple(subscriptions), date, start, float(duration_s), int(seed), float(rate))
        for tr_id in tr_ids:
            if not session.windows(tr_id):
                market = SESSION_OF_TR[tr_id]
                raise SynthError(
                    f"{tr_id} trades in the {market.describe()}: nothing falls in "
                    f"{start:%H:%M:%S} + {duration_s:g} s on {date}; pass --start inside the session"
                )
        return session

    @property
    def tr_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(tr_id for tr_id, _ in self.subscriptions))

    @property
    def start_ns(self) -> int:
        """UTC ns of the start. Night-only sessions read a morning time (before 12:00) as after midnight."""
        day = self.date
        night_only = all(SESSION_OF_TR[tr] is MarketSession.NIGHT for tr in self.tr_ids)
        if night_only and self.start < dt.time(12, 0):
            day += dt.timedelta(days=1)
        return kst_ns(day, self.start)

    @property
    def end_ns(self) -> int:
        return self.start_ns + int(self.duration_s * NS)

    def windows(self, tr_id: str) -> list[tuple[int, int]]:
        """The parts of ``tr_id``'s trading sessions inside this session, as ``(open_ns, close_ns)``."""
        market = SESSION_OF_TR[tr_id]
        days = [self.date - dt.timedelta(days=1), self.date] if market is MarketSession.NIGHT else [self.date]
        start, end = self.start_ns, self.end_ns
        return [(o, c) for o, c in (market.window(day) for day in days) if o < end and c > start]

    def labels(self) -> dict[str, str]:
        """The generator parameters, for the archive header."""
        return {
            "generator": "kis-replay synth",
            "seed": str(self.seed),
            "date": self.date.isoformat(),
            "start": self.start.isoformat(),
            "duration_s": exact(self.duration_s),
            "rate": exact(self.rate),
            "trs": ",".join(self.tr_ids),
        }


def exact(value: float) -> str:
    """``value`` as short text that reads back as the same float (``150``, ``0.5``, ``0.1234567``)."""
    return str(int(value)) if value.is_integer() else repr(value)


def _assign(item: str, tr_ids: list[str], chosen: dict[str, list[str]], date: dt.date) -> None:
    if not item:
        return
    if ":" in item:
        tr_id, code = item.split(":", 1)
        if tr_id not in chosen:
            raise SynthError(f"symbol {item!r} names TR {tr_id}, which is not among the TRs asked for")
        try:
            parse_instrument(tr_id, code, date)
        except SymbolError as exc:
            raise SynthError(str(exc)) from None
        chosen[tr_id].append(code)
        return
    takers = []
    for tr_id in tr_ids:
        try:
            parse_instrument(tr_id, item, date)
        except SymbolError:
            continue
        takers.append(tr_id)
    if not takers:
        wanted = "; ".join(f"{tr_id} takes {accepted_symbols(tr_id)}" for tr_id in tr_ids)
        raise SynthError(f"symbol {item!r} is not valid for {', '.join(tr_ids)}: {wanted}")
    for tr_id in takers:
        chosen[tr_id].append(item)
