"""Prescriptions: the prescribed acts and how many remain to bill."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from peewee import fn

from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.domain.formatting import format_coefficient, format_invoice_number
from tuibill.domain.invoices import InvoiceState, back_to_draft
from tuibill.domain.pricing import ACT, parse_coefficient
from tuibill.models import (
    Invoice,
    InvoiceLine,
    Patient,
    Practitioner,
    Prescriber,
    Prescription,
    PrescriptionItem,
)
from tuibill.models.database import immediate
from tuibill.services.tariffs import TariffBook


@dataclass(frozen=True)
class PrescribedAct:
    code: str
    count: int
    coefficient_x100: int = 100


def create_prescription(
    patient_id: int,
    prescriber_id: int,
    practitioner_id: int,
    prescribed_on: date,
    acts: Sequence[PrescribedAct],
    *,
    notes: str = "",
    today: date | None = None,
) -> Prescription:
    today = today or date.today()
    with immediate():
        patient = Patient.get_or_none(Patient.id == patient_id)
        if patient is None:
            raise ValidationError("Patient inconnu.", field="patient")
        if Prescriber.get_or_none(Prescriber.id == prescriber_id) is None:
            raise ValidationError(
                "Prescripteur inconnu : créez-le dans « Données › Prescripteurs ».",
                field="prescriber",
            )
        practitioner = Practitioner.get_or_none(Practitioner.id == practitioner_id)
        if practitioner is None:
            raise ValidationError("Praticien inconnu.", field="practitioner")
        if prescribed_on > today:
            raise ValidationError("La date de prescription est dans le futur.", field="date")
        if patient.birth_date and prescribed_on < patient.birth_date:
            raise ValidationError("La date de prescription précède la naissance.", field="date")
        if not acts:
            raise ValidationError("Une prescription comporte au moins un acte.", field="acts")
        book = TariffBook(practitioner.specialty)
        for act in acts:
            entry = book(act.code, prescribed_on)
            if entry is None or entry.kind != ACT:
                raise ValidationError(
                    f"Acte « {act.code} » inconnu pour un {practitioner.specialty_label.lower()}.",
                    field="acts",
                )
            if act.count < 1:
                raise ValidationError("Le nombre d'actes prescrits est au moins 1.", field="count")
            if not entry.coef_min_x100 <= act.coefficient_x100 <= entry.coef_max_x100:
                raise ValidationError(
                    f"Coefficient {format_coefficient(act.coefficient_x100)} hors limites pour "
                    f"{entry.code}.",
                    field="coefficient",
                )
        prescription = Prescription.create(
            patient=patient.id,
            prescriber=prescriber_id,
            practitioner=practitioner.id,
            date=prescribed_on,
            notes=notes,
        )
        for act in acts:
            PrescriptionItem.create(
                prescription=prescription.id,
                code=act.code.upper(),
                coefficient_x100=act.coefficient_x100,
                count=act.count,
                label=book(act.code, prescribed_on).label,
            )
    return prescription


def get_prescription(prescription_id: int) -> Prescription:
    prescription = Prescription.get_or_none(Prescription.id == prescription_id)
    if prescription is None:
        raise NotFound(f"Prescription {prescription_id} introuvable.")
    return prescription


# An invoice whose content is on its way to the caisse (validated, prepared for the portable
# reader, in it, semi-secured, in a lot not sent): the prescription it carries must not change
# under it. « Défacturer » or « Annuler préparation » (or delete the lot) first.
FROZEN_STATES = frozenset(
    {
        InvoiceState.VALIDEE.value,
        InvoiceState.A_CHARGER.value,
        InvoiceState.CHARGEE_TLA.value,
        InvoiceState.A_SECURISER.value,
        InvoiceState.A_TRANSMETTRE.value,
    }
)


def update_prescription_header(
    prescription_id: int,
    *,
    prescriber_id: int | None = None,
    prescribed_on: date | None = None,
    today: date | None = None,
) -> Prescription:
    """Correct the prescripteur or the date (seed 000: « Prescripteur inconnu », « Date de
    prescription erronée »), in its own transaction or inside the caller's.

    Refused while an invoice of the prescription is on its way (``FROZEN_STATES``), and when an
    act already billed on it would come before the new date.
    """
    today = today or date.today()
    with immediate():
        prescription = get_prescription(prescription_id)
        new_prescriber = prescription.prescriber_id if prescriber_id is None else prescriber_id
        new_date = prescription.date if prescribed_on is None else prescribed_on
        if (new_prescriber, new_date) == (prescription.prescriber_id, prescription.date):
            return prescription
        if Prescriber.get_or_none(Prescriber.id == new_prescriber) is None:
            raise ValidationError(
                "Prescripteur inconnu : créez-le dans « Données › Prescripteurs ».",
                field="prescriber",
            )
        if new_date > today:
            raise ValidationError(
                "La date de prescription est dans le futur.", field="prescription_date"
            )
        patient = Patient.get_by_id(prescription.patient_id)
        if patient.birth_date and new_date < patient.birth_date:
            raise ValidationError(
                "La date de prescription précède la naissance.", field="prescription_date"
            )
        billed = list(
            Invoice.select(Invoice.id, Invoice.number, Invoice.state)
            .where(
                (Invoice.prescription == prescription.id)
                & (Invoice.state != InvoiceState.SUPPRIMEE.value)
            )
            .order_by(Invoice.id)
        )
        frozen = [invoice for invoice in billed if invoice.state in FROZEN_STATES]
        if frozen:
            invoice = frozen[0]
            state = InvoiceState(invoice.state)
            ways = " ou ".join(f"« {a.label} »" for a in back_to_draft(state)) or "rien"
            raise RefusedOperation(
                f"La facture n° {format_invoice_number(invoice.number)} (« {state.label} ») "
                f"reprend cette prescription : elle ne change pas sous elle. {ways} d'abord, "
                "puis corrigez la prescription."
            )
        if new_date > prescription.date and billed:
            earliest = (
                InvoiceLine.select(fn.MIN(InvoiceLine.act_date))
                .where(InvoiceLine.invoice.in_([invoice.id for invoice in billed]))
                .scalar()
            )
            if earliest is not None and earliest < new_date:
                raise ValidationError(
                    f"Un acte facturé sur cette prescription date du {earliest:%d/%m/%Y}, avant "
                    f"le {new_date:%d/%m/%Y} : la prescription précède ses actes.",
                    field="prescription_date",
                )
        prescription.prescriber = new_prescriber
        prescription.date = new_date
        prescription.save()
    return prescription


def prescriptions_of(patient_id: int) -> list[Prescription]:
    """A patient's prescriptions, newest first."""
    return list(
        Prescription.select()
        .where(Prescription.patient == patient_id)
        .order_by(Prescription.date.desc(), Prescription.id.desc())
    )


def items(prescription_id: int) -> list[PrescriptionItem]:
    return list(
        PrescriptionItem.select()
        .where(PrescriptionItem.prescription == prescription_id)
        .order_by(PrescriptionItem.id)
    )


@dataclass(frozen=True)
class PrescribedItemRow:
    code: str
    label: str
    coefficient_x100: int
    count: int
    billed: int

    @property
    def remaining(self) -> int:
        return self.count - self.billed


@dataclass(frozen=True)
class PrescriptionRow:
    """A prescription of the patient's « Ordonnances » tab."""

    id: int
    prescribed_on: date
    prescriber: str
    prescriber_number: str
    practitioner: str
    notes: str
    items: tuple[PrescribedItemRow, ...]


def patient_prescriptions(patient_id: int, *, limit: int = 200) -> list[PrescriptionRow]:
    """The patient's prescriptions, newest first, each with its acts prescribed/billed/remaining."""
    query = (
        Prescription.select(Prescription, Prescriber, Practitioner)
        .join(Prescriber)
        .switch(Prescription)
        .join(Practitioner)
        .where(Prescription.patient == patient_id)
        .order_by(Prescription.date.desc(), Prescription.id.desc())
        .limit(limit)
    )
    prescriptions = list(query)
    by_prescription: dict[int, list[PrescribedItemRow]] = {p.id: [] for p in prescriptions}
    if prescriptions:
        # One query for every item, not one per prescription.
        items = (
            PrescriptionItem.select()
            .where(PrescriptionItem.prescription.in_(list(by_prescription)))
            .order_by(PrescriptionItem.id)
        )
        for item in items:
            by_prescription[item.prescription_id].append(
                PrescribedItemRow(
                    code=item.code,
                    label=item.label,
                    coefficient_x100=item.coefficient_x100,
                    count=item.count,
                    billed=item.billed,
                )
            )
    return [
        PrescriptionRow(
            id=p.id,
            prescribed_on=p.date,
            prescriber=p.prescriber.display_name,
            prescriber_number=p.prescriber.number,
            practitioner=p.practitioner.display_name,
            notes=p.notes,
            items=tuple(by_prescription[p.id]),
        )
        for p in prescriptions
    ]


_ACT = re.compile(r"^([A-Za-z]{1,8}):(\d{1,3})(?::([0-9]+(?:[.,][0-9]{1,2})?))?$")


def parse_prescribed_acts(text: str) -> list[PrescribedAct]:
    """« AMI:10 AIS:15:3 AMI:20:1,5 » → prescribed acts (code, how many, coefficient).

    Acts are separated by spaces or « ; » (the comma is the French decimal mark). The tariff
    checks (known code, coefficient limits) stay in ``create_prescription``.
    """
    parts = [part for part in re.split(r"[\s;]+", text.strip()) if part]
    if not parts:
        raise ValidationError(
            "Indiquez au moins un acte : CODE:NOMBRE[:COEF], par exemple « AMI:10 ».", field="acts"
        )
    acts = []
    for part in parts:
        match = _ACT.match(part)
        if match is None:
            raise ValidationError(
                f"Acte « {part} » invalide : CODE:NOMBRE[:COEF] attendu, par exemple « AIS:15:3 ».",
                field="acts",
            )
        code, count, coefficient = match.groups()
        coefficient_x100 = parse_coefficient(coefficient) if coefficient else 100
        acts.append(PrescribedAct(code.upper(), int(count), coefficient_x100))
    return acts
