"""SCOR pieces: the scanned PDF documents (prescription, feuille de soins) that go with an
invoice made in mode dégradé, sent later in their own lots.

A piece is checked when it is attached (a PDF, not empty, not truncated, under the size limit,
not attached twice) and stored with its SHA-256. Pieces are attached and removed only while the
invoice is « Saisie » or « Validée »: past that, they may already be on their way to the caisse.
Each attachment and removal is recorded in the invoice's history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from peewee import fn

from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, InvoicePiece
from tuibill.models.database import immediate
from tuibill.services import invoices as invoice_service
from tuibill.services import lifecycle

KINDS: dict[str, str] = {
    "prescription": "Prescription",
    "feuille": "Feuille de soins (mode dégradé)",
}
PDF_MAGIC = b"%PDF-"
PDF_END = b"%%EOF"
END_WINDOW = 1024  # the end marker is looked for in the last KiB (trailing bytes are common)
# Project choice (no public figure): scans at 200 dpi in black and white weigh tens of KiB per
# page; 5 MiB leaves room for a colour page without letting a whole scanned book in.
MAX_PIECE_BYTES = 5 * 1024 * 1024
FILE_NAME_MAX = 200
PIECE_STATES = frozenset({InvoiceState.SAISIE.value, InvoiceState.VALIDEE.value})
ATTACH, REMOVE = "attach_piece", "remove_piece"  # actions in the invoice's history


@dataclass(frozen=True)
class PieceInfo:
    """A piece without its content (lists never load the PDF bytes)."""

    id: int
    invoice_id: int
    kind: str
    file_name: str
    size: int
    sha256: str
    added_at: datetime
    added_by: str
    lot_id: int | None

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


def _label(invoice: Invoice) -> str:
    number = format_invoice_number(invoice.number)
    return f"n° {number}" if number else str(invoice.id)


def check_size(size: int, file_name: str = "") -> None:
    """Refuse a file over the size limit (checked before reading it whole)."""
    if size > MAX_PIECE_BYTES:
        shown = f"« {file_name} » " if file_name else ""
        megabytes = f"{size / 1048576:.1f}".replace(".", ",")
        raise ValidationError(
            f"Le fichier {shown}pèse {megabytes} Mo : {MAX_PIECE_BYTES // 1048576} Mo au plus. "
            "Numérisez-le en noir et blanc, 200 points par pouce.",
            field="file",
        )


def check_pdf(content: bytes, file_name: str = "") -> None:
    """Refuse what is not a whole PDF file of an acceptable size (French message)."""
    shown = f"« {file_name} » " if file_name else ""
    if not content:
        raise ValidationError(f"Le fichier {shown}est vide.", field="file")
    check_size(len(content), file_name)
    if not content.startswith(PDF_MAGIC):
        raise ValidationError(
            f"Le fichier {shown}n'est pas un PDF : les pièces SCOR sont des PDF "
            "(enregistrez la numérisation au format PDF).",
            field="file",
        )
    if PDF_END not in content[-END_WINDOW:]:
        raise ValidationError(
            f"Le fichier PDF {shown}est incomplet (pas de fin de fichier) : numérisez ou "
            "copiez-le de nouveau.",
            field="file",
        )


def _piece_refusal(invoice: Invoice, doing: str) -> str | None:
    if invoice.state in PIECE_STATES:
        return None
    return (
        f"Facture {_label(invoice)} à l'état « {InvoiceState(invoice.state).label} » : "
        f"impossible d'{doing} une pièce (seulement en « Saisie » ou « Validée »)."
    )


def attach_refusal(invoice_id: int) -> str | None:
    """Why no piece can be attached to this invoice now (checked before asking for the file)."""
    return _piece_refusal(invoice_service.get_invoice(invoice_id), "ajouter")


def _editable_invoice(invoice_id: int, doing: str) -> Invoice:
    invoice = invoice_service.get_invoice(invoice_id)
    refusal = _piece_refusal(invoice, doing)
    if refusal is not None:
        raise RefusedOperation(refusal)
    return invoice


def attach_piece(
    invoice_id: int,
    file_name: str,
    content: bytes,
    *,
    kind: str = "prescription",
    user: str,
) -> PieceInfo:
    """Attach a PDF to a mode-dégradé invoice; returns the piece (content not echoed)."""
    if kind not in KINDS:
        raise ValidationError(
            f"Type de pièce « {kind} » inconnu (possibles : {', '.join(KINDS)}).", field="kind"
        )
    name = Path(file_name).name.strip()
    if not name:
        raise ValidationError("Nom de fichier vide.", field="file")
    name = name[-FILE_NAME_MAX:]
    check_pdf(content, name)
    digest = hashlib.sha256(content).hexdigest()
    with immediate():
        invoice = _editable_invoice(invoice_id, "ajouter")
        if invoice.mode == "sesam_vitale" and invoice.state != InvoiceState.SAISIE.value:
            raise RefusedOperation(
                f"Facture {_label(invoice)} validée en mode SESAM-Vitale : elle ne se "
                "transmet pas avec des pièces SCOR (réservées au mode dégradé)."
            )
        twin = InvoicePiece.get_or_none(
            (InvoicePiece.invoice == invoice.id) & (InvoicePiece.sha256 == digest)
        )
        if twin is not None:
            raise RefusedOperation(
                f"Ce document est déjà joint à la facture {_label(invoice)} (« {twin.file_name} »)."
            )
        piece = InvoicePiece.create(
            invoice=invoice.id,
            kind=kind,
            file_name=name,
            content=content,
            sha256=digest,
            added_at=lifecycle.now(),
            added_by=user,
        )
        lifecycle.record_invoice_event(invoice, ATTACH, user, f"{kind} : {name}")
    return _info(piece, len(content))


def _info(piece: InvoicePiece, size: int) -> PieceInfo:
    return PieceInfo(
        id=piece.id,
        invoice_id=piece.invoice_id,
        kind=piece.kind,
        file_name=piece.file_name,
        size=size,
        sha256=piece.sha256,
        added_at=piece.added_at,
        added_by=piece.added_by,
        lot_id=piece.lot_id,
    )


def list_pieces(invoice_id: int) -> list[PieceInfo]:
    """The pieces of an invoice, in the order they were attached (no PDF bytes loaded)."""
    invoice_service.get_invoice(invoice_id)  # NotFound for an unknown invoice
    size = fn.LENGTH(InvoicePiece.content)  # bytes of a BLOB (SQLite) / bytea (PostgreSQL)
    query = (
        InvoicePiece.select(
            InvoicePiece.id,
            InvoicePiece.invoice,
            InvoicePiece.kind,
            InvoicePiece.file_name,
            InvoicePiece.sha256,
            InvoicePiece.added_at,
            InvoicePiece.added_by,
            InvoicePiece.lot,
            size.alias("size"),
        )
        .where(InvoicePiece.invoice == invoice_id)
        .order_by(InvoicePiece.id)
    )
    return [_info(piece, piece.size) for piece in query]


def piece_content(piece_id: int) -> tuple[str, bytes]:
    """(file name, PDF bytes) of a piece, checked against its stored SHA-256."""
    piece = InvoicePiece.get_or_none(InvoicePiece.id == piece_id)
    if piece is None:
        raise NotFound(f"Pièce {piece_id} introuvable.")
    content = bytes(piece.content)
    if hashlib.sha256(content).hexdigest() != piece.sha256:
        raise RefusedOperation(
            f"Pièce {piece_id} (« {piece.file_name} ») altérée : son empreinte ne correspond "
            "plus. Joignez de nouveau le document."
        )
    return piece.file_name, content


def remove_piece(piece_id: int, *, user: str) -> PieceInfo:
    """Remove a piece of a « Saisie » or « Validée » invoice, not yet put in a lot."""
    with immediate():
        piece = InvoicePiece.get_or_none(InvoicePiece.id == piece_id)
        if piece is None:
            raise NotFound(f"Pièce {piece_id} introuvable.")
        invoice = _editable_invoice(piece.invoice_id, "enlever")
        if piece.lot_id is not None:
            raise RefusedOperation(
                f"La pièce « {piece.file_name} » est déjà dans un lot SCOR : elle ne peut plus "
                "être enlevée."
            )
        info = _info(piece, len(piece.content))
        piece.delete_instance()
        lifecycle.record_invoice_event(invoice, REMOVE, user, f"{piece.kind} : {piece.file_name}")
    return info
