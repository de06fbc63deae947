"""SCOR pieces of mode-dégradé invoices: checks on the file, states, history."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.sesam import add_patient, card_person, draft, fresh, transitions_of
from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.hardware.cards import EmulatedCardReader
from tuibill.models import InvoicePiece
from tuibill.services import invoices as invoice_service
from tuibill.services import pieces, securing

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def scan(text: str) -> bytes:
    return PDF.replace(b"Catalog", text.encode())


def test_attach_list_remove_with_history(setup) -> None:
    invoice = draft(setup, add_patient(card_person(0), setup.organism))
    first = pieces.attach_piece(invoice.id, "/scans/ordonnance.pdf", PDF, user="anne")
    assert (first.file_name, first.kind, first.size) == ("ordonnance.pdf", "prescription", len(PDF))
    assert first.sha256 == hashlib.sha256(PDF).hexdigest()
    invoice_service.validate(invoice.id, user="anne")  # mode dégradé: pieces still welcome
    second = pieces.attach_piece(
        invoice.id, "feuille.pdf", scan("Feuille"), kind="feuille", user="b"
    )

    listed = pieces.list_pieces(invoice.id)
    assert [(p.id, p.kind_label, p.size) for p in listed] == [
        (first.id, "Prescription", len(PDF)),
        (second.id, "Feuille de soins (mode dégradé)", len(scan("Feuille"))),
    ]
    assert pieces.piece_content(first.id) == ("ordonnance.pdf", PDF)

    removed = pieces.remove_piece(first.id, user="anne")
    assert removed.id == first.id and [p.id for p in pieces.list_pieces(invoice.id)] == [second.id]
    history = transitions_of(invoice)
    assert ("SAISIE", "SAISIE", "attach_piece") in history
    assert ("VALIDEE", "VALIDEE", "remove_piece") in history


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "vide"),
        (b"GIF89a not a pdf", "n'est pas un PDF"),
        (PDF[:-7], "incomplet"),
    ],
)
def test_not_a_whole_pdf_is_refused(setup, content: bytes, message: str) -> None:
    invoice = draft(setup, add_patient(card_person(0), setup.organism))
    with pytest.raises(ValidationError, match=message):
        pieces.attach_piece(invoice.id, "scan.pdf", content, user="anne")
    assert pieces.list_pieces(invoice.id) == []


def test_size_limit_and_duplicates(setup, monkeypatch) -> None:
    invoice = draft(setup, add_patient(card_person(0), setup.organism))
    monkeypatch.setattr(pieces, "MAX_PIECE_BYTES", 1024 * 1024)
    big = PDF[:-6] + b" " * (1024 * 1024) + b"%%EOF\n"
    with pytest.raises(ValidationError, match=r"pèse 1,0 Mo : 1 Mo au plus"):
        pieces.attach_piece(invoice.id, "gros.pdf", big, user="anne")
    pieces.attach_piece(invoice.id, "a.pdf", PDF, user="anne")
    with pytest.raises(RefusedOperation, match="déjà joint"):
        pieces.attach_piece(invoice.id, "copie.pdf", PDF, user="anne")
    with pytest.raises(ValidationError, match="Type de pièce"):
        pieces.attach_piece(invoice.id, "b.pdf", scan("B"), kind="radio", user="anne")


def test_states_and_modes(setup) -> None:
    patient = add_patient(card_person(0), setup.organism)
    prepared = draft(setup, patient)
    piece = pieces.attach_piece(prepared.id, "a.pdf", PDF, user="anne")
    invoice_service.prepare(prepared.id, user="anne")
    with pytest.raises(RefusedOperation, match="« À charger ».*seulement en « Saisie » ou"):
        pieces.remove_piece(piece.id, user="anne")
    with pytest.raises(RefusedOperation, match="impossible d'ajouter"):
        pieces.attach_piece(prepared.id, "b.pdf", scan("B"), user="anne")

    secured = draft(setup, patient, days_ago=3)
    securing.validate_with_cards(
        [secured.id], reader=EmulatedCardReader.demo(), pin="1234", user="anne"
    )
    assert fresh(secured).mode == "sesam_vitale"
    with pytest.raises(RefusedOperation, match="SESAM-Vitale"):
        pieces.attach_piece(secured.id, "c.pdf", scan("C"), user="anne")

    with pytest.raises(NotFound):
        pieces.remove_piece(999, user="anne")
    with pytest.raises(NotFound):
        pieces.list_pieces(999)


def test_altered_piece_is_detected(setup) -> None:
    invoice = draft(setup, add_patient(card_person(0), setup.organism))
    piece = pieces.attach_piece(invoice.id, "a.pdf", PDF, user="anne")
    InvoicePiece.update(content=scan("Autre")).where(InvoicePiece.id == piece.id).execute()
    with pytest.raises(RefusedOperation, match="altérée"):
        pieces.piece_content(piece.id)
