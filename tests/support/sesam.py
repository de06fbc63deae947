"""A small practice for the SESAM-Vitale and TLA tests, built through the real services.

The practitioner's AM number is the demo CPS's PS number (Claire DUBOIS, 281234567), and the
patients can be those of the demo Vitale card (the MARTIN family), so that the emulated cards
sign for this practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tuibill.domain.acts import Act
from tuibill.hardware.cards.emulator_cards import DEMO_FAMILY
from tuibill.models import Invoice, Organism, Patient, Practitioner
from tuibill.services import acts as act_service
from tuibill.services import invoices as invoice_service
from tuibill.services import patients, practice, prescriptions
from tuibill.services.prescriptions import PrescribedAct

CPS_AM = "281234567"  # demo_cps()'s PS number
OTHER_AM = "281234568"
FIRST_NUMBER = 7401
TODAY = date.today()


@dataclass
class Practice:
    nurse: Practitioner
    other: Practitioner
    organism: Organism
    prescriber_id: int


def make_practice() -> Practice:
    """Two nurses (the CPS's and another), a caisse, a prescriber."""
    practice.save_practice("Cabinet des tests", "1 rue du Test, 28000 Chartres")
    nurse = practice.create_practitioner(
        "GAUTIER", "Anne", CPS_AM, invoice_number_start=FIRST_NUMBER
    )
    other = practice.create_practitioner("BRUNET", "Karim", OTHER_AM, invoice_number_start=5120)
    organism = patients.create_organism("01", "281", "0000", "CPAM CHARTRES")
    prescriber = patients.create_prescriber("591030325", "MARTIN", "Claire")
    return Practice(nurse, other, organism, prescriber.id)


def card_person(index: int) -> patients.PatientInput:
    """The demo Vitale's bénéficiaire *index* (0 SOPHIE, 1 LUC, 2 LEA) as a file entry."""
    person = DEMO_FAMILY[index]
    birth = date(
        int(person.birth_date[:4]), int(person.birth_date[4:6]), int(person.birth_date[6:])
    )
    return patients.PatientInput(
        last_name=person.last_name,
        first_name=person.first_name.capitalize(),
        birth_date=birth,
        nir=person.nir,
        rank=person.rank or 1,
    )


def add_patient(data: patients.PatientInput, organism: Organism) -> Patient:
    data.organism_id = organism.id
    return patients.create_patient(data)


def other_patient(organism: Organism, number: int = 1) -> Patient:
    """A patient who is not on the demo Vitale card."""
    from tuibill.domain.patients import nir_key

    first13 = f"150052812{number:04d}"
    return patients.create_patient(
        patients.PatientInput(
            last_name="DUPUIS",
            first_name=f"Alain{'' if number == 1 else number}",
            birth_date=date(1950, 5, 1),
            nir=first13 + nir_key(first13),
            organism_id=organism.id,
        )
    )


def draft(
    setup: Practice,
    patient: Patient,
    *,
    practitioner: Practitioner | None = None,
    days_ago: int = 2,
    with_prescription: bool = True,
) -> Invoice:
    """A Saisie invoice: one AMI at 10:00 (with IFD), from a prescription by default."""
    practitioner = practitioner or setup.nurse
    act_date = TODAY - timedelta(days=days_ago)
    prescription_id = None
    acts = [Act(act_date=act_date, code="AMI", act_time=time(10), home_visit=True)]
    if with_prescription:
        prescription = prescriptions.create_prescription(
            patient.id,
            setup.prescriber_id,
            practitioner.id,
            act_date - timedelta(days=5),
            [PrescribedAct("AMI", 10, 100)],
        )
        prescription_id = prescription.id
        acts = act_service.link_to_prescription(prescription.id, acts)
    return invoice_service.create_invoice(
        practitioner.id, patient.id, acts, user="test", prescription_id=prescription_id
    )


def fresh(invoice: Invoice) -> Invoice:
    return Invoice.get_by_id(invoice.id)


def transitions_of(invoice: Invoice) -> list[tuple[str | None, str, str]]:
    from tuibill.models import InvoiceTransition

    return [
        (t.from_state, t.to_state, t.action)
        for t in InvoiceTransition.select()
        .where(InvoiceTransition.invoice == invoice.id)
        .order_by(InvoiceTransition.id)
    ]


def through_a_lot(invoice: Invoice):
    """The invoice's FSE as the caisse receives it: built by the lot service
    (``lot_content.fse_record``), written in a lot file and read back by the codec's strict
    reader; its signature must verify with the stored certificate. Returns the FSE read."""
    import base64

    from tuibill.formats import get_lot_codec
    from tuibill.formats.codec import CaisseCode, LotFile, LotHeader
    from tuibill.hardware.cards import Signature, verify_signature
    from tuibill.services import lot_content

    am = invoice.practitioner.am_number
    header = LotHeader(
        sender_id=am,
        sender_name="Cabinet des tests",
        practitioner_am=am,
        destination=CaisseCode("01", "281"),
        lot_number=1,
        created_at=datetime(2026, 11, 23, 12, 0, 0),
        software_name="tuibill",
        software_version="test",
    )
    codec = get_lot_codec()
    received = codec.read(codec.write(LotFile(header, (lot_content.fse_record(invoice),)))).fses[0]
    certificate = base64.b64decode(invoice.signer_certificate)
    signature = Signature(received.signature.value, certificate, "sha256WithRSAEncryption")
    assert verify_signature(codec.signing_payload(received), signature)
    return received
