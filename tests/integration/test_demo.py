"""The demo tells the whole story: every invoice state, every lot state a practice meets,
returns posted, one non rapprochée, and returns left to import that import cleanly."""

from __future__ import annotations

from collections import Counter

from tuibill.config import TransmissionSettings
from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, Lot, ReceivedFile, ReturnEntry, Virement
from tuibill.services import returns
from tuibill.services.audit import verify
from tuibill.services.demo_transmissions import TO_IMPORT, demo_folder


def test_every_invoice_state_and_every_lot_state(story_url):
    states = Counter(state for (state,) in Invoice.select(Invoice.state).tuples())
    assert set(states) == {state.value for state in InvoiceState}
    lots = Counter(state for (state,) in Lot.select(Lot.state).tuples())
    assert {"A_TRANSMETTRE", "TRANSMIS", "ARL_POSITIF", "ARL_NEGATIF", "TRAITEMENT_MANUEL",
            "ANNULE"} <= set(lots)  # fmt: skip
    # One lot went through a negative ARL and its identical re-sending.
    assert Lot.select().where((Lot.send_count == 2) & (Lot.state == "ARL_POSITIF")).exists()


def test_returns_posted_and_one_not_matched(story_url):
    outcomes = Counter(outcome for (outcome,) in ReturnEntry.select(ReturnEntry.outcome).tuples())
    assert outcomes["payee"] > 0 and outcomes["partielle"] > 0 and outcomes["rejetee"] > 0
    assert outcomes["non_rapprochee"] == 1
    assert Virement.select().count() > 0
    assert not ReceivedFile.select().where(ReceivedFile.status != "applique").exists()
    assert verify().ok


def test_returns_left_to_import_import_cleanly(story_url):
    files = sorted((demo_folder() / TO_IMPORT).glob("*.noe"))
    assert files
    before = Counter(state for (state,) in Invoice.select(Invoice.state).tuples())

    reports = returns.import_files(files, TransmissionSettings(), user="nouvelle")

    assert {report.status for report in reports} == {"importé"}
    assert sum(report.not_matched for report in reports) == 0
    after = Counter(state for (state,) in Invoice.select(Invoice.state).tuples())
    assert after["PAYEE"] > before["PAYEE"]
