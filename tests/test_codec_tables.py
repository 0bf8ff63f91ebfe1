"""The seed TR tables: counts, names at known positions, and types, hard-coded from the KIS API pages.

The tables were checked once, name by name, against the spec pages; these tests pin what that check found so a
careless edit of a table shows up (the suite never reads ../shared).
"""

from __future__ import annotations

import pytest

from kis_replay.codec import FieldType, TrKind, get_spec, known_tr_ids

SEED = {"H0ZFASP0": 68, "H0EUASP0": 38, "H0IOCNT0": 58}


@pytest.mark.parametrize(("tr_id", "count"), SEED.items())
def test_field_counts(tr_id: str, count: int) -> None:
    spec = get_spec(tr_id)
    assert spec is not None
    assert spec.field_count == count == len(spec.names) == len(set(spec.names))
    assert [f.index for f in spec.fields] == list(range(count))


@pytest.mark.parametrize(
    ("tr_id", "index", "name"),
    [
        ("H0ZFASP0", 0, "FUTS_SHRN_ISCD"),
        ("H0ZFASP0", 1, "BSOP_HOUR"),
        ("H0ZFASP0", 2, "ASKP1"),
        ("H0ZFASP0", 11, "ASKP10"),
        ("H0ZFASP0", 12, "BIDP1"),
        ("H0ZFASP0", 22, "ASKP_CSNU1"),
        ("H0ZFASP0", 32, "BIDP_CSNU1"),
        ("H0ZFASP0", 42, "ASKP_RSQN1"),
        ("H0ZFASP0", 52, "BIDP_RSQN1"),
        ("H0ZFASP0", 62, "TOTAL_ASKP_CSNU"),
        ("H0ZFASP0", 64, "TOTAL_ASKP_RSQN"),
        ("H0ZFASP0", 67, "TOTAL_BIDP_RSQN_ICDC"),
        ("H0EUASP0", 0, "OPTN_SHRN_ISCD"),
        ("H0EUASP0", 2, "OPTN_ASKP1"),
        ("H0EUASP0", 7, "OPTN_BIDP1"),
        ("H0EUASP0", 12, "ASKP_CSNU1"),
        ("H0EUASP0", 22, "ASKP_RSQN1"),
        ("H0EUASP0", 34, "TOTAL_ASKP_RSQN"),
        ("H0EUASP0", 37, "TOTAL_BIDP_RSQN_ICDC"),
        ("H0IOCNT0", 0, "OPTN_SHRN_ISCD"),
        ("H0IOCNT0", 2, "OPTN_PRPR"),
        ("H0IOCNT0", 3, "PRDY_VRSS_SIGN"),
        ("H0IOCNT0", 10, "ACML_VOL"),
        ("H0IOCNT0", 28, "DELTA"),
        ("H0IOCNT0", 29, "GAMA"),
        ("H0IOCNT0", 41, "OPTN_ASKP1"),
        ("H0IOCNT0", 47, "NTBY_CNTG_CSNU"),
        ("H0IOCNT0", 52, "PRDY_VOL_VRSS_ACML_VOL_RATE"),
        ("H0IOCNT0", 57, "DYNM_PRC_LIMT_YN"),
    ],
)
def test_names_at_positions(tr_id: str, index: int, name: str) -> None:
    spec = get_spec(tr_id)
    assert spec is not None
    assert spec.names[index] == name
    assert spec.field(name).index == index


@pytest.mark.parametrize(
    ("tr_id", "name", "ftype"),
    [
        ("H0ZFASP0", "FUTS_SHRN_ISCD", FieldType.CODE),
        ("H0ZFASP0", "BSOP_HOUR", FieldType.TIME),
        ("H0ZFASP0", "ASKP5", FieldType.PRICE),
        ("H0ZFASP0", "BIDP_CSNU3", FieldType.QUANTITY),
        ("H0ZFASP0", "TOTAL_ASKP_RSQN_ICDC", FieldType.QUANTITY_CHANGE),
        ("H0EUASP0", "OPTN_BIDP5", FieldType.PRICE),
        ("H0IOCNT0", "PRDY_VRSS_SIGN", FieldType.SIGN),
        ("H0IOCNT0", "OPTN_PRDY_VRSS", FieldType.PRICE_CHANGE),
        ("H0IOCNT0", "PRDY_CTRT", FieldType.RATE),
        ("H0IOCNT0", "DELTA", FieldType.RATE),
        ("H0IOCNT0", "TMVL_VAL", FieldType.PRICE_CHANGE),
        ("H0IOCNT0", "DYNM_PRC_LIMT_YN", FieldType.FLAG),
    ],
)
def test_field_types(tr_id: str, name: str, ftype: FieldType) -> None:
    spec = get_spec(tr_id)
    assert spec is not None
    assert spec.field(name).type is ftype


def test_kinds_and_flags() -> None:
    quote, night, trade = (get_spec(t) for t in SEED)
    assert quote is not None and night is not None and trade is not None
    assert (quote.kind, night.kind, trade.kind) == (TrKind.QUOTE, TrKind.QUOTE, TrKind.TRADE)
    assert quote.filtered and night.filtered and not trade.filtered
    assert not (quote.encrypted or night.encrypted or trade.encrypted)
    low, high = quote.key_width
    assert low <= 6 <= high  # 111V06
    low, high = trade.key_width
    assert low <= 9 <= high  # 201S11305
    assert set(SEED) <= set(known_tr_ids())


def test_unknown_tr_and_unknown_field() -> None:
    assert get_spec("H0XXXXX0") is None
    spec = get_spec("H0ZFASP0")
    assert spec is not None
    assert "ASKP1" in spec and "NOPE" not in spec
    with pytest.raises(KeyError, match="H0ZFASP0 has no field 'NOPE'"):
        spec.field("NOPE")
