"""What a user asks of a replay (speed, from/to, only, filter, loop), checked once, with CLI-ready errors.

The parse functions turn the command line's words into these values and raise :class:`ReplayOptionError`
(a ``ValueError``) whose message names the bad word and what would be accepted, so the CLI can hand it to
``click.BadParameter`` unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..codec import get_spec

__all__ = ["FILTER_MODES", "ReplayOptionError", "ReplayOptions", "parse_only", "parse_speed"]

#: ``auto``: filter sessions whose header says the source was unfiltered; ``0.2``: always; ``off``: never.
FILTER_MODES = ("auto", "0.2", "off")


class ReplayOptionError(ValueError):
    """A replay option is invalid; the message names the value and what is accepted."""


@dataclass(frozen=True)
class ReplayOptions:
    """How to replay an archive.

    ``speed`` scales session time (``10`` is ten times faster, ``None`` as fast as clients drain);
    ``start_ns``/``end_ns`` bound the receive times (UTC ns, ``end_ns`` exclusive) and seek through the
    archive's index; ``only`` limits what is served to some TRs (``(tr_id, None)``) or routes
    (``(tr_id, tr_key)``), empty meaning everything; ``filter`` is one of :data:`FILTER_MODES`; ``loop``
    starts over at the end, with offsets that keep increasing.
    """

    speed: float | None = 1.0
    start_ns: int | None = None
    end_ns: int | None = None
    only: frozenset[tuple[str, str | None]] = frozenset()
    filter: str = "auto"
    loop: bool = False
    _whole_trs: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.speed is not None:
            check_speed(self.speed, repr(self.speed))
        if self.filter not in FILTER_MODES:
            raise ReplayOptionError(
                f"filter {self.filter!r} is not one of {', '.join(repr(m) for m in FILTER_MODES)}"
            )
        if self.start_ns is not None and self.end_ns is not None and self.end_ns <= self.start_ns:
            raise ReplayOptionError(
                f"the end of the replay ({self.end_ns} ns) is not after its start ({self.start_ns} ns)"
            )
        only = frozenset(self.only)
        for item in only:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                    and (item[1] is None or isinstance(item[1], str))):
                raise ReplayOptionError(f"only: {item!r} is not a (tr_id, tr_key or None) pair")
        object.__setattr__(self, "only", only)
        # the TRs served with every key: one membership test per frame on the hot path
        object.__setattr__(self, "_whole_trs", frozenset(tr for tr, key in only if key is None))

    def serves(self, tr_id: str, tr_key: str | None) -> bool:
        """Whether ``only`` lets a frame of this route through.

        An encrypted frame has no readable ``tr_key`` (``None``): it is served when its TR is named at all,
        with or without a key, since an encrypted TR's key (an HTS id) cannot be checked against the frame.
        """
        if not self.only:
            return True
        if tr_id in self._whole_trs:
            return True
        if tr_key is None:
            return any(tr == tr_id for tr, _ in self.only)
        return (tr_id, tr_key) in self.only


def check_speed(speed: float, shown: str) -> float:
    """``speed`` as a float, or :class:`ReplayOptionError` saying why it is not a speed (``shown`` is how
    the user wrote it)."""
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        raise ReplayOptionError(f"speed {shown} is not a number")
    if not math.isfinite(speed) or speed <= 0:
        raise ReplayOptionError(f"speed {shown} must be a positive number (e.g. 1, 10, 0.5) or 'max'")
    return float(speed)


def parse_speed(text: str) -> float | None:
    """``"10"`` → ``10.0``, ``"0.5"`` → ``0.5``, ``"max"`` → ``None`` (as fast as clients drain).

    A trailing ``x`` is accepted (``"10x"``), as people write speeds that way.
    """
    word = text.strip().lower()
    if word == "max":
        return None
    number = word[:-1] if word.endswith("x") else word
    try:
        value = float(number)
    except ValueError:
        raise ReplayOptionError(
            f"speed {text!r} is not a number or 'max' (e.g. 1, 10, 0.5, max)"
        ) from None
    return check_speed(value, repr(text))


def parse_only(text: str) -> tuple[str, str | None]:
    """``"H0ZFASP0:111V06"`` → ``("H0ZFASP0", "111V06")``; ``"H0IOCNT0"`` → ``("H0IOCNT0", None)``.

    The TR must look like a KIS TR id (letters and digits); a key, when given, must be non-empty and, for a
    TR the codec knows, of a length the live service accepts for it.
    """
    tr_id, sep, tr_key = text.strip().partition(":")
    if not tr_id or not (tr_id.isascii() and tr_id.isalnum()):
        raise ReplayOptionError(
            f"only {text!r}: {tr_id!r} is not a TR id (expected e.g. H0ZFASP0 or H0ZFASP0:111V06)"
        )
    if not sep:
        return tr_id, None
    if not tr_key or not (tr_key.isascii() and tr_key.isprintable()) or " " in tr_key:
        raise ReplayOptionError(f"only {text!r}: the instrument code after ':' is empty or not plain text")
    spec = get_spec(tr_id)
    if spec is not None and not spec.encrypted:
        low, high = spec.key_width
        if not low <= len(tr_key) <= high:
            raise ReplayOptionError(
                f"only {text!r}: {tr_id} codes are {low} to {high} characters long, {tr_key!r} has {len(tr_key)}"
            )
    return tr_id, tr_key
