"""Lots as the screens and the CLI read them: summaries, lists, one lot in detail (what its
file carries, its history, the files received about it), and the files received."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import peewee

from tuibill.domain.errors import NotFound, ValidationError
from tuibill.domain.formatting import format_invoice_number, format_lot_number
from tuibill.domain.invoices import InvoiceState
from tuibill.domain.lots import (
    MAX_SENDINGS,
    SCOR,
    LotState,
    history_label,
)
from tuibill.formats import get_lot_codec
from tuibill.formats.errors import FormatError
from tuibill.models import (
    Invoice,
    Lot,
    LotTransition,
    Organism,
    Practitioner,
    ReceivedFile,
)

RECEIVED_STATUS_LABELS = {
    "recu": "Reçu, à traiter",
    "applique": "Traité",
    "refuse": "Refusé (illisible)",
    "ignore": "Sans effet",
}


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
        return history_label(self.action)

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
        # Read with the codec that wrote it, whatever the setting says today.
        content = get_lot_codec(lot.codec).read(bytes(lot.file_bytes or b""))
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
    # Here, not at import: the lists, the summaries and a build read no SCOR lot's file.
    from tuibill.formats.scor_lot import ScorLotCodec

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
