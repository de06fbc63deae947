"""One return file (opened from F7): what it is, its virements, and every invoice it answered —
asked vs paid, the result, the invoice's state now. A virtual table: a return of ten thousand
invoices opens as fast as one of ten. Entrée opens the invoice (or, for a « non rapprochée »,
what the caisse said, and ``m`` matches it by hand)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import format_cents, format_short_day, format_when
from tuibill.domain.invoices import InvoiceState
from tuibill.services.return_views import EntryView, ReturnFileView, outcome_label
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.virtual_table import Column, VirtualTable

COLUMNS = (
    Column("Numéro", 9),
    Column("Patient", 16, flex=2),
    Column("Demandé", 9, "right"),
    Column("Payé", 9, "right"),
    Column("Résultat", 13),
    Column("État", 11),
    Column("Rejets / note", 30, flex=3),
)


def summary_text(view: ReturnFileView) -> str:
    counts = ", ".join(
        f"{count} {outcome_label(outcome).lower()}" for outcome, count in sorted(view.counts.items())
    )
    lines = [
        f"Reçu le {format_when(view.received_at)} — {view.status_label}"
        + (f" : {view.error}" if view.error else ""),
        f"Factures : {counts or 'aucune'} — payé {format_cents(view.paid_cents)} €",
    ]
    for virement in view.virements:
        lines.append(
            f"Virement du {format_short_day(virement.accounting_date)} {virement.paying_body} "
            f"{format_cents(virement.total_cents)} € ({virement.invoice_count} fact.) "
            f"{virement.label}"
        )
    return "\n".join(lines)


def entry_cells(entry: EntryView) -> tuple[str, ...]:
    state = InvoiceState(entry.state).label if entry.state else "—"
    return (
        entry.number,
        entry.patient,
        format_cents(entry.asked_cents),
        format_cents(entry.paid_cents),
        entry.outcome_label,
        state,
        "; ".join(entry.rejections) or entry.note,
    )


class ReturnFileScreen(DrawnOnce):
    TITLE = "Retours et rejets › Fichier reçu"
    CSS_PATH = "../styles/returns.tcss"
    AUTO_FOCUS = "#rf-entries"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.back", "Retour", id="retour_fichier_retour"),
        Binding("m", "match", "Rapprocher", id="retour_fichier_rapprocher"),
    ]

    def __init__(self, file_id: int) -> None:
        super().__init__()
        self.file_id = file_id
        self.view: ReturnFileView | None = None
        self.problem = ""

    def compose(self) -> ComposeResult:
        from tuibill.services.return_views import return_file

        try:
            self.view = return_file(self.file_id)
        except TuibillError as error:
            self.problem = str(error)
        yield AppHeader()
        if self.view is None:
            yield Static(self.problem, classes="error")
        else:
            yield Static(f"Retour NOEMIE {self.view.file_name}", classes="title", markup=False)
            yield Static(summary_text(self.view), id="rf-summary", markup=False)
            entries = self.view.entries
            yield VirtualTable(
                COLUMNS,
                lambda i: entry_cells(entries[i]) if 0 <= i < len(entries) else None,
                len(entries),
                id="rf-entries",
            )
        yield AppFooter()

    def _current(self) -> EntryView | None:
        if self.view is None or not self.view.entries:
            return None
        index = self.query_one("#rf-entries", VirtualTable).cursor_row
        return self.view.entries[index] if 0 <= index < len(self.view.entries) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "match":
            entry = self._current()
            return entry is not None and entry.invoice_id is None
        return True

    def on_virtual_table_cursor_moved(self, event: VirtualTable.CursorMoved) -> None:
        self.refresh_bindings()

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        entry = self._current()
        if entry is None:
            return
        if entry.invoice_id is not None:
            self.app.open_invoice(entry.invoice_id)
        else:
            self.action_match()

    def action_match(self) -> None:
        from tuibill.dialogs.match_entry import MatchEntryDialog
        from tuibill.services.return_lists import EntryRow

        entry = self._current()
        if entry is None or entry.invoice_id is not None:
            return
        row = EntryRow(
            id=entry.id,
            invoice_id=None,
            number=entry.number,
            patient=entry.patient,
            practitioner=entry.practitioner,
            billing_date=None,
            lot_number=entry.lot_number,
            asked_cents=entry.asked_cents,
            paid_cents=entry.paid_cents,
            state=None,
            note=entry.note,
        )

        def done(message: str | None) -> None:
            if message:
                self.notify(message)
                self.app.switch_screen(ReturnFileScreen(self.file_id))

        self.app.push_screen(MatchEntryDialog(row), done)
