"""Facturer (F2), driven by keys only at 80×24, on a fresh copy of the demo practice.

The demo is built once per module (through the real services) and copied for each test, so
every test starts from the same database and may change it freely.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support.screen_text import dialog_text
from tuibill.domain.invoices import InvoiceState
from tuibill.models import database, schema

SIZE = (80, 24)
TODAY = date.today()


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    from tuibill.services import demo, tariffs

    path = tmp_path_factory.mktemp("facturer") / "demo.sqlite"
    db = database.bind(str(path))
    schema.upgrade()
    tariffs.seed_default_tariffs()
    demo.build_demo(today=TODAY, story=False)
    # Fold the WAL into the file so that a plain copy holds everything.
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    database.bind(str(path))
    return str(path)


@pytest.fixture
def app(demo_db):
    from tuibill.app import TuibillApp

    return TuibillApp(user="test")


# --- helpers ------------------------------------------------------------------------------


async def open_facturer(pilot):
    from tuibill.screens.facturer import FacturerScreen

    await pilot.press("f2")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, FacturerScreen)
    return screen


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)


async def goto_row(pilot, screen, key: str) -> None:
    """Move the table cursor onto *key* with the arrow keys."""
    keys = list(screen.rows)
    assert key in keys, f"{key} not in the list"
    target = keys.index(key)
    current = screen.query_one("#facturer-table").cursor_row
    step = "down" if target > current else "up"
    await pilot.press(*[step] * abs(target - current))
    assert screen.current_row().id == int(key.split(":")[1])


async def choose_practitioner(pilot, name: str) -> None:
    """« Pour le praticien »: T, then the Select's list with the arrows."""
    from tuibill.services.practice import list_practitioners

    names = [p.display_name for p in list_practitioners()]
    current = pilot.app.screen.criteria().practitioner_id
    current_index = [p.id for p in list_practitioners()].index(current)
    await pilot.press("t", "enter")
    offset = names.index(name) - current_index
    await pilot.press(*["down" if offset > 0 else "up"] * abs(offset), "enter")
    await pilot.pause()
    assert pilot.app.screen.criteria().practitioner_id == list_practitioners()[names.index(name)].id


def status_text(screen) -> str:
    return str(screen.query_one("#facturer-status").content)


def invoice_count() -> int:
    from tuibill.models import Invoice

    return Invoice.select().count()


def first_unnumbered_draft(screen) -> str:
    """The key of the first never-numbered Saisie invoice in the list."""
    for key, row in screen.rows.items():
        if row.kind == "invoice" and row.state == "SAISIE" and row.number is None:
            return key
    raise AssertionError("no unnumbered draft in the list")


# --- tests --------------------------------------------------------------------------------


async def test_lists_filters_and_back(app) -> None:
    from tuibill.services import worklists
    from tuibill.services.worklists import Criteria

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        brunet = screen.criteria().practitioner_id
        assert screen.list_name == "prescriptions_praticien"
        assert screen.rows and all(r.kind == "prescription" for r in screen.rows.values())

        await pilot.press("2")
        assert screen.list_name == "non_validees"
        expected = worklists.rows_for("non_validees", Criteria(practitioner_id=brunet))
        assert list(screen.rows) == [f"invoice:{r.id}" for r in expected]
        assert {r.state for r in screen.rows.values()} <= {"SAISIE", "A_CHARGER"}

        await pilot.press("5")
        everyone = len(screen.rows)
        await pilot.press("1")
        assert len(screen.rows) < everyone  # by practitioner: a subset of « pour tous »

        # « Pour le patient »: P, a name prefix, Entrée (the cursor goes back to the list).
        await pilot.press("5", "p")
        await type_text(pilot, "dupuis")
        await pilot.press("enter")
        assert screen.rows
        assert all(r.patient.upper().startswith("DUPUIS") for r in screen.rows.values())
        assert pilot.app.focused is screen.query_one("#facturer-table")

        await pilot.press("escape")
        assert pilot.app.current_mode == "menu"


async def test_create_from_prescription_then_edit(app) -> None:
    from tuibill.domain import pricing
    from tuibill.models import Invoice, InvoiceLine, PrescriptionItem
    from tuibill.screens.invoice_form import InvoiceFormScreen
    from tuibill.services.acts import coverage_for
    from tuibill.services.tariffs import TariffBook

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        prescription_row = screen.current_row()
        assert prescription_row.kind == "prescription"
        item = (
            PrescriptionItem.select()
            .where(PrescriptionItem.prescription == prescription_row.id)
            .first()
        )
        billed_before = item.billed
        before = invoice_count()

        await pilot.press("enter")
        form = pilot.app.screen
        assert isinstance(form, InvoiceFormScreen)
        line = form.query_one(".act-input").value
        assert line.startswith(f"{TODAY:%d/%m/%Y} {item.code} ")
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert pilot.app.screen is screen
        assert invoice_count() == before + 1
        invoice = Invoice.select().order_by(Invoice.id.desc()).first()
        assert invoice.state == InvoiceState.SAISIE.value
        assert invoice.prescription_id == prescription_row.id
        assert invoice.created_by == "test"
        acts = list(
            InvoiceLine.select().where(
                (InvoiceLine.invoice == invoice.id) & InvoiceLine.parent_position.is_null()
            )
        )
        assert [(a.code, a.coefficient_x100, a.act_date) for a in acts] == [
            (item.code, item.coefficient_x100, TODAY)
        ]
        expected = pricing.price_acts(
            [pricing.Act(TODAY, item.code, item.coefficient_x100)],
            TariffBook(invoice.practitioner.specialty),
            coverage_for(invoice.patient),
        )
        assert invoice.total_cents == expected.total_cents > 0
        assert invoice.amo_cents + invoice.amc_cents + invoice.patient_cents == invoice.total_cents
        assert PrescriptionItem.get_by_id(item.id).billed == billed_before + 1

        # Edit it: list 2, it is the newest; Entrée, Ctrl+N copies the act, Ctrl+S.
        await pilot.press("2")
        await goto_row(pilot, screen, f"invoice:{invoice.id}")
        await pilot.press("enter")
        form = pilot.app.screen
        assert isinstance(form, InvoiceFormScreen) and form.invoice_id == invoice.id
        await pilot.press("ctrl+n")
        assert len(form.query(".act-input")) == 2
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert pilot.app.screen is screen
        assert invoice_count() == before + 1
        edited = Invoice.get_by_id(invoice.id)
        # Both acts in one visit: what is due once per visit (a Sunday majoration…) is once.
        twice = pricing.price_acts(
            [pricing.Act(TODAY, item.code, item.coefficient_x100)] * 2,
            TariffBook(invoice.practitioner.specialty),
            coverage_for(invoice.patient),
        )
        assert edited.total_cents == twice.total_cents
        assert PrescriptionItem.get_by_id(item.id).billed == billed_before + 2
        assert screen.current_row().id == invoice.id  # the cursor stays on the edited invoice


async def test_bad_act_date_is_shown_at_the_line_and_nothing_is_saved(demo_db, monkeypatch) -> None:
    from tuibill.app import TuibillApp
    from tuibill.dialogs.confirm import ConfirmDialog
    from tuibill.screens.invoice_form import InvoiceFormScreen

    monkeypatch.setenv("TERM", "linux")  # the Linux console: ASCII frames
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        assert screen.query_one("#facturer-table").styles.border_top[0] == "ascii"
        before = invoice_count()
        await pilot.press("enter")
        form = pilot.app.screen
        assert isinstance(form, InvoiceFormScreen)
        assert form.query_one("#acts").styles.border_top[0] == "ascii"
        act_input = form.query_one(".act-input")
        error = form.query_one(".line-error")

        await pilot.press("ctrl+u")  # the cursor is at the end: clear the line
        await type_text(pilot, "32/11/2026 AMI")
        assert str(error.content) == "Date « 32/11/2026 » invalide : JJ/MM/AAAA attendu."
        assert error.display and act_input.has_class("-invalid")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is form
        assert invoice_count() == before

        # An act after the billing date: the service's own rule, at the same line.
        await pilot.press("ctrl+u")
        await type_text(pilot, f"{TODAY + timedelta(days=1):%d/%m/%Y} AMI")
        assert "postérieure à la date de facturation" in str(error.content)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is form
        assert invoice_count() == before

        # Leaving with unsaved changes asks first; O leaves, nothing saved.
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("o")
        await pilot.pause()
        assert pilot.app.screen is screen
        assert invoice_count() == before


async def test_validate_defacturer_prepare_and_cancel(app) -> None:
    from tuibill.dialogs.confirm import ConfirmDialog
    from tuibill.dialogs.reason import ReasonDialog
    from tuibill.models import Invoice, InvoiceTransition

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        await pilot.press("2")
        key = first_unnumbered_draft(screen)
        invoice_id = int(key.split(":")[1])
        await goto_row(pilot, screen, key)

        await pilot.press("v")
        validated = Invoice.get_by_id(invoice_id)
        assert validated.state == InvoiceState.VALIDEE.value
        assert validated.number is not None and len(f"{validated.number:09d}") == 9
        assert key not in screen.rows  # a validated invoice leaves « non validées »
        assert "Valider : 1 facture(s) traitée(s)." in status_text(screen)

        # « Défacturer » from the validated list, with a reason.
        await pilot.press("6")
        await goto_row(pilot, screen, key)
        await pilot.press("d")
        assert isinstance(pilot.app.screen, ReasonDialog)
        await type_text(pilot, "erreur de cotation")
        await pilot.press("enter")
        await pilot.pause()
        back = Invoice.get_by_id(invoice_id)
        assert back.state == InvoiceState.SAISIE.value
        assert back.number == validated.number  # the number is kept: no gap
        last = (
            InvoiceTransition.select()
            .where(InvoiceTransition.invoice == invoice_id)
            .order_by(InvoiceTransition.id.desc())
            .first()
        )
        assert (last.to_state, last.reason, last.user) == ("SAISIE", "erreur de cotation", "test")

        # « Choisir les factures à charger », then « Annuler préparation ».
        await pilot.press("2")
        await goto_row(pilot, screen, key)
        await pilot.press("c")
        assert Invoice.get_by_id(invoice_id).state == InvoiceState.A_CHARGER.value
        assert screen.current_row().id == invoice_id  # still listed, cursor kept
        assert str(screen.query_one("#facturer-table").get_cell(key, "detail")) == "À charger"
        await pilot.press("a")  # asked first, naming the invoice (issue 13 #6)
        assert isinstance(pilot.app.screen, ConfirmDialog)
        assert back.patient.display_name in dialog_text(pilot.app)
        await pilot.press("o")
        await pilot.pause()
        assert Invoice.get_by_id(invoice_id).state == InvoiceState.SAISIE.value


async def test_practitioner_without_numbering_is_refused(app) -> None:
    from tuibill.dialogs.pick_patient import PickPatientDialog
    from tuibill.models import Invoice, Patient
    from tuibill.screens.invoice_form import InvoiceFormScreen

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        await choose_practitioner(pilot, "NOËL Camille")
        await pilot.press("2")
        assert screen.rows == {}

        # A free invoice: N on an invoice list asks for the patient first.
        await pilot.press("n")
        assert isinstance(pilot.app.screen, PickPatientDialog)
        await type_text(pilot, "dup")  # DUPUIS Alain comes first
        await pilot.press("enter")
        form = pilot.app.screen
        assert isinstance(form, InvoiceFormScreen)
        assert form.patient_id == Patient.get(Patient.search_name == "DUPUIS ALAIN").id
        await type_text(pilot, "AMI IFD")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is screen
        (key,) = screen.rows
        invoice_id = int(key.split(":")[1])
        assert screen.current_row().id == invoice_id

        await pilot.press("v")
        invoice = Invoice.get_by_id(invoice_id)
        assert invoice.state == InvoiceState.SAISIE.value and invoice.number is None
        status = status_text(screen)
        assert "Valider : 0 facture(s) traitée(s)." in status
        assert "Le praticien NOËL Camille n'a pas de numérotation de factures" in status
        assert screen.marked == {key}  # the refused invoice stays marked


async def test_isolated_act_recorded_then_billed(app) -> None:
    from tuibill.dialogs.isolated_act import IsolatedActDialog
    from tuibill.models import Invoice, IsolatedAct
    from tuibill.screens.invoice_form import InvoiceFormScreen

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        await choose_practitioner(pilot, "GAUTIER Anne")
        await pilot.press("4")
        before = len(screen.rows)

        await pilot.press("i")
        await type_text(pilot, "dup")
        await pilot.press("enter")
        assert isinstance(pilot.app.screen, IsolatedActDialog)
        await type_text(pilot, "AMI 2")
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.screen is screen
        act = IsolatedAct.select().order_by(IsolatedAct.id.desc()).first()
        assert (act.code, act.coefficient_x100, act.act_date) == ("AMI", 200, TODAY)
        assert len(screen.rows) == before + 1
        assert screen.current_row().id == act.id

        await pilot.press("space", "n")
        assert isinstance(pilot.app.screen, InvoiceFormScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is screen
        billed = IsolatedAct.get_by_id(act.id)
        assert billed.invoice_id is not None
        assert Invoice.get_by_id(billed.invoice_id).patient_id == act.patient_id
        assert f"isolated:{act.id}" not in screen.rows


async def test_selection_bulk_validate_and_delete(app) -> None:
    from tuibill.dialogs.confirm import ConfirmDialog
    from tuibill.models import Invoice

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        await pilot.press("2")
        table = screen.query_one("#facturer-table")

        # « Tout sélectionner » / « Tout désélectionner ».
        await pilot.press("plus")
        assert screen.marked == set(screen.rows)
        assert all(str(table.get_cell(key, "mark")) == "[x]" for key in screen.rows)
        await pilot.press("minus")
        assert screen.marked == set()
        assert all(str(table.get_cell(key, "mark")) == "[ ]" for key in screen.rows)

        # Space marks and moves on; V validates the marked invoices only, each numbered.
        drafts = [k for k, r in screen.rows.items() if r.state == "SAISIE" and r.number is None]
        assert len(drafts) >= 3
        for key in drafts[:2]:
            await goto_row(pilot, screen, key)
            await pilot.press("space")
            assert table.cursor_row == list(screen.rows).index(key) + 1
        assert screen.marked == set(drafts[:2])
        assert "2 sélectionnée(s)" in status_text(screen)
        await pilot.press("v")  # several: named first, then validated (issue 13 #6)
        assert isinstance(pilot.app.screen, ConfirmDialog)
        shown = dialog_text(pilot.app)
        assert all(screen.rows[k].patient in shown for k in drafts[:2])
        await pilot.press("o")
        await pilot.pause()
        numbers = sorted(Invoice.get_by_id(int(k.split(":")[1])).number for k in drafts[:2])
        assert numbers[1] == numbers[0] + 1  # consecutive, no gap
        assert screen.marked == set()
        assert "Valider : 2 facture(s) traitée(s)." in status_text(screen)
        assert not set(drafts[:2]) & set(screen.rows)

        # Suppr deletes a never-numbered draft, after a confirmation.
        key = drafts[2]
        await goto_row(pilot, screen, key)
        await pilot.press("delete")
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("o")
        await pilot.pause()
        assert Invoice.get_by_id(int(key.split(":")[1])).state == "SUPPRIMEE"  # kept, with its history
        assert key not in screen.rows
        assert "Suppression : 1 facture(s) traitée(s)." in status_text(screen)


def test_the_keys_of_each_list_follow_the_life_cycle() -> None:
    from tuibill.screens.facturer import LIST_BOUND_ACTIONS, MARK_ACTIONS, list_allows
    from tuibill.services import worklists

    # What each list offers (seed 003); the moves among them are derived from the domain's
    # table and the states each list holds.
    offered = {
        worklists.PRESCRIPTIONS_BY_PRACTITIONER: {"new_invoice", "free_invoice"},
        worklists.PRESCRIPTIONS_ALL: {"new_invoice", "free_invoice"},
        worklists.UNVALIDATED: {
            "new_invoice", "marks", "validate", "validate_cards", "prepare",
            "cancel_preparation", "delete_draft",
        },
        # Issue 9: a DRE waits for its validation after its invoice's (« Défacturer » there too).
        worklists.DRE_UNVALIDATED: {
            "new_invoice", "marks", "validate", "prepare", "cancel_preparation", "delete_draft",
            "unvalidate",
        },
        worklists.ISOLATED: {"new_invoice", "free_invoice", "marks"},
        worklists.VALIDATED: {"new_invoice", "marks", "unvalidate", "prepare"},
    }
    for name, allowed in offered.items():
        for action in LIST_BOUND_ACTIONS:
            key = "marks" if action in MARK_ACTIONS else action
            assert list_allows(name, action) == (key in allowed), (name, action)


async def test_home_and_end_go_to_the_first_and_last_row(app) -> None:
    """Issue 13 #6: Début / Fin move the row cursor (they used to scroll sideways), so that
    Début then « v » validates the first invoice of the list."""
    from tuibill.models import Invoice

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        await pilot.press("2")
        table = screen.query_one("#facturer-table")
        assert table.row_count > 3
        await pilot.press("down", "down")
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1 and table.scroll_x == 0
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_x == 0
        first = screen.current_row()
        assert first.state == "SAISIE"
        await pilot.press("v")
        await pilot.pause()
        assert Invoice.get_by_id(first.id).state == InvoiceState.VALIDEE.value


async def test_delete_on_a_numbered_invoice_is_refused_before_asking(app) -> None:
    """Issue 13 #17: Suppr on a numbered invoice says why at once, it does not ask then refuse;
    the names of what can be deleted are given with those that cannot."""
    from tuibill.dialogs.confirm import ConfirmDialog
    from tuibill.models import Invoice

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        await pilot.press("2")
        key = first_unnumbered_draft(screen)
        await goto_row(pilot, screen, key)
        await pilot.press("v")  # now numbered, in the validated list
        await pilot.press("6")
        await goto_row(pilot, screen, key)
        number = screen.current_row().number
        assert number is not None
        await pilot.press("d", "enter")  # « Défacturer », no reason: back in Saisie, numbered
        await pilot.pause()
        await pilot.press("2")
        await goto_row(pilot, screen, key)
        await pilot.press("delete")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, ConfirmDialog)
        assert "numérotée" in status_text(screen)
        assert Invoice.get_by_id(int(key.split(":")[1])).state == "SAISIE"


async def test_unvalidate_names_the_invoice_in_its_question(app) -> None:
    from tuibill.dialogs.reason import ReasonDialog

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        await pilot.press("6")
        row = screen.current_row()
        await pilot.press("d")
        assert isinstance(pilot.app.screen, ReasonDialog)
        shown = dialog_text(pilot.app)
        assert row.patient in shown and f"{row.number:09d}" in shown


async def test_a_frozen_invoice_says_what_takes_it_back_to_saisie(app) -> None:
    """Issue 13 #17: an « À charger » invoice is taken back by « Annuler préparation », not
    « Défacturer »; the way back comes from the life cycle."""
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        await pilot.press("2")
        key = next(k for k, row in screen.rows.items() if row.state == "A_CHARGER")
        await goto_row(pilot, screen, key)
        await pilot.press("enter")
        await pilot.pause()
        (message,) = [n.message for n in pilot.app._notifications if "modifiable" in n.message]
        assert "« Annuler préparation »" in message and "Défacturer" not in message


async def test_facturer_keeps_its_practitioner_and_list_while_the_app_runs(app) -> None:
    """Issue 13 #17 (F2 forgot them): the menu's screen stays, with what the desk chose."""
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_facturer(pilot)
        await choose_practitioner(pilot, "GAUTIER Anne")
        await pilot.press("3")
        chosen = (screen.list_name, screen.criteria().practitioner_id)
        await pilot.press("f9", "escape", "f5", "f2")
        await pilot.pause()
        assert pilot.app.screen is screen
        assert (screen.list_name, screen.criteria().practitioner_id) == chosen
