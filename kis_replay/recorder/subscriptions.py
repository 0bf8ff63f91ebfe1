"""What to record: ``TR_ID:TR_KEY`` registrations, checked before we ever connect.

The live service accepts 41 registrations per session and answers the 42nd with OPSP0008; it also warns
that clients looping on errors get their key blocked. So every mistake we can see locally (too many
registrations, a malformed tr_key of a TR the codec knows, a duplicate) is refused here, before the
recorder opens a socket, with a message that names the offending entry and where it came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..codec import MAX_REGISTRATIONS, SubscribeRequest, get_spec

__all__ = [
    "Subscription",
    "SubscriptionError",
    "check_subscriptions",
    "parse_subscription",
    "read_subscriptions_file",
]

class SubscriptionError(ValueError):
    """A registration is malformed, or the set of registrations cannot be sent to the service."""


@dataclass(frozen=True, order=True)
class Subscription:
    """One registration: a TR and the instrument (or HTS id) it is registered for."""

    tr_id: str
    tr_key: str

    def __str__(self) -> str:
        return f"{self.tr_id}:{self.tr_key}"

    def request(self, approval_key: str, custtype: str = "P") -> SubscribeRequest:
        """The subscribe request the recorder sends for this registration."""
        return SubscribeRequest(self.tr_id, self.tr_key, approval_key=approval_key, custtype=custtype)


def parse_subscription(text: str, where: str = "") -> Subscription:
    """Parse ``TR_ID:TR_KEY`` (e.g. ``H0ZFASP0:111V06``); ``where`` names the source in errors."""
    prefix = f"{where}: " if where else ""
    tr_id, sep, tr_key = text.strip().partition(":")
    if not sep or not tr_id or not tr_key:
        raise SubscriptionError(f"{prefix}{text.strip()!r} is not TR_ID:TR_KEY (e.g. H0ZFASP0:111V06)")
    if not (tr_id.isascii() and tr_id.isalnum()):
        raise SubscriptionError(f"{prefix}TR id {tr_id!r} must be ASCII letters and digits")
    if not tr_key.isascii() or not tr_key.isprintable() or " " in tr_key or len(tr_key) > 32:
        raise SubscriptionError(f"{prefix}tr_key {tr_key!r} of {tr_id} is not a plain code")
    return Subscription(tr_id, tr_key)


def read_subscriptions_file(path: str | Path) -> list[Subscription]:
    """Registrations from a file: one ``TR_ID:TR_KEY`` per line (or several, separated by spaces or
    commas); blank lines and ``#`` comments are ignored. Errors name the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubscriptionError(f"cannot read subscriptions file {path}: {exc}") from None
    subs = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for item in line.split("#", 1)[0].replace(",", " ").split():
            subs.append(parse_subscription(item, where=f"{path}:{lineno}"))
    return subs


def check_subscriptions(subs: Iterable[Subscription]) -> tuple[list[Subscription], list[str]]:
    """Validate a set of registrations for one session: ``(unique registrations in order, warnings)``.

    Raises :class:`SubscriptionError` when there are none, more than :data:`MAX_REGISTRATIONS`, or a
    tr_key whose length the codec's table for that TR rules out. A TR the codec does not know is only a
    warning: the recorder stores bytes, so a new TR is recorded fine, just not validated or decoded.
    """
    unique: list[Subscription] = []
    seen: set[Subscription] = set()
    warnings: list[str] = []
    for sub in subs:
        if sub in seen:
            warnings.append(f"{sub} is listed twice; registering it once")
            continue
        seen.add(sub)
        unique.append(sub)
    if not unique:
        raise SubscriptionError("nothing to record: give --subscribe TR_ID:TR_KEY or --subscriptions FILE")
    if len(unique) > MAX_REGISTRATIONS:
        raise SubscriptionError(
            f"{len(unique)} registrations, but the service accepts at most {MAX_REGISTRATIONS} per session "
            "(any more are refused with OPSP0008 MAX SUBSCRIBE OVER); "
            "split them over several recorders with different app keys"
        )
    for sub in unique:
        spec = get_spec(sub.tr_id)
        if spec is None:
            warnings.append(f"{sub.tr_id} is not a TR this version knows: recording its frames unvalidated")
            continue
        low, high = spec.key_width
        if not low <= len(sub.tr_key) <= high:
            raise SubscriptionError(
                f"{sub}: a {sub.tr_id} tr_key is {low}-{high} characters, {sub.tr_key!r} has {len(sub.tr_key)}"
            )
    return unique, warnings
