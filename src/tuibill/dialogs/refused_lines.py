"""The act lines of a paid or partly paid invoice, what the caisse did with each, and the status
the desk gives each refused line (seed 001), by key. A status that does not fit the line (a
« Note de crédit » on an unpaid line…) is refused with the reason, shown under the table."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tuibill.domain.formatting import format_cents, format_day


class RefusedLinesDialog(ModalScreen[None]):
    CSS = """
    RefusedLinesDialog .dialog { width: 78; max-height: 22; }
    RefusedLinesDialog DataTable { height: auto; max-height: 11; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Fermer", id="lignes_fermer"),
        Binding("r", "status('refuse')", "Refusé", id="lignes_refuse"),
        Binding("d", "status('autre-destination')", "Autre destination", id="lignes_destination"),
        Binding("c", "status('note-de-credit')", "Note de crédit", id="lignes_credit"),
        Binding("g", "status('regularisation')", "Régularisation", id="lignes_regularisation"),
        Binding("j", "status('a-juste-titre')", "À juste titre", id="lignes_juste"),
        Binding("x", "status('restaurer')", "Restaurer", id="lignes_restaurer"),
    ]

    def __init__(self, invoice_id: int) -> None:
        super().__init__()
        self.invoice_id = invoice_id
        self.rows: list = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Lignes refusées : statut de chaque ligne", classes="title")
            yield DataTable(id="refused-lines", cursor_type="row", zebra_stripes=True)
            yield Static("", id="refused-message", classes="error")
            yield Static(
                "r Refusé · d Autre destination · c Note de crédit · g Régularisation · "
                "j À juste titre · x Restaurer · Échap",
                classes="hint",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for title in ("L.", "Date", "Code", "Montant", "Payé", "Rejet", "Statut", "Reprise"):
            table.add_column(title, key=title)
        self.load()
        table.focus()

    def load(self) -> None:
        from tuibill.domain.errors import TuibillError
        from tuibill.services.line_statuses import lines_of

        table = self.query_one(DataTable)
        row_index = table.cursor_row
        table.clear()
        try:
            self.rows = lines_of(self.invoice_id)
        except TuibillError as problem:
            self.query_one("#refused-message", Static).update(str(problem))
            return
        for row in self.rows:
            paid = "" if row.refunded_cents is None else format_cents(row.refunded_cents)
            table.add_row(
                str(row.rank), format_day(row.act_date), row.code, format_cents(row.total_cents),
                paid, row.rejection[:18], row.status_label, row.carried,
            )  # fmt: skip
        if self.rows:
            table.move_cursor(row=min(row_index, len(self.rows) - 1))

    def action_status(self, status: str) -> None:
        from tuibill.domain.errors import TuibillError
        from tuibill.services.line_statuses import set_status

        if not self.rows:
            return
        rank = self.rows[self.query_one(DataTable).cursor_row].rank
        message = self.query_one("#refused-message", Static)
        try:
            row = set_status(self.invoice_id, rank, status, user=self.app.user)
        except TuibillError as problem:
            message.update(str(problem))
            return
        message.update("")
        self.notify(
            f"Ligne {row.rank} : {row.status_label or 'état d’origine'}.", title="Lignes refusées"
        )
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)
