"""Pick a patient by the start of the name or of the NIR; returns the patient's id or None."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tuibill.dialogs.vitale_patient import format_nir
from tuibill.domain.formatting import format_day

RESULT_LIMIT = 50


class PickPatientDialog(ModalScreen[int | None]):
    """Type a name prefix (« DUP », « dupuis al ») or NIR digits; Entrée picks, Échap cancels."""

    CSS_PATH = "../styles/facturer.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Annuler", id="patient_choix_annuler"),
        Binding("down", "to_list", "Liste", show=False, id="patient_choix_liste"),
    ]

    def __init__(self, title: str = "Choisir le patient", initial: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="pick-patient"):
            yield Static(self.title_text, classes="title")
            yield Input(
                value=self.initial,
                placeholder="Nom (début) ou NIR",
                id="pick-query",
            )
            yield OptionList(id="pick-results")
            yield Static("", id="pick-count", classes="hint")
            yield Static("Entrée : choisir — Flèche bas : liste — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self._search(self.initial)
        self.query_one("#pick-query", Input).focus()

    def _search(self, text: str) -> None:
        from tuibill.services.patients import search_patients

        patients = search_patients(text, limit=RESULT_LIMIT)
        results = self.query_one("#pick-results", OptionList)
        results.clear_options()
        results.add_options(
            Option(
                # A Text, not a str: a name is never read as markup.
                Text(
                    f"{p.display_name:<28.28} {format_day(p.birth_date)}  {format_nir(p.nir)}"
                    + (f"  {p.sector}" if p.sector else "")
                ),
                id=str(p.id),
            )
            for p in patients
        )
        if patients:
            results.highlighted = 0
        more = " (affinez la recherche)" if len(patients) >= RESULT_LIMIT else ""
        count = f"{len(patients)} patient(s){more}" if patients else "Aucun patient trouvé."
        self.query_one("#pick-count", Static).update(count)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        results = self.query_one("#pick-results", OptionList)
        if results.option_count == 0:
            self.app.bell()
            return
        index = results.highlighted if results.highlighted is not None else 0
        self._pick(results.get_option_at_index(index))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._pick(event.option)

    def _pick(self, option: Option) -> None:
        self.dismiss(int(option.id))

    def action_to_list(self) -> None:
        results = self.query_one("#pick-results", OptionList)
        if results.option_count:
            results.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
