"""One record of a real-time TR: raw field strings, with typed access through the TR's table."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .errors import FieldCountError, FieldValueError
from .fields import describe, encode_value
from .spec import TrSpec

__all__ = ["Record"]


class Record(Mapping[str, Any]):
    """A record as it came off the wire, with typed access on demand.

    ``record["ASKP1"]`` is the typed value (``Decimal``, ``int``, ``datetime.time``, ``None`` for ``""``),
    ``record.raw`` the field strings exactly as received, ``record.raw_value("ASKP1")`` one of them.
    A record of a TR the codec does not know (``spec is None``) has raw fields only; so does a record kept
    by the lenient parser with the wrong field count (``valid`` is ``False``).

    Records compare equal when their TR and raw fields are equal.
    """

    __slots__ = ("index", "raw", "spec", "tr_id", "valid")

    def __init__(
        self, tr_id: str, raw: tuple[str, ...], spec: TrSpec | None = None, *, index: int = 0
    ) -> None:
        self.tr_id = tr_id
        self.raw = raw
        self.spec = spec
        self.index = index
        self.valid = spec is not None and len(raw) == spec.field_count

    # -- construction -------------------------------------------------------------------------------------
    @classmethod
    def from_values(cls, spec: TrSpec, values: Mapping[str, Any]) -> Record:
        """Build a record from typed values; every field of the spec must be given (``None`` for empty)."""
        missing = [f.name for f in spec.fields if f.name not in values]
        extra = [name for name in values if name not in spec]
        if missing or extra:
            raise KeyError(f"{spec.tr_id}: missing fields {missing}, unknown fields {extra}")
        raw = tuple(encode_value(f.type, values[f.name]) for f in spec.fields)
        return cls(spec.tr_id, raw, spec)

    @classmethod
    def from_raw(cls, spec: TrSpec, raw: tuple[str, ...] | list[str], *, index: int = 0) -> Record:
        """A record from raw strings, checked against the spec's field count."""
        raw = tuple(raw)
        if len(raw) != spec.field_count:
            raise FieldCountError(
                f"{spec.tr_id} record {index + 1}: {len(raw)} fields, expected {spec.field_count}",
                tr_id=spec.tr_id,
                record=index + 1,
                expected=spec.field_count,
                actual=len(raw),
            )
        return cls(spec.tr_id, raw, spec, index=index)

    # -- access ---------------------------------------------------------------------------------------------
    def raw_value(self, name: str) -> str:
        return self.raw[self._spec().field(name).index]

    def __getitem__(self, name: str) -> Any:
        spec = self._spec()
        index = spec.field(name).index
        raw = self.raw[index]
        try:
            return spec.decoders[index](raw)
        except ValueError:
            raise self._value_error(spec, index) from None

    def _value_error(self, spec: TrSpec, index: int) -> FieldValueError:
        f, raw = spec.fields[index], self.raw[index]
        return FieldValueError(
            f"{self.tr_id} record {self.index + 1} field {f.index + 1} {f.name}: "
            f"expected {describe(f.type)}, got {raw!r:.60}",
            tr_id=self.tr_id,
            field=f.name,
            index=f.index,
            raw=raw,
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._spec().names)

    def __len__(self) -> int:
        return len(self.raw)

    def typed(self) -> dict[str, Any]:
        """All fields as typed values; raises :class:`FieldValueError` on the first bad one."""
        spec = self._spec()
        try:
            return {name: decode(raw) for name, decode, raw in zip(spec.names, spec.decoders, self.raw, strict=True)}
        except ValueError:
            pass
        # the error path: find the first field that fails, for a message that names it
        for index, (decode, raw) in enumerate(zip(spec.decoders, self.raw, strict=True)):
            try:
                decode(raw)
            except ValueError:
                raise self._value_error(spec, index) from None
        raise AssertionError("unreachable: a decoder failed, then none did")  # pragma: no cover

    def validate(self) -> None:
        """Check every field against its type (``FieldValueError`` names the first that fails)."""
        self.typed()

    @property
    def tr_key(self) -> str:
        """The instrument code: by KIS convention the first field of every real-time record."""
        return self.raw[0] if self.raw else ""

    def _spec(self) -> TrSpec:
        if self.spec is None or not self.valid:
            why = "unknown TR" if self.spec is None else f"{len(self.raw)} fields, expected {self.spec.field_count}"
            raise FieldValueError(
                f"{self.tr_id} record {self.index + 1}: raw fields only ({why})",
                tr_id=self.tr_id,
                field="",
                index=-1,
                raw="",
            )
        return self.spec

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return self.tr_id == other.tr_id and self.raw == other.raw

    def __hash__(self) -> int:
        return hash((self.tr_id, self.raw))

    def __repr__(self) -> str:
        shown = "^".join(self.raw[:4]) + ("^…" if len(self.raw) > 4 else "")
        return f"<Record {self.tr_id} #{self.index + 1} {shown}>"
