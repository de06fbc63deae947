"""The plain-data views the screens read instead of querying the models themselves."""

from __future__ import annotations

from collections import Counter

from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, Prescriber
from tuibill.models.base import db
from tuibill.services import dashboard, patients, tla_transfer, worklists
from tuibill.services.database import close_thread_connection


def test_counts_in_states_over_the_whole_history(demo_url) -> None:
    wanted = (InvoiceState.A_CHARGER, InvoiceState.CHARGEE_TLA, InvoiceState.A_SECURISER)
    counts = dashboard.counts_in(wanted)
    assert list(counts) == list(wanted)  # in the order asked, absent states at 0
    for state in wanted:
        assert counts[state] == Invoice.select().where(Invoice.state == state.value).count()
    assert counts[InvoiceState.A_CHARGER] > 0  # the demo prepares invoices for the reader


def test_the_menu_counts_the_unmatched_returns_as_f7_does(story_url) -> None:
    from tuibill.domain.returns import NOT_MATCHED
    from tuibill.models import ReturnEntry

    listed = ReturnEntry.select().where(ReturnEntry.outcome == NOT_MATCHED).count()
    assert dashboard.unmatched_count() == listed == 1  # the story's one


def test_prepared_invoices_per_practitioner(demo_url) -> None:
    expected = Counter(i.practitioner.display_name for i in tla_transfer.prepared_invoices())
    names = tla_transfer.prepared_per_practitioner()
    assert dict(names) == expected and sum(expected.values()) > 0
    assert len(names) == len(expected)  # each practitioner once


def test_prescriber_rows_are_the_prescripteurs_as_plain_data(demo_url) -> None:
    rows = patients.prescriber_rows("MAR")
    models = patients.list_prescribers("MAR")
    assert [row.id for row in rows] == [p.id for p in models] and rows
    for row, model in zip(rows, models, strict=True):
        assert (row.number, row.last_name, row.first_name, row.specialty) == (
            model.number, model.last_name, model.first_name, model.specialty,
        )
        assert row.display_name == model.display_name
    assert patients.prescriber_row(Prescriber.get_by_id(rows[0].id)) == rows[0]


def test_each_invoice_list_holds_the_states_it_says(demo_url) -> None:
    for name, states in worklists.LIST_STATES.items():
        rows = worklists.rows_for(name, worklists.Criteria())
        assert {row.state for row in rows} <= {state.value for state in states}, name
    validated = worklists.rows_for(worklists.VALIDATED, worklists.Criteria())
    assert validated and {row.state for row in validated} == {"VALIDEE"}


def test_a_worker_thread_closes_its_connection(demo_url) -> None:
    Invoice.select().count()
    assert not db.is_closed()
    close_thread_connection()
    assert db.is_closed()
    close_thread_connection()  # again: nothing to close, nothing raised
