"""The legal delays watched: FSE late to send (R161-47) and caisse payments late (décret
2016-1069), with the penalty the caisse owes — for the menu, F7 and ``tuibill returns late``.

The rules are the domain's (``domain.delays``); here, which invoices they apply to:

* **to send**: every FSE not transmitted yet (Saisie … À transmettre) whose delay runs from its
  last act (R161-42 10°: the day of the last act of the series), tiers payant (8 working days)
  or not (3);
* **payments**: tiers-payant FSE (AMO) whose 7 working days run from the lot's positive ARL (or
  its sending: ``[returns] payment_start``) — unpaid and past the delay (the penalty if paid
  today), or paid late by a virement (the penalty owed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import peewee

from tuibill.config import ReturnSettings
from tuibill.domain.delays import (
    assess_payment,
    assess_sending,
    next_working_day,
    send_deadline,
)
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, Lot, Organism, Practitioner, ReturnEntry, Virement
from tuibill.models.base import unindexed

S = InvoiceState
NOT_SENT = (S.SAISIE, S.VALIDEE, S.A_CHARGER, S.CHARGEE_TLA, S.A_SECURISER, S.A_TRANSMETTRE)
PAID_STATES = (S.PAYEE, S.PAYEE_PARTIELLEMENT)
SEND_LOOKBACK_DAYS = 366  # older unsent drafts are listed by the journals, not watched here


@dataclass(frozen=True)
class LateInvoice:
    """An FSE late to send, unpaid past its delay, or paid late (with the penalty owed)."""

    kind: str  # envoi / paiement / paye_en_retard
    invoice_id: int
    number: str
    patient: str
    practitioner: str
    caisse: str
    state: str
    start: date
    deadline: date
    days_late: int
    amo_cents: int = 0
    paid_on: date | None = None
    penalty_cents: int = 0
    rule: str = ""

    def as_dict(self) -> dict:
        return {
            "type": self.kind,
            "facture": self.invoice_id,
            "numero": self.number,
            "patient": self.patient,
            "praticien": self.practitioner,
            "caisse": self.caisse,
            "etat": InvoiceState(self.state).label,
            "debut_delai": self.start,
            "echeance": self.deadline,
            "jours_ouvres_de_retard": self.days_late,
            "amo_cents": self.amo_cents,
            "paye_le": self.paid_on,
            "penalite_cents": self.penalty_cents,
            "regle": self.rule,
        }


@dataclass(frozen=True)
class LateReport:
    """The legal delays on *today*: FSE late to send, payments late, payments made late."""

    today: date
    to_send: tuple[LateInvoice, ...]
    unpaid: tuple[LateInvoice, ...]
    paid_late: tuple[LateInvoice, ...]

    @property
    def penalty_cents(self) -> int:
        """What the caisses owe for payments made late (the unpaid ones: if paid today)."""
        return sum(item.penalty_cents for item in self.paid_late)

    @property
    def pending_penalty_cents(self) -> int:
        return sum(item.penalty_cents for item in self.unpaid)

    def as_dict(self) -> dict:
        return {
            "date": self.today,
            "a_transmettre_en_retard": [item.as_dict() for item in self.to_send],
            "paiements_en_retard": [item.as_dict() for item in self.unpaid],
            "payees_en_retard": [item.as_dict() for item in self.paid_late],
            "penalites_dues_cents": self.penalty_cents,
            "penalites_si_paye_aujourd_hui_cents": self.pending_penalty_cents,
        }


def _day(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


def _names() -> tuple[dict[int, str], dict[int, str]]:
    practitioners = {
        pid: f"{last} {first}".strip()
        for pid, last, first in Practitioner.select(
            Practitioner.id, Practitioner.last_name, Practitioner.first_name
        ).tuples()
    }
    organisms = dict(Organism.select(Organism.id, Organism.name).tuples())
    return practitioners, organisms


def _unsent(today: date, *columns: peewee.Field) -> peewee.ModelSelect:
    """*columns* of the FSE not transmitted yet that may be late to send on *today*."""
    return (
        Invoice.select(*columns)
        .where(
            Invoice.state.in_([s.value for s in NOT_SENT])
            # Never late before 3 working days (so never before 3 days): the index does the rest.
            & (Invoice.last_act_date <= today - timedelta(days=3))
            & (Invoice.last_act_date >= today - timedelta(days=SEND_LOOKBACK_DAYS))
        )
        .tuples()
    )


def count_late_to_send(today: date) -> int:
    """How many FSE ``late_to_send`` lists, without making the list (the menu's « À faire »:
    over a big history, thousands of rows the menu would only count). Lateness grows with an
    older last act: per tiers payant, every FSE whose last act is on or before the last late
    day is late — one count, one row (the menu reads it on a thread while the desk starts:
    every row fetched waits for the interpreter, issue 12)."""
    due = next_working_day(today)
    oldest = today - timedelta(days=SEND_LOOKBACK_DAYS)
    newest = today - timedelta(days=3)
    late = None
    for tiers_payant in (True, False):
        last = last_late_day(lambda start, tp=tiers_payant: sent_late(start, tp, due), oldest, newest)
        if last is None:
            continue
        paid_that_way = Invoice.amo_tiers_payant if tiers_payant else ~Invoice.amo_tiers_payant
        condition = paid_that_way & (Invoice.last_act_date <= last)
        late = condition if late is None else late | condition
    if late is None:
        return 0
    return _unsent(today, peewee.fn.COUNT(peewee.SQL("*"))).where(late).scalar() or 0


def last_late_day(late: Callable[[date], bool], first: date, last: date) -> date | None:
    """The last day of [*first*, *last*] on which *late* holds, for a *late* that holds up to a
    day and never after it (a delay started earlier ends earlier); None when it never does."""
    if not late(first):
        return None
    low, high = 0, (last - first).days  # late(first + low) holds; find the last such day
    while low < high:
        middle = (low + high + 1) // 2
        if late(first + timedelta(days=middle)):
            low = middle
        else:
            high = middle - 1
    return first + timedelta(days=low)


def sent_late(start: date, tiers_payant: bool, due: date) -> bool:
    """Whether an FSE whose delay starts on *start* is late when sent on the working day *due*
    (``next_working_day`` of today): ``assess_sending(…).late`` without counting the working days
    late one by one — a year of them for each of the menu's few hundred pairs (~15 ms of its
    worker at 1M invoices, issue 12). The deadline is a working day: late once *due* is past it."""
    return send_deadline(start, tiers_payant) < due


def late_to_send(today: date) -> list[LateInvoice]:
    """FSE not transmitted yet and past their sending delay, most late first."""
    practitioners, organisms = _names()
    query = _unsent(
        today,
        Invoice.id, Invoice.number, Invoice.patient_name, Invoice.practitioner,
        Invoice.organism, Invoice.state, Invoice.last_act_date, Invoice.amo_tiers_payant,
        Invoice.amo_cents,
    )  # fmt: skip
    late = []
    for iid, number, patient, pid, oid, state, last_act, tiers_payant, amo in query:
        start = _day(last_act)
        assert start is not None
        verdict = assess_sending(start, bool(tiers_payant), sent_on=None, today=today)
        if not verdict.late:
            continue
        late.append(
            LateInvoice(
                kind="envoi",
                invoice_id=iid,
                number=format_invoice_number(number) if number else "",
                patient=patient,
                practitioner=practitioners.get(pid, ""),
                caisse=organisms.get(oid, "") if oid else "",
                state=state,
                start=start,
                deadline=verdict.deadline,
                days_late=verdict.days_late,
                amo_cents=amo,
                rule=verdict.label,
            )
        )
    late.sort(key=lambda item: (-item.days_late, item.invoice_id))
    return late


def _payment_start(lot_sent: object, lot_arl: object, settings: ReturnSettings) -> date | None:
    if settings.payment_start == "envoi":
        return _day(lot_sent)
    return _day(lot_arl)


def _paid_by_caisse(
    today: date, settings: ReturnSettings, *columns: peewee.Node
) -> peewee.ModelSelect:
    """*columns* of the tiers-payant FSE (and their lot) whose payment delay is watched."""
    since = today - timedelta(days=settings.late_payment_window_days)
    started = Lot.arl_at if settings.payment_start == "arl" else Lot.sent_at
    base = (
        Invoice.select(*columns)
        .join(Lot, on=(Invoice.lot == Lot.id))
        .where(
            Invoice.amo_tiers_payant
            & (Invoice.amo_cents > 0)
            & started.is_null(False)
            & (started >= datetime.combine(since, datetime.min.time()))
        )
    )
    if settings.payment_start == "arl":
        base = base.where(Lot.state != "ARL_NEGATIF")
    return base


def count_late_payments(today: date, settings: ReturnSettings) -> int:
    """How many unpaid FSE ``late_payments`` lists, without making the list (the menu's
    « À faire »). Lateness grows with an older lot: one count of the FSE whose delay started
    on or before the last late day."""
    since = today - timedelta(days=settings.late_payment_window_days)
    last = last_late_day(
        lambda start: assess_payment(start, 0, paid_on=None, today=today).late, since, today
    )
    if last is None:
        return 0
    started = Lot.arl_at if settings.payment_start == "arl" else Lot.sent_at
    query = _paid_by_caisse(today, settings, peewee.fn.COUNT(peewee.SQL("*"))).where(
        # From the few lots in the window, not from the million invoices « Transmise ».
        (unindexed(Invoice.state) == S.TRANSMISE.value)
        & (started < datetime.combine(last + timedelta(days=1), datetime.min.time()))
    )
    return query.scalar() or 0


def late_payments(
    today: date, settings: ReturnSettings
) -> tuple[list[LateInvoice], list[LateInvoice]]:
    """Tiers-payant FSE unpaid past the delay, and those paid late (with the penalty)."""
    practitioners, organisms = _names()
    base = _paid_by_caisse(
        today, settings,
        Invoice.id, Invoice.number, Invoice.patient_name, Invoice.practitioner,
        Invoice.organism, Invoice.state, Invoice.amo_cents, Lot.sent_at, Lot.arl_at,
    )  # fmt: skip

    def item(t: tuple, kind: str, paid_on: date | None) -> LateInvoice | None:
        iid, number, patient, pid, oid, state, amo, sent_at, arl_at = t
        start = _payment_start(sent_at, arl_at, settings)
        if start is None:
            return None
        verdict = assess_payment(start, amo, paid_on=paid_on, today=today)
        if not verdict.late:
            return None
        return LateInvoice(
            kind=kind,
            invoice_id=iid,
            number=format_invoice_number(number) if number else "",
            patient=patient,
            practitioner=practitioners.get(pid, ""),
            caisse=organisms.get(oid, "") if oid else "",
            state=state,
            start=start,
            deadline=verdict.due,
            days_late=verdict.days_late,
            amo_cents=amo,
            paid_on=paid_on,
            penalty_cents=verdict.penalty_cents,
            rule=verdict.rule_label,
        )

    unpaid = [
        found
        for t in base.where(Invoice.state == S.TRANSMISE.value).tuples()
        if (found := item(t, "paiement", None)) is not None
    ]
    # The first virement that paid something on the invoice is its payment date.
    paid_rows = list(base.where(Invoice.state.in_([s.value for s in PAID_STATES])).tuples())
    first_paid: dict[int, date] = {}
    ids = [t[0] for t in paid_rows]
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for invoice_id, day in (
            ReturnEntry.select(ReturnEntry.invoice, peewee.fn.MIN(Virement.accounting_date))
            .join(Virement)
            .where(
                ReturnEntry.invoice.in_(chunk)
                & ReturnEntry.posted
                & (ReturnEntry.amo_paid_cents > 0)
            )
            .group_by(ReturnEntry.invoice)
            .tuples()
        ):
            found_day = _day(day)
            if found_day is not None:
                first_paid[invoice_id] = found_day
    paid_late = [
        found
        for t in paid_rows
        if t[0] in first_paid and (found := item(t, "paye_en_retard", first_paid[t[0]])) is not None
    ]
    unpaid.sort(key=lambda i: (-i.days_late, i.invoice_id))
    paid_late.sort(key=lambda i: (i.paid_on or today, i.invoice_id), reverse=True)
    return unpaid, paid_late


def late_report(settings: ReturnSettings, today: date | None = None) -> LateReport:
    today = today or date.today()
    unpaid, paid_late = late_payments(today, settings)
    return LateReport(
        today=today,
        to_send=tuple(late_to_send(today)),
        unpaid=tuple(unpaid),
        paid_late=tuple(paid_late),
    )
