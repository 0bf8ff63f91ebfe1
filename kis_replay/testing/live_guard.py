"""Keep a test away from the real KIS service: a connection to a KIS host fails, and so does the test.

A bot under test that still has ``ops.koreainvestment.com`` somewhere in its configuration would otherwise
pass in CI against the live market on a weekday and fail on a Sunday, or use up a real account's session.
While a :class:`LiveNetworkGuard` is installed, resolving or connecting to any ``koreainvestment.com``
host raises :class:`LiveNetworkBlocked`, and the attempt is remembered: the plugin fails the test with
the attempts even when the bot catches the error and retries.

The guard patches ``socket.getaddrinfo``, ``socket.create_connection`` and ``socket.socket.connect`` /
``connect_ex``, through which every client in the standard library, asyncio, ``websockets``, ``requests``
and ``aiohttp`` reaches a host name. A connection to a bare IP address is not recognised.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["KIS_DOMAIN", "Attempt", "LiveNetworkBlocked", "LiveNetworkGuard", "is_kis_host"]

#: every KIS Open API host (ops., openapi., openapivts., ...) is under this domain
KIS_DOMAIN = "koreainvestment.com"


def is_kis_host(host: Any) -> bool:
    """Whether ``host`` (a name, or anything else a socket call receives) is a KIS host."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().rstrip(".").lower()
    return name == KIS_DOMAIN or name.endswith("." + KIS_DOMAIN)


class LiveNetworkBlocked(RuntimeError):
    """A test tried to reach the real KIS service (a ``RuntimeError``, so that a bot's retry-on-``OSError``
    loop does not swallow it as a network hiccup)."""


@dataclass(frozen=True)
class Attempt:
    """One blocked attempt: the host and port, and the call that was refused."""

    host: str
    port: Any
    call: str

    def __str__(self) -> str:
        return f"{self.call}({self.host!r}, {self.port!r})"


_ADVICE = (
    "point the bot at kis_replay_server.url instead, or run with --kis-allow-live "
    "(or --kis-record-mode=once/all) to let tests reach the live service"
)


class LiveNetworkGuard:
    """Blocks KIS hosts while installed (``with LiveNetworkGuard() as guard:``); :attr:`attempts` lists
    what was refused. Guards nest: each restores what it replaced."""

    def __init__(self) -> None:
        self.attempts: list[Attempt] = []
        self.reported = False  #: the test has been failed for them already
        self._lock = threading.Lock()
        self._saved: list[tuple[Any, str, Any]] = []

    def message(self) -> str:
        """The test failure: every refused attempt, and what to do instead."""
        shown = "; ".join(str(a) for a in self.attempts[:5])
        more = f" (and {len(self.attempts) - 5} more)" if len(self.attempts) > 5 else ""
        return (f"kis-replay blocked {len(self.attempts)} attempt(s) to reach the live KIS service: "
                f"{shown}{more}; {_ADVICE}")

    def _refuse(self, call: str, host: Any, port: Any) -> LiveNetworkBlocked:
        attempt = Attempt(host.decode() if isinstance(host, bytes) else str(host), port, call)
        with self._lock:
            self.attempts.append(attempt)
        return LiveNetworkBlocked(f"kis-replay: {attempt} is the live KIS service, blocked in tests; {_ADVICE}")

    def install(self) -> LiveNetworkGuard:
        getaddrinfo = socket.getaddrinfo
        create_connection = socket.create_connection
        connect = socket.socket.connect
        connect_ex = socket.socket.connect_ex
        guard = self

        def guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if is_kis_host(host):
                raise guard._refuse("getaddrinfo", host, port)
            return getaddrinfo(host, port, *args, **kwargs)

        def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(address, tuple) and address and is_kis_host(address[0]):
                raise guard._refuse("create_connection", address[0], address[1] if len(address) > 1 else None)
            return create_connection(address, *args, **kwargs)

        def guarded_connect(sock: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple) and address and is_kis_host(address[0]):
                raise guard._refuse("socket.connect", address[0], address[1] if len(address) > 1 else None)
            return connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple) and address and is_kis_host(address[0]):
                raise guard._refuse("socket.connect_ex", address[0], address[1] if len(address) > 1 else None)
            return connect_ex(sock, address)

        self._saved = [
            (socket, "getaddrinfo", getaddrinfo),
            (socket, "create_connection", create_connection),
            (socket.socket, "connect", socket.socket.__dict__.get("connect")),
            (socket.socket, "connect_ex", socket.socket.__dict__.get("connect_ex")),
        ]
        socket.getaddrinfo = guarded_getaddrinfo
        socket.create_connection = guarded_create_connection
        socket.socket.connect = guarded_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
        return self

    def uninstall(self) -> None:
        """Put back what :meth:`install` replaced. Idempotent."""
        saved, self._saved = self._saved, []
        for owner, name, original in reversed(saved):
            if original is None:  # inherited from _socket.socket: remove our override
                if name in vars(owner):
                    delattr(owner, name)
            else:
                setattr(owner, name, original)

    def __enter__(self) -> LiveNetworkGuard:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()
