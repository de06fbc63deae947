"""The NOEMIE PS reader on a file written by hand from the public tables: fields and refusals."""

from __future__ import annotations

from datetime import date

import pytest
from noemie_samples import (
    HEADER,
    SAMPLE_ENTITIES,
    SAMPLE_LOTS,
    SAMPLE_TOTAL,
    alpha,
    amo,
    assemble,
    entity,
    invoice,
    num,
    sample_bytes,
)

from tuibill.formats.errors import FormatError
from tuibill.formats.noemie import NoemieFormatError, read_return, write_return
from tuibill.formats.noemie_content import (
    ActLine,
    AmcPart,
    AmoPart,
    Archive,
    Comment,
    Control,
    FlatPayment,
    InsuranceNature,
    Insured,
    InsuredPatient,
    Lot,
    Patient,
    Rejection,
    ReturnInvoice,
    Signalement,
    Withholding,
)


@pytest.fixture(scope="module")
def sample():
    return read_return(sample_bytes())


def _invoice(sample, number: str) -> ReturnInvoice:
    (found,) = [item for item in sample.invoices if item.number == number]
    return found


# --- what the sample says -------------------------------------------------------------------


def test_header(sample):
    header = sample.header
    assert (header.emitter_type, header.emitter_number, header.emitter_program) == (
        "CP",
        "01281000000000",
        "NOEMIE",
    )
    assert (header.recipient_type, header.recipient_number, header.recipient_program) == (
        "TP",
        "123456789",
        None,
    )
    assert header.file_id == "F00123"
    assert header.created == date(2025, 3, 20)
    assert (header.norm, header.version, header.compaction, header.encryption) == (
        "NO58",
        "04",
        None,
        "N",
    )
    assert header.flow_type == "T"
    assert header.message == "RETOURS NOEMIE PS"
    assert sample.other_currency_cents is None


def test_virements(sample):
    first, second = sample.virements
    assert first.index == 0
    assert (first.mandataire, first.payee) == ("000000123456789", "123456789")
    assert first.accounting_date == date(2025, 3, 20)
    assert (first.label1, first.label2, first.paying_body) == (
        "VIR CPAM EURE-ET-LOIR",
        "REF 2025032000123",
        "CPAM 281",
    )
    assert first.is_transfer
    # A second PS under the same mandataire, paid with a bare accounting date (070).
    assert (second.index, second.mandataire, second.payee) == (1, "000000123456789", "987654321")
    assert second.accounting_date == date(2025, 3, 21)
    assert not second.is_transfer and second.label1 is None
    assert sample.payee_of(sample.invoices[-1]) == "987654321"


def test_counts_and_totals(sample):
    assert len(sample.invoices) == 7
    assert sample.lot_count == SAMPLE_LOTS == 3
    assert sample.total_paid_cents == SAMPLE_TOTAL == 1597
    assert len(write_return(sample)) // 128 == len(sample_bytes()) // 128
    assert [i.number for i in sample.invoices_of(0)] == [
        "000000101",
        "000000102",
        "000000103",
        "000000104",
        "000000090",
        "000000091",
    ]
    assert sample.paid_cents_of(0) == 630 + 189 + 378 - 100
    assert sample.paid_cents_of(1) == 500


def test_full_payment(sample):
    paid = _invoice(sample, "000000101")
    assert (paid.virement, paid.return_type, paid.execution_place) == (0, "01", None)
    assert paid.lot == Lot(695, date(2025, 3, 5), 3)
    assert (paid.lot_number, paid.lot_date) == (695, date(2025, 3, 5))
    assert paid.invoice_type == "F"
    assert (paid.complement, paid.invoice_lot, paid.invoice_lot_date) == (
        None,
        "695",
        date(2025, 3, 5),
    )
    assert paid.billing_date == date(2025, 3, 4)
    assert (paid.amc_treatment, paid.insurance_nature, paid.depth) == (None, "AS", 4)
    assert paid.matching_number == "000000101"
    assert paid.insured_patient == InsuredPatient(
        nir="1800628123456",
        nir_key="42",
        birth_name="MARTIN",
        usage_name="DURAND-MARTIN",
        first_name="ÉLOÏSE",
        birth_date="800628",
        birth_rank=1,
        beneficiary_name="MARTIN",
        beneficiary_first_name="LÉA",
        management_unit="0281",
    )
    # A "lunar" birth date (30 February) is kept as written.
    assert paid.patient == Patient(
        birth_date="150230", rank="2", name="MARTIN", first_name="LÉA", management_unit="0281"
    )
    assert paid.nature == InsuranceNature(code="AS")
    assert paid.archive == Archive(number="12345678901234567")
    assert paid.amo == AmoPart(asked_cents=378, state="P", paid_cents=378)
    assert paid.amc == AmcPart(
        asked_cents=252, state="P", paid_cents=252, amc_number="0000012345", member_id="ADH-77"
    )
    assert (paid.asked_cents, paid.paid_cents) == (630, 630)
    first, second = paid.lines
    assert first == ActLine(
        line=1,
        regime_code="01",
        exoneration="0",
        processing_mode="10",
        discipline="024",
        prescription_date=date(2025, 2, 1),
        care_date=date(2025, 3, 3),
        care_end_date=date(2025, 3, 3),
        unit_price_cents=315,
        base_cents=315,
        rate=60,
        refunded_cents=189,
        nature="AMI",
        quantity=1,
        coefficient_x100=100,
        count=1,
        expense_cents=315,
        complement=None,
        qualifier=None,
        am_rate=0,
        am_cents=0,
        amc_rate=40,
        amc_cents=126,
        amc_base_cents=315,
    )
    assert (second.line, second.complement, second.coefficient_x100) == (2, "N", 150)
    # Leading spaces are content; the right padding is not.
    assert paid.comments == (Comment(code="1", text="  PAIEMENT SANS OBSERVATION"),)
    assert not (paid.is_rejected or paid.is_partially_paid or paid.is_deferred)
    assert paid.rejected_lines == ()


def test_partial_payment(sample):
    partial = _invoice(sample, "000000102")
    assert partial.insured == Insured(
        nir="2750512345678", nir_key="07", name_nature="U", name="BERNARD", first_name="ANNE"
    )
    assert partial.amo == AmoPart(asked_cents=378, state="P", paid_cents=189)
    assert partial.amc is None
    assert [line.refunded_cents for line in partial.lines] == [189, 0]
    assert partial.rejections == (
        Rejection(
            code="0470",
            label="PRESCRIPTION INTERDITE A CETTE DATE",
            level="L",
            part="O",
            nature="AMI",
            care_date=date(2025, 3, 3),
            executant="123456789",
            line=2,
            rank=1,
            info="049",
        ),
    )
    assert partial.is_partially_paid and not partial.is_rejected
    assert partial.rejected_lines == (2,)
    assert partial.rejections_of_line(2) == partial.rejections
    assert partial.rejections_of_line(1) == ()
    assert (partial.asked_cents, partial.paid_cents) == (378, 189)


def test_rejected_invoice(sample):
    rejected = _invoice(sample, "000000103")
    assert rejected.invoice_type == "B"
    assert rejected.amo == AmoPart(asked_cents=378, state="R", paid_cents=None)
    (rejection,) = rejected.rejections
    assert (rejection.code, rejection.label, rejection.level, rejection.part) == (
        "0460",
        "ETABLISSEMENT PRESCRIPTEUR INCONNU",
        "F",
        "O",
    )
    assert (rejection.care_date, rejection.executant, rejection.line, rejection.rank) == (
        None,
        None,
        None,
        None,
    )
    assert rejection.info == "053"
    assert rejected.signalements == (
        Signalement(line=0, code="0460053", label="PRESCRIPTEUR INCONNU"),
    )
    # File order is kept: the 294 came before the 290.
    assert [type(e) for e in rejected.entities] == [AmoPart, Rejection, Signalement]
    assert rejected.is_rejected and rejected.amo_rejected
    assert rejected.paid_cents == 0


def test_deferred_part(sample):
    deferred = _invoice(sample, "000000104")
    assert deferred.amo == AmoPart(asked_cents=378, state="D")
    assert deferred.is_deferred and not deferred.is_rejected


def test_back_payments_with_a_bare_100_and_a_negative_amount(sample):
    recall, short = _invoice(sample, "000000090"), _invoice(sample, "000000091")
    assert recall.return_type == short.return_type == "04"
    assert recall.lot == short.lot == Lot(690, date(2025, 2, 10))
    assert recall.invoice_type == "E"
    assert short.invoice_type is None  # a 100: the number only
    assert (short.complement, short.invoice_lot, short.billing_date) == (None, None, None)
    assert short.amo == AmoPart(asked_cents=0, state="P", paid_cents=-100)
    assert short.paid_cents == -100


def test_withholding_flat_payment_and_control(sample):
    (withholding,) = sample.withholdings
    assert withholding == Withholding(
        virement=0,
        return_type="05",
        line=1,
        debt_reference="IND0001234",
        debt_date=date(2025, 2, 10),
        debt_nature="IND",
        operation="RPR",
        amount_cents=-1500,
        balance_cents=3000,
    )
    (flat,) = sample.flat_payments
    assert isinstance(flat, FlatPayment)
    assert (flat.return_type, flat.lot, flat.code, flat.amount_cents) == ("03", None, "00012", 4600)
    (detail,) = flat.details
    assert (detail.code, detail.label, detail.period) == ("FORF", "FORFAIT COORDINATION", "M")
    assert (detail.period_start, detail.period_end, detail.amount_cents) == (
        date(2025, 2, 1),
        date(2025, 2, 28),
        4600,
    )
    assert (detail.nir, detail.nir_key, detail.birth_date, detail.birth_rank) == (
        None,
        None,
        None,
        None,
    )
    assert sample.controls == (
        Control(virement=0, return_type="03", identification="071", count=6, amount_cents=1097),
    )


def test_levels_are_followed_as_read(sample):
    last = sample.invoices[-1]
    assert last.lot == Lot(12, date(2025, 3, 6), depth=7)
    assert last.depth == 8 and last.amo is not None and last.amo.depth == 9
    assert last.number == "201" and last.matching_number == "000000201"
    assert (last.complement, last.invoice_lot, last.amc_treatment) == ("A", "12", "V")
    assert last.execution_place == "28100000000001"


def test_any_marker_but_1_means_more_blocks():
    assert read_return(sample_bytes("0")) == read_return(sample_bytes("2Z\x00 "))


def test_reading_is_canonical():
    # What tuibill writes back is the file, with "0" as the marker of every block but the last.
    assert write_return(read_return(sample_bytes("97"))) == sample_bytes("0")


def test_the_last_block_may_end_inside_the_999():
    # Empty 070 virements (12 characters each) move the 999 until its blank tail is cut off.
    stream_length = len("".join(SAMPLE_ENTITIES))
    extra = next(
        k
        for k in range(127)
        if -(-(stream_length + 12 * k + 128) // 127) > -(-(stream_length + 12 * k + 97) // 127)
    )
    entities = SAMPLE_ENTITIES + [entity("070", "02", "250322")] * extra
    data = assemble(entities, lots=SAMPLE_LOTS, total=SAMPLE_TOTAL)
    blocks = len(data) // 128
    assert stream_length + 12 * extra + 128 > (blocks - 1) * 127  # the full 999 would not fit
    content = read_return(data)
    assert len(write_return(content)) // 128 == blocks
    assert len(content.virements) == 2 + extra
    assert write_return(content) == data


# --- refusals -------------------------------------------------------------------------------


def _offset(index: int, entities: list[str] | None = None) -> int:
    """The 1-based byte position of entity *index* (of SAMPLE_ENTITIES) in the file."""
    position = sum(len(text) for text in (entities or SAMPLE_ENTITIES)[:index])
    block, within = divmod(position, 127)
    return 128 * (block + 1) + within + 2


def _index(prefix: str, nth: int = 0) -> int:
    return [i for i, text in enumerate(SAMPLE_ENTITIES) if text.startswith(prefix)][nth]


def _patched(index: int, position: int, text: str) -> list[str]:
    """SAMPLE_ENTITIES with *text* written at 1-based *position* of entity *index*."""
    entities = list(SAMPLE_ENTITIES)
    old = entities[index]
    entities[index] = old[: position - 1] + text + old[position - 1 + len(text) :]
    return entities


def _refused(data: bytes) -> NoemieFormatError:
    with pytest.raises(NoemieFormatError) as caught:
        read_return(data)
    return caught.value


def _refused_entity(entities: list[str], index: int, code: str, **totals: int) -> str:
    data = assemble(
        entities, lots=totals.get("lots", SAMPLE_LOTS), total=totals.get("total", SAMPLE_TOTAL)
    )
    error = _refused(data)
    message = str(error)
    assert message.startswith(f"Entité n° {index + 2} (type {code}")
    assert f"à l'octet {_offset(index, entities)}" in message
    assert (error.record_number, error.record_type, error.offset) == (
        index + 2,
        code.strip("« »"),
        _offset(index, entities),
    )
    return message


def test_unknown_entity_type():
    index = _index("15005")
    message = _refused_entity(_patched(index, 1, "151"), index, "« 151 »")
    assert "type d'entité inconnu" in message


def test_bad_length_the_delimiter_is_not_where_the_type_says():
    index = _index("19805")
    entities = list(SAMPLE_ENTITIES)
    entities[index] = entities[index][:6] + entities[index][7:]  # one digit too few
    message = _refused_entity(entities, index, "198")
    assert "délimiteur « @ » attendu en position 24" in message
    assert "longueur fausse" in message


def test_non_digit_in_a_number():
    index = _index("19805")
    message = _refused_entity(_patched(index, 6, "00000A78"), index, "198")
    assert "champ « montant AMO demandé » (positions 6 à 13)" in message
    assert "« 00000A78 » n'est pas un nombre de 8 chiffres" in message


def test_invalid_date():
    index = _index("07102")
    message = _refused_entity(_patched(index, 6, "250230"), index, "071")
    assert "(positions 6 à 11)" in message
    assert "« 250230 » n'est pas une date du calendrier" in message


def test_value_outside_a_closed_list():
    index = _index("19805")
    message = _refused_entity(_patched(index, 14, "X"), index, "198")
    assert "champ « état paiement part AMO » (positions 14 à 14)" in message
    assert "n'est pas un code prévu (P, R, D)" in message


def test_rejection_level_outside_its_list():
    index = _index("29405")
    message = _refused_entity(_patched(index, 96, "Z"), index, "294")
    assert "champ « niveau de rejet » (positions 96 à 96)" in message


def test_mandatory_text_blank():
    index = _index("12005")
    message = _refused_entity(_patched(index, 13, " " * 25), index, "120")
    assert "champ « nom du malade » (positions 13 à 37) : champ obligatoire vide." in message


def test_mandatory_number_blank():
    index = _index("19805")
    message = _refused_entity(_patched(index, 6, " " * 8), index, "198")
    assert "champ « montant AMO demandé » (positions 6 à 13) : champ obligatoire vide." in message


def test_filler_not_blank():
    index = _index("11005")
    message = _refused_entity(_patched(index, 47, "X"), index, "110")
    assert "champ « blanc » (positions 47 à 72)" in message


def test_negative_sign_on_a_zero_amount():
    index = _index("19805", 3)  # the rejected invoice: no paid amount
    message = _refused_entity(_patched(index, 23, "N"), index, "198")
    assert "signe N pour un montant nul ou absent" in message


def test_lot_control_count():
    index = _index("99099080695")
    message = _refused_entity(_patched(index, 23, num(5, 8)), index, "990")
    assert (
        "champ « compteur du niveau inférieur dans la hiérarchie » (positions 23 à 30)" in message
    )
    assert "5 annoncée(s), le lot 695 compte 4 facture(s)" in message


def test_lot_control_cumul():
    index = _index("99099080695")
    message = _refused_entity(_patched(index, 31, num(820, 11)), index, "990")
    assert "champ « cumul des montants de niveau inférieur » (positions 31 à 41)" in message
    assert "cumul annoncé 8,20 €" in message and "font 8,19 €" in message


def test_lot_control_sign():
    index = _index("99099080695")
    message = _refused_entity(_patched(index, 42, "N"), index, "990")
    assert "cumul annoncé -8,19 €" in message


def test_lot_control_for_another_lot():
    index = _index("99099080695")
    message = _refused_entity(_patched(index, 6, "080696"), index, "990")
    assert "ne ferme pas le lot ouvert : « 080695 » attendu" in message


def test_lot_control_without_an_open_lot():
    index = _index("99099071")
    message = _refused_entity(_patched(index, 6, "080999"), index, "990")
    assert "aucun lot n'est ouvert" in message


def test_lot_without_its_control():
    index = _index("99099080695")
    entities = SAMPLE_ENTITIES[:index] + SAMPLE_ENTITIES[index + 1 :]
    message = _refused_entity(entities, index, "081")
    assert "le lot 695 (080, entité n° 6 à l'octet" in message
    assert "n'est pas clos par sa 990" in message


def _trailer_error(blocks: int | None = None, **changes: int) -> NoemieFormatError:
    lots, total = changes.get("lots", SAMPLE_LOTS), changes.get("total", SAMPLE_TOTAL)
    data = assemble(SAMPLE_ENTITIES, lots=lots, total=total, blocks=blocks)
    error = _refused(data)
    assert str(error).startswith(f"Entité n° {len(SAMPLE_ENTITIES) + 2} (type 999, fin de fichier)")
    assert f"à l'octet {_offset(len(SAMPLE_ENTITIES))}" in str(error)
    return error


def test_trailer_block_count():
    blocks = len(sample_bytes()) // 128
    error = _trailer_error(blocks=blocks + 1)
    assert error.field == "block_count"
    assert f"{blocks + 1} annoncé(s), le fichier a {blocks} blocs de 128 octets" in str(error)


def test_trailer_lot_count():
    error = _trailer_error(lots=2)
    assert error.field == "lot_count"
    assert "2 annoncé(s), le fichier a 3 lot(s) (080)" in str(error)


def test_trailer_cumul():
    error = _trailer_error(total=SAMPLE_TOTAL + 1)
    assert error.field == "total"
    assert "cumul annoncé 15,98 €" in str(error) and "font 15,97 €" in str(error)


def test_trailer_sign():
    error = _trailer_error(total=-SAMPLE_TOTAL)
    assert error.field == "total"
    assert "cumul annoncé -15,97 €" in str(error)


def test_trailer_must_repeat_the_header():
    data = sample_bytes()
    cut = data.rindex(b"999CP")
    error = _refused(data[: cut + 3] + b"MA" + data[cut + 5 :])
    assert error.field == "emitter_type"
    assert "« MA » au lieu de « CP » de l'en-tête (000)" in str(error)


def test_truncated_not_a_whole_number_of_blocks():
    data = sample_bytes()
    message = str(_refused(data[:-50]))
    assert f"{len(data) - 50} octets, pas un multiple de 128" in message
    assert "fichier tronqué" in message


def test_truncated_last_block_missing():
    data = sample_bytes()
    message = str(_refused(data[:-128]))
    assert "le dernier bloc" in message and "marqué « 0 » et non « 1 »" in message
    assert "fichier tronqué ?" in message


def test_truncated_before_the_999():
    data = assemble(SAMPLE_ENTITIES, lots=SAMPLE_LOTS, total=SAMPLE_TOTAL, end="")
    message = str(_refused(data))
    assert f"pas de fin de fichier (999) après l'entité n° {len(SAMPLE_ENTITIES) + 1}" in message


def test_truncated_inside_an_entity():
    # Cut the file after the block where the 199 starts, marked as the last one.
    data = sample_bytes()
    index = _index("19905")
    start = _offset(index) - 1
    block_end = (start // 128 + 1) * 128
    cut = data[: block_end - 128] + b"1" + data[block_end - 127 : block_end]
    message = str(_refused(cut))
    assert message.startswith(f"Entité n° {index + 2} (type 199, part AMC) à l'octet {start + 1}")
    assert f"incomplète, {block_end - start} caractères sur 49 : fichier tronqué ?" in message


def test_bytes_after_the_end():
    data = bytearray(sample_bytes())
    data[-3] = ord("X")
    message = str(_refused(bytes(data)))
    assert f"« X » à l'octet {len(data) - 2}, après la fin de fichier (999" in message


def test_a_block_after_the_last():
    data = sample_bytes()
    message = str(_refused(data + b"0" + b" " * 127))
    assert "est marqué « 1 », dernier bloc, mais 1 bloc(s) le suivent" in message


def test_a_blank_block_after_the_999():
    data = sample_bytes()
    padded = data[:-128] + b"0" + data[-127:] + b"1" + b" " * 127
    message = str(_refused(padded))
    assert "1 bloc(s) d'espaces de trop" in message


def test_header_missing():
    data = sample_bytes()
    error = _refused(b"001" + data[3:])
    assert str(error).startswith("Entité n° 1 (type « 001 ») à l'octet 1")


def test_header_field_checked():
    data = sample_bytes()
    error = _refused(data[:82] + b"256" + data[85:])
    assert (
        "Entité n° 1 (type 000, en-tête) à l'octet 1, champ « longueur d'enregistrement »"
        in str(error)
    )


def test_header_repeated_in_the_stream():
    index = _index("15005")
    entities = _patched(index, 1, "000")
    message = _refused_entity(entities, index, "« 000 »")
    assert "ne se trouve qu'au début du fichier" in message


def test_not_bytes_or_empty():
    with pytest.raises(FormatError, match="des octets sont attendus"):
        read_return("000")  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="vide"):
        read_return(b"")
    with pytest.raises(FormatError, match="l'en-tête seul"):
        read_return(HEADER.encode("latin-1"))


# --- refusals of the structure --------------------------------------------------------------


def _inserted(index: int, *texts: str) -> list[str]:
    return SAMPLE_ENTITIES[:index] + list(texts) + SAMPLE_ENTITIES[index:]


def test_invoice_entity_outside_an_invoice():
    index = _index("08003")
    message = _refused_entity(_inserted(index + 1, amo(1, "P", 1)), index + 1, "198")
    assert "le lot (080) de l'entité n° 6 ne contient rien" in message


def test_invoice_entity_after_the_invoice_is_closed():
    index = _index("25004")
    message = _refused_entity(_inserted(index + 1, amo(1, "P", 1)), index + 1, "198")
    assert "hors d'une facture (100 ou 102)" in message


def test_second_amo_part_in_one_invoice():
    index = _index("19805")
    message = _refused_entity(_inserted(index + 1, amo(0, " ", None)), index + 1, "198")
    assert "deuxième entité 198 dans la même facture" in message


def test_depth_must_keep_the_nesting():
    index = _index("21005")
    message = _refused_entity(_patched(index, 4, "04"), index, "210")
    assert "niveau 04, pas plus profond que sa facture (niveau 04)" in message
    index = _index("10204")
    message = _refused_entity(_patched(index, 4, "03"), index, "102")
    assert "niveau 03, pas plus profond que son lot (niveau 03)" in message


def test_fixed_levels():
    index = _index("04002")
    message = _refused_entity(_patched(index, 4, "03"), index, "040")
    assert "champ « niveau de rupture » (positions 4 à 5) : « 03 » au lieu de « 02 »" in message


def test_empty_lot():
    index = _index("08003", 1)
    entities = _inserted(
        index,
        entity("080", "03", "250210", "689"),
        entity("990", "99", alpha("080689", 17), num(0, 8), num(0, 11), "P"),
    )
    message = _refused_entity(entities, index + 1, "990")
    assert f"le lot (080) de l'entité n° {index + 2} ne contient rien" in message


def test_empty_type_of_return():
    index = _index("08102", 1)
    entities = _inserted(index, entity("081", "02", "02", alpha("", 14)))
    message = _refused_entity(entities, index + 1, "081")
    assert f"le type de retour (081) de l'entité n° {index + 2} n'a aucun contenu" in message


def test_repeated_headers_are_refused():
    # The writer rebuilds the 020/040/081/080 from the items: a file saying them twice would not
    # read back the same, so it is refused.
    index = _index("04002", 1)
    entities = _inserted(index, entity("040", "02", num(123456789, 15)))
    message = _refused_entity(entities, index, "040")
    assert "répète le destinataire de règlement en cours" in message
    index = _index("99099080690")
    recall = SAMPLE_ENTITIES[_index("08102", 1)]
    message = _refused_entity(_inserted(index + 1, recall), index + 1, "081")
    assert "répète le type de retour en cours" in message


def test_lot_reopened_right_after_its_control():
    index = _index("99099080695")
    entities = _inserted(index + 1, entity("080", "03", "250305", "695"), invoice("000000105"))
    message = _refused_entity(entities, index + 1, "080")
    assert "rouvre le lot 695 qui vient d'être clos" in message


def test_payee_must_follow_the_mandataire():
    message = _refused_entity([SAMPLE_ENTITIES[0], *SAMPLE_ENTITIES[2:]], 1, "071")
    assert "un 040 (destinataire de règlement) doit suivre le 020 de l'entité n° 2" in message


def test_date_must_follow_the_payee():
    entities = SAMPLE_ENTITIES[:2] + SAMPLE_ENTITIES[3:]
    message = _refused_entity(entities, 2, "081")
    assert "un 070 ou 071 (date comptable) doit suivre le 040 de l'entité n° 3" in message


def test_stream_must_start_with_a_mandataire():
    message = _refused_entity(SAMPLE_ENTITIES[1:], 0, "040")
    assert "avant tout mandataire (020)" in message


def test_payee_number_has_nine_digits():
    message = _refused_entity(_patched(1, 6, "1"), 1, "040")
    assert "les 6 premiers chiffres à zéro" in message


def test_detail_without_its_flat_payment():
    index = _index("25004")
    entities = _inserted(index + 1, SAMPLE_ENTITIES[_index("26204")])
    message = _refused_entity(entities, index + 1, "262")
    assert "sans paiement ponctuel ou forfaitaire (261) juste avant" in message


def test_error_positions_do_not_depend_on_the_markers():
    index = _index("19805")
    entities = _patched(index, 6, "00000A78")
    data = assemble(entities, lots=SAMPLE_LOTS, total=SAMPLE_TOTAL, markers="x")
    assert f"à l'octet {_offset(index)}" in str(_refused(data))


def test_bare_invoice_number_has_nine_digits():
    index = _index("10004")
    message = _refused_entity(_patched(index, 6, "00000009 "), index, "100")
    assert "9 chiffres attendu" in message
