"""Règlements (seed 004): record a payment from a tiers-payeur or a client, spread it by hand
or with « Automatiser association » (``domain.payments.auto_allocate``), undo one allocation.

A payer's payment goes to the financed shares (``Funding``) of its beneficiaries' invoices; a
client's to the client's part of its invoices. What is not spread stays on the payment as
unallocated credit. Each allocation updates, in the same transaction, what the share or the
invoice has received, the payment's state (its history chained) and the bordereau's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import peewee

from tuibill.domain import payments as rules
from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.domain.formatting import format_cents
from tuibill.domain.homecare_invoices import HomecareInvoiceState, InvoiceKind, format_number
from tuibill.domain.slips import format_number as slip_number
from tuibill.models import (
    Allocation,
    Client,
    Funding,
    HomecareInvoice,
    Payer,
    Payment,
    PaymentTransition,
    Slip,
)
from tuibill.models.database import immediate
from tuibill.services import homecare_lifecycle as lifecycle


def record_payment(
    *,
    emitter: str,
    amount_cents: int,
    day: date,
    mode: str,
    user: str,
    payer_id: int | None = None,
    client_id: int | None = None,
    reference: str = "",
    today: date | None = None,
    at: datetime | None = None,
) -> Payment:
    """A payment received (date, amount, mode, reference), not yet spread."""
    today = today or date.today()
    try:
        who = rules.Emitter(emitter.upper())
    except ValueError:
        raise ValidationError(f"Émetteur « {emitter} » inconnu : PAYEUR ou CLIENT.", field="emitter") from None
    try:
        how = rules.PaymentMode(mode.upper())
    except ValueError:
        known = ", ".join(m.value for m in rules.PaymentMode)
        raise ValidationError(f"Mode de règlement « {mode} » inconnu ({known}).", field="mode") from None
    rules.check_payment(amount_cents, day, today)
    if who is rules.Emitter.PAYER:
        if payer_id is None or Payer.get_or_none(Payer.id == payer_id) is None:
            raise ValidationError("Indiquez le tiers-payeur qui règle.", field="payer")
    elif client_id is None or Client.get_or_none(Client.id == client_id) is None:
        raise ValidationError("Indiquez le client qui règle.", field="client")
    with immediate():
        if who is rules.Emitter.PAYER and reference.strip():
            twice = Payment.get_or_none(
                (Payment.payer == payer_id) & (Payment.reference == reference.strip())
                & (Payment.amount_cents == amount_cents)
            )  # fmt: skip
            if twice is not None:
                # The same payment recorded twice is a known trap (OpenEMR's users ask for it).
                raise RefusedOperation(
                    f"Règlement déjà enregistré (n° {twice.id}, même organisme, même référence "
                    "et même montant)."
                )
        payment = Payment.create(
            emitter=who.value, payer=payer_id if who is rules.Emitter.PAYER else None,
            client=client_id, day=day, amount_cents=amount_cents, mode=how.value,
            reference=reference.strip(), state=rules.PaymentState.ENREGISTRE.value,
            created_at=at or lifecycle.now(), created_by=user,
        )  # fmt: skip
        lifecycle.record_payment(
            payment, None, payment.state, rules.CREATE, user,
            f"{how.label} {reference.strip()}".strip(), at=at,
        )  # fmt: skip
        return payment


def get_payment(payment_id: int) -> Payment:
    payment = Payment.get_or_none(Payment.id == payment_id)
    if payment is None:
        raise NotFound(f"Règlement {payment_id} introuvable.")
    return payment


@dataclass(frozen=True)
class OwedRow:
    """A line a payment can go to (« target »: a funding for a payer, an invoice for a client)."""

    target: int
    invoice_id: int
    invoice: str
    client: str
    period: str
    slip: str
    due_cents: int
    paid_cents: int
    issued_on: date
    number: int

    @property
    def remaining_cents(self) -> int:
        return self.due_cents - self.paid_cents

    def owed(self) -> rules.Owed:
        return rules.Owed(self.target, self.issued_on, self.number, self.remaining_cents)

    def as_dict(self) -> dict:
        return {
            "cible": self.target, "facture": self.invoice_id, "numero": self.invoice,
            "client": self.client, "periode": self.period, "bordereau": self.slip,
            "du": self.due_cents, "regle": self.paid_cents, "reste": self.remaining_cents,
        }  # fmt: skip


def owed_for(payment: Payment) -> list[OwedRow]:
    """What *payment* can still be spread over, oldest first."""
    validated = [HomecareInvoiceState.VALIDEE.value]
    if payment.emitter == rules.Emitter.PAYER.value:
        query = (
            Funding.select(Funding, HomecareInvoice, Client, Slip)
            .join(HomecareInvoice)
            .join(Client)
            .switch(Funding)
            .join(Slip, peewee.JOIN.LEFT_OUTER)
            .where(
                (Funding.payer == payment.payer_id) & (Funding.cents > Funding.paid_cents)
                & HomecareInvoice.state.in_(validated)
                & (HomecareInvoice.kind == InvoiceKind.FACTURE.value)
            )
        )  # fmt: skip
        return [
            OwedRow(
                f.id, f.invoice_id, format_number(f.invoice.number), f.invoice.client.display_name,
                f"{f.invoice.period_start:%m/%Y}",
                slip_number(f.slip.number) if f.slip_id and f.slip.number else "",
                f.cents, f.paid_cents, f.invoice.issue_date, f.invoice.number or 0,
            )  # fmt: skip
            for f in query.order_by(HomecareInvoice.issue_date, HomecareInvoice.number)
        ]
    query = (
        HomecareInvoice.select(HomecareInvoice, Client)
        .join(Client)
        .where(
            (HomecareInvoice.client == payment.client_id)
            & (HomecareInvoice.client_cents > HomecareInvoice.client_paid_cents)
            & HomecareInvoice.state.in_(validated)
            & (HomecareInvoice.kind == InvoiceKind.FACTURE.value)
        )
    )  # fmt: skip
    return [
        OwedRow(
            i.id, i.id, format_number(i.number), i.client.display_name,
            f"{i.period_start:%m/%Y}", "", i.client_cents, i.client_paid_cents, i.issue_date,
            i.number or 0,
        )  # fmt: skip
        for i in query.order_by(HomecareInvoice.issue_date, HomecareInvoice.number)
    ]


def _allocate(payment: Payment, row: OwedRow, cents: int, *, user: str, at: datetime) -> Allocation:
    rules.check_allocation(payment.amount_cents - payment.allocated_cents, row.owed(), cents)
    if payment.emitter == rules.Emitter.PAYER.value:
        updated = (
            Funding.update(paid_cents=Funding.paid_cents + cents)
            .where((Funding.id == row.target) & (Funding.paid_cents == row.paid_cents))
            .execute()
        )
        funding_id = row.target
    else:
        updated = (
            HomecareInvoice.update(client_paid_cents=HomecareInvoice.client_paid_cents + cents)
            .where(
                (HomecareInvoice.id == row.target)
                & (HomecareInvoice.client_paid_cents == row.paid_cents)
            )
            .execute()
        )
        funding_id = None
    if updated != 1:
        raise RefusedOperation("Cette facture a été réglée par un autre poste : rechargez.")
    allocation = Allocation.create(
        payment=payment.id, funding=funding_id, invoice=row.invoice_id, cents=cents, at=at,
        user=user,
    )  # fmt: skip
    lifecycle.move_payment(
        payment, rules.PaymentAction.ALLOCATE, payment.allocated_cents + cents, user=user,
        reason=f"{format_cents(cents)} € sur la facture {row.invoice}", at=at,
    )  # fmt: skip
    _sync_slip(funding_id, user=user, at=at)
    return allocation


def _sync_slip(funding_id: int | None, *, user: str, at: datetime) -> None:
    if funding_id is None:
        return
    funding = Funding.get_by_id(funding_id)
    if funding.slip_id is not None:
        lifecycle.sync_slip_payment(
            Slip.get_by_id(funding.slip_id), user=user, reason="règlement associé", at=at
        )


def allocate(
    payment_id: int, target: int, cents: int, *, user: str, at: datetime | None = None
) -> Allocation:
    """Put *cents* of the payment on one line (a funding, or an invoice for a client)."""
    at = at or lifecycle.now()
    with immediate():
        payment = get_payment(payment_id)
        row = next((r for r in owed_for(payment) if r.target == target), None)
        if row is None:
            raise NotFound(f"Ligne {target} : rien à y régler pour ce règlement.")
        return _allocate(payment, row, cents, user=user, at=at)


def auto_allocate(payment_id: int, *, user: str, at: datetime | None = None) -> list[Allocation]:
    """« Automatiser association » (exact amounts first, then oldest first)."""
    at = at or lifecycle.now()
    with immediate():
        payment = get_payment(payment_id)
        rows = {row.target: row for row in owed_for(payment)}
        plan = rules.auto_allocate(
            payment.amount_cents - payment.allocated_cents, [row.owed() for row in rows.values()]
        )
        return [_allocate(payment, rows[key], cents, user=user, at=at) for key, cents in plan]


def undo_allocation(allocation_id: int, *, user: str, at: datetime | None = None) -> Allocation:
    """Undo one allocation alone: the money goes back to the payment, unallocated."""
    at = at or lifecycle.now()
    with immediate():
        allocation = Allocation.get_or_none(Allocation.id == allocation_id)
        if allocation is None:
            raise NotFound(f"Association {allocation_id} introuvable.")
        if allocation.undone_at is not None:
            raise RefusedOperation("Cette association est déjà annulée.")
        payment = get_payment(allocation.payment_id)
        if allocation.funding_id is not None:
            Funding.update(paid_cents=Funding.paid_cents - allocation.cents).where(
                Funding.id == allocation.funding_id
            ).execute()
        else:
            HomecareInvoice.update(
                client_paid_cents=HomecareInvoice.client_paid_cents - allocation.cents
            ).where(HomecareInvoice.id == allocation.invoice_id).execute()
        Allocation.update(undone_at=at, undone_by=user).where(
            Allocation.id == allocation.id
        ).execute()
        invoice = HomecareInvoice.get_by_id(allocation.invoice_id)
        lifecycle.move_payment(
            payment, rules.PaymentAction.UNDO, payment.allocated_cents - allocation.cents,
            user=user, at=at,
            reason=f"{format_cents(allocation.cents)} € repris sur la facture "
            f"{format_number(invoice.number)}",
        )  # fmt: skip
        _sync_slip(allocation.funding_id, user=user, at=at)
        return Allocation.get_by_id(allocation.id)


@dataclass(frozen=True)
class PaymentRow:
    id: int
    emitter: str
    who: str
    day: date
    amount_cents: int
    allocated_cents: int
    mode: str
    reference: str
    state: str

    @property
    def unallocated_cents(self) -> int:
        return self.amount_cents - self.allocated_cents

    @property
    def state_label(self) -> str:
        return rules.PaymentState(self.state).label

    def as_dict(self) -> dict:
        return {
            "id": self.id, "emetteur": rules.Emitter(self.emitter).label, "de": self.who,
            "date": self.day, "montant": self.amount_cents, "associe": self.allocated_cents,
            "non_associe": self.unallocated_cents, "mode": rules.PaymentMode(self.mode).label,
            "reference": self.reference, "etat": self.state, "etat_libelle": self.state_label,
        }  # fmt: skip


def list_payments(*, payer_id: int | None = None, client_id: int | None = None) -> list[PaymentRow]:
    query = Payment.select()
    if payer_id is not None:
        query = query.where(Payment.payer == payer_id)
    if client_id is not None:
        query = query.where(Payment.client == client_id)
    payers = {p.id: p.name for p in Payer.select(Payer.id, Payer.name)}
    clients = {c.id: c.display_name for c in Client.select(Client.id, Client.last_name, Client.first_name)}
    return [
        PaymentRow(
            p.id, p.emitter,
            payers.get(p.payer_id, "") if p.emitter == rules.Emitter.PAYER.value
            else clients.get(p.client_id, ""),
            p.day, p.amount_cents, p.allocated_cents, p.mode, p.reference, p.state,
        )  # fmt: skip
        for p in query.order_by(Payment.day.desc(), Payment.id.desc())
    ]


@dataclass(frozen=True)
class AllocationRow:
    id: int
    invoice: str
    client: str
    cents: int
    at: datetime
    user: str
    undone: bool

    def as_dict(self) -> dict:
        return {
            "id": self.id, "facture": self.invoice, "client": self.client,
            "montant": self.cents, "le": self.at, "par": self.user, "annulee": self.undone,
        }  # fmt: skip


def allocations_of(payment_id: int) -> list[AllocationRow]:
    query = (
        Allocation.select(Allocation, HomecareInvoice, Client)
        .join(HomecareInvoice)
        .join(Client)
        .where(Allocation.payment == payment_id)
        .order_by(Allocation.id)
    )
    return [
        AllocationRow(
            a.id, format_number(a.invoice.number), a.invoice.client.display_name, a.cents, a.at,
            a.user, a.undone_at is not None,
        )  # fmt: skip
        for a in query
    ]


def payment_history(payment_id: int) -> list[tuple[datetime, str, str, str]]:
    return [
        (row.at, row.user, rules.history_label(row.action), row.reason)
        for row in PaymentTransition.select()
        .where(PaymentTransition.payment == payment_id)
        .order_by(PaymentTransition.seq)
    ]


