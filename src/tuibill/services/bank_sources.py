"""Where the money expected on the bank comes from: one source per kind of receipt.

A source is a small object (:class:`ReceiptSource`) that lists its receipts
(``domain.bank_matching.ExpectedReceipt``: kind, id, date, amount, label, partner), finds one by
its id, and says which invoices a receipt pays. The reconciliation (``services.bank_matching``)
and the FEC (``services.accounting``) see only this; they never read a source's tables.

Built in: the caisses' NOEMIE virements (:class:`VirementSource`) and the tiers-payeurs'
règlements, from payers and from clients (:class:`ReglementSource`); another kind plugs in the
same way — a class with its ``kind`` and the four methods, registered with
:func:`register_source` (see ``docs/bank.md``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from tuibill.domain.bank_matching import (
    REGLEMENT,
    VIREMENT,
    ExpectedReceipt,
    Receipt,
    kind_label,
)
from tuibill.domain.errors import NotFound
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.homecare_invoices import format_number as format_homecare_number
from tuibill.models import (
    Allocation,
    Client,
    HomecareInvoice,
    Invoice,
    Payer,
    Payment,
    ReceivedFile,
    ReturnEntry,
    Virement,
)


@dataclass(frozen=True)
class InvoiceShare:
    """What one receipt pays of one invoice."""

    invoice_id: int
    number: str  # 9 digits, as printed
    patient: str
    paid_cents: int
    note: str = ""  # e.g. « retour RET_…, Payée »


class ReceiptSource(Protocol):
    """A kind of expected receipt (see the module's doc)."""

    kind: str  # « virement », « reglement »: also BankMatch.kind
    label: str  # French, for the screens: « Virements NOEMIE »

    def receipts(self, start: date | None = None, end: date | None = None) -> list[ExpectedReceipt]:
        """Every receipt dated from *start* to *end* (included; None: unbounded) whose amount is
        not zero, oldest first."""
        ...

    def receipt(self, receipt_id: int) -> ExpectedReceipt | None:
        """One receipt by its id (None: no such receipt)."""
        ...

    def invoices_of(self, receipt_id: int) -> list[InvoiceShare]:
        """The invoices the receipt pays, and how much of each."""
        ...

    def payments_of_invoice(self, invoice_id: int) -> list[tuple[ExpectedReceipt, int]]:
        """The receipts paying (part of) the invoice, each with the share it pays."""
        ...


# --- the caisses' NOEMIE virements -------------------------------------------------------------


def _virement_receipt(row: Virement) -> Receipt:
    practitioner = f", PS {row.payee_number}" if row.payee_number else ""
    return Receipt(
        kind=VIREMENT,
        id=row.id,
        date=row.accounting_date,
        amount_cents=row.total_cents,
        label=row.label,
        partner=row.paying_body,
        detail=f"{row.invoice_count} facture(s){practitioner}",
    )


class VirementSource:
    """The virements the caisses' NOEMIE returns announce (``services.returns`` posts them)."""

    kind = VIREMENT
    label = "Virements NOEMIE"

    def receipts(self, start: date | None = None, end: date | None = None) -> list[ExpectedReceipt]:
        query = Virement.select().where(Virement.total_cents != 0)
        if start is not None:
            query = query.where(Virement.accounting_date >= start)
        if end is not None:
            query = query.where(Virement.accounting_date <= end)
        return [
            _virement_receipt(row) for row in query.order_by(Virement.accounting_date, Virement.id)
        ]

    def receipt(self, receipt_id: int) -> ExpectedReceipt | None:
        row = Virement.get_or_none(Virement.id == receipt_id)
        return _virement_receipt(row) if row is not None else None

    def invoices_of(self, receipt_id: int) -> list[InvoiceShare]:
        query = (
            ReturnEntry.select(ReturnEntry, Invoice, ReceivedFile)
            .join(Invoice, on=(ReturnEntry.invoice == Invoice.id))
            .switch(ReturnEntry)
            .join(ReceivedFile)
            .where((ReturnEntry.virement == receipt_id) & ReturnEntry.posted)
            .order_by(ReturnEntry.position)
        )
        return [
            InvoiceShare(
                invoice_id=entry.invoice.id,
                number=format_invoice_number(entry.invoice.number),
                patient=entry.invoice.patient_name or entry.patient_name,
                paid_cents=entry.amo_paid_cents + entry.amc_paid_cents,
                note=f"retour {entry.received_file.file_name}",
            )
            for entry in query
        ]

    def payments_of_invoice(self, invoice_id: int) -> list[tuple[ExpectedReceipt, int]]:
        query = (
            ReturnEntry.select(ReturnEntry, Virement)
            .join(Virement)
            .where((ReturnEntry.invoice == invoice_id) & ReturnEntry.posted)
            .order_by(Virement.accounting_date, ReturnEntry.id)
        )
        return [
            (_virement_receipt(entry.virement), entry.amo_paid_cents + entry.amc_paid_cents)
            for entry in query
        ]


# --- the tiers-payeurs' règlements (F8) --------------------------------------------------------


def _payment_receipt(row: Payment, payers: dict[int, str], clients: dict[int, str]) -> Receipt:
    partner = payers.get(row.payer_id, "") if row.payer_id else clients.get(row.client_id, "")
    who = "tiers-payeur" if row.payer_id else "client"
    return Receipt(
        kind=REGLEMENT,
        id=row.id,
        date=row.day,
        amount_cents=row.amount_cents,
        label=" ".join(part for part in (row.reference, row.mode) if part),
        # The payer's name: the key of ``[accounting] payer_accounts``.
        partner=partner,
        detail=f"règlement {row.mode} d'un {who}",
    )


def _names() -> tuple[dict[int, str], dict[int, str]]:
    payers = dict(Payer.select(Payer.id, Payer.name).tuples())
    clients = {
        cid: f"{last} {first}".strip()
        for cid, last, first in Client.select(Client.id, Client.last_name, Client.first_name)
        .tuples()
    }
    return payers, clients


class ReglementSource:
    """The payments recorded in F8 (a payer's règlement, or a client's), as the bank shows
    them; what each pays is its allocations to the home-care invoices."""

    kind = REGLEMENT
    label = "Règlements tiers-payeurs"

    def receipts(self, start: date | None = None, end: date | None = None) -> list[ExpectedReceipt]:
        query = Payment.select().where(Payment.amount_cents != 0)
        if start is not None:
            query = query.where(Payment.day >= start)
        if end is not None:
            query = query.where(Payment.day <= end)
        payers, clients = _names()
        return [
            _payment_receipt(row, payers, clients)
            for row in query.order_by(Payment.day, Payment.id)
        ]

    def receipt(self, receipt_id: int) -> ExpectedReceipt | None:
        row = Payment.get_or_none(Payment.id == receipt_id)
        return _payment_receipt(row, *_names()) if row is not None else None

    def invoices_of(self, receipt_id: int) -> list[InvoiceShare]:
        query = (
            Allocation.select(Allocation, HomecareInvoice, Client)
            .join(HomecareInvoice)
            .join(Client)
            .where((Allocation.payment == receipt_id) & Allocation.undone_at.is_null())
            .order_by(Allocation.id)
        )
        return [
            InvoiceShare(
                invoice_id=allocation.invoice.id,
                number=format_homecare_number(allocation.invoice.number, allocation.invoice.kind),
                patient=f"{allocation.invoice.client.last_name} "
                f"{allocation.invoice.client.first_name}".strip(),
                paid_cents=allocation.cents,
                note="facture d'aide à domicile",
            )
            for allocation in query
        ]

    def payments_of_invoice(self, invoice_id: int) -> list[tuple[ExpectedReceipt, int]]:
        # *invoice_id* names an FSE (the chain of a caisse's invoice): règlements pay home-care
        # invoices, never an FSE.
        return []


# --- the registry -----------------------------------------------------------------------------

_SOURCES: dict[str, ReceiptSource] = {}


def register_source(source: ReceiptSource) -> None:
    """Add (or replace) the source of its ``kind``."""
    _SOURCES[source.kind] = source


def sources() -> list[ReceiptSource]:
    return list(_SOURCES.values())


def source(kind: str) -> ReceiptSource:
    found = _SOURCES.get(kind)
    if found is None:
        known = ", ".join(_SOURCES) or "aucune"
        raise NotFound(f"Origine de recette « {kind} » inconnue (possibles : {known}).")
    return found


def receipt(kind: str, receipt_id: int) -> ExpectedReceipt:
    """One receipt, or NotFound in French."""
    found = source(kind).receipt(receipt_id)
    if found is None:
        raise NotFound(f"{kind_label(kind)} {receipt_id} introuvable.")
    return found


def all_receipts(
    start: date | None = None, end: date | None = None, kinds: Iterable[str] | None = None
) -> list[ExpectedReceipt]:
    """The receipts of every source (or of *kinds*), oldest first."""
    wanted = set(kinds) if kinds is not None else None
    found: list[ExpectedReceipt] = []
    for item in sources():
        if wanted is None or item.kind in wanted:
            found.extend(item.receipts(start, end))
    return sorted(found, key=lambda r: (r.date, r.kind, r.id))


register_source(VirementSource())
register_source(ReglementSource())
