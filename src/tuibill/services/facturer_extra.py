"""What the Facturer screen needs beyond ``services.facturer`` and ``services.billing``.

* A preview that prices and checks one act exactly as ``billing.create_invoice`` will (live totals
  and errors at the line, before anything is saved).
* Recording an isolated act entered in the one-line notation, refused unless it could be billed.
"""

from __future__ import annotations

from datetime import date

from tuibill.domain import invoice_rules, pricing
from tuibill.domain.acts import Act
from tuibill.domain.errors import ValidationError
from tuibill.models import IsolatedAct, Patient, Practitioner, Prescription
from tuibill.services import facturer
from tuibill.services.billing import coverage_for
from tuibill.services.tariffs import TariffBook


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

    def price(self, act: Act, billing_date: date) -> pricing.PricedInvoice:
        """The priced lines of *act* (majorations included); ``ValidationError`` if refused."""
        invoice_rules.check_act_date(
            act.act_date,
            billing_date=billing_date,
            prescription_date=self._prescription_date,
            death_date=self._death_date,
        )
        return pricing.price_acts([act], self._book, self._coverage)


def record_isolated_act_spec(
    patient_id: int, practitioner_id: int, act: Act, *, today: date | None = None
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
