"""The lot file written as runs of fields (records.FieldRun): the same bytes as field by field."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import date, time

import pytest
from format_samples import DESTINATION, fses, make_fse, make_line, sample_lot
from hypothesis import given, settings

from tuibill.formats.codec import CaisseCode, FseRecord, FseSignature
from tuibill.formats.errors import FormatError
from tuibill.formats.fse_records import (
    ACT_LINE,
    FSE_COVERAGE,
    FSE_IDENTITY,
    SIGNATURE,
    SIGNATURE_CHUNK,
    SIGNATURE_PART,
    encode_fse,
)
from tuibill.formats.lot_file import TuibillLotCodec
from tuibill.formats.records import Field, Flag, Number, RecordSpec

CODEC = TuibillLotCodec()


def field_by_field(fse: FseRecord, first: int) -> list[str]:
    """An FSE's records from one dict per record (RecordSpec.encode), as the format describes."""
    records = [
        FSE_IDENTITY.encode(
            {name: getattr(fse, name) for name in (
                "invoice_number", "mode", "billing_date", "patient_last_name",
                "patient_first_name", "birth_date", "nir", "rank", "quality")},
            first,
        ),
        FSE_COVERAGE.encode(
            {"amo_regime": fse.amo.regime, "amo_caisse": fse.amo.caisse,
             "amo_centre": fse.amo.centre, "line_count": len(fse.lines),
             **{name: getattr(fse, name) for name in (
                 "amc_number", "amo_tiers_payant", "amc_tiers_payant", "amo_rate",
                 "prescriber_number", "prescription_date", "total_cents", "amo_cents",
                 "amc_cents", "patient_cents")}},
            first + 1,
        ),
    ]  # fmt: skip
    for position, line in enumerate(fse.lines, 1):
        negative = line.total_cents < 0
        records.append(
            ACT_LINE.encode(
                {"line_number": position, "act_date": line.act_date, "act_time": line.act_time,
                 "code": line.code, "coefficient_x100": line.coefficient_x100,
                 "quantity": line.quantity, "unit_cents": line.unit_cents,
                 "total_cents": abs(line.total_cents), "amo_cents": abs(line.amo_cents),
                 "amc_cents": abs(line.amc_cents), "patient_cents": abs(line.patient_cents),
                 "sign": "N" if negative else None},
                first + 1 + position,
            )
        )  # fmt: skip
    signature = fse.signature
    text = base64.b64encode(signature.value).decode("ascii")
    chunks = [text[i : i + SIGNATURE_CHUNK] for i in range(0, len(text), SIGNATURE_CHUNK)]
    number = first + 2 + len(fse.lines)
    records.append(
        SIGNATURE.encode(
            {"card_type": signature.card_type, "algorithm": signature.algorithm,
             "signer": signature.signer, "length": len(signature.value),
             "chunk_count": len(chunks)},
            number,
        )
    )  # fmt: skip
    for sequence, chunk in enumerate(chunks, 1):
        records.append(SIGNATURE_PART.encode({"sequence": sequence, "chunk": chunk}, number + sequence))
    return records


def golden_lot():
    """The specification's lot, a regularisation (negative line) and FSE whose patients, days
    and acts repeat, as a lot's do (the runs' texts are then taken from what was kept)."""
    base = sample_lot()
    line = make_line("AMI", 315, coefficient=300, at=time(8, 30))
    negative = replace(
        line,
        total_cents=-line.total_cents,
        amo_cents=-line.amo_cents,
        patient_cents=-line.patient_cents,
    )
    regularisation = replace(
        make_fse(7435, (line,)),
        lines=(negative, line),
        total_cents=0,
        amo_cents=0,
        patient_cents=0,
    )
    again = [
        make_fse(
            7436 + k,
            (
                make_line("AMI", 315, coefficient=300, day=date(2025, 3, 3 + k % 2), at=time(8, 30)),
                make_line("IFD", 275),
            ),
            patient_last_name="SIMON" if k % 3 else "DUPUIS",
        )
        for k in range(6)
    ]
    return replace(base, fses=(*base.fses, regularisation, *again))


def test_lot_file_bytes_are_those_of_the_format_before_the_runs():
    # SHA-256 of this lot as written field by field before FieldRun (same bytes since).
    expected = "f612327cc7f74cc8cf247662fd18eedcdbd2f97c6fa481d32cb5c7b7c03f378b"
    for _ in range(2):  # the second time, every run's text is one kept from the first
        data = CODEC.write(golden_lot())
        assert hashlib.sha256(data).hexdigest() == expected
    assert CODEC.read(data) == golden_lot()


@settings(max_examples=60, deadline=None)
@given(fses(DESTINATION, 42))
def test_runs_write_what_the_record_specs_write(fse):
    assert encode_fse(fse, 7) == field_by_field(fse, 7)
    assert encode_fse(fse, 7) == field_by_field(fse, 7)  # from the kept texts


def test_a_kept_run_tells_one_from_true():
    spec = RecordSpec(
        "77",
        "essai",
        [
            Field("count", "nombre", 3, Number(0, 999)),
            Field("flag", "drapeau", 1, Flag()),
            Field("rest", "reste", 122, Number(0, 9)),
        ],
    )
    run = spec.run("count", "flag", keep=True)
    assert run.names == ("count", "flag")
    assert run.encode((1, True), 3) == "0011"
    # Equal and of the same hash as (1, True), but a flag is no number and 1 is no flag.
    with pytest.raises(FormatError) as refused:
        run.encode((True, 1), 3)
    assert "enregistrement 3 (type 77, essai), champ « nombre »" in str(refused.value)
    assert run.encode((1, True), 3) == "0011"


def test_a_refused_value_names_its_record_and_field():
    run = FSE_COVERAGE.run("type", "filler", keep=True)
    fse = make_fse(9, (make_line("AMI", 315),), amo=CaisseCode("1", "281", "0001"))
    values = (fse.amo.regime, fse.amo.caisse, fse.amo.centre, None, True, False, 60, None,
              None, 315, 189, 0, 126, 1)  # fmt: skip
    with pytest.raises(FormatError) as refused:
        run.encode(values, 12)
    assert refused.value.record_number == 12
    assert refused.value.field == "amo_regime"
    with pytest.raises(TypeError):
        run.encode(values[:-1], 12)


def test_unhashable_values_are_written_without_being_kept():
    spec = RecordSpec("78", "essai", [Field("count", "nombre", 126, Number(0, 9))])
    run = spec.run("type", "count", keep=True)

    class Unhashable(int):
        __hash__ = None  # type: ignore[assignment]

    assert run.encode((Unhashable(3),), 1) == "78" + "3".rjust(126, "0")
    with pytest.raises(FormatError) as refused:
        run.encode(([3],), 5)
    assert refused.value.record_number == 5 and refused.value.field == "count"


def test_a_line_shared_between_fse_is_written_at_each_of_its_places():
    # One line object in several FSE, at different places (services.lot_content shares them):
    # each record has its own line number, as from equal copies never seen before; one
    # unsigned signature shared by every FSE is written for each.
    shared = make_line("AMI", 315, coefficient=300, at=time(8, 30))
    other = make_line("IFD", 275)
    unsigned = FseSignature.unsigned()  # shared too, as lot_content makes it
    lot = replace(
        sample_lot(),
        fses=(make_fse(8001, (shared, other), signature=unsigned),
              make_fse(8002, (other, shared), signature=unsigned),
              make_fse(8003, (shared,), signature=unsigned)),
    )  # fmt: skip
    copies = replace(
        lot, fses=tuple(replace(fse, lines=tuple(replace(line) for line in fse.lines),
                                signature=FseSignature.unsigned())
                        for fse in lot.fses),
    )  # fmt: skip
    data = CODEC.write(lot)
    assert data == CODEC.write(copies) == CODEC.write(lot)
    assert [fse.lines for fse in CODEC.read(data).fses] == [fse.lines for fse in lot.fses]
    for fse, first in zip(lot.fses, (2, 7, 12), strict=True):
        assert encode_fse(fse, first) == field_by_field(fse, first)


def test_a_shared_line_whose_amounts_are_wrong_is_refused_each_time():
    good = make_line("AMI", 315)
    wrong = replace(good, total_cents=good.total_cents + 1, patient_cents=good.patient_cents + 1)
    lot = replace(sample_lot(), fses=(make_fse(8101, (good,)),))
    CODEC.write(lot)
    for _ in range(2):
        with pytest.raises(FormatError) as refused:
            CODEC.write(replace(lot, fses=(make_fse(8102, (good, wrong)),)))
        assert refused.value.field == "total_cents" and refused.value.record_number == 5
