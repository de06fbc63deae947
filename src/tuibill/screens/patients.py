"""F9 Patients: search by name or NIR prefix, a list paged by key, Entrée opens the file.

The list never loads the whole table: pages of ``PAGE_SIZE`` patients are added as the cursor
or the scroll nears the end (PgDn, ↓, the mouse wheel). In pick mode (``pick=True``) the same
screen chooses a patient for another screen (the assuré of an ayant droit).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from tuibill.domain.formatting import format_day
from tuibill.domain.patients import QUALITIES
from tuibill.screens.search_list import SearchListScreen
from tuibill.services.patients import PageKey, is_nir_search, search_patients_page
from tuibill.widgets.tables import RowTable


class PagedTable(RowTable):
    """A DataTable that asks for the next page when its end comes into view."""

    # Rows from the end at which the next page is fetched.
    MARGIN: ClassVar[int] = 5

    class NearEnd(Message):
        """The scroll reached the last rows (the screen watches the cursor itself)."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.row_count and new_value >= self.max_scroll_y - self.MARGIN:
            self.post_message(self.NearEnd())


class PatientTable(PagedTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Ouvrir", id="patients_ouvrir", key_display="Entrée"),
    ]


class PatientPickTable(PagedTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Choisir", id="patients_choisir", key_display="Entrée"),
    ]


class PatientsScreen(SearchListScreen[int | None]):
    """The patients list; in pick mode, dismissed with the chosen patient's id."""

    LIST_ID = "patients"
    PLACEHOLDER = "Nom (début) ou NIR (début)"
    # Patients fetched per page (an index range scan each time).
    PAGE_SIZE: ClassVar[int] = 50

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_patient", "Nouveau patient", id="patients_nouveau"),
        Binding("ctrl+p", "prescribers", "Prescripteurs", id="patients_prescripteurs"),
        Binding("ctrl+f", "focus_search", "Rechercher", id="patients_rechercher"),
        Binding("down", "focus_list", "Liste", id="patients_liste", show=False),
    ]

    def __init__(self, *, pick: bool = False) -> None:
        super().__init__(pick=pick)
        self._next_key: PageKey | None = None
        self._loading_text = ""

    def heading(self) -> str:
        if self.pick:
            return "Choisir l'assuré : Entrée sur la ligne, Échap pour annuler"
        return "Patients — Entrée : ouvrir le dossier"

    def make_table(self) -> DataTable:
        table_class = PatientPickTable if self.pick else PatientTable
        return table_class(id="patients", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.title = "Choisir l'assuré" if self.pick else "Patients"
        table = self.table
        table.add_column("Patient", key="name", width=24)
        table.add_column("Né(e) le", key="birth", width=10)
        table.add_column("NIR", key="nir", width=15)
        table.add_column("Qualité", key="quality", width=9)
        table.add_column("Secteur", key="sector", width=7)

    def on_screen_resume(self) -> None:
        # First shown, or back from a patient file (names or NIR may have changed): keep the
        # cursor's patient.
        self.reload(keep=self.cursor_id())

    # --- the list ---

    def reload(self, keep: int | None = None) -> None:
        table = self.table
        table.clear()
        self._next_key = None
        self._loading_text = self.search_text
        self._load_page(first=True)
        if keep is not None:
            index = self._row_index(keep)
            if index is not None:
                table.move_cursor(row=index)

    def _row_index(self, patient_id: int) -> int | None:
        try:
            return self.table.get_row_index(str(patient_id))
        except RowDoesNotExist:  # not among the pages loaded
            return None

    def _load_page(self, first: bool = False) -> None:
        if not first and self._next_key is None:
            return  # the last page is already there
        table = self.table
        rows, self._next_key = search_patients_page(
            self._loading_text, limit=self.PAGE_SIZE, after_key=None if first else self._next_key
        )
        for patient in rows:
            table.add_row(
                # Text, not markup: names are typed by users.
                Text(patient.display_name),
                format_day(patient.birth_date),
                patient.nir,
                QUALITIES.get(patient.quality, patient.quality),
                Text(patient.sector),
                key=str(patient.id),
            )
        self._update_hint()

    def _update_hint(self) -> None:
        table = self.table
        text = self._loading_text.strip()
        if table.row_count == 0:
            what = "NIR" if is_nir_search(text) else "nom"
            hint = (
                f"Aucun patient dont le {what} commence par « {text} »."
                if text
                else "Aucun patient."
            )
            if not self.pick:
                hint += " Ctrl+N : créer le patient."
        else:
            more = " — la suite se charge en descendant (PgDn)" if self._next_key else ""
            hint = f"{table.row_count} patient(s) affiché(s){more}"
        self.show_hint(hint)

    @on(PagedTable.NearEnd)
    def _near_end(self) -> None:
        self._load_page()

    @on(DataTable.RowHighlighted, "#patients")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - PagedTable.MARGIN:
            self._load_page()

    @on(DataTable.RowSelected, "#patients")
    def _row_selected(self) -> None:
        self.action_open()

    # --- actions ---

    def action_open(self) -> None:
        patient_id = self.cursor_id()
        if patient_id is None:
            return
        if self.pick:
            self.dismiss(patient_id)
            return
        self.app.open_patient_file(patient_id)

    def action_new_patient(self) -> None:
        text = self.search_text.strip()
        # The name typed in the search becomes the new patient's name.
        self.app.open_patient_file(None, initial_name="" if is_nir_search(text) else text)

    def action_prescribers(self) -> None:
        self.app.open_prescribers()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Choosing an assuré is not the place to create patients or prescripteurs.
        if self.pick and action in {"new_patient", "prescribers"}:
            return False
        return True
