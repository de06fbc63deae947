"""What to bill: acts from a prescription's items, from isolated acts, back from an invoice's
lines, a live price preview (the Facturer's form), and recording isolated acts.

Every act is a :class:`tuibill.domain.acts.Act`; pricing is ``domain.pricing``'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, time

from tuibill.domain import invoice_rules, pricing
from tuibill.domain.acts import Act
from tuibill.domain.errors import ValidationError
from tuibill.models import (
    Invoice,
    InvoiceLine,
    IsolatedAct,
    Patient,
    Practitioner,
    Prescription,
    PrescriptionItem,
)
from tuibill.models.database import immediate
from tuibill.services.tariffs import TariffBook


def coverage_for(patient: Patient) -> pricing.Coverage:
    return pricing.coverage_of(
        ald=patient.ald, maternity=patient.maternity, has_amc=patient.mutuelle_id is not None
    )


def acts_from_prescription(
    prescription_id: int, act_date: date, act_time: time | None = None
) -> list[Act]:
    """One act per prescribed item with something left, dated *act_date* (to be edited)."""
    items = (
        PrescriptionItem.select()
        .where(PrescriptionItem.prescription == prescription_id)
        .order_by(PrescriptionItem.id)
    )
    return [
        Act(
            act_date=act_date,
            code=item.code,
            coefficient_x100=item.coefficient_x100,
            act_time=act_time,
            prescription_item_id=item.id,
        )
        for item in items
        if item.remaining > 0
    ]


def remaining_of(act: Act) -> int:
    """How many acts the prescribed item of *act* still allows."""
    if act.prescription_item_id is None:
        return 0
    item = PrescriptionItem.get_by_id(act.prescription_item_id)
    return item.remaining


def acts_from_isolated(act_ids: Sequence[int]) -> tuple[int, int, list[Act]]:
    """The acts of selected isolated acts: (practitioner id, patient id, acts), one patient."""
    rows = list(
        IsolatedAct.select().where(IsolatedAct.id.in_(list(act_ids))).order_by(IsolatedAct.act_date)
    )
    if not rows:
        raise ValidationError("Aucun acte isolé sélectionné.", field="acts")
    if len({(r.patient_id, r.practitioner_id) for r in rows}) != 1:
        raise ValidationError(
            "Les actes isolés sélectionnés doivent concerner un seul patient et un seul praticien.",
            field="acts",
        )
    if any(r.invoice_id is not None for r in rows):
        raise ValidationError("Un des actes isolés est déjà facturé.", field="acts")
    from tuibill.domain.act_notation import parse_time

    acts = [
        Act(
            act_date=r.act_date,
            code=r.code,
            coefficient_x100=r.coefficient_x100,
            act_time=parse_time(r.act_time) if r.act_time else None,
            majorations=tuple(m for m in r.majorations.split(",") if m),
            home_visit=r.home_visit,
            mileage_km=r.mileage_km,
            isolated_act_id=r.id,
        )
        for r in rows
    ]
    return rows[0].practitioner_id, rows[0].patient_id, acts


def lines_as_acts(invoice: Invoice) -> list[Act]:
    """The acts of an invoice, as entered (majorations folded back on their act)."""
    # The negative lines of a regularisation (seed 001) are no acts: the next billing run
    # writes them again from the refused lines' statuses.
    lines = list(
        InvoiceLine.select()
        .where((InvoiceLine.invoice == invoice.id) & InvoiceLine.credit_of.is_null())
        .order_by(InvoiceLine.position)
    )
    from tuibill.domain.act_notation import parse_time

    acts: dict[int, Act] = {}
    isolated = {r.id: r for r in IsolatedAct.select().where(IsolatedAct.invoice == invoice.id)}
    isolated_by_key = {(r.act_date, r.code): r.id for r in isolated.values()}
    for line in lines:
        if line.parent_position is None:
            acts[line.position] = Act(
                act_date=line.act_date,
                code=line.code,
                coefficient_x100=line.coefficient_x100,
                act_time=parse_time(line.act_time) if line.act_time else None,
                prescription_item_id=line.prescription_item_id,
                isolated_act_id=isolated_by_key.get((line.act_date, line.code)),
            )
            continue
        parent = acts[line.parent_position]
        if line.code in pricing.REQUESTED_MAJORATIONS:
            acts[line.parent_position] = replace(
                parent, majorations=parent.majorations + (line.code,)
            )
        elif line.code == pricing.HOME_VISIT:
            acts[line.parent_position] = replace(parent, home_visit=True)
        elif line.code == pricing.MILEAGE:
            acts[line.parent_position] = replace(parent, mileage_km=line.quantity)
    return list(acts.values())


def link_to_prescription(
    prescription_id: int, acts: Sequence[Act], *, replacing_invoice: int | None = None
) -> list[Act]:
    """Tie each act to the prescribed item of the same code that still has acts left.

    With *replacing_invoice*, what that draft consumes counts as available (it is being edited).
    """
    items = list(PrescriptionItem.select().where(PrescriptionItem.prescription == prescription_id))
    left = {item.id: item.remaining for item in items}
    codes = {item.id: item.code for item in items}
    if replacing_invoice is not None:
        for line in InvoiceLine.select(InvoiceLine.prescription_item).where(
            (InvoiceLine.invoice == replacing_invoice)
            & InvoiceLine.prescription_item.is_null(False)
        ):
            left[line.prescription_item_id] = left.get(line.prescription_item_id, 0) + 1
    linked = []
    for act in acts:
        item_id = next((i for i, code in codes.items() if code == act.code and left[i] > 0), None)
        if item_id is None:
            raise ValidationError(
                f"{act.code} : aucun acte de ce code ne reste à facturer sur la prescription.",
                field="acts",
            )
        left[item_id] -= 1
        linked.append(replace(act, prescription_item_id=item_id))
    return linked


class ActPreview:
    """Checks and prices single acts for one practitioner and patient, as the services will.

    The tariff book and the coverage are read once: the form re-prices at every keystroke.
    """

    def __init__(
        self, practitioner_id: int, patient_id: int, prescription_id: int | None = None
    ) -> None:
        practitioner = Practitioner.get_or_none(Practitioner.id == practitioner_id)
        patient = Patient.get_or_none(Patient.id == patient_id)
        if practitioner is None:
            raise ValidationError("Praticien inconnu ou inactif.", field="practitioner")
        if patient is None:
            raise ValidationError("Patient inconnu.", field="patient")
        prescription = (
            Prescription.get_or_none(Prescription.id == prescription_id)
            if prescription_id is not None
            else None
        )
        self._book = TariffBook(practitioner.specialty)
        self._coverage = coverage_for(patient)
        self._death_date = patient.death_date
        self._birth_date = patient.birth_date
        self._prescription_date = prescription.date if prescription else None

    def use_prescription_date(self, prescribed_on: date | None) -> None:
        """Check the acts against this prescription date (being corrected in a form)."""
        self._prescription_date = prescribed_on

    def price(self, act: Act, billing_date: date) -> pricing.PricedInvoice:
        """The priced lines of *act* (majorations included); ``ValidationError`` if refused."""
        invoice_rules.check_act_date(
            act.act_date,
            billing_date=billing_date,
            prescription_date=self._prescription_date,
            death_date=self._death_date,
        )
        return pricing.price_acts(
            [act], self._book, self._coverage, birth_date=self._birth_date
        )


def record_isolated_act_spec(
    patient_id: int, practitioner_id: int, act: Act, *, today: date | None = None
) -> IsolatedAct:
    """Record an isolated act only if it could be billed as entered (date, code, coefficient)."""
    practitioner = Practitioner.get_or_none(Practitioner.id == practitioner_id)
    if practitioner is None or not practitioner.active:
        raise ValidationError("Praticien inconnu ou inactif.", field="practitioner")
    # An act cannot be done in the future: "today" plays the billing date's part.
    ActPreview(practitioner_id, patient_id).price(act, today or date.today())
    return record_isolated_act(
        patient_id,
        practitioner_id,
        act.act_date,
        act.code,
        act.coefficient_x100,
        act_time=act.act_time.strftime("%H:%M") if act.act_time else None,
        majorations=act.majorations,
        home_visit=act.home_visit,
        mileage_km=act.mileage_km,
    )


def record_isolated_act(
    patient_id: int,
    practitioner_id: int,
    act_date: date,
    code: str,
    coefficient_x100: int = 100,
    act_time: str | None = None,
    majorations: tuple[str, ...] = (),
    home_visit: bool = False,
    mileage_km: int = 0,
) -> IsolatedAct:

    with immediate():
        return IsolatedAct.create(
            patient=patient_id,
            practitioner=practitioner_id,
            act_date=act_date,
            act_time=act_time,
            code=code.upper(),
            coefficient_x100=coefficient_x100,
            majorations=",".join(majorations),
            home_visit=home_visit,
            mileage_km=mileage_km,
        )


def duplicate_warnings(
    patient_id: int, acts: Sequence[Act], *, invoice_id: int | None = None
) -> list[str]:
    """Acts that look billed twice: the same code for the same patient at the same date and time,
    on another invoice still alive or twice in *acts* (a warning: it may be right, e.g. two
    injections a day at set times without the time entered)."""
    from tuibill.domain.formatting import format_invoice_number, format_time
    from tuibill.domain.invoices import InvoiceState

    warnings: list[str] = []
    seen: set[tuple] = set()
    for act in acts:
        key = (act.act_date, act.act_time, act.code.upper())
        when = f"{act.act_date:%d/%m/%Y}" + (f" {format_time(act.act_time)}" if act.act_time else "")
        if key in seen:
            warnings.append(f"{act.code.upper()} du {when} saisi deux fois sur cette facture.")
        seen.add(key)
        query = (
            InvoiceLine.select(Invoice.id, Invoice.number)
            .join(Invoice)
            .where(
                (Invoice.patient == patient_id)
                & (InvoiceLine.act_date == act.act_date)
                & (InvoiceLine.code == act.code.upper())
                & (InvoiceLine.parent_position.is_null())
                & (Invoice.state != InvoiceState.NON_TRANSMISSIBLE.value)
            )
        )
        if act.act_time is not None:
            query = query.where(InvoiceLine.act_time == format_time(act.act_time))
        else:
            query = query.where(InvoiceLine.act_time.is_null())
        if invoice_id is not None:
            query = query.where(Invoice.id != invoice_id)
        for other_id, number in query.tuples().limit(3):
            label = format_invoice_number(number) or f"(brouillon {other_id})"
            warnings.append(
                f"{act.code.upper()} du {when} déjà facturé à ce patient sur la facture {label} : "
                "doublon ?"
            )
    return warnings
