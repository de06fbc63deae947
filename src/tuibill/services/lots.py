"""Lots: built from Validée invoices, deleted before they are sent, shown, timed out, resolved.

One lot per practitioner and destination caisse (régime + caisse), at most
``transmission.lot_max_invoices`` invoices, numbered per practitioner on 3 digits with the wrap
of ``transmission.lot_number_first/last``. The lot file is written once, at build time, and its
bytes and SHA-256 are kept on the lot: every sending of the lot is that file, byte for byte.
The SCOR pieces of the lot's mode-dégradé invoices travel in their own SCOR lot(s), built in
the same transaction and numbered from the same counter (so that PS + number names one lot).

Every public function that writes is one write transaction (several for batch functions, one
per lot), takes the ``user`` recorded in the history and an optional ``now`` (the clock, for
tests and the time-out). Every lot state change goes through ``services.lifecycle.move_lot``,
which applies the domain's table and records the move in the same transaction. Sending and receiving are in
``services.sending`` and ``services.receiving``; the Journal des lots pager in
``services.lot_journal``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

import peewee

from tuibill.config import TransmissionSettings
from tuibill.domain.errors import NotFound, RefusedOperation, TuibillError, ValidationError
from tuibill.domain.invoices import InvoiceAction, InvoiceState
from tuibill.domain.lots import (
    BUILD,
    INITIAL_STATE,
    MAX_SENDINGS,
    LotAction,
    LotState,
)
from tuibill.domain.numbering import format_invoice_number, format_lot_number
from tuibill.domain.pricing import format_cents
from tuibill.formats.errors import FormatError
from tuibill.formats.interface import (
    CaisseCode,
    FseRecord,
    LotFile,
    file_checksum,
    get_lot_codec,
)
from tuibill.formats.lot_file import lot_attachment_name
from tuibill.formats.scor_lot import (
    MAX_PIECE_BYTES,
    PDF_MAGIC,
    ScorHeader,
    ScorLot,
    ScorLotCodec,
    ScorPiece,
    ScorPieceKind,
    scor_attachment_name,
)
from tuibill.models import (
    Invoice,
    InvoicePiece,
    Lot,
    LotTransition,
    Organism,
    Practitioner,
    ReceivedFile,
)
from tuibill.models.database import immediate
from tuibill.services import lifecycle
from tuibill.services.lot_content import fse_records, lot_header, sender_name
from tuibill.services.lot_numbering import LOT, allocate_wrapping

FSE = "FSE"
SCOR = "SCOR"
# A SCOR lot travels as one mail: keep its PDFs under what mail servers commonly accept once
# base64-encoded (about 4/3 of this). The pieces of one invoice are never split.
SCOR_LOT_MAX_BYTES = 8_000_000

RECEIVED_STATUS_LABELS = {
    "recu": "Reçu, à traiter",
    "applique": "Traité",
    "refuse": "Refusé (illisible)",
    "ignore": "Sans effet",
}


def current_time(now: datetime | None = None) -> datetime:
    """*now* (an injected clock, in tests) or the real time, to the second."""
    return (now or datetime.now()).replace(microsecond=0)


# --- what the screens and the CLI read --------------------------------------------------------


@dataclass(frozen=True)
class LotSummary:
    """One lot as the lists show it (Transmettre, Journal des lots)."""

    id: int
    kind: str  # FSE / SCOR
    number: int
    state: LotState
    practitioner_id: int
    practitioner: str  # « GAUTIER Anne »
    practitioner_am: str
    destination: str  # « 01281 »
    organism: str  # the caisse's name
    invoice_count: int
    piece_count: int
    total_cents: int
    created_at: datetime
    created_by: str
    send_count: int
    send_started_at: datetime | None
    sent_at: datetime | None
    message_id: str
    recipient: str
    arl_at: datetime | None
    arl_code: str
    arl_reason: str
    last_error: str
    last_error_at: datetime | None
    cancelled_count: int
    file_name: str
    file_sha256: str
    parent_id: int | None

    @property
    def number_text(self) -> str:
        return format_lot_number(self.number)

    @property
    def state_label(self) -> str:
        return self.state.label

    @property
    def uncertain(self) -> bool:
        """« En cours »: the sending started and its outcome is unknown (a person decides)."""
        return self.state is LotState.EN_COURS

    def arl_deadline(self, timeout_hours: int) -> datetime | None:
        """When the time-out fires for a lot waiting for its ARL; None otherwise."""
        if self.state is not LotState.TRANSMIS or self.sent_at is None:
            return None
        return self.sent_at + timedelta(hours=timeout_hours)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "type": self.kind,
            "numero": self.number_text,
            "etat": self.state_label,
            "etat_code": self.state.value,
            "praticien": self.practitioner,
            "praticien_am": self.practitioner_am,
            "caisse": self.destination,
            "caisse_nom": self.organism,
            "factures": self.invoice_count,
            "pieces": self.piece_count,
            "total_cents": self.total_cents,
            "cree_le": self.created_at,
            "cree_par": self.created_by,
            "envois": self.send_count,
            "envoi_commence_le": self.send_started_at,
            "envoye_le": self.sent_at,
            "message_id": self.message_id,
            "destinataire": self.recipient,
            "arl_le": self.arl_at,
            "arl_motif_code": self.arl_code,
            "arl_motif": self.arl_reason,
            "derniere_erreur": self.last_error,
            "derniere_erreur_le": self.last_error_at,
            "factures_annulees": self.cancelled_count,
            "fichier": self.file_name,
            "sha256": self.file_sha256,
            "lot_fse": self.parent_id,
        }


def summarize(
    lot: Lot, practitioner: Practitioner | None = None, organism: Organism | None = None
) -> LotSummary:
    """A :class:`LotSummary` of a model row (the related rows are read if not given)."""
    practitioner = practitioner or Practitioner.get_by_id(lot.practitioner_id)
    organism = organism or Organism.get_or_none(Organism.id == lot.organism_id)
    return LotSummary(
        id=lot.id,
        kind=lot.kind,
        number=lot.number,
        state=LotState(lot.state),
        practitioner_id=practitioner.id,
        practitioner=practitioner.display_name,
        practitioner_am=practitioner.am_number,
        destination=lot.destination,
        organism=organism.name if organism else "",
        invoice_count=lot.invoice_count,
        piece_count=lot.piece_count,
        total_cents=lot.total_cents,
        created_at=lot.created_at,
        created_by=lot.created_by,
        send_count=lot.send_count,
        send_started_at=lot.send_started_at,
        sent_at=lot.sent_at,
        message_id=lot.message_id,
        recipient=lot.recipient,
        arl_at=lot.arl_at,
        arl_code=lot.arl_code,
        arl_reason=lot.arl_reason,
        last_error=lot.last_error,
        last_error_at=lot.last_error_at,
        cancelled_count=lot.cancelled_count,
        file_name=lot.file_name,
        file_sha256=lot.file_sha256,
        parent_id=lot.parent_id,
    )


def _summaries(query: peewee.ModelSelect) -> list[LotSummary]:
    practitioners = {p.id: p for p in Practitioner.select()}
    organisms = {o.id: o for o in Organism.select()}
    return [
        summarize(lot, practitioners[lot.practitioner_id], organisms.get(lot.organism_id))
        for lot in query
    ]


# Columns the lists read: never the lot file's bytes.
LIST_COLUMNS = [f for f in Lot._meta.sorted_fields if f.name != "file_bytes"]


def get_lot(lot_id: int) -> Lot:
    lot = Lot.get_or_none(Lot.id == lot_id)
    if lot is None:
        raise NotFound(f"Lot {lot_id} introuvable.")
    return lot


def find_lot(reference: str | int) -> Lot:
    """A lot by its id (« 12 ») or by PS and number (« 281234567/695 »: the most recent).

    Numbers wrap after 999, so PS + number may name several lots over the years: the most
    recent one is meant.
    """
    text = str(reference).strip()
    if "/" in text:
        am, _, number = text.partition("/")
        if not (am.isdigit() and number.isdigit()):
            raise ValidationError(f"« {text} » : AM/NUMÉRO attendu, ex. « 281234567/695 ».")
        lot = (
            Lot.select()
            .join(Practitioner)
            .where((Practitioner.am_number == am) & (Lot.number == int(number)))
            .order_by(Lot.created_at.desc(), Lot.id.desc())
            .first()
        )
        if lot is None:
            raise NotFound(f"Aucun lot n° {int(number):03d} du praticien {am}.")
        return lot
    if not text.isdigit():
        raise ValidationError(f"« {text} » : identifiant de lot (colonne Id) ou AM/NUMÉRO attendu.")
    return get_lot(int(text))


def lot_summary(lot_id: int) -> LotSummary:
    return summarize(get_lot(lot_id))


def list_lots(
    states: Iterable[LotState] | None = None,
    *,
    kind: str | None = None,
    practitioner_id: int | None = None,
    limit: int | None = None,
) -> list[LotSummary]:
    """Lots, newest first (short lists: the Journal des lots pages with ``lot_journal``)."""
    query = Lot.select(*LIST_COLUMNS)
    if states is not None:
        query = query.where(Lot.state.in_([LotState(s).value for s in states]))
    if kind:
        query = query.where(Lot.kind == kind)
    if practitioner_id is not None:
        query = query.where(Lot.practitioner == practitioner_id)
    query = query.order_by(Lot.created_at.desc(), Lot.id.desc())
    if limit:
        query = query.limit(limit)
    return _summaries(query)


def lots_to_send() -> list[LotSummary]:
    """« Fichiers à transmettre »: new lots, and those to re-send once (oldest first)."""
    query = (
        Lot.select(*LIST_COLUMNS)
        .where(
            (Lot.state == LotState.A_TRANSMETTRE.value)
            | ((Lot.state == LotState.ARL_NEGATIF.value) & (Lot.send_count < MAX_SENDINGS))
        )
        .order_by(Lot.created_at, Lot.id)
    )
    return _summaries(query)


def lot_counts() -> dict[LotState, int]:
    """How many lots are in each state (every state present, zero included)."""
    counts = dict.fromkeys(LotState, 0)
    for state, count in Lot.select(Lot.state, peewee.fn.COUNT(Lot.id)).group_by(Lot.state).tuples():
        counts[LotState(state)] = count
    return counts


# --- the life cycle ---------------------------------------------------------------------------


def note_error(lot_id: int, message: str, *, at: datetime) -> None:
    """Keep the last error on the lot (no state change): shown in the lists, retried later."""
    with immediate():
        Lot.update(last_error=message, last_error_at=at).where(Lot.id == lot_id).execute()


def resolve_uncertain(
    lot_id: int, *, sent: bool, user: str, reason: str = "", now: datetime | None = None
) -> LotSummary:
    """A person's decision on a lot « En cours » (a crash between sending and recording).

    ``sent=True``: it went out (e.g. the mail server's log shows it): Transmis, its ARL awaited
    from the start of that sending. ``sent=False``: it did not: back to À transmettre (or to
    ARL négatif if it was the re-sending), to be sent by the next sending.
    """
    at = current_time(now)
    with immediate():
        lot = get_lot(lot_id)
        if lot.state != LotState.EN_COURS.value:
            raise RefusedOperation(
                f"Le lot {lot.number:03d} est à l'état « {LotState(lot.state).label} » : "
                "seul un lot « En cours » (envoi incertain) attend une décision."
            )
        if sent:
            lifecycle.move_lot(
                lot,
                LotAction.RESOLVE_SENT,
                user=user,
                reason=reason or "envoi confirmé par l'utilisateur",
                at=at,
                sent_at=lot.send_started_at or at,
            )
        else:
            lifecycle.move_lot(
                lot,
                LotAction.RESOLVE_NOT_SENT,
                user=user,
                reason=reason or "non envoyé selon l'utilisateur",
                at=at,
            )
        return summarize(lot)


def apply_timeouts(
    settings: TransmissionSettings, *, user: str, now: datetime | None = None
) -> list[LotSummary]:
    """Lots « Transmis » without an ARL for ``arl_timeout_hours``: ARL négatif (to re-send
    the identical lot) after the first sending, Traitement manuel after the re-sending."""
    at = current_time(now)
    hours = settings.arl_timeout_hours
    limit = at - timedelta(hours=hours)
    due = [
        lot_id
        for (lot_id,) in Lot.select(Lot.id)
        .where((Lot.state == LotState.TRANSMIS.value) & (Lot.sent_at <= limit))
        .order_by(Lot.sent_at, Lot.id)
        .tuples()
    ]
    done: list[LotSummary] = []
    for lot_id in due:
        with immediate():
            lot = get_lot(lot_id)
            if lot.state != LotState.TRANSMIS.value or lot.sent_at is None or lot.sent_at > limit:
                continue  # an ARL or another desk got there first
            reason = (
                f"Pas d'ARL {hours} h après l'envoi du {lot.sent_at:%d/%m/%Y à %H:%M} (time-out)"
            )
            lifecycle.move_lot(lot, LotAction.TIMEOUT, user=user, reason=reason, at=at)
            done.append(summarize(lot))
    return done


# --- building ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedInvoice:
    """An invoice that could not go into a lot, and why (French)."""

    invoice_id: int
    number: int | None
    reason: str

    def as_dict(self) -> dict:
        return {
            "id": self.invoice_id,
            "numero": format_invoice_number(self.number),
            "motif": self.reason,
        }


@dataclass(frozen=True)
class LotPreview:
    """The lots a build would make for one practitioner and caisse (Transmettre's preview)."""

    practitioner_id: int
    practitioner: str
    practitioner_am: str
    destination: str
    organism: str
    invoice_ids: tuple[int, ...]
    total_cents: int
    lot_count: int


@dataclass(frozen=True)
class BuildReport:
    lots: tuple[LotSummary, ...]  # FSE lots and their SCOR lots, in build order
    skipped: tuple[SkippedInvoice, ...]
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "lots": [lot.as_dict() for lot in self.lots],
            "ecartees": [item.as_dict() for item in self.skipped],
            "avertissements": list(self.warnings),
        }


@dataclass
class _Group:
    practitioner: Practitioner
    destination: str
    invoices: list[Invoice] = field(default_factory=list)


def _prefixed(invoice: Invoice, error: TuibillError) -> str:
    text = str(error)
    number = format_invoice_number(invoice.number) or str(invoice.id)
    return text if text.startswith("Facture ") else f"Facture {number} : {text}"


def _pieces_of(invoice_ids: list[int]) -> dict[int, list[tuple[str, bytes, int]]]:
    """(file name, first bytes, size) of the SCOR pieces of each invoice, without their PDFs."""
    found: dict[int, list[tuple[str, bytes, int]]] = {}
    for start in range(0, len(invoice_ids), 500):
        query = InvoicePiece.select(
            InvoicePiece.invoice,
            InvoicePiece.file_name,
            peewee.fn.SUBSTR(InvoicePiece.content, 1, len(PDF_MAGIC)),
            peewee.fn.LENGTH(InvoicePiece.content),
        ).where(InvoicePiece.invoice.in_(invoice_ids[start : start + 500]))
        for invoice_id, name, head, size in query.tuples():
            found.setdefault(invoice_id, []).append((name, bytes(head or b""), int(size or 0)))
    return found


def _pieces_problem(pieces: list[tuple[str, bytes, int]]) -> str | None:
    for name, head, size in pieces:
        if head != PDF_MAGIC:
            return f"la pièce SCOR « {name} » n'est pas un PDF"
        if size > MAX_PIECE_BYTES:
            return f"la pièce SCOR « {name} » dépasse {MAX_PIECE_BYTES} octets"
    return None


def _candidates(
    invoice_ids: Sequence[int] | None, practitioner_id: int | None
) -> tuple[list[Invoice], list[SkippedInvoice]]:
    skipped: list[SkippedInvoice] = []
    query = Invoice.select()
    if invoice_ids is not None:
        wanted = list(dict.fromkeys(invoice_ids))
        found = {inv.id: inv for inv in Invoice.select().where(Invoice.id.in_(wanted))}
        for invoice_id in wanted:
            invoice = found.get(invoice_id)
            if invoice is None:
                skipped.append(
                    SkippedInvoice(invoice_id, None, f"Facture {invoice_id} introuvable.")
                )
            elif invoice.state != InvoiceState.VALIDEE.value:
                skipped.append(
                    SkippedInvoice(
                        invoice.id,
                        invoice.number,
                        f"Facture {format_invoice_number(invoice.number) or invoice.id} à l'état "
                        f"« {InvoiceState(invoice.state).label} » : seules les factures validées "
                        "partent en lot.",
                    )
                )
        query = query.where(Invoice.id.in_(wanted))
    if practitioner_id is not None:
        query = query.where(Invoice.practitioner == practitioner_id)
    query = query.where(Invoice.state == InvoiceState.VALIDEE.value).order_by(
        Invoice.practitioner, Invoice.number, Invoice.id
    )
    return list(query), skipped


def _groups(
    invoices: list[Invoice], skipped: list[SkippedInvoice]
) -> tuple[list[_Group], list[Invoice]]:
    """Group writable invoices per practitioner and régime + caisse; refuse the others."""
    codec = get_lot_codec()
    practitioners = {p.id: p for p in Practitioner.select()}
    organisms = {o.id: o for o in Organism.select()}
    name_cache: dict[int, str] = {}
    groups: dict[tuple[int, str], _Group] = {}
    without_pieces: list[Invoice] = []
    records = fse_records(invoices)
    pieces = _pieces_of([inv.id for inv in invoices if inv.mode == "degrade"])
    for invoice in invoices:
        practitioner = practitioners[invoice.practitioner_id]
        organism = organisms.get(invoice.organism_id)
        try:
            record = records[invoice.id]  # refuses, among others, an invoice without its caisse
            if isinstance(record, ValidationError):
                raise record
            if organism is None:
                raise ValidationError("pas de caisse AMO.")
            code = CaisseCode(organism.regime, organism.caisse, organism.centre)
            if practitioner.id not in name_cache:
                name_cache[practitioner.id] = sender_name(practitioner)
            # A one-FSE lot with this header: the codec's own rules decide, with its messages.
            header = lot_header(
                practitioner, code, 1, datetime(2000, 1, 1), name_cache[practitioner.id]
            )
            codec.write(LotFile(header=header, fses=(record,)))
        except (ValidationError, FormatError) as error:
            skipped.append(SkippedInvoice(invoice.id, invoice.number, _prefixed(invoice, error)))
            continue
        if invoice.mode == "degrade":
            problem = _pieces_problem(pieces.get(invoice.id, []))
            if problem:
                skipped.append(
                    SkippedInvoice(
                        invoice.id,
                        invoice.number,
                        f"Facture {format_invoice_number(invoice.number)} : {problem}.",
                    )
                )
                continue
            if not pieces.get(invoice.id):
                without_pieces.append(invoice)
        key = (practitioner.id, code.destination)
        groups.setdefault(key, _Group(practitioner, code.destination)).invoices.append(invoice)
    return list(groups.values()), without_pieces


def _chunks(items: list[Invoice], size: int) -> list[list[Invoice]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def preview_build(
    settings: TransmissionSettings,
    *,
    invoice_ids: Sequence[int] | None = None,
    practitioner_id: int | None = None,
) -> tuple[list[LotPreview], list[SkippedInvoice]]:
    """What :func:`build_lots` would make now, without writing anything."""
    invoices, skipped = _candidates(invoice_ids, practitioner_id)
    groups, _ = _groups(invoices, skipped)
    organisms = {
        f"{o.regime}{o.caisse}": o.name for o in Organism.select().order_by(Organism.centre)
    }
    previews = [
        LotPreview(
            practitioner_id=group.practitioner.id,
            practitioner=group.practitioner.display_name,
            practitioner_am=group.practitioner.am_number,
            destination=group.destination,
            organism=organisms.get(group.destination, ""),
            invoice_ids=tuple(inv.id for inv in group.invoices),
            total_cents=sum(inv.total_cents for inv in group.invoices),
            lot_count=len(_chunks(group.invoices, settings.lot_max_invoices)),
        )
        for group in groups
    ]
    return previews, skipped


def build_lots(
    settings: TransmissionSettings,
    *,
    user: str,
    invoice_ids: Sequence[int] | None = None,
    practitioner_id: int | None = None,
    now: datetime | None = None,
) -> BuildReport:
    """Put Validée invoices (all, or those given) in new lots « À transmettre ».

    One transaction per lot: the number, the lot file, the lot, its history, each invoice's
    move Validée → À transmettre and its SCOR lot(s). An invoice the lot file cannot carry is
    left Validée and listed in ``skipped`` with the reason; an invoice changed meanwhile by
    another desk is left out of its lot.
    """
    at = current_time(now)
    invoices, skipped = _candidates(invoice_ids, practitioner_id)
    groups, without_pieces = _groups(invoices, skipped)
    built: list[LotSummary] = []
    for group in groups:
        name = sender_name(group.practitioner)
        for chunk in _chunks(group.invoices, settings.lot_max_invoices):
            try:
                built.extend(
                    _build_one(settings, group.practitioner, chunk, name, user, at, skipped)
                )
            except FormatError as error:  # the whole lot refused by the codec: none goes
                for invoice in chunk:
                    skipped.append(
                        SkippedInvoice(invoice.id, invoice.number, _prefixed(invoice, error))
                    )
    warnings: list[str] = []
    lotted = {
        inv.id for lot in built for inv in Invoice.select(Invoice.id).where(Invoice.lot == lot.id)
    }
    missing = [inv for inv in without_pieces if inv.id in lotted]
    if missing:
        numbers = ", ".join(format_invoice_number(inv.number) for inv in missing[:10])
        more = f" et {len(missing) - 10} autres" if len(missing) > 10 else ""
        warnings.append(
            f"{len(missing)} facture(s) en mode dégradé sans pièce SCOR ({numbers}{more}) : "
            "la caisse peut les rejeter faute de justificatif."
        )
    return BuildReport(lots=tuple(built), skipped=tuple(skipped), warnings=tuple(warnings))


def _build_one(
    settings: TransmissionSettings,
    practitioner: Practitioner,
    chunk: list[Invoice],
    name: str,
    user: str,
    at: datetime,
    skipped: list[SkippedInvoice],
) -> list[LotSummary]:
    with immediate():
        # Read again under the write lock: only invoices still Validée go in, as they are now.
        invoices = list(
            Invoice.select()
            .where(
                Invoice.id.in_([inv.id for inv in chunk])
                & (Invoice.state == InvoiceState.VALIDEE.value)
            )
            .order_by(Invoice.number, Invoice.id)
        )
        found = fse_records(invoices)
        for invoice in list(invoices):
            problem = found[invoice.id]
            if isinstance(problem, ValidationError):
                skipped.append(
                    SkippedInvoice(invoice.id, invoice.number, _prefixed(invoice, problem))
                )
                invoices.remove(invoice)
        if not invoices:
            return []
        records = tuple(cast(FseRecord, found[invoice.id]) for invoice in invoices)
        organism = Organism.get_by_id(invoices[0].organism_id)
        destination = CaisseCode(organism.regime, organism.caisse, organism.centre)
        number = allocate_wrapping(
            practitioner, LOT, settings.lot_number_first, settings.lot_number_last
        )
        data = get_lot_codec().write(
            LotFile(header=lot_header(practitioner, destination, number, at, name), fses=records)
        )
        lot = Lot.create(
            practitioner=practitioner.id,
            organism=organism.id,
            kind=FSE,
            number=number,
            state=INITIAL_STATE.value,
            created_at=at,
            created_by=user,
            destination=destination.destination,
            file_name=lot_attachment_name(practitioner.am_number, number),
            file_sha256=file_checksum(data),
            file_bytes=data,
            invoice_count=len(invoices),
            total_cents=sum(invoice.total_cents for invoice in invoices),
        )
        lifecycle.record_lot_built(lot, user, f"{len(invoices)} facture(s)", at=at)
        for invoice in invoices:
            lifecycle.move_invoice(
                invoice, InvoiceAction.PUT_IN_LOT, user=user, reason=f"Lot {number:03d}", at=at, lot=lot
            )
        made = [lot]
        made.extend(_build_scor(settings, practitioner, lot, invoices, destination, name, user, at))
        return [summarize(item, practitioner, organism) for item in made]


def _build_scor(
    settings: TransmissionSettings,
    practitioner: Practitioner,
    fse_lot: Lot,
    invoices: list[Invoice],
    destination: CaisseCode,
    name: str,
    user: str,
    at: datetime,
) -> list[Lot]:
    """The SCOR lot(s) of the mode-dégradé invoices of *fse_lot* that have pieces."""
    degraded = [invoice for invoice in invoices if invoice.mode == "degrade"]
    if not degraded:
        return []
    numbers = {invoice.id: invoice.number for invoice in degraded}
    pieces = sorted(
        InvoicePiece.select().where(InvoicePiece.invoice.in_(list(numbers))),
        key=lambda piece: (numbers[piece.invoice_id], piece.id),
    )
    if not pieces:
        return []
    # Cut between invoices so that each SCOR mail stays a reasonable size.
    batches: list[list[InvoicePiece]] = []
    size = 0
    for piece in pieces:
        length = len(bytes(piece.content))
        new_invoice = not batches or batches[-1][-1].invoice_id != piece.invoice_id
        if not batches or (new_invoice and size + length > SCOR_LOT_MAX_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(piece)
        size += length
    made = []
    for batch in batches:
        number = allocate_wrapping(
            practitioner, LOT, settings.lot_number_first, settings.lot_number_last
        )
        content = ScorLot(
            header=ScorHeader(
                sender_id=practitioner.am_number,
                sender_name=name,
                practitioner_am=practitioner.am_number,
                destination=destination,
                lot_number=number,
                fse_lot_number=fse_lot.number,
                created_at=at,
            ),
            pieces=tuple(
                ScorPiece(
                    invoice_number=numbers[piece.invoice_id],
                    kind=ScorPieceKind.of(piece.kind),
                    data=bytes(piece.content),
                )
                for piece in batch
            ),
        )
        data = ScorLotCodec().write(content)
        scor = Lot.create(
            practitioner=practitioner.id,
            organism=fse_lot.organism_id,
            kind=SCOR,
            number=number,
            state=INITIAL_STATE.value,
            created_at=at,
            created_by=user,
            destination=destination.destination,
            parent=fse_lot.id,
            file_name=scor_attachment_name(practitioner.am_number, number),
            file_sha256=file_checksum(data),
            file_bytes=data,
            invoice_count=len(content.invoice_numbers),
            piece_count=len(batch),
            total_cents=0,
        )
        lifecycle.record_lot_built(scor, user, f"pièces SCOR du lot {fse_lot.number:03d}", at=at)
        InvoicePiece.update(lot=scor.id).where(
            InvoicePiece.id.in_([piece.id for piece in batch])
        ).execute()
        made.append(scor)
    return made


def delete_lot(
    lot_id: int, *, user: str, reason: str = "", now: datetime | None = None
) -> LotSummary:
    """« Suppression du lot », only before it was sent: its invoices go back to Validée.

    The lot is kept, « Supprimé », with its history (its number is not reused before the
    wrap). Its SCOR lot(s) not sent yet are deleted with it.
    """
    at = current_time(now)
    with immediate():
        lot = get_lot(lot_id)
        if lot.kind == SCOR and lot.parent_id is not None:
            parent = Lot.get_or_none(Lot.id == lot.parent_id)
            number = format_lot_number(parent.number) if parent else "?"
            raise RefusedOperation(
                f"Le lot SCOR {lot.number:03d} suit le lot de FSE {number} : supprimez ce lot "
                "de FSE, ses pièces SCOR le suivent."
            )
        # Its invoices go back to Validée, its SCOR lots are deleted with it (the table's effects).
        lifecycle.move_lot(
            lot, LotAction.DELETE, user=user, reason=reason or "suppression du lot", at=at
        )
        return summarize(lot)


# --- one lot in detail ------------------------------------------------------------------------


@dataclass(frozen=True)
class LotInvoice:
    """An FSE of a lot (from the lot file), with the invoice's current state."""

    invoice_id: int | None  # None: the invoice no longer exists in the database
    number: int
    patient: str
    nir: str
    birth_date: date
    billing_date: date
    first_act_date: date
    last_act_date: date
    mode: str
    total_cents: int
    amo_cents: int
    amc_cents: int
    patient_cents: int
    line_count: int
    state: InvoiceState | None
    still_in_lot: bool  # False once cancelled (« Annuler facture transmise ») or re-lotted

    @property
    def state_label(self) -> str:
        return self.state.label if self.state else ""

    def as_dict(self) -> dict:
        return {
            "id": self.invoice_id,
            "numero": format_invoice_number(self.number),
            "patient": self.patient,
            "nir": self.nir,
            "naissance": self.birth_date,
            "date": self.billing_date,
            "premier_acte": self.first_act_date,
            "dernier_acte": self.last_act_date,
            "mode": self.mode,
            "total_cents": self.total_cents,
            "amo_cents": self.amo_cents,
            "amc_cents": self.amc_cents,
            "patient_cents": self.patient_cents,
            "lignes": self.line_count,
            "etat": self.state_label,
            "dans_le_lot": self.still_in_lot,
        }


@dataclass(frozen=True)
class LotPiece:
    """A SCOR piece of a SCOR lot (from the lot file)."""

    invoice_number: int
    entry_name: str
    kind: str
    size: int
    sha256: str

    def as_dict(self) -> dict:
        return {
            "facture": format_invoice_number(self.invoice_number),
            "fichier": self.entry_name,
            "nature": self.kind,
            "taille": self.size,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class LotHistoryEntry:
    at: datetime
    user: str
    from_state: LotState | None
    to_state: LotState
    action: str
    reason: str

    @property
    def action_label(self) -> str:
        if self.action == BUILD:
            return "Préparation du lot"
        try:
            return LotAction(self.action).label
        except ValueError:
            return self.action

    def as_dict(self) -> dict:
        return {
            "le": self.at,
            "par": self.user,
            "de": self.from_state.label if self.from_state else None,
            "vers": self.to_state.label,
            "action": self.action_label,
            "motif": self.reason,
        }


@dataclass(frozen=True)
class ReceivedSummary:
    """A file received from a caisse (ARL…), archived before anything acted on it."""

    id: int
    kind: str
    source: str
    file_name: str
    sha256: str
    archive_path: str
    received_at: datetime
    status: str  # recu / applique / refuse / ignore
    error: str
    message_id: str
    lot_id: int | None
    processed_at: datetime | None

    @property
    def status_label(self) -> str:
        return RECEIVED_STATUS_LABELS.get(self.status, self.status)

    @property
    def flagged(self) -> bool:
        """To show a person: unreadable, or readable but without effect (unknown lot…)."""
        return self.status in ("refuse", "ignore")

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "type": self.kind,
            "source": self.source,
            "fichier": self.file_name,
            "sha256": self.sha256,
            "archive": self.archive_path,
            "recu_le": self.received_at,
            "statut": self.status_label,
            "statut_code": self.status,
            "erreur": self.error,
            "message_id": self.message_id,
            "lot": self.lot_id,
            "traite_le": self.processed_at,
        }


def received_summary(row: ReceivedFile) -> ReceivedSummary:
    return ReceivedSummary(
        id=row.id,
        kind=row.kind,
        source=row.source,
        file_name=row.file_name,
        sha256=row.sha256,
        archive_path=row.archive_path,
        received_at=row.received_at,
        status=row.status,
        error=row.error,
        message_id=row.message_id,
        lot_id=row.lot_id,
        processed_at=row.processed_at,
    )


def received_files(
    statuses: Iterable[str] | None = None, *, limit: int | None = 200
) -> list[ReceivedSummary]:
    """Files received, newest first; ``statuses=("refuse", "ignore")`` lists the flagged ones."""
    query = ReceivedFile.select()
    if statuses is not None:
        query = query.where(ReceivedFile.status.in_(list(statuses)))
    query = query.order_by(ReceivedFile.received_at.desc(), ReceivedFile.id.desc())
    if limit:
        query = query.limit(limit)
    return [received_summary(row) for row in query]


@dataclass(frozen=True)
class LotDetail:
    lot: LotSummary
    invoices: tuple[LotInvoice, ...]  # FSE lots
    pieces: tuple[LotPiece, ...]  # SCOR lots
    history: tuple[LotHistoryEntry, ...]
    received: tuple[ReceivedSummary, ...]  # the ARLs matched to this lot
    scor_lots: tuple[LotSummary, ...]  # the SCOR lots travelling with this FSE lot
    file_error: str = ""  # the stored file could not be read back (a changed codec…)

    def as_dict(self) -> dict:
        return {
            **self.lot.as_dict(),
            "factures_du_lot": [item.as_dict() for item in self.invoices],
            "pieces_du_lot": [item.as_dict() for item in self.pieces],
            "historique": [item.as_dict() for item in self.history],
            "fichiers_recus": [item.as_dict() for item in self.received],
            "lots_scor": [item.as_dict() for item in self.scor_lots],
            "erreur_fichier": self.file_error,
        }


def _lot_invoices(lot: Lot) -> tuple[tuple[LotInvoice, ...], str]:
    try:
        content = get_lot_codec().read(bytes(lot.file_bytes or b""))
    except FormatError as error:
        return (), f"Fichier du lot illisible : {error}"
    numbers = [fse.invoice_number for fse in content.fses]
    current = {
        inv.number: inv
        for inv in Invoice.select(Invoice.id, Invoice.number, Invoice.state, Invoice.lot).where(
            (Invoice.practitioner == lot.practitioner_id) & (Invoice.number.in_(numbers))
        )
    }
    rows = []
    for fse in content.fses:
        invoice = current.get(fse.invoice_number)
        rows.append(
            LotInvoice(
                invoice_id=invoice.id if invoice else None,
                number=fse.invoice_number,
                patient=f"{fse.patient_last_name} {fse.patient_first_name}",
                nir=fse.nir,
                birth_date=fse.birth_date,
                billing_date=fse.billing_date,
                first_act_date=min(line.act_date for line in fse.lines),
                last_act_date=max(line.act_date for line in fse.lines),
                mode=str(fse.mode),
                total_cents=fse.total_cents,
                amo_cents=fse.amo_cents,
                amc_cents=fse.amc_cents,
                patient_cents=fse.patient_cents,
                line_count=len(fse.lines),
                state=InvoiceState(invoice.state) if invoice else None,
                still_in_lot=bool(invoice and invoice.lot_id == lot.id),
            )
        )
    return tuple(rows), ""


def _lot_pieces(lot: Lot) -> tuple[tuple[LotPiece, ...], str]:
    try:
        content = ScorLotCodec().read(bytes(lot.file_bytes or b""))
    except FormatError as error:
        return (), f"Fichier du lot illisible : {error}"
    return (
        tuple(
            LotPiece(
                invoice_number=piece.invoice_number,
                entry_name=name,
                kind=piece.kind.value,
                size=len(piece.data),
                sha256=piece.sha256,
            )
            for piece, name in zip(content.pieces, content.entry_names(), strict=True)
        ),
        "",
    )


def lot_detail(lot_id: int) -> LotDetail:
    lot = get_lot(lot_id)
    if lot.kind == SCOR:
        invoices: tuple[LotInvoice, ...] = ()
        pieces, error = _lot_pieces(lot)
    else:
        pieces = ()
        invoices, error = _lot_invoices(lot)
    history = tuple(
        LotHistoryEntry(
            at=row.at,
            user=row.user,
            from_state=LotState(row.from_state) if row.from_state else None,
            to_state=LotState(row.to_state),
            action=row.action,
            reason=row.reason,
        )
        for row in LotTransition.select()
        .where(LotTransition.lot == lot.id)
        .order_by(LotTransition.id)
    )
    received = tuple(
        received_summary(row)
        for row in ReceivedFile.select().where(ReceivedFile.lot == lot.id).order_by(ReceivedFile.id)
    )
    scor_lots = tuple(
        _summaries(Lot.select(*LIST_COLUMNS).where(Lot.parent == lot.id).order_by(Lot.id))
    )
    return LotDetail(
        lot=summarize(lot),
        invoices=invoices,
        pieces=pieces,
        history=history,
        received=received,
        scor_lots=scor_lots,
        file_error=error,
    )


def lot_file(lot_id: int) -> tuple[str, bytes]:
    """The lot file's name and exact bytes (what every sending carries)."""
    lot = get_lot(lot_id)
    return lot.file_name, bytes(lot.file_bytes or b"")


# --- Traitement manuel: the list for the paper route -----------------------------------------


def _day(value: date | datetime | None) -> str:
    return "" if value is None else f"{value:%d/%m/%Y}"


@dataclass(frozen=True)
class PaperList:
    """What to send the caisse by post when a lot is in « Traitement manuel »."""

    detail: LotDetail

    def text(self) -> str:
        lot = self.detail.lot
        what = "FSE" if lot.kind == FSE else "pièces SCOR"
        if lot.state is LotState.TRAITEMENT_MANUEL:
            title = f"TRAITEMENT MANUEL - envoi papier du lot {lot.number_text} ({what})"
        else:
            title = f"Lot {lot.number_text} ({what}) - {lot.state_label}"
        sendings = f"{lot.send_count}" + (
            f" (le dernier le {lot.sent_at:%d/%m/%Y %H:%M})" if lot.sent_at else ""
        )
        lines = [
            title,
            "",
            f"Praticien      : {lot.practitioner}, n° AM {lot.practitioner_am}",
            f"Caisse         : {lot.destination[:2]} {lot.destination[2:]} {lot.organism}".rstrip(),
            f"Fichier        : {lot.file_name} (SHA-256 {lot.file_sha256})",
            f"Créé le        : {lot.created_at:%d/%m/%Y %H:%M}",
            f"Envois         : {sendings}",
            f"État           : {lot.state_label}"
            + (f" - {lot.arl_reason}" if lot.arl_reason else ""),
            "",
        ]
        if lot.kind == FSE:
            header = (
                f"{'Facture':<9}  {'Date':<10}  {'Patient':<28}  {'NIR':<15}  "
                f"{'Actes du':<10}  {'au':<10}  {'Total':>9}  {'AMO':>9}  {'AMC':>9}  {'Assuré':>9}"
            )
            lines += [header, "-" * len(header)]
            for item in self.detail.invoices:
                lines.append(
                    f"{format_invoice_number(item.number):<9}  {_day(item.billing_date):<10}  "
                    f"{item.patient[:28]:<28}  {item.nir:<15}  {_day(item.first_act_date):<10}  "
                    f"{_day(item.last_act_date):<10}  {format_cents(item.total_cents):>9}  "
                    f"{format_cents(item.amo_cents):>9}  {format_cents(item.amc_cents):>9}  "
                    f"{format_cents(item.patient_cents):>9}"
                )
            invoices = self.detail.invoices
            lines += [
                "-" * len(header),
                f"{len(invoices)} facture(s) - total {format_cents(sum(i.total_cents for i in invoices))} €"
                f", AMO {format_cents(sum(i.amo_cents for i in invoices))} €"
                f", AMC {format_cents(sum(i.amc_cents for i in invoices))} €"
                f", assurés {format_cents(sum(i.patient_cents for i in invoices))} €",
            ]
        else:
            header = f"{'Facture':<9}  {'Pièce':<16}  {'Nature':<12}  {'Octets':>9}"
            lines += [header, "-" * len(header)]
            for piece in self.detail.pieces:
                lines.append(
                    f"{format_invoice_number(piece.invoice_number):<9}  {piece.entry_name:<16}  "
                    f"{piece.kind:<12}  {piece.size:>9}"
                )
            lines += [
                "-" * len(header),
                f"{len(self.detail.pieces)} pièce(s) à imprimer et joindre.",
            ]
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        """Semicolon-separated, decimal comma: opens as is in a French spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        lot = self.detail.lot
        if lot.kind == FSE:
            writer.writerow(
                ["lot", "facture", "date", "patient", "nir", "naissance", "premier_acte",
                 "dernier_acte", "mode", "total", "amo", "amc", "assure", "etat"]
            )  # fmt: skip
            for item in self.detail.invoices:
                writer.writerow(
                    [lot.number_text, format_invoice_number(item.number), _day(item.billing_date),
                     item.patient, item.nir, _day(item.birth_date), _day(item.first_act_date),
                     _day(item.last_act_date), item.mode, format_cents(item.total_cents),
                     format_cents(item.amo_cents), format_cents(item.amc_cents),
                     format_cents(item.patient_cents), item.state_label]
                )  # fmt: skip
        else:
            writer.writerow(["lot", "facture", "piece", "nature", "octets", "sha256"])
            for piece in self.detail.pieces:
                writer.writerow(
                    [lot.number_text, format_invoice_number(piece.invoice_number),
                     piece.entry_name, piece.kind, piece.size, piece.sha256]
                )  # fmt: skip
        return out.getvalue()


def paper_list(lot_id: int) -> PaperList:
    """The printable list of a lot (any state; meant for « Traitement manuel »)."""
    return PaperList(lot_detail(lot_id))
