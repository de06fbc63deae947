"""DRE lots (seed 003): the validated DREs, in their own lots, to the concentrator that routes
each to its AMC (the AMC number is in each record).

One lot per practitioner and destination caisse, numbered from the practitioner's lot counter
(so PS + number names one lot, FSE, SCOR or DRE); the file is tuibill's lot file with « D » in
its header (docs/formats/lot-file.md): the FSE records of the invoices, as signed. Sent, acknowledged
and timed out like any lot (``services.sending``, ``services.receiving``); sending it moves its
DREs to « Transmise » (``services.lifecycle.move_lot``); the mutuelles answer in the NOEMIE
returns (type D).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from tuibill.config import TransmissionSettings
from tuibill.domain.dre import DreState
from tuibill.domain.errors import ValidationError
from tuibill.domain.invoices import InvoiceState
from tuibill.domain.lots import INITIAL_STATE
from tuibill.formats import get_lot_codec
from tuibill.formats.codec import CaisseCode, LotFile, file_checksum
from tuibill.formats.errors import FormatError
from tuibill.models import Dre, Invoice, Lot, Organism, Practitioner
from tuibill.models.database import immediate
from tuibill.services import lifecycle
from tuibill.services.lot_content import fse_records, lot_header, sender_name
from tuibill.services.numbering import allocate_lot_number
from tuibill.transport.envelopes import DRE_KIND

# A DRE travels once its FSE went into a lot (the invoice numbered, signed as it is sent).
FSE_SENT_OR_LOTTED = (
    InvoiceState.A_TRANSMETTRE, InvoiceState.TRANSMISE, InvoiceState.PAYEE,
    InvoiceState.PAYEE_PARTIELLEMENT,
)  # fmt: skip


@dataclass(frozen=True)
class DreLot:
    id: int
    number: int
    destination: str
    count: int
    amc_cents: int


@dataclass
class DreBuildReport:
    lots: list[DreLot]
    skipped: list[tuple[int, str]]  # (invoice id, why)


def dre_summary(report: DreBuildReport, *, skipped: bool = True) -> str:
    """What the DRE lots built were, in French (the screen F3 and ``tuibill dre lots``, which
    writes the DREs left out on its error stream: *skipped* False)."""
    from tuibill.domain.formatting import format_cents

    lines = [
        f"Lot de DRE {lot.number:03d} ({lot.destination}) : {lot.count} DRE, "
        f"{format_cents(lot.amc_cents)} €"
        for lot in report.lots
    ] or ["Aucune DRE validée à mettre en lot."]
    if skipped:
        lines += [f"DRE de la facture {i} écartée : {why}" for i, why in report.skipped]
    return "\n".join(lines)


def build_dre_lots(
    settings: TransmissionSettings, *, user: str, now: datetime | None = None
) -> DreBuildReport:
    """Every validated DRE not in a lot yet, whose FSE is in a lot: one lot per PS and caisse."""
    at = lifecycle.current_time(now)
    query = (
        Dre.select(Dre, Invoice)
        .join(Invoice)
        .where(
            (Dre.state == DreState.VALIDEE.value)
            & Dre.lot.is_null()
            & Invoice.state.in_([s.value for s in FSE_SENT_OR_LOTTED])
        )
        .order_by(Invoice.practitioner, Invoice.organism, Invoice.number)
    )
    groups: dict[tuple[int, int], list[Invoice]] = {}
    for dre in query:
        invoice = dre.invoice
        groups.setdefault((invoice.practitioner_id, invoice.organism_id), []).append(invoice)
    report = DreBuildReport([], [])
    for (practitioner_id, organism_id), invoices in groups.items():
        for start in range(0, len(invoices), settings.lot_max_invoices):
            chunk = invoices[start : start + settings.lot_max_invoices]
            try:
                made = _build_one(settings, practitioner_id, organism_id, chunk, user, at, report)
            except _Nothing:
                continue
            if made is not None:
                report.lots.append(made)
    return report


def _build_one(
    settings: TransmissionSettings,
    practitioner_id: int,
    organism_id: int,
    invoices: list[Invoice],
    user: str,
    at: datetime,
    report: DreBuildReport,
) -> DreLot | None:
    from tuibill.transport.envelopes import lot_attachment_name

    with immediate():
        practitioner = Practitioner.get_by_id(practitioner_id)
        organism = Organism.get_by_id(organism_id)
        destination = CaisseCode(organism.regime, organism.caisse, organism.centre)
        found = fse_records(invoices)
        kept = []
        for invoice in invoices:
            record = found[invoice.id]
            if isinstance(record, ValidationError):
                report.skipped.append((invoice.id, str(record)))
            else:
                kept.append(invoice)
        if not kept:
            return None
        number = allocate_lot_number(
            practitioner, first=settings.lot_number_first, last=settings.lot_number_last
        )
        header = replace(
            lot_header(practitioner, destination, number, at, sender_name(practitioner)),
            kind=DRE_KIND,
        )
        codec = get_lot_codec(settings.lot_codec)
        try:
            data = codec.write(LotFile(header, tuple(found[i.id] for i in kept)))
        except FormatError as error:
            report.skipped.extend((invoice.id, str(error)) for invoice in kept)
            raise _Nothing() from None
        amc = sum(invoice.amc_cents for invoice in kept)
        lot = Lot.create(
            practitioner=practitioner.id, organism=organism.id, kind=DRE_KIND, number=number,
            state=INITIAL_STATE.value, created_at=at, created_by=user,
            destination=destination.destination,
            file_name=lot_attachment_name(practitioner.am_number, number),
            file_sha256=file_checksum(data), codec=settings.lot_codec, file_bytes=data,
            invoice_count=len(kept), total_cents=amc,
        )  # fmt: skip
        lifecycle.record_lot_built(lot, user, f"{len(kept)} DRE", at=at)
        Dre.update(lot=lot.id, lot_number=number, updated_at=at).where(
            Dre.invoice.in_([invoice.id for invoice in kept])
        ).execute()
        return DreLot(lot.id, number, destination.destination, len(kept), amc)


class _Nothing(Exception):
    """The codec refused the whole lot: its number goes back (the transaction rolls back)."""
