"""Journal des lots et bordereaux (F6): every lot ever built, with its « État du lot ».

The same shape as the Journal des factures (F5), on the journals' common screen
(``screens.paged_journal``): filters (lot number, state, type, practitioner, caisse), the last
2 months by default and Ctrl+T for the whole history, a virtual table fed page by page by key
(``services.lot_journal``). Entrée opens the lot (``app.open_lot``).
"""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select

from tuibill.domain.formatting import format_cents, format_short_day
from tuibill.domain.lots import FSE, SCOR, LotState
from tuibill.screens.paged_journal import PagedJournalScreen
from tuibill.services.lot_journal import (
    LotFilter,
    LotRow,
    journal_filter,
    open_lot_journal,
)
from tuibill.widgets.virtual_table import Column


class LotsJournalScreen(PagedJournalScreen[LotFilter], prefix="lots", pager=open_lot_journal):
    CSS_PATH = "../styles/transmettre.tcss"
    # 79 cells beside the scrollbar at 80 columns: the type, the sendings and the reason are
    # reached by scrolling right, or shown on wider terminals.
    COLUMNS = (
        Column("Lot", 3, "right"),
        Column("État du lot", 17),  # « Traitement manuel » in full
        Column("Praticien", 8, flex=2),
        Column("Caisse", 6),
        Column("Créé le", 8),
        Column("Envoyé", 8),
        Column("ARL le", 8),
        Column("FSE", 4, "right"),
        Column("Total", 8, "right"),
        Column("Type", 4),
        Column("Envois", 6, "right"),
        Column("Motif / erreur", 30, flex=1),
    )
    NOUNS = ("lot", "lots")

    def compose_filters(self) -> ComposeResult:
        from tuibill.services.lot_journal import destinations
        from tuibill.services.practice import list_practitioners

        kinds = [(FSE, FSE), (SCOR, SCOR)]
        caisses = [(label, code) for code, label in destinations()]
        with Horizontal(classes="filter-row"):
            yield Label("N° de lot", classes="filter-label")
            yield Input(id="lf-number", compact=True, restrict=r"[0-9]*", max_length=3)
            yield Label("État", classes="filter-label")
            yield Select(
                [(state.label, state.value) for state in LotState],
                prompt="Tous",
                id="lf-state",
                compact=True,
            )
            yield Label("Type", classes="filter-label")
            yield Select(kinds, prompt="Tous", id="lf-kind", compact=True)
        with Horizontal(classes="filter-row"):
            yield Label("Praticien", classes="filter-label")
            yield Select(
                [(p.display_name, p.id) for p in list_practitioners(active_only=False)],
                prompt="Tous",
                id="lf-practitioner",
                compact=True,
            )
            yield Label("Caisse", classes="filter-label")
            yield Select(caisses, prompt="Toutes", id="lf-destination", compact=True)

    def read_filter(self) -> LotFilter:
        state = self.choice_in("#lf-state")
        return journal_filter(
            number=self.number_in("#lf-number"),
            state=LotState(state) if state else None,
            kind=self.choice_in("#lf-kind"),
            practitioner_id=self.choice_in("#lf-practitioner"),
            destination=self.choice_in("#lf-destination"),
            **self.window(),
        )

    def window_text(self, flt: LotFilter) -> str:
        if flt.since is None:
            return "toutes dates (numéro)" if flt.number is not None else "sans limite de temps"
        since, today = format_short_day(flt.since), format_short_day(date.today())
        return f"créés du {since} au {today} (2 derniers mois)"

    def row_cells(self, row: LotRow) -> tuple[str, ...]:
        is_fse = row.kind == FSE
        return (
            row.number_text,
            row.state_label,
            row.practitioner,
            row.destination,
            format_short_day(row.created_at),
            format_short_day(row.sent_at),
            format_short_day(row.arl_at),
            str(row.invoice_count) if is_fse else f"{row.piece_count}p",
            format_cents(row.total_cents) if is_fse else "",
            row.kind,
            str(row.send_count),
            row.arl_reason or row.last_error,
        )

    def open_row(self, row: LotRow) -> None:
        self.app.open_lot(row.id)
