"""The working lists of the Facturer screen (seed 003), bounded and index-backed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import peewee

from tuibill.domain.dre import DreState
from tuibill.domain.invoices import InvoiceState
from tuibill.models import (
    Dre,
    Invoice,
    IsolatedAct,
    Patient,
    Prescription,
    PrescriptionItem,
)
from tuibill.services.patients import prefix_range, search_key

LIST_LIMIT = 500

PRESCRIPTIONS_BY_PRACTITIONER = "prescriptions_praticien"
PRESCRIPTIONS_ALL = "prescriptions_tous"
UNVALIDATED = "non_validees"
DRE_UNVALIDATED = "dre_non_validees"
ISOLATED = "actes_isoles"
VALIDATED = "validees"  # where « Défacturer » finds its invoices

LIST_LABELS = {
    PRESCRIPTIONS_BY_PRACTITIONER: "Prescriptions à facturer par praticien",
    UNVALIDATED: "Factures non validées",
    DRE_UNVALIDATED: "DRE non validées",
    ISOLATED: "Actes isolés",
    PRESCRIPTIONS_ALL: "Prescriptions à facturer pour tous les praticiens",
    VALIDATED: "Factures validées (à défacturer)",
}
# The five lists of seed 003, then the one « Défacturer » needs.
LIST_ORDER = [
    PRESCRIPTIONS_BY_PRACTITIONER,
    UNVALIDATED,
    DRE_UNVALIDATED,
    ISOLATED,
    PRESCRIPTIONS_ALL,
    VALIDATED,
]
# « Factures non validées » also holds the invoices prepared for the portable reader and those
# loaded into it, as in seed 003 (« Contenu lecteur portable » is reached from there), so that
# « Annuler préparation » has something to act on.
UNVALIDATED_STATES = (InvoiceState.SAISIE, InvoiceState.A_CHARGER, InvoiceState.CHARGEE_TLA)
# The states of the invoices each list of invoices holds.
LIST_STATES: dict[str, tuple[InvoiceState, ...]] = {
    UNVALIDATED: UNVALIDATED_STATES,
    # A DRE is validated once its invoice is (it carries the invoice's number): its invoice
    # may be a draft, or validated and waiting for its lot.
    DRE_UNVALIDATED: (*UNVALIDATED_STATES, InvoiceState.A_SECURISER, InvoiceState.VALIDEE),
    VALIDATED: (InvoiceState.VALIDEE,),
}


@dataclass(frozen=True)
class Criteria:
    patient: str = ""  # name prefix
    practitioner_id: int | None = None
    sector: str = ""  # "" = TOUS


@dataclass(frozen=True)
class FacturerRow:
    kind: str  # invoice / prescription / isolated
    id: int
    vitale: bool
    number: int | None
    patient: str
    patient_id: int
    date: date
    total_cents: int | None
    first: date | None
    last: date | None
    amo_cents: int | None
    amc_cents: int | None
    patient_cents: int | None
    sector: str
    state: str = ""
    detail: str = ""


def _patient_filter(query: peewee.ModelSelect, model, criteria: Criteria) -> peewee.ModelSelect:
    if criteria.patient.strip():
        low, high = prefix_range(search_key(criteria.patient))
        query = query.where((Patient.search_name >= low) & (Patient.search_name < high))
    if criteria.sector:
        query = query.where(Patient.sector == criteria.sector)
    return query


def invoices(
    criteria: Criteria,
    *,
    states: tuple[InvoiceState, ...] = UNVALIDATED_STATES,
    dre_only: bool = False,
) -> list[FacturerRow]:
    """Invoices in *states* (« Factures non validées » by default; « DRE non validées »: the
    AMC part in tiers payant), newest first, at most ``LIST_LIMIT``."""
    query = (
        Invoice.select(Invoice, Patient)
        .join(Patient)
        .where(Invoice.state.in_([state.value for state in states]))
    )
    if dre_only:  # the invoices whose DRE (seed 003) is not validated yet
        query = query.switch(Invoice).join(Dre, on=(Dre.invoice == Invoice.id)).where(
            Dre.state == DreState.NON_VALIDEE.value
        )
    if criteria.practitioner_id:
        query = query.where(Invoice.practitioner == criteria.practitioner_id)
    query = _patient_filter(query, Invoice, criteria)
    rows = []
    for inv in query.order_by(Invoice.billing_date.desc(), Invoice.id.desc()).limit(LIST_LIMIT):
        rows.append(
            FacturerRow(
                kind="invoice",
                id=inv.id,
                vitale=inv.mode == "sesam_vitale",
                number=inv.number,
                patient=inv.patient.display_name,
                patient_id=inv.patient_id,
                date=inv.billing_date,
                total_cents=inv.total_cents,
                first=inv.first_act_date,
                last=inv.last_act_date,
                amo_cents=inv.amo_cents,
                amc_cents=inv.amc_cents,
                patient_cents=inv.patient_cents,
                sector=inv.patient.sector,
                state=inv.state,
            )
        )
    return rows


def prescriptions(criteria: Criteria, *, all_practitioners: bool) -> list[FacturerRow]:
    """Prescriptions with acts left to bill."""
    remaining = peewee.fn.SUM(PrescriptionItem.count - PrescriptionItem.billed)
    query = (
        Prescription.select(Prescription, Patient, remaining.alias("remaining"))
        .join(Patient)
        .switch(Prescription)
        .join(PrescriptionItem)
        .group_by(Prescription.id, Patient.id)
        .having(remaining > 0)
    )
    if not all_practitioners and criteria.practitioner_id:
        query = query.where(Prescription.practitioner == criteria.practitioner_id)
    query = _patient_filter(query, Prescription, criteria)
    rows = []
    for p in query.order_by(Prescription.date.desc(), Prescription.id.desc()).limit(LIST_LIMIT):
        rows.append(
            FacturerRow(
                kind="prescription",
                id=p.id,
                vitale=False,
                number=None,
                patient=p.patient.display_name,
                patient_id=p.patient_id,
                date=p.date,
                total_cents=None,
                first=None,
                last=None,
                amo_cents=None,
                amc_cents=None,
                patient_cents=None,
                sector=p.patient.sector,
                detail=f"{p.remaining} à facturer",  # the État column: 13 characters
            )
        )
    return rows


def isolated_acts(criteria: Criteria) -> list[FacturerRow]:
    query = (
        IsolatedAct.select(IsolatedAct, Patient)
        .join(Patient)
        .where(IsolatedAct.invoice.is_null())
    )
    if criteria.practitioner_id:
        query = query.where(IsolatedAct.practitioner == criteria.practitioner_id)
    query = _patient_filter(query, IsolatedAct, criteria)
    rows = []
    for act in query.order_by(IsolatedAct.act_date.desc(), IsolatedAct.id.desc()).limit(LIST_LIMIT):
        rows.append(
            FacturerRow(
                kind="isolated",
                id=act.id,
                vitale=False,
                number=None,
                patient=act.patient.display_name,
                patient_id=act.patient_id,
                date=act.act_date,
                total_cents=None,
                first=act.act_date,
                last=act.act_date,
                amo_cents=None,
                amc_cents=None,
                patient_cents=None,
                sector=act.patient.sector,
                detail=f"{act.code} {act.coefficient_x100 / 100:g}",
            )
        )
    return rows


def rows_for(list_name: str, criteria: Criteria) -> list[FacturerRow]:
    if list_name == PRESCRIPTIONS_BY_PRACTITIONER:
        return prescriptions(criteria, all_practitioners=False)
    if list_name == PRESCRIPTIONS_ALL:
        return prescriptions(criteria, all_practitioners=True)
    if list_name == UNVALIDATED:
        return invoices(criteria, states=LIST_STATES[UNVALIDATED])
    if list_name == DRE_UNVALIDATED:
        return invoices(criteria, states=LIST_STATES[DRE_UNVALIDATED], dre_only=True)
    if list_name == ISOLATED:
        return isolated_acts(criteria)
    if list_name == VALIDATED:
        return invoices(criteria, states=LIST_STATES[VALIDATED])
    raise ValueError(list_name)


def sectors() -> list[str]:
    query = Patient.select(Patient.sector).where(Patient.sector != "").distinct()
    return sorted(row.sector for row in query)


