"""TR specifications: which fields a real-time transaction's record has, in order, and of what type.

A specification is data. Each table lives in ``kis_replay/codec/tables/<TR_ID>.py`` as the field list of
the KIS API page, one line per field (``NAME  type``), and is registered here. Adding a TR is adding a
table; nothing else in the project lists fields.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .fields import DECODERS, FieldType

__all__ = ["FieldSpec", "TrKind", "TrSpec", "get_spec", "known_tr_ids", "parse_table", "register"]


class TrKind(enum.Enum):
    """What a TR's records are; the replayer's 0.2 s filter applies to futures/options ``QUOTE`` TRs."""

    QUOTE = "quote"  #: order book snapshot (…ASP0)
    TRADE = "trade"  #: execution (…CNT0)
    NOTICE = "notice"  #: fill notice (encrypted …CNI0)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a TR record: its position, KIS name, Korean name and type."""

    index: int
    name: str
    type: FieldType
    label: str = ""


@dataclass(frozen=True)
class TrSpec:
    """The record layout of one real-time TR.

    ``filtered`` marks the futures/options quote TRs that the live service thins to one update per
    0.2 s per instrument; ``encrypted`` marks TRs whose frames the service sends AES-encrypted.
    """

    tr_id: str
    title: str
    kind: TrKind
    fields: tuple[FieldSpec, ...]
    filtered: bool = False
    encrypted: bool = False
    key_width: tuple[int, int] = (1, 12)  #: accepted tr_key lengths, for OPSP8992 checks
    _by_name: Mapping[str, FieldSpec] = field(init=False, repr=False, compare=False)
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _decoders: tuple[Callable[[str], Any], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {f.name: f for f in self.fields}
        if len(by_name) != len(self.fields):
            raise ValueError(f"{self.tr_id}: duplicate field names")
        object.__setattr__(self, "_by_name", by_name)
        # Built once: typed access runs per field of every record, and must not rebuild these.
        object.__setattr__(self, "_names", tuple(f.name for f in self.fields))
        object.__setattr__(self, "_decoders", tuple(DECODERS[f.type] for f in self.fields))

    @property
    def field_count(self) -> int:
        return len(self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        """The field names in wire order (one tuple, built once)."""
        return self._names

    @property
    def decoders(self) -> tuple[Callable[[str], Any], ...]:
        """Per field, in wire order, the function from its text to its value (``ValueError`` if it does not fit)."""
        return self._decoders

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``; ``KeyError`` names the TR when there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.tr_id} has no field {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[FieldSpec]:
        return iter(self.fields)


def parse_table(text: str) -> tuple[FieldSpec, ...]:
    """Read a field table: one ``NAME  type  [label]`` line per field, blank lines and ``#`` ignored."""
    specs = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 2)
        name, type_name = parts[0], parts[1]
        label = parts[2] if len(parts) > 2 else ""
        specs.append(FieldSpec(len(specs), name, FieldType(type_name), label))
    return tuple(specs)


_REGISTRY: dict[str, TrSpec] = {}


def register(spec: TrSpec) -> TrSpec:
    """Make ``spec`` known to the codec (the seed TRs register themselves on import)."""
    _REGISTRY[spec.tr_id] = spec
    return spec


def get_spec(tr_id: str) -> TrSpec | None:
    """The specification of ``tr_id``, or ``None`` for a TR the codec does not know."""
    return _REGISTRY.get(tr_id)


def known_tr_ids() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))
