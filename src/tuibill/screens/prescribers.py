"""« Données › Prescripteurs »: list and search the prescribing doctors, create and correct them.

Seed 000: an invoice rejected for « Prescripteur inconnu » is fixed by creating or correcting
the prescripteur here. In pick mode (``pick=True``, from the prescription form, through
``app.open_prescribers``) Entrée chooses the prescripteur under the cursor.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input
from textual.widgets.data_table import RowDoesNotExist

from tuibill.dialogs.prescriber import PrescriberDialog
from tuibill.screens.search_list import SearchListScreen
from tuibill.services.patients import PrescriberRow, prescriber_rows
from tuibill.widgets.tables import RowTable


class PrescriberTable(RowTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter", "select_cursor", "Modifier", id="prescripteurs_entree", key_display="Entrée"
        ),
    ]


class PrescriberPickTable(PrescriberTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter", "select_cursor", "Choisir", id="prescripteurs_choisir", key_display="Entrée"
        ),
    ]


class PrescribersScreen(SearchListScreen[PrescriberRow | None]):
    LIST_ID = "prescribers"
    PLACEHOLDER = "Nom (début) ou numéro (début)"
    # Prescripteurs are a few hundred at most: one bounded query per search.
    LIMIT: ClassVar[int] = 200

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new", "Nouveau prescripteur", id="prescripteurs_nouveau"),
        Binding("ctrl+o", "edit", "Modifier", id="prescripteurs_modifier"),
        Binding("ctrl+f", "focus_search", "Rechercher", id="prescripteurs_rechercher"),
        Binding("down", "focus_list", "Liste", id="prescripteurs_liste", show=False),
    ]

    def __init__(self, *, pick: bool = False) -> None:
        super().__init__(pick=pick)
        self._rows: dict[int, PrescriberRow] = {}  # the prescripteurs listed, by id

    def heading(self) -> str:
        if self.pick:
            return "Choisir le prescripteur : Entrée — Ctrl+N : le créer s'il manque"
        return "Données › Prescripteurs — Entrée : modifier"

    def make_table(self) -> DataTable:
        table_class = PrescriberPickTable if self.pick else PrescriberTable
        return table_class(id="prescribers", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.title = "Choisir le prescripteur" if self.pick else "Prescripteurs"
        table = self.table
        table.add_column("Numéro", width=11)
        table.add_column("Nom", width=20)
        table.add_column("Prénom", width=14)
        table.add_column("Spécialité", width=20)
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        text = self.search_text.strip()
        table = self.table
        table.clear()
        rows = prescriber_rows(text, limit=self.LIMIT)
        self._rows = {prescriber.id: prescriber for prescriber in rows}
        for prescriber in rows:
            table.add_row(
                prescriber.number,
                # Text, not markup: names are typed by users.
                Text(prescriber.last_name),
                Text(prescriber.first_name),
                Text(prescriber.specialty),
                key=str(prescriber.id),
            )
        if not rows:
            hint = f"Aucun prescripteur pour « {text} »." if text else "Aucun prescripteur."
            hint += " Ctrl+N : créer le prescripteur."
        else:
            more = " (affinez la recherche)" if len(rows) == self.LIMIT else ""
            hint = f"{len(rows)} prescripteur(s){more}"
        self.show_hint(hint)
        if select_id is not None:
            try:
                table.move_cursor(row=table.get_row_index(str(select_id)))
            except RowDoesNotExist:  # filtered out by the search text
                pass

    def _current(self) -> PrescriberRow | None:
        prescriber_id = self.cursor_id()
        return None if prescriber_id is None else self._rows.get(prescriber_id)

    @on(DataTable.RowSelected, "#prescribers")
    def _row_selected(self) -> None:
        prescriber = self._current()
        if prescriber is None:
            return
        if self.pick:
            self.dismiss(prescriber)
        else:
            self.action_edit()

    def _after_dialog(self, prescriber: PrescriberRow | None) -> None:
        if prescriber is None:
            return
        self.query_one("#search", Input).value = ""  # show it whatever was searched
        self.reload(select_id=prescriber.id)
        self.table.focus()
        self.notify(
            f"{prescriber.display_name} — {prescriber.number}"
            + (" — Entrée pour le choisir" if self.pick else ""),
            title="Prescripteur enregistré",
            markup=False,
        )

    def action_new(self) -> None:
        self.app.push_screen(PrescriberDialog(None), self._after_dialog)

    def action_edit(self) -> None:
        prescriber = self._current()
        if prescriber is None:
            self.notify("Aucun prescripteur sélectionné.", severity="warning")
            return
        self.app.push_screen(PrescriberDialog(prescriber), self._after_dialog)
