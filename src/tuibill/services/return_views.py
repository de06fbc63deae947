"""What the returns said, as plain records: one return file, one entry, one invoice's answers.

The ``--json`` output and the F7 screens read the same views (French keys, integer cents).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from tuibill.domain.errors import NotFound
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.domain.returns import DOUBLE, NOT_MATCHED, Outcome, PartState
from tuibill.models import (
    Invoice,
    Practitioner,
    ReceivedFile,
    ReturnEntry,
    ReturnLine,
    ReturnRejection,
    Virement,
)

RETURN = "retour"  # ReceivedFile.kind of a NOEMIE return
FILE_STATUS_LABELS = {
    "recu": "Reçu, à traiter",
    "applique": "Importé",
    "refuse": "Refusé (illisible)",
    "ignore": "Sans effet",
}
ENTRY_OUTCOME_LABELS = {
    **{outcome.value: outcome.label for outcome in Outcome},
    NOT_MATCHED: "Non rapprochée",
    DOUBLE: "Doublon",
}
LEVEL_LABELS = {"F": "Facture", "L": "Ligne", "A": "Précision"}
PART_LABELS = {"O": "AMO", "C": "AMC"}


def outcome_label(outcome: str) -> str:
    return ENTRY_OUTCOME_LABELS.get(outcome, outcome)


def part_state_label(state: str) -> str:
    try:
        return PartState(state or " ").label
    except ValueError:
        return state


def _state_label(state: str | None) -> str | None:
    return InvoiceState(state).label if state else None


# --- one invoice's answers (invoice show, F5's detail) ----------------------------------------


def invoice_returns(invoice_id: int) -> dict:
    """What the returns said of one invoice: paid per part, rejections, per line refunded and
    refused, and the returns that said it (oldest first)."""
    invoice = Invoice.get_or_none(Invoice.id == invoice_id)
    if invoice is None:
        raise NotFound(f"Facture {invoice_id} introuvable.")
    entries = list(
        ReturnEntry.select(ReturnEntry, ReceivedFile)
        .join(ReceivedFile)
        .where(ReturnEntry.invoice == invoice_id)
        .order_by(ReturnEntry.id)
    )
    per_line: dict[int, dict] = {}
    if entries:
        lines = (
            ReturnLine.select()
            .where(ReturnLine.entry.in_([e.id for e in entries if e.posted]))
            .order_by(ReturnLine.id)
        )
        for line in lines:
            if line.invoice_line_id is None:
                continue
            known = per_line.setdefault(
                line.invoice_line_id, {"rembourse_cents": 0, "refusee": False}
            )
            known["rembourse_cents"] += line.refunded_cents
            known["refusee"] = line.refused  # the latest answer on the line
    from tuibill.services import rejection_motifs  # the motifs' table: only for a detail

    motifs = rejection_motifs.shipped_table()
    rejections = [
        {
            "code": r.code,
            "libelle": r.label or motifs.label_of(r.code),
            "niveau": LEVEL_LABELS.get(r.level, r.level),
            "niveau_code": r.level,
            "part": PART_LABELS.get(r.part, r.part),
            "ligne": r.line_number,
            "type": r.kind,
            "retour": r.entry_id,
        }
        for r in ReturnRejection.select()
        .where(ReturnRejection.invoice == invoice_id)
        .order_by(ReturnRejection.id)
    ]
    returns = [
        {
            "ligne_retour": e.id,
            "fichier": e.received_file.file_name,
            "fichier_id": e.received_file_id,
            "recu_le": e.received_file.received_at,
            "resultat": outcome_label(e.outcome),
            "resultat_code": e.outcome,
            "amo_demande_cents": e.amo_asked_cents,
            "amo_paye_cents": e.amo_paid_cents,
            "amc_demande_cents": e.amc_asked_cents,
            "amc_paye_cents": e.amc_paid_cents,
            "compte": e.posted,
            "note": e.note,
        }
        for e in entries
    ]
    return {
        "amo_paye_cents": invoice.amo_paid_cents,
        "amc_paye_cents": invoice.amc_paid_cents,
        "rejets": rejections,
        "lignes": per_line,
        "retours": returns,
    }


# --- one return file --------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryView:
    id: int
    position: int
    invoice_id: int | None
    number: str
    patient: str
    practitioner: str
    lot_number: int | None
    outcome: str
    state: str | None  # the invoice's state now
    amo_asked_cents: int
    amo_paid_cents: int
    amo_state: str
    amc_asked_cents: int
    amc_paid_cents: int
    amc_state: str
    posted: bool
    note: str
    rejections: tuple[str, ...] = ()  # « 0460 ETABLISSEMENT… »

    @property
    def asked_cents(self) -> int:
        return self.amo_asked_cents + self.amc_asked_cents

    @property
    def paid_cents(self) -> int:
        return self.amo_paid_cents + self.amc_paid_cents

    @property
    def outcome_label(self) -> str:
        return outcome_label(self.outcome)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "rang": self.position,
            "facture": self.invoice_id,
            "numero": self.number,
            "patient": self.patient,
            "praticien": self.practitioner,
            "lot": self.lot_number,
            "resultat": self.outcome_label,
            "resultat_code": self.outcome,
            "etat": _state_label(self.state),
            "amo_demande_cents": self.amo_asked_cents,
            "amo_paye_cents": self.amo_paid_cents,
            "amo_etat": part_state_label(self.amo_state),
            "amc_demande_cents": self.amc_asked_cents,
            "amc_paye_cents": self.amc_paid_cents,
            "amc_etat": part_state_label(self.amc_state),
            "compte": self.posted,
            "note": self.note,
            "rejets": list(self.rejections),
        }


@dataclass(frozen=True)
class VirementView:
    id: int
    accounting_date: date
    paying_body: str
    label: str
    payee_number: str
    practitioner: str
    total_cents: int
    invoice_count: int

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "date": self.accounting_date,
            "organisme": self.paying_body,
            "libelle": self.label,
            "ps": self.payee_number,
            "praticien": self.practitioner,
            "montant_cents": self.total_cents,
            "factures": self.invoice_count,
        }


@dataclass(frozen=True)
class ReturnFileView:
    id: int
    file_name: str
    received_at: datetime
    processed_at: datetime | None
    status: str
    error: str
    source: str
    virements: tuple[VirementView, ...] = ()
    entries: tuple[EntryView, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return FILE_STATUS_LABELS.get(self.status, self.status)

    @property
    def paid_cents(self) -> int:
        return sum(e.paid_cents for e in self.entries if e.posted and e.invoice_id is not None)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "fichier": self.file_name,
            "recu_le": self.received_at,
            "traite_le": self.processed_at,
            "etat": self.status_label,
            "etat_code": self.status,
            "motif": self.error,
            "source": self.source,
            "montant_paye_cents": self.paid_cents,
            "resultats": dict(self.counts),
            "virements": [v.as_dict() for v in self.virements],
            "factures": [e.as_dict() for e in self.entries],
        }


def _practitioners() -> dict[int, str]:
    return {
        pid: f"{last} {first}".strip()
        for pid, last, first in Practitioner.select(
            Practitioner.id, Practitioner.last_name, Practitioner.first_name
        ).tuples()
    }


def virement_view(row: Virement, names: dict[int, str]) -> VirementView:
    return VirementView(
        id=row.id,
        accounting_date=row.accounting_date,
        paying_body=row.paying_body,
        label=row.label,
        payee_number=row.payee_number,
        practitioner=names.get(row.practitioner_id, "") if row.practitioner_id else "",
        total_cents=row.total_cents,
        invoice_count=row.invoice_count,
    )


def entry_views(entries: list[ReturnEntry], names: dict[int, str]) -> list[EntryView]:
    """Entries with their invoice's state now and their rejections (two queries per batch)."""
    invoice_ids = [e.invoice_id for e in entries if e.invoice_id is not None]
    states = (
        dict(Invoice.select(Invoice.id, Invoice.state).where(Invoice.id.in_(invoice_ids)).tuples())
        if invoice_ids
        else {}
    )
    rejections: dict[int, list[str]] = defaultdict(list)
    if entries:
        for entry_id, code, label in (
            ReturnRejection.select(ReturnRejection.entry, ReturnRejection.code, ReturnRejection.label)
            .where(ReturnRejection.entry.in_([e.id for e in entries]))
            .order_by(ReturnRejection.id)
            .tuples()
        ):
            rejections[entry_id].append(f"{code} {label}".strip())
    return [
        EntryView(
            id=e.id,
            position=e.position,
            invoice_id=e.invoice_id,
            number=format_invoice_number(e.invoice_number) if e.invoice_number else "",
            patient=e.patient_name,
            practitioner=names.get(e.practitioner_id, "") if e.practitioner_id else e.payee_number,
            lot_number=e.lot_number,
            outcome=e.outcome,
            state=states.get(e.invoice_id),
            amo_asked_cents=e.amo_asked_cents,
            amo_paid_cents=e.amo_paid_cents,
            amo_state=e.amo_state,
            amc_asked_cents=e.amc_asked_cents,
            amc_paid_cents=e.amc_paid_cents,
            amc_state=e.amc_state,
            posted=e.posted,
            note=e.note,
            rejections=tuple(rejections.get(e.id, ())),
        )
        for e in entries
    ]


def return_file(file_id: int) -> ReturnFileView:
    """One return file: its virements and every invoice it answered, asked vs paid."""
    row = ReceivedFile.get_or_none((ReceivedFile.id == file_id) & (ReceivedFile.kind == RETURN))
    if row is None:
        raise NotFound(f"Retour {file_id} introuvable.")
    names = _practitioners()
    virements = tuple(
        virement_view(v, names)
        for v in Virement.select().where(Virement.received_file == file_id).order_by(Virement.id)
    )
    entries = list(
        ReturnEntry.select()
        .where(ReturnEntry.received_file == file_id)
        .order_by(ReturnEntry.position)
    )
    views = tuple(entry_views(entries, names))
    counts: dict[str, int] = defaultdict(int)
    for view in views:
        counts[view.outcome] += 1
    return ReturnFileView(
        id=row.id,
        file_name=row.file_name,
        received_at=row.received_at,
        processed_at=row.processed_at,
        status=row.status,
        error=row.error,
        source=row.source,
        virements=virements,
        entries=views,
        counts=dict(counts),
    )


def entry_detail(entry_id: int) -> dict:
    """One invoice of a return: what was asked and paid, its act lines and rejections."""
    entry = ReturnEntry.get_or_none(ReturnEntry.id == entry_id)
    if entry is None:
        raise NotFound(f"Ligne de retour {entry_id} introuvable.")
    (view,) = entry_views([entry], _practitioners())
    lines = [
        {
            "ligne": line.line_number,
            "code": line.code,
            "date": line.act_date,
            "quantite": line.quantity,
            "coefficient_x100": line.coefficient_x100,
            "depense_cents": line.expense_cents,
            "base_cents": line.base_cents,
            "taux": line.rate,
            "rembourse_cents": line.refunded_cents,
            "refusee": line.refused,
        }
        for line in ReturnLine.select()
        .where(ReturnLine.entry == entry_id)
        .order_by(ReturnLine.line_number)
    ]
    rejections = [
        {
            "type": r.kind,
            "code": r.code,
            "libelle": r.label,
            "niveau": LEVEL_LABELS.get(r.level, r.level),
            "part": PART_LABELS.get(r.part, r.part),
            "ligne": r.line_number,
            "info": r.info,
        }
        for r in ReturnRejection.select()
        .where(ReturnRejection.entry == entry_id)
        .order_by(ReturnRejection.id)
    ]
    return {
        **view.as_dict(),
        "fichier_id": entry.received_file_id,
        "virement": entry.virement_id,
        "date_facturation": entry.billing_date,
        "lignes": lines,
        "rejets_detail": rejections,
        "rapprochee_le": entry.matched_at,
        "rapprochee_par": entry.matched_by,
    }
