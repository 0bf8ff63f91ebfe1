"""A whole synthetic session as one time-ordered iterator of what the server sent: ``(wall_ns, text)``.

First the subscribe acks (``OPSP0000``, one per subscription, as a recording starts), then the data
frames of every instrument merged by receive time. Each instrument draws from its own random generator,
seeded from (seed, TR, symbol), and the options of one underlying share one index path seeded from
(seed, underlying) and placed amid their strikes: adding a futures symbol, or an option on another
underlying, leaves the other streams' frames as they were.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import string
from collections.abc import Iterator

from ..codec import build_reply
from .instruments import Instrument, parse_instrument
from .market_hours import kst_ns
from .session import SynthSession
from .streams import PACING, futures_price, quote_stream, stream_events, trade_stream
from .tape import OptionModel, OptionTape
from .underlying import IndexPath

__all__ = ["ack_credentials", "generate"]

_MS = 1_000_000
#: KOSPI 200 options stop trading at 15:20 on expiry day.
_EXPIRY_CLOSE = dt.time(15, 20)


def ack_credentials(seed: int) -> tuple[str, str]:
    """``(iv, key)`` of the session's acks: 16 and 32 characters like the live service's, from the seed."""
    rng = random.Random(f"{seed}/ack")
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choices(alphabet, k=16)), "".join(rng.choices(alphabet, k=32))


def acks(session: SynthSession) -> list[tuple[int, str]]:
    """The subscribe acks, 2 ms apart, ending half a second before the first event can happen."""
    iv, key = ack_credentials(session.seed)
    first = session.start_ns - 500 * _MS - 2 * _MS * len(session.subscriptions)
    return [
        (first + 2 * _MS * i,
         build_reply("OPSP0000", tr_id=tr_id, tr_key=tr_key, output={"iv": iv, "key": key}).to_json())
        for i, (tr_id, tr_key) in enumerate(session.subscriptions)
    ]


def _index_paths(session: SynthSession, options: list[Instrument]) -> dict[str, tuple[IndexPath, float]]:
    """One index path per underlying, starting near the middle of the strikes asked for."""
    paths = {}
    for underlying in sorted({i.underlying for i in options}):
        strikes = [float(i.strike) for i in options if i.underlying == underlying and i.strike is not None]
        rng = random.Random(f"{session.seed}/index/{underlying}")
        level = sum(strikes) / len(strikes) * math.exp(rng.gauss(0, 0.005))
        base_vol = rng.uniform(0.15, 0.22)
        paths[underlying] = (IndexPath(rng, level, base_vol, session.start_ns), base_vol)
    return paths


def generate(session: SynthSession) -> Iterator[tuple[int, str]]:
    """Everything the server sends in ``session``, in receive-time order (acks first)."""
    yield from acks(session)
    instruments = {(tr, code): parse_instrument(tr, code, session.date) for tr, code in session.subscriptions}
    paths = _index_paths(session, [i for i in instruments.values() if i.is_option])
    start, end = session.start_ns, session.end_ns
    streams: list[Iterator[tuple[int, str]]] = []
    for (tr_id, code), instrument in instruments.items():
        for window in session.windows(tr_id):
            begin = max(start, window[0])
            name = f"{session.seed}/{tr_id}/{code}/{window[0]}"
            rng = random.Random(name)
            events = stream_events(random.Random(name + "/pacing"), tr_id, session.rate, window, start, end)
            model = None
            if instrument.is_option:
                assert instrument.expiry is not None
                path, base_vol = paths[instrument.underlying]
                model = OptionModel(instrument, path, base_vol, kst_ns(instrument.expiry, _EXPIRY_CLOSE))
            if tr_id == "H0IOCNT0":
                assert model is not None
                tape = OptionTape(rng, model, window[0], begin, PACING[tr_id].base_rate * session.rate)
                streams.append(trade_stream(rng, tape, events))
            elif model is not None:
                streams.append(quote_stream(rng, tr_id, code, events, model.theoretical(begin) * 100, model))
            else:
                streams.append(quote_stream(rng, tr_id, code, events, futures_price(rng)))
    # Ties (same wall_ns in two streams) keep subscription order: merge is stable by iterable order.
    yield from heapq.merge(*streams, key=lambda item: item[0])

