"""« Données › Praticiens »: the practice's practitioners (PS), their numbering and their CPS.

Validating an invoice needs the practitioner's invoice numbering (« indiquez son prochain
numéro dans Données › Praticiens »): this is where it is set, with the next lot number and what
his CPS must carry. Entrée corrects the highlighted one (``dialogs.practitioner``), Ctrl+N adds
one.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tuibill.domain.formatting import format_invoice_number, format_lot_number
from tuibill.services.practice import PractitionerRow
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.tables import RowTable, cursor_key, keep_cursor


class PractitionerTable(RowTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Modifier", id="praticiens_modifier", key_display="Entrée"),
    ]


class PractitionersScreen(DrawnOnce[None]):
    CSS_PATH = "../styles/patients.tcss"
    TITLE = "Données › Praticiens"
    AUTO_FOCUS = "#practitioners"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new", "Nouveau praticien", id="praticiens_nouveau"),
        Binding("escape", "app.back", "Retour", id="praticiens_retour"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[PractitionerRow] = []

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static(
            "Praticiens du cabinet — Entrée : modifier — Ctrl+N : nouveau", classes="title"
        )
        yield PractitionerTable(id="practitioners")
        yield Static("", id="practitioners-hint", classes="hint", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        # At 80 columns: who, his AM number (his CPS's), what he is, his next numbers.
        table = self.query_one(DataTable)
        for title, width in (
            ("Nom", 20),
            ("N° AM", 9),
            ("Spécialité", 14),
            ("Proch. facture", 14),
            ("Lot", 3),
            ("Actif", 5),
        ):
            table.add_column(title, width=width)
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        from tuibill.services.practice import practitioner_rows

        table = self.query_one(DataTable)
        previous, index = cursor_key(table), table.cursor_row
        self.rows = practitioner_rows()
        table.clear()
        for row in self.rows:
            table.add_row(
                Text(row.display_name),
                row.am_number,
                Text(row.specialty_label),
                format_invoice_number(row.next_invoice_number) or "non configuré",
                format_lot_number(row.next_lot_number),
                "oui" if row.active else "non",
                key=str(row.id),
            )
        wanted = str(select_id) if select_id is not None else previous
        keep_cursor(table, [str(row.id) for row in self.rows], wanted, index)
        unset = [row.display_name for row in self.rows if row.next_invoice_number is None]
        self.query_one("#practitioners-hint", Static).update(
            f"Sans numérotation (ne peuvent pas valider) : {', '.join(unset)}."
            if unset
            else f"{len(self.rows)} praticien(s)."
        )

    def _current(self) -> PractitionerRow | None:
        key = cursor_key(self.query_one(DataTable))
        return next((row for row in self.rows if str(row.id) == key), None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        current = self._current()
        if current is not None:
            self._edit(current)

    def action_new(self) -> None:
        self._edit(None)

    def _edit(self, current: PractitionerRow | None) -> None:
        from tuibill.dialogs.practitioner import PractitionerDialog

        def saved(practitioner_id: int | None) -> None:
            if practitioner_id is None:
                return
            self.reload(select_id=practitioner_id)
            self.notify("Praticien enregistré.", title="Données › Praticiens")

        self.app.push_screen(PractitionerDialog(current), saved)
