"""Mode SESAM-Vitale against the emulated card backend: reading the Vitale into the file,
validating with the Vitale + CPS, « FSE à sécuriser », and what the signature covers."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date, datetime

import pytest

from tests.support.sesam import (
    CPS_AM,
    FIRST_NUMBER,
    add_patient,
    card_person,
    draft,
    fresh,
    other_patient,
    through_a_lot,
    transitions_of,
)
from tuibill.domain.errors import RefusedOperation
from tuibill.formats import get_lot_codec
from tuibill.formats.codec import CaisseCode, LotFile, LotHeader
from tuibill.hardware.cards import (
    CardBlockedError,
    Signature,
    Vitale1Error,
    WrongPinError,
    verify_signature,
)
from tuibill.hardware.cards.data import CardType
from tuibill.hardware.cards.emulator_cards import (
    CardPerson,
    SilentCard,
    demo_cpe,
    demo_cps,
    demo_vitale,
)
from tuibill.models import Counter, Patient
from tuibill.services import invoices as invoice_service
from tuibill.services import lot_content, patients, securing, vitale_patients

PIN = "1234"


def counter_value(practitioner) -> int:
    return Counter.get(practitioner=practitioner.id, kind="invoice").next_value


# --- reading the card into the file ------------------------------------------------------------


def test_card_bénéficiaires_created_then_identical(setup, reader) -> None:
    reading = vitale_patients.read_card_patients(reader)
    assert [m.status for m in reading.matches] == [vitale_patients.ABSENT] * 3

    assure = vitale_patients.create_patient_from_card(reading, 0, organism_id=setup.organism.id)
    assert (assure.last_name, assure.first_name, assure.quality) == ("MARTIN", "Sophie", "00")
    # The dependants, created after the assuré, inherit his caisse and point at him.
    reading = vitale_patients.read_card_patients(reader)
    husband = vitale_patients.create_patient_from_card(reading, 1)
    daughter = vitale_patients.create_patient_from_card(vitale_patients.read_card_patients(reader), 2)
    assert (husband.quality, daughter.quality) == ("02", "06")
    assert husband.insured_id == daughter.insured_id == assure.id
    assert daughter.organism_id == setup.organism.id

    reading = vitale_patients.read_card_patients(reader)
    assert [m.status for m in reading.matches] == [vitale_patients.SAME] * 3
    assert [m.patient.id for m in reading.matches] == [assure.id, husband.id, daughter.id]
    with pytest.raises(RefusedOperation, match="déjà dans le fichier"):
        vitale_patients.create_patient_from_card(reading, 0)


def test_differences_shown_then_fixed_from_the_card(setup, reader) -> None:
    wrong = replace(card_person(0), first_name="Sofie", birth_date=date(1982, 3, 15))
    patient = add_patient(wrong, setup.organism)
    # Accents and case are no difference: the card writes plain capitals.
    add_patient(replace(card_person(1), first_name="Lùc"), setup.organism)

    matches = vitale_patients.read_card_patients(reader).matches
    first, second = matches[0], matches[1]
    assert first.patient.id == patient.id  # same NIR and same name: still this patient
    assert [(d.field, d.card, d.file) for d in first.differences] == [
        ("first_name", "SOPHIE", "Sofie"),
        ("birth_date", "14/03/1982", "15/03/1982"),
    ]
    assert first.identity_differs and first.status == vitale_patients.DIFFERENT
    assert second.status == vitale_patients.SAME

    updated = vitale_patients.update_patient_from_card(patient.id, first.beneficiary)
    assert (updated.first_name, updated.birth_date) == ("Sophie", date(1982, 3, 14))
    assert vitale_patients.read_card_patients(reader).matches[0].status == vitale_patients.SAME


def test_children_on_the_parent_nir_told_apart_by_birth_date_and_rank(setup, reader) -> None:
    nir = "1750428085123"
    twins = [
        CardPerson.make("DURAND", "PIERRE", date(1975, 4, 9), nir, rank=1),
        CardPerson.make("DURAND", "NOE", date(2010, 2, 1), nir, rank=1),
        CardPerson.make("DURAND", "ZOE", date(2010, 2, 1), nir, rank=2),
    ]
    reader.insert(demo_vitale(twins), slot=0)
    reading = vitale_patients.read_card_patients(reader)
    created = [
        vitale_patients.create_patient_from_card(
            vitale_patients.read_card_patients(reader), i, organism_id=setup.organism.id
        )
        for i in range(3)
    ]
    assert [p.rank for p in created] == [1, 1, 2]
    reading = vitale_patients.read_card_patients(reader)
    assert [m.patient.id for m in reading.matches] == [p.id for p in created]
    assert all(len(m.same_nir) == 3 for m in reading.matches)


def test_vitale_1_offers_the_mode_dégradé(setup, reader) -> None:
    reader.insert(SilentCard(CardType.VITALE_1), slot=0)
    with pytest.raises(Vitale1Error, match="mode dégradé"):
        vitale_patients.read_card_patients(reader)


# --- validating with the cards -------------------------------------------------------------------


def test_validation_signs_the_lot_file_bytes(setup, reader) -> None:
    patient = add_patient(card_person(0), setup.organism)
    invoice = draft(setup, patient)

    outcome = securing.validate_with_cards([invoice.id], reader=reader, pin=PIN, user="anne")
    assert outcome.refused == [] and [i.id for i in outcome.done] == [invoice.id]
    invoice = fresh(invoice)
    assert (invoice.state, invoice.mode, invoice.number) == (
        "VALIDEE",
        "sesam_vitale",
        FIRST_NUMBER,
    )
    assert invoice.secured_with_vitale and invoice.secured_at is not None
    assert invoice.signer == f"Claire DUBOIS ({CPS_AM})"
    assert invoice.signing_card.startswith("CPS ")
    assert invoice.signature_algorithm == "sha256WithRSAEncryption"
    assert transitions_of(invoice)[-1] == ("SAISIE", "VALIDEE", "validate")
    assert securing.verify_invoice_signature(invoice)

    # The caisse's side: the FSE as the lot service writes it, with its signature record.
    fse = lot_content.fse_record(invoice)
    assert get_lot_codec().signing_payload(fse) == securing.signing_payload(invoice)
    header = LotHeader(
        sender_id=CPS_AM,
        sender_name="Cabinet des tests",
        practitioner_am=CPS_AM,
        destination=CaisseCode("01", "281"),
        lot_number=1,
        created_at=datetime(2026, 11, 23, 12, 0, 0),
        software_name="tuibill",
        software_version="test",
    )
    codec = get_lot_codec()
    received = codec.read(codec.write(LotFile(header, (fse,)))).fses[0]
    assert received.signature.algorithm == "RSA-SHA256"
    assert received.signature.signer == CPS_AM
    certificate = base64.b64decode(invoice.signer_certificate)
    signature = Signature(received.signature.value, certificate, "sha256WithRSAEncryption")
    assert verify_signature(codec.signing_payload(received), signature)
    # Anything changed in the FSE breaks it.
    tampered = replace(received, total_cents=received.total_cents + 1)
    assert not verify_signature(codec.signing_payload(tampered), signature)


def test_wrong_pin_changes_nothing_and_blocks_after_three(setup, reader) -> None:
    patient = add_patient(card_person(0), setup.organism)
    invoice = draft(setup, patient)
    before = counter_value(setup.nurse)
    for left in (2, 1):
        with pytest.raises(WrongPinError) as caught:
            securing.validate_with_cards([invoice.id], reader=reader, pin="0000", user="anne")
        assert caught.value.tries_left == left
    assert reader.pin_tries_left() == 1
    assert (fresh(invoice).state, fresh(invoice).number) == ("SAISIE", None)
    assert counter_value(setup.nurse) == before
    securing.validate_with_cards([invoice.id], reader=reader, pin=PIN, user="anne")
    assert reader.pin_tries_left() == 3  # a right PIN resets the counter

    other = draft(setup, patient, days_ago=3)
    for _ in range(3):
        with pytest.raises((WrongPinError, CardBlockedError)):
            securing.validate_with_cards([other.id], reader=reader, pin="9999", user="anne")
    with pytest.raises(CardBlockedError, match="bloquée"):
        securing.validate_with_cards([other.id], reader=reader, pin=PIN, user="anne")
    assert fresh(other).state == "SAISIE"


def test_refusals_per_invoice_give_their_number_back(setup, reader) -> None:
    martin = add_patient(card_person(0), setup.organism)
    stranger = other_patient(setup.organism)
    good = draft(setup, martin)
    not_on_card = draft(setup, stranger)
    other_ps = draft(setup, martin, practitioner=setup.other, days_ago=3)
    already = draft(setup, martin, days_ago=4)
    invoice_service.validate(already.id, user="anne")
    number_of_already = fresh(already).number

    outcome = securing.validate_with_cards(
        [not_on_card.id, other_ps.id, already.id, good.id], reader=reader, pin=PIN, user="anne"
    )
    reasons = dict(outcome.refused)
    assert "ne porte pas DUPUIS Alain" in reasons[not_on_card.id]
    assert "mode dégradé" in reasons[not_on_card.id]
    assert "n'est pas celle de l'exécutant" in reasons[other_ps.id]
    assert "impossible sur une facture à l'état « Validée »" in reasons[already.id]
    assert [i.id for i in outcome.done] == [good.id]
    # No number was consumed by a refusal: the good one follows the dégradé one directly.
    assert fresh(good).number == number_of_already + 1
    assert fresh(not_on_card).number is None and fresh(other_ps).number is None


def test_birth_date_differs_from_the_card_refused_until_updated(setup, reader) -> None:
    patient = add_patient(replace(card_person(0), birth_date=date(1982, 3, 15)), setup.organism)
    invoice = draft(setup, patient)
    outcome = securing.validate_with_cards([invoice.id], reader=reader, pin=PIN, user="anne")
    assert "autre date de naissance" in outcome.refused[0][1]
    match = vitale_patients.read_card_patients(reader).matches[0]
    vitale_patients.update_patient_from_card(patient.id, match.beneficiary)
    outcome = securing.validate_with_cards([invoice.id], reader=reader, pin=PIN, user="anne")
    assert outcome.refused == [] and fresh(invoice).state == "VALIDEE"


def test_a_pulled_cps_stops_the_batch(setup, reader) -> None:
    patient = add_patient(card_person(0), setup.organism)
    first, second = draft(setup, patient), draft(setup, patient, days_ago=3)
    real_sign = reader.sign

    def sign_then_pull(data, pin=None):
        signature = real_sign(data, pin=pin)
        reader.remove(1)  # the CPS is pulled after the first signature
        return signature

    reader.sign = sign_then_pull
    outcome = securing.validate_with_cards([first.id, second.id], reader=reader, pin=PIN, user="a")
    assert [i.id for i in outcome.done] == [first.id]
    assert outcome.refused[0][0] == second.id and "CPS" in outcome.refused[0][1]
    assert fresh(second).state == "SAISIE" and fresh(second).number is None


def test_a_cpe_at_the_desk_semi_secures_then_the_exécutant_cps_finishes(setup, reader) -> None:
    patient = add_patient(card_person(0), setup.organism)
    mine = draft(setup, patient)
    theirs = draft(setup, patient, practitioner=setup.other, days_ago=3)
    stranger = draft(setup, other_patient(setup.organism), days_ago=4)
    cps = reader.remove(1)
    reader.insert(demo_cpe(), slot=1)
    first_number = counter_value(setup.nurse)

    # The staff card works for the practice: both nurses' invoices; the Vitale is still checked.
    outcome = securing.validate_with_cards(
        [mine.id, theirs.id, stranger.id], reader=reader, pin=PIN, user="julie"
    )
    assert [i.id for i in outcome.done] == [mine.id, theirs.id]
    assert "ne porte pas DUPUIS Alain" in dict(outcome.refused)[stranger.id]
    assert fresh(stranger).number is None
    mine = fresh(mine)
    assert (mine.state, mine.mode, mine.number) == ("A_SECURISER", "sesam_vitale", first_number)
    assert mine.secured_with_vitale and mine.secured_at is not None
    assert mine.signer == f"Julie PETIT ({CPS_AM})" and mine.signing_card.startswith("CPE ")
    assert mine.signature_algorithm == "sha256WithRSAEncryption" and mine.signer_certificate
    assert securing.verify_invoice_signature(mine)  # the CPE's signature of the FSE
    assert transitions_of(mine)[-1] == ("SAISIE", "A_SECURISER", "semi_secure")
    assert [i.id for i in securing.invoices_to_secure()] == [mine.id, theirs.id]
    # Semi-secured: not ready for a lot (the lot service sends Validée invoices only).
    assert fresh(theirs).state == "A_SECURISER"

    # A CPE cannot finish a securing.
    with pytest.raises(RefusedOperation, match="ne peut pas finir"):
        securing.secure_invoices([mine.id], reader=reader, pin=PIN, user="julie")
    reader.insert(cps, slot=1)
    outcome = securing.secure_invoices([mine.id, theirs.id], reader=reader, pin=PIN, user="anne")
    assert [i.id for i in outcome.done] == [mine.id]
    assert "n'est pas celle de l'exécutant" in outcome.refused[0][1]
    done = fresh(mine)
    assert (done.state, done.signer) == ("VALIDEE", f"Claire DUBOIS ({CPS_AM})")
    assert done.signing_card.startswith("CPS ") and done.signature != mine.signature
    assert done.secured_at == mine.secured_at  # when the Vitale was read
    assert securing.verify_invoice_signature(done)
    assert [t[2] for t in transitions_of(done)] == ["create", "semi_secure", "secure"]
    received = through_a_lot(done)
    assert received.signature.signer == CPS_AM and received.signature.card_type is CardType.CPS


def test_défacturer_clears_the_securing_the_history_keeps_it(setup, reader) -> None:
    patient = add_patient(card_person(0), setup.organism)
    invoice = draft(setup, patient)
    securing.validate_with_cards([invoice.id], reader=reader, pin=PIN, user="anne")
    assert fresh(invoice).signature

    invoice_service.unvalidate(invoice.id, user="anne", reason="erreur de cotation")
    back = fresh(invoice)
    assert back.state == "SAISIE" and back.number == FIRST_NUMBER  # the number stays
    assert (back.mode, back.secured_with_vitale, back.secured_at) == ("degrade", False, None)
    assert (
        back.signature,
        back.signature_algorithm,
        back.signer,
        back.signing_card,
        back.signer_certificate,
    ) == ("", "", "", "", "")
    assert [t[2] for t in transitions_of(back)] == ["create", "validate", "unvalidate"]
    assert not securing.verify_invoice_signature(back)

    # Validated again in mode dégradé: an unsigned FSE, no stale signature in the lot.
    invoice_service.validate(invoice.id, user="anne")
    assert not lot_content.fse_record(fresh(invoice)).signature.signed

    # « Annuler préparation » back to Saisie clears it too.
    invoice_service.unvalidate(invoice.id, user="anne")
    securing.validate_with_cards([invoice.id], reader=reader, pin=PIN, user="anne")
    invoice_service.prepare(invoice.id, user="anne")
    invoice_service.cancel_preparation(invoice.id, user="anne")
    again = fresh(invoice)
    assert (again.state, again.mode, again.signature, again.secured_at) == (
        "SAISIE",
        "degrade",
        "",
        None,
    )


def test_missing_caisse_is_refused_before_signing(setup, reader) -> None:
    data = card_person(0)
    patient = patients.create_patient(data)  # no caisse on file
    invoice = draft(setup, patient)
    outcome = securing.validate_with_cards([invoice.id], reader=reader, pin=PIN, user="anne")
    assert "pas de caisse AMO" in outcome.refused[0][1]
    assert fresh(invoice).number is None


def test_names_outside_latin1_signed_as_the_lot_spells_them(setup, reader) -> None:
    # The file's « Œ » and no-break space: the lot writes « OE » and a space, and so is signed.
    patient = add_patient(card_person(0), setup.organism)
    patients.update_patient(
        patient.id,
        replace(
            patients.patient_input(patient), last_name="MARTIN-CŒUR", first_name="Sophie\xa0Anne"
        ),
    )
    invoice = draft(setup, Patient.get_by_id(patient.id))
    payload = securing.signing_payload(invoice, number=1, mode="sesam_vitale").decode("latin-1")
    assert "MARTIN-COEUR" in payload and "Sophie Anne" in payload


# --- « FSE à sécuriser » -------------------------------------------------------------------------


def semi_secured(setup, patient, practitioner=None):
    """An invoice unloaded from the TLA after a CPE semi-secured it: « À sécuriser »."""
    from tuibill.hardware.tla import CardType as DeviceCard
    from tuibill.hardware.tla import EmulatedPortableReader
    from tuibill.services import tla_transfer

    invoice = draft(setup, patient, practitioner=practitioner)
    invoice_service.prepare(invoice.id, user="anne")
    device = EmulatedPortableReader()
    tla_transfer.load_prepared(device, "anne", invoice_ids=[invoice.id])
    device.device.secure(None, DeviceCard.CPE, "Julie PETIT")
    tla_transfer.unload(device, "anne")
    return fresh(invoice)


def test_secure_batch_with_the_exécutant_cps(setup, reader) -> None:
    patient = add_patient(card_person(0), setup.organism)
    mine = semi_secured(setup, patient)
    theirs = semi_secured(setup, patient, practitioner=setup.other)
    assert mine.state == theirs.state == "A_SECURISER"
    home_time = mine.secured_at
    assert [i.id for i in securing.invoices_to_secure()] == [mine.id, theirs.id]

    outcome = securing.secure_invoices([mine.id, theirs.id], reader=reader, pin=PIN, user="anne")
    assert [i.id for i in outcome.done] == [mine.id]
    assert "n'est pas celle de l'exécutant (BRUNET Karim" in outcome.refused[0][1]
    mine = fresh(mine)
    assert (mine.state, mine.mode) == ("VALIDEE", "sesam_vitale")
    assert mine.secured_at == home_time  # when the Vitale was used, at the patient's home
    assert securing.verify_invoice_signature(mine)
    assert transitions_of(mine)[-1] == ("A_SECURISER", "VALIDEE", "secure")
    assert fresh(theirs).state == "A_SECURISER"
    assert [i.id for i in securing.invoices_to_secure()] == [theirs.id]

    # A CPE cannot finish the securing.
    reader.insert(demo_cpe(ps_number=setup.other.am_number), slot=1)
    with pytest.raises(RefusedOperation, match="CPE"):
        securing.secure_invoices([theirs.id], reader=reader, pin=PIN, user="anne")
    reader.insert(demo_cps(name="Karim BRUNET", ps_number=setup.other.am_number), slot=1)
    outcome = securing.secure_invoices([theirs.id], reader=reader, pin=PIN, user="karim")
    assert outcome.refused == [] and fresh(theirs).signer == "Karim BRUNET (281234568)"


def test_patient_file_change_after_signing_is_detected(setup, reader) -> None:
    patient = add_patient(card_person(0), setup.organism)
    invoice = draft(setup, patient)
    securing.validate_with_cards([invoice.id], reader=reader, pin=PIN, user="anne")
    assert securing.verify_invoice_signature(fresh(invoice))
    Patient.update(first_name="Sophia").where(Patient.id == patient.id).execute()
    assert not securing.verify_invoice_signature(fresh(invoice))


def test_a_signed_fse_changed_since_is_not_sent(setup, reader, tmp_path) -> None:
    """Issue 13 #20: validated with the cards, then the patient's name edited: the lot build
    leaves it out with the reason instead of sending content the signature does not cover."""
    from tuibill.config import TransmissionSettings
    from tuibill.services import lots

    patient = add_patient(card_person(0), setup.organism)
    invoice = draft(setup, patient)
    securing.validate_with_cards([invoice.id], reader=reader, pin=PIN, user="anne")
    Patient.update(first_name="Sophia").where(Patient.id == patient.id).execute()

    report = lots.build_lots(TransmissionSettings(), user="anne")
    assert report.lots == ()
    (skipped,) = report.skipped
    assert skipped.invoice_id == invoice.id
    assert "sa signature ne correspond plus" in skipped.reason
    assert fresh(invoice).state == "VALIDEE"  # nothing moved
    # Put back as signed, it goes.
    Patient.update(first_name=card_person(0).first_name).where(Patient.id == patient.id).execute()
    assert [lot.invoice_count for lot in lots.build_lots(TransmissionSettings(), user="anne").lots] == [1]
