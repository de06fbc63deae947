"""F9 Patients: search by name or NIR prefix, a list paged by key, Entrée opens the file.

The list never loads the whole table: pages of ``PAGE_SIZE`` patients are added as the cursor
or the scroll nears the end (PgDn, ↓, the mouse wheel). In pick mode (``pick=True``) the same
screen chooses a patient for another screen (the assuré of an ayant droit).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import RowDoesNotExist

from tuibill.domain.formatting import format_day
from tuibill.domain.patients import QUALITIES
from tuibill.services.patients import PageKey, is_nir_search, search_patients_page
from tuibill.widgets.footer import AppFooter, AppHeader


class PagedTable(DataTable):
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


class PatientsScreen(Screen[int | None]):
    """The patients list; in pick mode, dismissed with the chosen patient's id."""

    CSS_PATH = "../styles/patients.tcss"
    AUTO_FOCUS = "#search"

    # Patients fetched per page (an index range scan each time).
    PAGE_SIZE: ClassVar[int] = 50

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_patient", "Nouveau patient", id="patients_nouveau"),
        Binding("ctrl+p", "prescribers", "Prescripteurs", id="patients_prescripteurs"),
        Binding("ctrl+f", "focus_search", "Rechercher", id="patients_rechercher"),
        Binding("down", "focus_list", "Liste", id="patients_liste", show=False),
    ]

    def __init__(self, *, pick: bool = False) -> None:
        super().__init__()
        self.pick = pick
        self._next_key: PageKey | None = None
        self._loading_text = ""

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static(
            "Choisir l'assuré : Entrée sur la ligne, Échap pour annuler"
            if self.pick
            else "Patients — Entrée : ouvrir le dossier",
            classes="title",
        )
        search = Input(placeholder="Nom (début) ou NIR (début)", id="search", max_length=40)
        search.border_title = "Rechercher"
        yield search
        table_class = PatientPickTable if self.pick else PatientTable
        yield table_class(id="patients", cursor_type="row", zebra_stripes=True)
        yield Static("", id="patients-hint", classes="hint", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        self.title = "Choisir l'assuré" if self.pick else "Patients"
        table = self.query_one("#patients", PagedTable)
        table.add_column("Patient", key="name", width=24)
        table.add_column("Né(e) le", key="birth", width=10)
        table.add_column("NIR", key="nir", width=15)
        table.add_column("Qualité", key="quality", width=9)
        table.add_column("Secteur", key="sector", width=7)

    def on_screen_resume(self) -> None:
        # First shown, or back from a patient file (names or NIR may have changed): keep the
        # cursor's patient.
        self.reload(keep=self._current_id())

    # --- the list ---

    @property
    def search_text(self) -> str:
        return self.query_one("#search", Input).value

    def reload(self, keep: int | None = None) -> None:
        table = self.query_one("#patients", PagedTable)
        table.clear()
        self._next_key = None
        self._loading_text = self.search_text
        self._load_page(first=True)
        if keep is not None:
            index = self._row_index(keep)
            if index is not None:
                table.move_cursor(row=index)

    def _row_index(self, patient_id: int) -> int | None:
        table = self.query_one("#patients", PagedTable)
        try:
            return table.get_row_index(str(patient_id))
        except RowDoesNotExist:  # not among the pages loaded
            return None

    def _load_page(self, first: bool = False) -> None:
        if not first and self._next_key is None:
            return  # the last page is already there
        table = self.query_one("#patients", PagedTable)
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
        table = self.query_one("#patients", PagedTable)
        text = self._loading_text.strip()
        if table.row_count == 0:
            what = "NIR" if is_nir_search(text) else "nom"
            hint = (
                f"Aucun patient dont le {what} commence par « {text} »."
                if text
                else "Aucun patient."
            )
            if not self.pick:
                hint += " ctrl+n : créer le patient."
        else:
            more = " — la suite se charge en descendant (PgDn)" if self._next_key else ""
            hint = f"{table.row_count} patient(s) affiché(s){more}"
        self.query_one("#patients-hint", Static).update(hint)

    @on(PagedTable.NearEnd)
    def _near_end(self) -> None:
        self._load_page()

    @on(DataTable.RowHighlighted, "#patients")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - PagedTable.MARGIN:
            self._load_page()

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.action_focus_list()

    @on(DataTable.RowSelected, "#patients")
    def _row_selected(self) -> None:
        self.action_open()

    def _current_id(self) -> int | None:
        table = self.query_one("#patients", PagedTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    # --- actions ---

    def action_open(self) -> None:
        patient_id = self._current_id()
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

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def on_key(self, event: events.Key) -> None:
        # Typing on the list starts a new search: the desk never has to aim first. The key is
        # handed on after the focus (which selects the old text, so the key replaces it).
        search = self.query_one("#search", Input)
        if event.is_printable and event.character and self.focused is not search:
            event.stop()
            self.set_focus(search)  # now, not later as Widget.focus() would
            search.post_message(events.Key(event.key, event.character))

    def action_focus_list(self) -> None:
        table = self.query_one("#patients", PagedTable)
        if table.row_count:
            table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Choosing an assuré is not the place to create patients or prescripteurs.
        if self.pick and action in {"new_patient", "prescribers"}:
            return False
        return True
