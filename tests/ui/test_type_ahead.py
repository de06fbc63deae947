"""Type-ahead (issue 13 #5): keys sent in one burst land in the field that has the focus once
the keys before them have taken effect — as a fast typist, a paste over SSH or a barcode reader
sends them."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import make_db
from tests.support.keys import send_burst, typed
from tuibill.app import TuibillApp


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    from tuibill.services.demo import build_demo

    path = tmp_path_factory.mktemp("type_ahead") / "demo.sqlite"
    make_db(path)
    build_demo(today=date.today())
    return path


@pytest.fixture
def app(demo_path):
    from tuibill.models import database

    database.bind(str(demo_path))
    return TuibillApp(user="test")


async def settle(pilot) -> None:
    """Let a burst be handled to its end (no time is asserted)."""
    for _ in range(60):
        await pilot.pause()
        gate = getattr(pilot.app, "type_ahead", None)
        if gate is None or not gate.held:
            break
    await pilot.pause()


async def test_a_patient_typed_in_one_burst_fills_every_field(app) -> None:
    from textual.widgets import Input

    from tuibill.screens.patient_file import PatientFileScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f9")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PatientFileScreen)
        send_burst(
            app,
            [
                *typed("BURST"), "tab",
                *typed("Anne"), "tab",
                *typed("01/02/1980"), "enter",
                *typed("280027512345678"), "tab",
                "backspace", *typed("2"),
                "ctrl+t", "ctrl+t", *typed("12 rue des Lilas"),
            ],
        )
        await settle(pilot)
        values = {
            name: app.screen.query_one(f"#{name}", Input).value
            for name in ("last_name", "first_name", "birth_date", "nir", "rank", "address")
        }
        assert values == {
            "last_name": "BURST",
            "first_name": "Anne",
            "birth_date": "01/02/1980",
            "nir": "280027512345678",
            "rank": "2",
            "address": "12 rue des Lilas",
        }


async def test_acts_typed_in_one_burst_each_on_its_line(app) -> None:
    from tuibill.screens.invoice_form import InvoiceDraft, InvoiceFormScreen
    from tuibill.services.patients import search_patients_page
    from tuibill.services.practice import list_practitioners

    practitioner = list_practitioners()[0]
    patients, _ = search_patients_page("", limit=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = InvoiceFormScreen(
            draft=InvoiceDraft(practitioner_id=practitioner.id, patient_id=patients[0].id)
        )
        app.push_screen(form)
        await pilot.pause()
        send_burst(app, [*typed("AMI 1"), "enter", *typed(" MAU"), "enter", *typed(" IFD")])
        await settle(pilot)
        texts = [line.text for line in form._lines()]
        assert len(texts) == 3, texts
        assert texts[0].endswith("AMI 1")
        assert texts[1].endswith("AMI 1 MAU")
        assert texts[2].endswith("AMI 1 MAU IFD")


async def test_a_key_typed_alone_settles_once_its_path_is_quiet(app) -> None:
    """Not a burst: no key waits, so the key is settled when the queues of its path are empty —
    not after all MAX_ROUNDS rounds (~160 callbacks a key, 5–7 ms of CPU on every key)."""
    from tuibill.widgets.type_ahead import MAX_ROUNDS

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await settle(pilot)
        for key in ("down", "pagedown", "up"):
            await pilot.press(key)
            await settle(pilot)
            assert 0 < app.type_ahead._rounds < MAX_ROUNDS // 4, key
