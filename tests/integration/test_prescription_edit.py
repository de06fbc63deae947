"""Correcting a prescription's prescripteur or date (issue 13 #11, seed 000): the service, the
command line (``tuibill prescription edit``), and the rules it keeps."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import date

import pytest

from tuibill.cli.main import main
from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, Prescriber, Prescription
from tuibill.services.prescriptions import update_prescription_header


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as leaving:
            code = leaving.code if isinstance(leaving.code, int) else 2
    return code or 0, out.getvalue(), err.getvalue()


def free_prescription() -> Prescription:
    """A prescription of the demo with no invoice on its way (none validated… in a lot)."""
    for prescription in Prescription.select().order_by(Prescription.id):
        states = {i.state for i in Invoice.select().where(Invoice.prescription == prescription.id)}
        if not states - {InvoiceState.SAISIE.value, InvoiceState.SUPPRIMEE.value}:
            return prescription
    raise AssertionError("no prescription free of frozen invoices in the demo")


def held_prescription() -> Prescription:
    invoice = Invoice.select().where(
        (Invoice.state == InvoiceState.VALIDEE.value) & Invoice.prescription.is_null(False)
    ).first()
    return Prescription.get_by_id(invoice.prescription_id)


def test_the_command_corrects_the_prescripteur_and_the_date(demo_url) -> None:
    prescription = free_prescription()
    other = Prescriber.select().where(Prescriber.id != prescription.prescriber_id).first()
    earlier = date(2026, 9, 1)
    code, out, err = run(
        ["prescription", "edit", str(prescription.id), "--db", demo_url,
         "--prescriber", other.number, "--date", "01/09/2026", "--json"]
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == {"id": prescription.id, "date": "2026-09-01", "prescripteur": other.number}
    saved = Prescription.get_by_id(prescription.id)
    assert (saved.prescriber_id, saved.date) == (other.id, earlier)


def test_nothing_to_change_is_a_usage_error(demo_url) -> None:
    code, out, err = run(["prescription", "edit", "1", "--db", demo_url])
    assert code == 2 and "--prescriber" in err and out == ""


def test_a_prescription_under_a_validated_invoice_is_not_changed_under_it(demo_url) -> None:
    prescription = held_prescription()
    code, _, err = run(
        ["prescription", "edit", str(prescription.id), "--db", demo_url, "--date", "01/09/2026"]
    )
    assert code == 1 and "« Défacturer » d'abord" in err
    with pytest.raises(RefusedOperation):
        update_prescription_header(prescription.id, prescribed_on=date(2026, 9, 1))
    assert Prescription.get_by_id(prescription.id).date == prescription.date


def test_the_date_stays_before_the_acts_billed_on_it(demo_url) -> None:
    prescription = free_prescription()
    billed = Invoice.select().where(Invoice.prescription == prescription.id).exists()
    if not billed:
        pytest.skip("the demo bills nothing on this prescription")
    with pytest.raises(ValidationError, match="précède ses actes"):
        update_prescription_header(prescription.id, prescribed_on=date(2026, 11, 23))
    with pytest.raises(ValidationError, match="futur"):
        update_prescription_header(prescription.id, prescribed_on=date(2099, 1, 1))
