"""Additions to the patient services for the Patients screens: keyset pages for both search
modes, a patient's prescriptions with what remains to bill, and the « CODE:NOMBRE[:COEF] »
notation of prescribed acts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tuibill.domain.errors import ValidationError
from tuibill.domain.pricing import parse_coefficient
from tuibill.models import Patient, Practitioner, Prescriber, Prescription, PrescriptionItem
from tuibill.services.patients import prefix_range, search_patients
from tuibill.services.prescriptions import PrescribedAct

PageKey = tuple[str, int]


def is_nir_search(text: str) -> bool:
    """A search text starting with a digit is a NIR prefix; anything else is a name prefix."""
    return "".join(text.split())[:1].isdigit()


def search_patients_page(
    text: str = "", *, limit: int = 50, after_key: PageKey | None = None
) -> tuple[list[Patient], PageKey | None]:
    """One page of :func:`search_patients`, and the key of the next page (``None``: last page).

    ``search_patients`` pages by key on names only; a NIR prefix search is paged here on
    (nir, id) the same way, so neither mode ever reads the whole table.
    """
    if not is_nir_search(text):
        rows = search_patients(text, limit=limit, after_key=after_key)
        last = (rows[-1].search_name, rows[-1].id) if rows else None
    else:
        low, high = prefix_range("".join(text.split()).upper())
        query = Patient.select().where((Patient.nir >= low) & (Patient.nir < high))
        if after_key is not None:
            nir, pid = after_key
            query = query.where((Patient.nir > nir) | ((Patient.nir == nir) & (Patient.id > pid)))
        rows = list(query.order_by(Patient.nir, Patient.id).limit(limit))
        last = (rows[-1].nir, rows[-1].id) if rows else None
    return rows, (last if len(rows) == limit else None)


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
