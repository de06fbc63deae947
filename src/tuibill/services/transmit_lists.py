"""What the Transmettre (F3) and Journal des lots (F6) screens need beyond ``services.lots``.

* « FSE à transmettre »: the Validée invoices counted per practitioner and destination caisse
  (one SQL ``GROUP BY``, no lot file written: :func:`lots.preview_build` checks every invoice
  against the codec, which is for the moment the user asks to build), and the invoices of one
  group, bounded.
* « FSE à sécuriser »: the invoices to sign, as display rows.
* « Fichier à transmettre »: the lots to send, those whose sending is uncertain first.
* The Journal des lots as a virtual list: ``lot_journal`` pages by key; this adds what the
  invoice journal's view adds (reading a far page by offset off the UI thread) and the
  2-month default window.
* The paper list of a lot: saved as text + CSV, or handed to the system's print command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import peewee

from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.domain.lots import LotState
from tuibill.models import Invoice, Organism, Practitioner
from tuibill.services.lot_views import LotSummary, list_lots, lots_to_send

LIST_LIMIT = 500  # invoices of one group shown at once (the build takes them all)
NO_CAISSE = ""  # the destination of invoices without an AMO caisse (the build refuses them)


# --- « FSE à transmettre » --------------------------------------------------------------------


@dataclass(frozen=True)
class ValidatedGroup:
    """The Validée invoices of one practitioner for one destination (régime + caisse)."""

    practitioner_id: int
    practitioner: str
    destination: str  # « 01281 », or NO_CAISSE
    organism: str
    count: int
    total_cents: int
    oldest: date | None  # the oldest billing date: the legal delay runs from it

    @property
    def key(self) -> str:
        return f"{self.practitioner_id}:{self.destination}"


def _destination_expr():
    return Organism.regime.concat(Organism.caisse)


def validated_groups() -> list[ValidatedGroup]:
    """Every Validée invoice counted per practitioner and destination, oldest first inside."""
    destination = _destination_expr()
    rows = (
        Invoice.select(
            Invoice.practitioner,
            destination.alias("destination"),
            peewee.fn.COUNT(Invoice.id),
            peewee.fn.SUM(Invoice.total_cents),
            peewee.fn.MIN(Invoice.billing_date),
        )
        .join(Organism, peewee.JOIN.LEFT_OUTER, on=(Invoice.organism == Organism.id))
        .where(Invoice.state == InvoiceState.VALIDEE.value)
        .group_by(Invoice.practitioner, destination)
        .tuples()
    )
    practitioners = {
        pid: f"{last} {first}"
        for pid, last, first in Practitioner.select(
            Practitioner.id, Practitioner.last_name, Practitioner.first_name
        ).tuples()
    }
    # Several centres of one caisse share its destination: name it after the first centre.
    names: dict[str, str] = {}
    for regime, caisse, name in (
        Organism.select(Organism.regime, Organism.caisse, Organism.name)
        .order_by(Organism.centre, Organism.id)
        .tuples()
    ):
        names.setdefault(f"{regime}{caisse}", name)
    groups = [
        ValidatedGroup(
            practitioner_id=pid,
            practitioner=practitioners.get(pid, ""),
            destination=code or NO_CAISSE,
            organism=names.get(code or "", "sans caisse AMO"),
            count=count,
            total_cents=total or 0,
            oldest=_day(oldest),
        )
        for pid, code, count, total, oldest in rows
    ]
    return sorted(groups, key=lambda g: (g.practitioner, g.destination))


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value  # type: ignore[return-value]
    return date.fromisoformat(str(value)[:10])


def _group_query(columns: Sequence, practitioner_id: int, destination: str) -> peewee.ModelSelect:
    query = (
        Invoice.select(*columns)
        .join(Organism, peewee.JOIN.LEFT_OUTER, on=(Invoice.organism == Organism.id))
        .where(
            (Invoice.state == InvoiceState.VALIDEE.value)
            & (Invoice.practitioner == practitioner_id)
        )
    )
    if destination == NO_CAISSE:
        return query.where(Invoice.organism.is_null())
    return query.where((Organism.regime == destination[:2]) & (Organism.caisse == destination[2:]))


@dataclass(frozen=True)
class ValidatedInvoice:
    id: int
    number: int | None
    patient: str
    billing_date: date
    first_act_date: date
    last_act_date: date
    total_cents: int
    mode: str

    @property
    def number_text(self) -> str:
        return format_invoice_number(self.number)


def validated_invoices(
    practitioner_id: int, destination: str, *, limit: int = LIST_LIMIT
) -> list[ValidatedInvoice]:
    """The Validée invoices of one group, in lot order (by number), at most *limit*."""
    columns = (
        Invoice.id,
        Invoice.number,
        Invoice.patient_name,
        Invoice.billing_date,
        Invoice.first_act_date,
        Invoice.last_act_date,
        Invoice.total_cents,
        Invoice.mode,
    )
    query = _group_query(columns, practitioner_id, destination).order_by(Invoice.number, Invoice.id)
    return [
        ValidatedInvoice(
            id=t[0],
            number=t[1],
            patient=t[2],
            billing_date=_day(t[3]) or date.min,
            first_act_date=_day(t[4]) or date.min,
            last_act_date=_day(t[5]) or date.min,
            total_cents=t[6],
            mode=t[7],
        )
        for t in query.limit(limit).tuples()
    ]


def validated_ids(practitioner_id: int, destination: str) -> list[int]:
    """Every Validée invoice id of one group (ids only: cheap even past the list's limit)."""
    query = _group_query((Invoice.id,), practitioner_id, destination)
    return [row[0] for row in query.order_by(Invoice.number, Invoice.id).tuples()]


def still_validated(invoice_ids: set[int]) -> set[int]:
    """Those of *invoice_ids* still Validée (a selection kept across a reload)."""
    if not invoice_ids:
        return set()
    query = Invoice.select(Invoice.id).where(
        Invoice.id.in_(list(invoice_ids)) & (Invoice.state == InvoiceState.VALIDEE.value)
    )
    return {row[0] for row in query.tuples()}


def validated_count() -> int:
    return (
        Invoice.select(peewee.fn.COUNT(peewee.SQL("*")))
        .where(Invoice.state == InvoiceState.VALIDEE.value)
        .scalar()
        or 0
    )


# --- « FSE à sécuriser » ----------------------------------------------------------------------


@dataclass(frozen=True)
class SecureRow:
    id: int
    number: int | None
    patient: str
    practitioner: str
    billing_date: date
    total_cents: int
    secured_at: datetime | None  # when the patient's card was used (at home, in the TLA)
    signer: str  # the CPE that semi-secured it

    @property
    def number_text(self) -> str:
        return format_invoice_number(self.number)


def secure_rows() -> list[SecureRow]:
    """« FSE à sécuriser », oldest first, bounded like ``securing.invoices_to_secure``."""
    from tuibill.services.securing import invoices_to_secure

    practitioners = {p.id: p.display_name for p in Practitioner.select()}
    return [
        SecureRow(
            id=invoice.id,
            number=invoice.number,
            patient=invoice.patient_name,
            practitioner=practitioners.get(invoice.practitioner_id, ""),
            billing_date=invoice.billing_date,
            total_cents=invoice.total_cents,
            secured_at=invoice.secured_at,
            signer=invoice.signer,
        )
        for invoice in invoices_to_secure()
    ]


# --- « Fichier à transmettre » ----------------------------------------------------------------


def lots_to_transmit() -> list[LotSummary]:
    """Lots « En cours » (uncertain: a person decides) first, then those to send or re-send."""
    return list_lots([LotState.EN_COURS]) + lots_to_send()


# --- Journal des lots -------------------------------------------------------------------------


# --- the paper list of a lot (« Traitement manuel ») ------------------------------------------


