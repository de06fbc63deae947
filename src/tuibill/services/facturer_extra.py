"""What the Facturer screen needs beyond ``services.facturer`` and ``services.billing``.

* « Factures non validées » also holds the invoices prepared for the portable reader
  (« À charger »), as in seed 003, so that « Annuler préparation » has something to act on; and a
  sixth list, « Factures validées », is where « Défacturer » finds its invoices.
* A preview that prices and checks one act exactly as ``billing.create_invoice`` will (live totals
  and errors at the line, before anything is saved).
* Recording an isolated act entered in the one-line notation, refused unless it could be billed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from tuibill.domain import invoice_rules, pricing
from tuibill.domain.act_spec import ActSpec
from tuibill.domain.errors import ValidationError
from tuibill.domain.invoice_states import InvoiceState
from tuibill.models import Invoice, IsolatedAct, Patient, Practitioner, Prescription
from tuibill.services import facturer
from tuibill.services.billing import coverage_for
from tuibill.services.facturer import Criteria, FacturerRow
from tuibill.services.patients import prefix_range, search_key
from tuibill.services.tariffs import TariffBook

VALIDATED = "validees"

# The five lists of seed 003, then the one « Défacturer » needs.
LIST_ORDER = [
    facturer.PRESCRIPTIONS_BY_PRACTITIONER,
    facturer.UNVALIDATED,
    facturer.DRE_UNVALIDATED,
    facturer.ISOLATED,
    facturer.PRESCRIPTIONS_ALL,
    VALIDATED,
]
LIST_LABELS = {**facturer.LIST_LABELS, VALIDATED: "Factures validées (à défacturer)"}

UNVALIDATED_STATES = (InvoiceState.SAISIE, InvoiceState.A_CHARGER)


def invoices_in_states(
    criteria: Criteria, states: Sequence[InvoiceState], *, dre_only: bool = False
) -> list[FacturerRow]:
    """Invoices of the criteria in *states*, newest first, at most ``LIST_LIMIT``."""
    query = (
        Invoice.select(Invoice, Patient)
        .join(Patient)
        .where(Invoice.state.in_([InvoiceState(s).value for s in states]))
    )
    if criteria.practitioner_id:
        query = query.where(Invoice.practitioner == criteria.practitioner_id)
    if dre_only:
        query = query.where(Invoice.amc_tiers_payant & (Invoice.amc_cents > 0))
    if criteria.patient.strip():
        low, high = prefix_range(search_key(criteria.patient))
        query = query.where((Patient.search_name >= low) & (Patient.search_name < high))
    if criteria.sector:
        query = query.where(Patient.sector == criteria.sector)
    query = query.order_by(Invoice.billing_date.desc(), Invoice.id.desc())
    return [
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
        for inv in query.limit(facturer.LIST_LIMIT)
    ]


def rows_for(list_name: str, criteria: Criteria) -> list[FacturerRow]:
    """The rows of one working list (the five of seed 003, plus « Factures validées »)."""
    if list_name == facturer.UNVALIDATED:
        return invoices_in_states(criteria, UNVALIDATED_STATES)
    if list_name == facturer.DRE_UNVALIDATED:
        return invoices_in_states(criteria, UNVALIDATED_STATES, dre_only=True)
    if list_name == VALIDATED:
        return invoices_in_states(criteria, (InvoiceState.VALIDEE,))
    return facturer.rows_for(list_name, criteria)


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
        self._prescription_date = prescription.date if prescription else None

    def price(self, act: ActSpec, billing_date: date) -> pricing.PricedInvoice:
        """The priced lines of *act* (majorations included); ``ValidationError`` if refused."""
        invoice_rules.check_act_date(
            act.act_date,
            billing_date=billing_date,
            prescription_date=self._prescription_date,
            death_date=self._death_date,
        )
        request = pricing.ActRequest(
            act_date=act.act_date,
            code=act.code,
            coefficient_x100=act.coefficient_x100,
            act_time=act.act_time,
            majorations=act.majorations,
            home_visit=act.home_visit,
            mileage_km=act.mileage_km,
        )
        return pricing.price_acts([request], self._book, self._coverage)


def record_isolated_act_spec(
    patient_id: int, practitioner_id: int, act: ActSpec, *, today: date | None = None
) -> IsolatedAct:
    """Record an isolated act only if it could be billed as entered (date, code, coefficient)."""
    practitioner = Practitioner.get_or_none(Practitioner.id == practitioner_id)
    if practitioner is None or not practitioner.active:
        raise ValidationError("Praticien inconnu ou inactif.", field="practitioner")
    # An act cannot be done in the future: "today" plays the billing date's part.
    ActPreview(practitioner_id, patient_id).price(act, today or date.today())
    return facturer.record_isolated_act(
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
