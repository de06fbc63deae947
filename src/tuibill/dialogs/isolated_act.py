"""Record an act done without a prescription, to bill later (« Actes isolés »)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.act_notation import parse_act
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.domain.formatting import format_day
from tuibill.widgets.act_line import ACT_NOTATION
from tuibill.widgets.forms import show_message


class IsolatedActDialog(ModalScreen[int | None]):
    """Record an act done without a prescription, to bill later (« Actes isolés »)."""

    CSS_PATH = "../styles/facturer.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="acte_isole_enregistrer"),
        Binding("escape", "cancel", "Annuler", id="acte_isole_annuler"),
    ]

    def __init__(self, patient_id: int, practitioner_id: int | None) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.practitioner_id = practitioner_id

    def compose(self) -> ComposeResult:
        from tuibill.services.patients import get_patient
        from tuibill.services.practice import list_practitioners

        practitioners = [(p.display_name, p.id) for p in list_practitioners()]
        default = self.practitioner_id
        if default not in {pid for _, pid in practitioners}:
            default = practitioners[0][1] if practitioners else Select.NULL
        with Vertical(classes="dialog", id="isolated-act"):
            yield Static("Enregistrer un acte isolé", classes="title")
            yield Static(f"Patient : {get_patient(self.patient_id).display_name}", markup=False)
            with Horizontal(classes="form-row"):
                yield Label("Praticien :", classes="form-label")
                yield Select(
                    practitioners,
                    value=default,
                    allow_blank=not practitioners,
                    compact=True,
                    id="isolated-practitioner",
                )
            yield Static(
                "", id="isolated-practitioner-error", classes="error field-error", markup=False
            )
            with Horizontal(classes="form-row"):
                yield Label("Acte :", classes="form-label")
                yield Input(
                    f"{format_day(date.today())} ",
                    compact=True,
                    id="isolated-act-text",
                    placeholder=ACT_NOTATION,
                    select_on_focus=False,
                )
            yield Static("", id="isolated-act-error", classes="error field-error", markup=False)
            yield Static(
                f"{ACT_NOTATION}\nEntrée ou Ctrl+S : enregistrer — Échap : annuler",
                classes="hint",
                markup=False,
            )

    def on_mount(self) -> None:
        for widget in self.query(".field-error"):
            widget.display = False
        act_input = self.query_one("#isolated-act-text", Input)
        self._initial_text = act_input.value
        act_input.focus()
        act_input.cursor_position = len(act_input.value)

    def on_input_changed(self, event: Input.Changed) -> None:
        # The error was about the previous text: it goes as soon as the act is retyped.
        event.stop()
        event.input.remove_class("-invalid")
        show_message(self.query_one("#isolated-act-error", Static), "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        from tuibill.services.acts import record_isolated_act_spec

        act_input = self.query_one("#isolated-act-text", Input)
        act_error = self.query_one("#isolated-act-error", Static)
        practitioner_error = self.query_one("#isolated-practitioner-error", Static)
        show_message(act_error, "")
        show_message(practitioner_error, "")
        practitioner = self.query_one("#isolated-practitioner", Select).value
        try:
            if practitioner is Select.NULL:
                raise ValidationError("Choisissez le praticien.", field="practitioner")
            spec = parse_act(act_input.value)
            act = record_isolated_act_spec(self.patient_id, int(practitioner), spec)
        except ValidationError as error:
            if error.field == "practitioner":
                show_message(practitioner_error, str(error))
            else:
                show_message(act_error, str(error))
                act_input.add_class("-invalid")
            self.app.bell()
            return
        except TuibillError as error:
            show_message(act_error, str(error))
            self.app.bell()
            return
        self.dismiss(act.id)

    def has_unsaved_changes(self) -> bool:
        """The act typed (beyond today's date, already there) is not saved yet."""
        if not self.is_mounted:
            return False
        return self.query_one("#isolated-act-text", Input).value.strip() != self._initial_text.strip()

    def unsaved_text(self) -> str:
        return f"l'acte isolé « {self.query_one('#isolated-act-text', Input).value.strip()} »"

    def action_cancel(self) -> None:
        leave_form(self, "Abandonner cet acte isolé ?")
