"""Joining a SCOR piece (PDF) to a mode-dégradé invoice from its detail, by keys."""

from __future__ import annotations

from datetime import date

from tests.conftest import make_db
from tuibill.app import TuibillApp


async def test_attach_a_pdf_from_the_invoice_detail(tmp_path) -> None:
    from tuibill.models import Invoice, InvoicePiece
    from tuibill.screens.invoice_detail import InvoiceDetailScreen
    from tuibill.services.demo import build_demo

    make_db(tmp_path / "demo.sqlite")
    build_demo(today=date.today(), story=False)
    invoice = Invoice.select().where(Invoice.state == "VALIDEE").first()
    pdf = tmp_path / "ordonnance.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    not_pdf = tmp_path / "photo.jpg"
    not_pdf.write_bytes(b"\xff\xd8\xff\xe0 not a pdf")

    app = TuibillApp(user="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        app.push_screen(InvoiceDetailScreen(invoice.id))
        await pilot.pause()
        await pilot.press("ctrl+a")
        await pilot.pause()
        await pilot.press(*str(not_pdf), "enter")
        await pilot.pause()
        assert InvoicePiece.select().count() == 0  # refused with a French message, nothing saved
        assert any("PDF" in n.message for n in app._notifications)
        await pilot.press("ctrl+a")
        await pilot.pause()
        await pilot.press(*str(pdf), "enter")
        await pilot.pause()
        piece = InvoicePiece.get()
        assert (piece.invoice_id, piece.file_name, piece.added_by) == (
            invoice.id,
            "ordonnance.pdf",
            "test",
        )
        table = app.screen.query_one("#detail-pieces")
        assert table.row_count == 1


async def test_ctrl_a_on_an_invoice_past_validee_says_why_before_asking_for_a_file(tmp_path) -> None:
    """Issue 13 #17: checked first — no file asked for, then refused."""
    from tuibill.dialogs.attach_piece import AttachPieceDialog
    from tuibill.domain.invoices import InvoiceAction
    from tuibill.models import Invoice
    from tuibill.screens.invoice_detail import InvoiceDetailScreen
    from tuibill.services import invoices as invoice_service
    from tuibill.services.demo import build_demo

    make_db(tmp_path / "demo.sqlite")
    build_demo(today=date.today())
    invoice = Invoice.select().where(Invoice.state == "VALIDEE").first()
    invoice_service.apply_action(
        invoice.id, InvoiceAction.MAKE_NON_TRANSMISSIBLE, user="test", reason="annulation"
    )
    app = TuibillApp(user="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(InvoiceDetailScreen(invoice.id))
        await pilot.pause()
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert not isinstance(app.screen, AttachPieceDialog)
        assert any("Non transmissible" in n.message for n in app._notifications)
