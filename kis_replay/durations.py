"""How people write durations, everywhere kis-replay reads one: ``300ms``, ``1.5s``, ``1m30s``, ``6h``, ``1d``.

A duration is one or more ``<number><unit>`` parts (units ``d h m s ms us``), added up. The command line also
takes a bare number as seconds (``--flush-interval 0.5``); scenario files do not, because a bare ``5`` in a
file read by people in a hurry could be seconds or milliseconds. Each reader states which it wants; the
grammar exists once, here.
"""

from __future__ import annotations

import re

__all__ = ["parse_duration_ns"]

_UNITS_NS = {
    "d": 86_400_000_000_000,
    "h": 3_600_000_000_000,
    "m": 60_000_000_000,
    "s": 1_000_000_000,
    "ms": 1_000_000,
    "us": 1_000,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|d|h|m|s)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_duration_ns(value: object, *, bare_seconds: bool = False) -> int:
    """Nanoseconds in ``value``: ``"300ms"`` → 300_000_000, ``"1m30s"`` → 90_000_000_000; with
    ``bare_seconds``, ``"90"`` → 90 s too. Spaces are ignored.

    Raises :class:`ValueError` quoting ``value`` and showing the accepted forms (anything but a string, a
    negative number, an unknown unit, or trailing text).
    """
    if not isinstance(value, str):
        raise ValueError(f"expected a duration string with a unit like \"300ms\" or \"5s\", got {value!r}")
    text = value.strip().replace(" ", "")
    if bare_seconds and _NUMBER.fullmatch(text):
        return round(float(text) * _UNITS_NS["s"])
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS_NS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        bare = "; a bare number is seconds" if bare_seconds else ""
        raise ValueError(f"{value!r} is not a duration (e.g. 300ms, 5s, 1m30s, 2h; units d, h, m, s, ms, us{bare})")
    return round(total)
