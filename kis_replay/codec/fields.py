"""Field types of KIS real-time records, and the conversion of their wire text to Python values.

On the wire every value is a string and an empty string is a valid value (``None`` here). The raw text is
always kept by :class:`~kis_replay.codec.records.Record`, so typing a value never changes what is formatted
back: ``Decimal("0.00")`` would print as ``0.00`` anyway, but an exact round trip must not depend on that.
"""

from __future__ import annotations

import datetime as _dt
import enum
import functools
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = ["DECODERS", "FieldType", "PriceSign", "decode_value", "encode_value"]


class FieldType(enum.Enum):
    """What a field holds; chosen per field in the TR tables (``kis_replay/codec/tables/``)."""

    CODE = "code"  #: instrument code (``111V06``, ``201S11305``): alphanumeric ``str``
    TIME = "time"  #: ``HHMMSS`` → :class:`datetime.time`
    PRICE = "price"  #: price ≥ 0, integer or decimal text → :class:`~decimal.Decimal`
    PRICE_CHANGE = "price_change"  #: signed price difference → :class:`~decimal.Decimal`
    QUANTITY = "quantity"  #: count or quantity ≥ 0 → ``int``
    QUANTITY_CHANGE = "quantity_change"  #: signed change of a quantity (…ICDC) → ``int``
    SIGN = "sign"  #: KIS change-sign code ``1``–``5`` → :class:`PriceSign`
    RATE = "rate"  #: signed decimal (ratios, Greeks, volatilities) → :class:`~decimal.Decimal`
    FLAG = "flag"  #: ``Y``/``N`` → ``bool``


class PriceSign(enum.IntEnum):
    """KIS's 대비부호 (change sign) codes."""

    UPPER_LIMIT = 1  #: 상한
    RISE = 2  #: 상승
    FLAT = 3  #: 보합
    LOWER_LIMIT = 4  #: 하한
    FALL = 5  #: 하락


_SIGNED_INT = re.compile(r"[+-]?[0-9]+\Z")
_UNSIGNED_DEC = re.compile(r"[0-9]+(\.[0-9]+)?\Z")
_SIGNED_DEC = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\Z")
_CODE = re.compile(r"[0-9A-Za-z]+\Z")
_TIME = re.compile(r"([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]\Z")

_EXPECTED = {
    FieldType.CODE: "an alphanumeric code",
    FieldType.TIME: "HHMMSS",
    FieldType.PRICE: "an unsigned decimal",
    FieldType.PRICE_CHANGE: "a signed decimal",
    FieldType.QUANTITY: "an unsigned integer",
    FieldType.QUANTITY_CHANGE: "a signed integer",
    FieldType.SIGN: "a sign code 1-5",
    FieldType.RATE: "a signed decimal",
    FieldType.FLAG: "Y or N",
}


def describe(ftype: FieldType) -> str:
    """What text a field of this type accepts, for error messages."""
    return _EXPECTED[ftype]


# -- decoding: one function per type, looked up once per field (TrSpec.decoders), not per value --------------
#
# Real-time values repeat (prices sit on a tick grid, times advance by seconds, "0" and "0.00" are everywhere),
# so the immutable results of the costlier conversions are cached: a hit skips the regex and the constructor.

_CACHE = 1 << 14

# Each decoder takes "" (a valid value of every type) to None itself: one Python call per field, no wrapper.


@functools.lru_cache(maxsize=_CACHE)
def _unsigned_decimal(raw: str) -> Decimal | None:
    if raw == "":
        return None
    if _UNSIGNED_DEC.match(raw) is None:
        raise ValueError(raw)
    return Decimal(raw)


@functools.lru_cache(maxsize=_CACHE)
def _signed_decimal(raw: str) -> Decimal | None:
    if raw == "":
        return None
    if _SIGNED_DEC.match(raw) is None:
        raise ValueError(raw)
    return Decimal(raw)


@functools.lru_cache(maxsize=_CACHE)
def _time(raw: str) -> _dt.time | None:
    if raw == "":
        return None
    if _TIME.match(raw) is None:
        raise ValueError(raw)
    return _dt.time(int(raw[0:2]), int(raw[2:4]), int(raw[4:6]))


@functools.lru_cache(maxsize=_CACHE)
def _code(raw: str) -> str | None:
    if raw == "":
        return None
    if _CODE.match(raw) is None:
        raise ValueError(raw)
    return raw


@functools.lru_cache(maxsize=_CACHE)
def _unsigned_int(raw: str) -> int | None:
    if raw.isdigit() and raw.isascii():  # isdigit alone admits "²" and "١"
        return int(raw)
    if raw == "":
        return None
    raise ValueError(raw)


@functools.lru_cache(maxsize=_CACHE)
def _signed_int(raw: str) -> int | None:
    if raw == "":
        return None
    if _SIGNED_INT.match(raw) is None:
        raise ValueError(raw)
    return int(raw)


_SIGNS: dict[str, PriceSign | None] = {"": None, **{str(int(sign)): sign for sign in PriceSign}}
_FLAGS: dict[str, bool | None] = {"": None, "Y": True, "N": False}


def _sign(raw: str) -> PriceSign | None:
    try:
        return _SIGNS[raw]
    except (KeyError, TypeError):
        raise ValueError(raw) from None


def _flag(raw: str) -> bool | None:
    try:
        return _FLAGS[raw]
    except (KeyError, TypeError):
        raise ValueError(raw) from None


#: FieldType → its decoder (wire text → value, ``""`` → ``None``, ``ValueError`` on text that does not fit).
DECODERS: dict[FieldType, Callable[[str], Any]] = {
    FieldType.CODE: _code,
    FieldType.TIME: _time,
    FieldType.PRICE: _unsigned_decimal,
    FieldType.PRICE_CHANGE: _signed_decimal,
    FieldType.QUANTITY: _unsigned_int,
    FieldType.QUANTITY_CHANGE: _signed_int,
    FieldType.SIGN: _sign,
    FieldType.RATE: _signed_decimal,
    FieldType.FLAG: _flag,
}


def decode_value(ftype: FieldType, raw: str) -> Any:
    """Turn one field's wire text into its Python value; ``""`` is ``None`` for every type.

    Raises ``ValueError`` on text that does not fit; :class:`~kis_replay.codec.records.Record` turns
    that into a :class:`~kis_replay.codec.errors.FieldValueError` naming the TR and field.
    """
    return DECODERS[ftype](raw)


def encode_value(ftype: FieldType, value: Any) -> str:
    """Turn a Python value into wire text, the inverse of :func:`decode_value` for canonical text.

    Decimals keep their exponent (``Decimal("2.90")`` → ``"2.90"``), so a decoded record re-encodes
    to the same text.
    """
    if value is None:
        return ""
    if ftype in (FieldType.PRICE, FieldType.RATE, FieldType.PRICE_CHANGE):
        if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
            raise TypeError(f"{ftype.value} needs a Decimal or int, got {value!r}")
        text = format(Decimal(value), "f")
    elif ftype in (FieldType.QUANTITY, FieldType.QUANTITY_CHANGE):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{ftype.value} needs an int, got {value!r}")
        text = str(value)
    elif ftype is FieldType.TIME:
        if not isinstance(value, _dt.time):
            raise TypeError(f"time needs a datetime.time, got {value!r}")
        text = value.strftime("%H%M%S")
    elif ftype is FieldType.SIGN:
        text = str(int(PriceSign(value)))
    elif ftype is FieldType.FLAG:
        if not isinstance(value, bool):
            raise TypeError(f"flag needs a bool, got {value!r}")
        text = "Y" if value else "N"
    else:
        text = str(value)
    decode_value(ftype, text)  # refuse values whose text the codec would not read back
    return text
