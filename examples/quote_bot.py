"""A small KIS real-time bot: best bid/ask and mid of stock futures, last price of index options.

It is the kind of bot kis-replay exists to test, and it knows nothing of kis-replay: it speaks the KIS
WebSocket protocol with plain ``websockets`` to whatever URL it is given (the live service in production,
``kis_replay_server.url`` in its tests, see ``tests/test_bot.py``), and parses frames itself.

- Subscribes to H0ZFASP0 (stock futures quotes) and H0IOCNT0 (index option trades) for the codes given.
- Keeps, per code, the best bid/ask and mid of the latest quote, and the latest trade price.
- A frame it cannot read (wrong field count, bad count, cut short, not text, unknown TR) is skipped and
  counted, never applied in part, and never stops the bot.
- Reconnects (and subscribes again) when the connection drops or cannot be opened, with a growing delay.
  A normal close from the service (1000) ends :meth:`QuoteBot.run`: the session is over.
- Answers PINGPONG by sending it back.

Run it against the live service (or a ``kis-replay`` server)::

    KIS_APPROVAL_KEY=... python quote_bot.py --url ws://ops.koreainvestment.com:21000 \\
        --quote 111V06 --trade 201W09355
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

log = logging.getLogger("quote_bot")

LIVE_URL = "ws://ops.koreainvestment.com:21000"
QUOTE_TR = "H0ZFASP0"  # stock futures quote, 10 levels: 68 fields
TRADE_TR = "H0IOCNT0"  # index option trade: 58 fields, several records a frame
FIELDS = {QUOTE_TR: 68, TRADE_TR: 58}
# field positions, from the KIS API pages
CODE, TIME = 0, 1
ASKP1, BIDP1 = 2, 12  # H0ZFASP0
OPTN_PRPR = 2  # H0IOCNT0


class MalformedFrame(ValueError):
    """A message the bot cannot use; it is skipped."""


@dataclass(frozen=True)
class Book:
    """The top of one instrument's order book."""

    bid: Decimal
    ask: Decimal
    time: str  # HHMMSS, the exchange's

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


def _price(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise MalformedFrame(f"{text!r} is not a price") from None
    if not value.is_finite():
        raise MalformedFrame(f"{text!r} is not a price")
    return value


class QuoteBot:
    """Connects to ``url`` with ``approval_key`` and follows ``quotes`` (futures codes, H0ZFASP0) and
    ``trades`` (option codes, H0IOCNT0) until :meth:`stop` or the service closes the session."""

    def __init__(
        self,
        url: str,
        approval_key: str,
        *,
        quotes: Iterable[str] = (),
        trades: Iterable[str] = (),
        custtype: str = "P",
        reconnect_delay: float = 0.2,
        max_reconnect_delay: float = 5.0,
    ) -> None:
        self.url = url
        self.approval_key = approval_key
        self.subscriptions = [(QUOTE_TR, code) for code in quotes] + [(TRADE_TR, code) for code in trades]
        self.custtype = custtype
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.books: dict[str, Book] = {}
        self.last_price: dict[str, Decimal] = {}
        self.frames = 0  # data frames applied
        self.skipped = 0  # messages skipped as unreadable
        self.acks = 0
        self.errors: list[str] = []  # what the service refused
        self.connections = 0  # sessions opened
        self.drops = 0  # connections lost, or attempts that failed
        self._stopping = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._closing: asyncio.Future[None] | None = None

    # -- the connection ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Follow the feed, reconnecting on drops, until :meth:`stop` or a normal close (1000)."""
        delay = self.reconnect_delay
        while not self._stopping.is_set():
            try:
                async with connect(self.url, open_timeout=10, close_timeout=2) as ws:
                    self._ws = ws
                    self.connections += 1
                    delay = self.reconnect_delay
                    for tr_id, code in self.subscriptions:
                        await ws.send(self._request(tr_id, code))
                    async for message in ws:
                        reply = self.handle(message)
                        if reply is not None:
                            await ws.send(reply)
                if ws.close_code == 1000 or self._stopping.is_set():
                    return  # the service ended the session, or we did
                self.drops += 1
                log.warning("connection closed (%s %s): reconnecting", ws.close_code, ws.close_reason)
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
                if self._stopping.is_set():
                    return
                self.drops += 1
                log.warning("connection lost or refused (%s): reconnecting in %.1f s", exc, delay)
            finally:
                self._ws = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, self.max_reconnect_delay)

    def stop(self) -> None:
        """End :meth:`run` (closing the connection, if one is open)."""
        self._stopping.set()
        if self._ws is not None:
            self._closing = asyncio.ensure_future(self._ws.close())

    def _request(self, tr_id: str, code: str) -> str:
        return json.dumps({
            "header": {"approval_key": self.approval_key, "custtype": self.custtype, "tr_type": "1",
                       "content-type": "utf-8"},
            "body": {"input": {"tr_id": tr_id, "tr_key": code}},
        })

    # -- messages ---------------------------------------------------------------------------------------------

    def handle(self, message: str | bytes) -> str | None:
        """Apply one message; returns what to send back (the PINGPONG echo), if anything."""
        try:
            if not isinstance(message, str):
                raise MalformedFrame("a binary message")
            if message[:1] in ("0", "1"):
                self._data(message)
                return None
            return self._control(message)
        except MalformedFrame as exc:
            self.skipped += 1
            log.warning("skipped a message (%s): %.60r", exc, message)
            return None

    def _data(self, text: str) -> None:
        parts = text.split("|", 3)
        if len(parts) != 4:
            raise MalformedFrame("not enc|TR|count|payload")
        enc, tr_id, count, payload = parts
        if enc != "0":
            raise MalformedFrame("encrypted frames are not for this bot")
        width = FIELDS.get(tr_id)
        if width is None:
            raise MalformedFrame(f"unknown TR {tr_id!r}")
        if len(count) != 3 or not count.isdigit() or int(count) == 0:
            raise MalformedFrame(f"bad record count {count!r}")
        fields = payload.split("^")
        n = int(count)
        if len(fields) != n * width:
            raise MalformedFrame(f"{len(fields)} fields for {n} {tr_id} record(s) of {width}")
        records = [fields[i * width:(i + 1) * width] for i in range(n)]
        if tr_id == QUOTE_TR:
            books = [(r[CODE], Book(bid=_price(r[BIDP1]), ask=_price(r[ASKP1]), time=r[TIME])) for r in records]
            self.books.update(books)  # only once every record has been read: never half a frame
        else:
            prices = [(r[CODE], _price(r[OPTN_PRPR])) for r in records]
            self.last_price.update(prices)
        self.frames += 1

    def _control(self, text: str) -> str | None:
        try:
            obj = json.loads(text)
        except ValueError:
            raise MalformedFrame("not JSON") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("header"), dict):
            raise MalformedFrame("a control message without a header")
        if obj["header"].get("tr_id") == "PINGPONG":
            return text
        body = obj.get("body")
        if not isinstance(body, dict):
            raise MalformedFrame("a reply without a body")
        if body.get("rt_cd") == "0":
            self.acks += 1
        else:
            self.errors.append(f"{body.get('msg_cd')} {body.get('msg1')}")
            log.error("refused: %s %s", body.get("msg_cd"), body.get("msg1"))
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=LIVE_URL)
    parser.add_argument("--quote", action="append", default=[], metavar="FUTURES_CODE")
    parser.add_argument("--trade", action="append", default=[], metavar="OPTION_CODE")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    bot = QuoteBot(args.url, os.environ.get("KIS_APPROVAL_KEY", ""), quotes=args.quote, trades=args.trade)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(bot.run())
    for code, book in sorted(bot.books.items()):
        print(f"{code}: bid {book.bid} ask {book.ask} mid {book.mid}")
    for code, price in sorted(bot.last_price.items()):
        print(f"{code}: last {price}")


if __name__ == "__main__":
    main()
