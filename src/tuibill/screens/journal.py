"""Journal des factures (F5): the whole invoice history, filtered, in a virtual table.

The last 2 months by default, Ctrl+T for the whole history; a number or a lot number searches
every date. The loading, paging and status line are the journals' own
(``screens.paged_journal``); Entrée opens the invoice (``app.open_invoice``).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select

from tuibill.domain.formatting import format_cents, format_short_day
from tuibill.domain.invoices import InvoiceState
from tuibill.screens.paged_journal import PagedJournalScreen
from tuibill.services.journal import JournalFilter, JournalRow, open_journal
from tuibill.widgets.virtual_table import Column

MODES = {"degrade": "Dégradé", "sesam_vitale": "SESAM-Vitale"}


class JournalScreen(PagedJournalScreen[JournalFilter], prefix="journal", pager=open_journal):
    CSS_PATH = "../styles/journal.tcss"
    # The first eight columns fit an 80-column terminal (79 cells beside the scrollbar); the
    # amounts' split and the mode are reached by scrolling right, or shown on wider terminals.
    COLUMNS = (
        Column("Numéro", 9),
        Column("État", 11),
        Column("Date", 8),
        Column("Patient", 15, flex=3),
        Column("Praticien", 9, flex=1),
        Column("Caisse", 9, flex=1),
        Column("Total", 8, "right"),
        Column("Lot", 3, "right"),
        Column("AMO", 8, "right"),
        Column("AMC", 8, "right"),
        Column("Assuré", 8, "right"),
        Column("Mode", 12),
    )
    NOUNS = ("facture", "factures")

    def compose_filters(self) -> ComposeResult:
        from tuibill.services.patients import list_organisms
        from tuibill.services.practice import list_practitioners

        states = [(state.label, state.value) for state in InvoiceState]
        organisms = [(o.name, o.id) for o in list_organisms()]
        practitioners = [(p.display_name, p.id) for p in list_practitioners(active_only=False)]
        with Horizontal(classes="filter-row"):
            yield Label("Patient", classes="filter-label")
            yield Input(placeholder="début du nom", id="f-patient", compact=True)
            yield Label("N°", classes="filter-label")
            yield Input(id="f-number", compact=True, restrict=r"[0-9]*", max_length=9)
            yield Label("Lot", classes="filter-label")
            yield Input(id="f-lot", compact=True, restrict=r"[0-9]*", max_length=6)
            yield Label("État", classes="filter-label")
            yield Select(states, prompt="Tous", id="f-state", compact=True)
        with Horizontal(classes="filter-row"):
            yield Label("Praticien", classes="filter-label")
            yield Select(practitioners, prompt="Tous", id="f-practitioner", compact=True)
            yield Label("Caisse", classes="filter-label")
            yield Select(organisms, prompt="Toutes", id="f-organism", compact=True)

    def read_filter(self) -> JournalFilter:
        return JournalFilter(
            number=self.number_in("#f-number"),
            lot_number=self.number_in("#f-lot"),
            patient=self.query_one("#f-patient", Input).value.strip(),
            state=self.choice_in("#f-state"),
            practitioner_id=self.choice_in("#f-practitioner"),
            organism_id=self.choice_in("#f-organism"),
            **self.window(),
        )

    def window_text(self, flt: JournalFilter) -> str:
        start = flt.window_start
        if start is None:
            return "sans limite de temps" if flt.all_time else "toutes dates (numéro)"
        text = f"du {format_short_day(start)} au {format_short_day(flt.until or flt.today)}"
        if flt.since is None and flt.until is None:
            text += " (2 derniers mois)"
        return text

    def row_cells(self, row: JournalRow) -> tuple[str, ...]:
        return (
            row.number_text,
            row.state_label,
            format_short_day(row.billing_date),
            row.patient_name,
            row.practitioner,
            row.organism,
            format_cents(row.total_cents),
            str(row.lot_number or ""),
            format_cents(row.amo_cents),
            format_cents(row.amc_cents),
            format_cents(row.patient_cents),
            MODES.get(row.mode, row.mode),
        )

    def open_row(self, row: JournalRow) -> None:
        self.app.open_invoice(row.id)
