"""Issue 9: the screens F7 opens, driven by keys with Pilot at 80×24 on invoices really sent to
the simulated caisse — the treatment of a rejection (a bad correction refused at its field, then
« Recommencer la FSE »), the refused lines' statuses, the reports with their chart and export."""

from __future__ import annotations

from datetime import time, timedelta

from lots_support import T0, TODAY, invoice_states
from textual.widgets import DataTable, Input, Static

from tuibill.config import Settings, UiSettings
from tuibill.domain.acts import Act
from tuibill.models import Invoice, Lot, PrescriptionItem
from tuibill.services import invoices as invoice_service
from tuibill.services import lots, patients, prescriptions, receiving, sending
from tuibill.simulator.scenarios import Answer, LotRule, ScriptScenario

SIZE = (80, 24)
ACT_DAY = TODAY - timedelta(days=3)


def run(caisse) -> None:
    lots.build_lots(caisse.settings, user="anne", now=T0)
    assert sending.send_lots(caisse.settings, user="anne", now=T0).all_sent
    receiving.receive(caisse.settings, user="anne", now=T0)


def app_for(caisse, *, ascii: bool = False):
    from tuibill.app import TuibillApp

    settings = Settings(transmission=caisse.settings, ui=UiSettings(ascii_borders=ascii))
    return TuibillApp(settings=settings, user="anne")


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_treating_a_prescripteur_inconnu_by_keys(office, start_caisse):
    caisse = start_caisse(ScriptScenario(
        rules=(LotRule(steps=((Answer("positive"), Answer.parse("rejet:0460")),), lot_number=1),),
        default=(Answer("positive"), Answer("paiement")),
    ))  # fmt: skip
    patient = office.patients[office.cpam.id]
    doctor = patients.create_prescriber("591030325", "Martin", "Paul")
    prescription = prescriptions.create_prescription(
        patient.id, doctor.id, office.nurse.id, ACT_DAY - timedelta(days=5),
        [prescriptions.PrescribedAct("AMI", 5)],
    )  # fmt: skip
    item = PrescriptionItem.get(PrescriptionItem.prescription == prescription.id)
    invoice = invoice_service.create_invoice(
        office.nurse.id, patient.id,
        [Act(act_date=ACT_DAY, code="AMI", act_time=time(9), prescription_item_id=item.id)],
        user="anne", prescription_id=prescription.id,
    )  # fmt: skip
    invoice_service.validate(invoice.id, user="anne")
    run(caisse)
    assert invoice_states([invoice.id]) == ["REJETEE"]
    number = Invoice.get_by_id(invoice.id).number
    patients.create_prescriber("591003900", "Durand", "Claire")

    async with app_for(caisse).run_test(size=SIZE) as pilot:
        pilot.app.open_rejection(invoice.id)
        await pilot.pause()
        screen = pilot.app.screen
        assert "Prescripteur inconnu" in text_of(screen, "#treat-todo")
        assert "Données › Prescripteurs" in text_of(screen, "#treat-todo")
        assert "r : Recommencer la FSE" in text_of(screen, "#treat-actions")
        assert screen.query_one("#treat-rejections", DataTable).row_count == 1
        await pilot.press("t")  # not offered for this motif: nothing happens
        await pilot.pause()
        assert pilot.app.screen is screen

        await pilot.press("r")
        await pilot.pause()
        dialog = pilot.app.screen
        assert dialog.focused is dialog.query_one("#fix-prescriber", Input)  # the motif's field
        await pilot.press(*"999999999")
        dialog.query_one("#fix-reason", Input).value = "bon prescripteur"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "inconnu" in str(dialog.query_one("#err-prescriber", Static).render())
        assert invoice_states([invoice.id]) == ["REJETEE"]  # nothing half-saved

        dialog.query_one("#fix-prescriber", Input).value = "591003900"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is screen
        assert "Validée" in text_of(screen, "#treat-title")
    after = Invoice.get_by_id(invoice.id)
    assert (after.state, after.number) == ("VALIDEE", number)


async def test_refused_lines_statuses_by_keys(office, start_caisse):
    caisse = start_caisse(ScriptScenario(
        rules=(LotRule(steps=((Answer("positive"), Answer("refus-ligne")),), lot_number=1),),
    ))  # fmt: skip
    patient = office.patients[office.cpam.id]
    acts = [Act(act_date=TODAY - timedelta(days=d), code="AMI", act_time=time(9)) for d in (6, 5)]
    invoice = invoice_service.create_invoice(office.nurse.id, patient.id, acts, user="anne")
    invoice_service.validate(invoice.id, user="anne")
    run(caisse)
    assert invoice_states([invoice.id]) == ["PAYEE_PARTIELLEMENT"]

    async with app_for(caisse).run_test(size=SIZE) as pilot:
        pilot.app.open_invoice(invoice.id)  # from the journal (F5): Ctrl+R treats it
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert pilot.app.screen.__class__.__name__ == "RejectionTreatmentScreen"
        await pilot.press("l")
        await pilot.pause()
        dialog = pilot.app.screen
        table = dialog.query_one("#refused-lines", DataTable)
        assert table.row_count == 2
        await pilot.press("down")  # the refused line
        await pilot.press("c")  # Note de crédit: only for a paid line
        await pilot.pause()
        assert "ligne payée" in text_of(dialog, "#refused-message")
        await pilot.press("r")
        await pilot.pause()
        assert text_of(dialog, "#refused-message") == ""
        assert table.get_row_at(1)[6] == "Refusé"
        await pilot.press("x")  # Restaurer: back to what the return said
        await pilot.pause()
        assert table.get_row_at(1)[6] == "Refusée"
        await pilot.press("j")
        await pilot.pause()
        assert "juste titre" in str(table.get_row_at(1))
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen.__class__.__name__ == "RejectionTreatmentScreen"


async def test_reports_pages_chart_and_export_by_keys(office, start_caisse, tmp_path):
    caisse = start_caisse(ScriptScenario(
        rules=(), default=(Answer("positive"), Answer("mixte")),
    ))  # fmt: skip
    office.invoices(8)
    run(caisse)
    rejected = Invoice.select().where(Invoice.state == "REJETEE").count()
    assert rejected == 4  # « mixte »: rejected, and one-line invoices whose line is refused

    async with app_for(caisse, ascii=True).run_test(size=SIZE) as pilot:
        pilot.app.open_reports("fse-rejetees")
        await pilot.pause()
        screen = pilot.app.screen
        table = screen.query_one("#reports-table", DataTable)
        assert table.row_count == rejected
        assert "FSE rejetées" in text_of(screen, "#reports-title")
        await pilot.press("down")  # next report in the list: fse-recyclees
        await pilot.pause()
        assert screen.report_name == "fse-recyclees" and table.row_count == 0
        await pilot.press("up", "up", "up", "up")  # back to the top: FSE télétransmises
        await pilot.pause()
        assert screen.report_name == "fse-transmises" and table.row_count == 8

        await pilot.press("ctrl+g")
        await pilot.pause()
        chart = text_of(screen, "#reports-chart")
        assert "Dû par les caisses" in chart and "#" in chart and "█" not in chart  # ASCII
        await pilot.press("ctrl+g")

        await pilot.press("ctrl+e")
        await pilot.pause()
        target = tmp_path / "transmises.csv"
        pilot.app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        lines = target.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("Id;N° FSE") and len(lines) == 9

        await pilot.press("tab")  # to the table; Entrée opens the invoice
        screen.query_one("#reports-table", DataTable).focus()
        await pilot.pause()
        # The list steps aside: the key facts fit at 80 columns (state by its short label).
        assert not screen.query_one("#reports-list").display
        labels = [str(c.label) for c in table.columns.values()]
        assert labels[:5] == ["N° FSE", "Date FSE", "Patient", "Total", "État"]
        assert sum(c.get_render_width(table) for c in list(table.columns.values())[:5]) <= 76
        assert all(len(str(table.get_cell_at((r, 4)))) <= 13 for r in range(table.row_count))
        await pilot.press("escape")  # the list back, still on the screen
        await pilot.pause()
        assert screen.query_one("#reports-list").display and pilot.app.screen is screen
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.screen.__class__.__name__ == "InvoiceDetailScreen"
    assert Lot.select().count() == 1
