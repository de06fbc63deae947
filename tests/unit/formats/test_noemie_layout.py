"""The NOEMIE PS layout against the fact sheet, and the record kinds it added to the kit."""

from __future__ import annotations

from datetime import date

import pytest
from noemie_samples import LENGTHS

from tuibill.formats import noemie_layout as layout
from tuibill.formats.records import Alpha, BlankOr, Number, Reject, ShortDate


@pytest.mark.parametrize("spec", layout.ENTITIES, ids=lambda spec: spec.code)
def test_entity_lengths_are_the_fact_sheet_s(spec):
    assert spec.width == LENGTHS.get(spec.code, 128)
    if spec.code not in ("000", "999"):
        assert spec.fields[1].name == "depth" and spec.starts["depth"] == 3
        assert spec.fields[-1].name == "end" and spec.starts["end"] == spec.width - 1


def test_closed_lists_are_complete():
    counts = {
        "ORGANISMS": 24,
        "RETURN_TYPES": 5,
        "INVOICE_TYPES": 9,
        "AMC_TREATMENTS": 6,
        "EXPENSE_QUALIFIERS": 10,
        "ACT_COMPLEMENTS": 6,
        "DEBT_NATURES": 13,
        "RECOVERY_OPERATIONS": 15,
        "PERIODS": 6,
        "REJECTION_LEVELS": 3,
        "REJECTION_PARTS": 2,
        "PART_STATES": 3,
    }
    for name, count in counts.items():
        codes = [code for code, _ in getattr(layout, name)]
        assert len(codes) == len(set(codes)) == count, name


def test_fields_named_in_the_fact_sheet_positions():
    # A few positions straight from the tables.
    assert layout.AMO_PART.starts["paid_cents"] + 1 == 15
    assert layout.AMC_PART.starts["amc_number"] + 1 == 24
    assert layout.ACT_LINE.starts["nature"] + 1 == 62
    assert layout.ACT_LINE.starts["amc_base_cents"] + 1 == 110
    assert layout.REJECTION.starts["line"] + 1 == 118
    assert layout.TRAILER.starts["block_count"] + 1 == 56
    assert layout.TRAILER.starts["total"] + 1 == 86
    assert layout.HEADER.starts["record_length"] + 1 == 83


def test_alpha_keeps_leading_spaces_and_drops_padding():
    kind = Alpha(optional=True)
    assert kind.decode("  AB  ") == "  AB"
    assert kind.encode("  AB", 6) == "  AB  "
    assert kind.decode("      ") is None and kind.encode(None, 3) == "   "
    for bad in ("AB ", "", " "):
        with pytest.raises(Reject):
            kind.encode(bad, 6)
    with pytest.raises(Reject, match="non imprimable"):
        kind.decode("A\x00")
    with pytest.raises(Reject, match="obligatoire"):
        Alpha().decode("   ")


def test_short_date_pivot():
    kind = ShortDate()
    assert kind.decode("790101") == date(2079, 1, 1)
    assert kind.decode("800101") == date(1980, 1, 1)
    assert kind.decode("000229") == date(2000, 2, 29)
    assert kind.encode(date(2025, 3, 5), 6) == "250305"
    for bad in ("250230", "2503 5", "25030"):
        with pytest.raises(Reject):
            kind.decode(bad)
    for year in (1979, 2080):
        with pytest.raises(Reject, match="hors de 1980 à 2079"):
            kind.encode(date(year, 1, 1), 6)


def test_blank_or():
    kind = BlankOr(Number(0, 999))
    assert kind.decode("   ") is None and kind.decode("007") == 7
    assert kind.encode(None, 3) == "   " and kind.encode(7, 3) == "007"
    assert kind.type_code == "N" and kind.allowed(3).endswith("espaces si absent")
    with pytest.raises(Reject):
        kind.decode(" 7 ")


def test_ps_number():
    kind = layout.PsNumber()
    assert kind.decode("000000123456789") == "123456789"
    assert kind.encode("000000001", 15) == "000000000000001"
    with pytest.raises(Reject, match="premiers chiffres à zéro"):
        kind.decode("100000123456789")
    with pytest.raises(Reject):
        kind.encode("12345678", 15)
