"""A new prescription: prescripteur, exécutant, date and the acts « CODE:NOMBRE[:COEF] ».

The prescripteur is picked in « Données › Prescripteurs » (``app.open_prescribers``), where a
missing one is created on the spot. Dismissed with the new prescription's id.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.domain.formatting import format_day
from tuibill.services.patients import PrescriberRow
from tuibill.widgets.forms import (
    DATE_CHARS,
    FormBaseline,
    PickField,
    clear_error,
    clear_errors,
    field,
    select_value,
    show_error,
)


class PrescriptionDialog(FormBaseline, ModalScreen[int | None]):
    """A new prescription: prescripteur, exécutant, date and the acts « CODE:NOMBRE[:COEF] »."""

    CSS_PATH = "../styles/patients.tcss"
    AUTO_FOCUS = "#prescriber"

    # create_prescription names these fields; the form has one « Actes » line for them.
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"count": "acts", "coefficient": "acts"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="ordonnance_enregistrer"),
        Binding("ctrl+p", "pick_prescriber", "Prescripteurs", id="ordonnance_prescripteurs"),
        Binding("escape", "cancel", "Annuler", id="ordonnance_annuler"),
    ]

    def __init__(self, patient_id: int) -> None:
        super().__init__()
        self.patient_id = patient_id

    def compose(self) -> ComposeResult:
        from tuibill.services.practice import list_practitioners

        self.practitioners = list_practitioners()
        with Vertical(classes="dialog line-form"):
            yield Static("Nouvelle ordonnance", classes="title")
            yield field(
                "Prescripteur",
                PickField("(à choisir) — Entrée : liste des prescripteurs", id="prescriber"),
            )
            yield field(
                "Exécutant",
                Select(
                    [(p.display_name, p.id) for p in self.practitioners],
                    value=self.practitioners[0].id if self.practitioners else Select.NULL,
                    prompt="(à choisir)",
                    compact=True,
                    id="practitioner",
                    classes="form-value",
                ),
            )
            yield field(
                "Date de prescription",
                Input(
                    value=format_day(date.today()),
                    placeholder="JJ/MM/AAAA",
                    restrict=DATE_CHARS,
                    max_length=10,
                    compact=True,
                    id="date",
                    classes="form-value",
                ),
            )
            yield field(
                "Actes",
                Input(
                    placeholder="CODE:NOMBRE[:COEF]  ex. AMI:10 AIS:15:3",
                    compact=True,
                    id="acts",
                    classes="form-value",
                ),
            )
            yield Static("", id="acts-hint", classes="field-hint -shown")
            yield field(
                "Notes", Input(compact=True, id="notes", classes="form-value", max_length=200)
            )
            yield Static(
                "Entrée : champ suivant — ctrl+s : enregistrer — Échap : annuler", classes="hint"
            )

    def on_mount(self) -> None:
        self._codes_hint()
        self.mark_saved()

    def unsaved_text(self) -> str:
        return "la nouvelle ordonnance"

    def _codes_hint(self) -> None:
        from tuibill.services.tariffs import TariffBook

        practitioner_id = select_value(self.query_one("#practitioner", Select))
        chosen = [p for p in self.practitioners if p.id == practitioner_id]
        hint = ""
        if chosen:
            codes = TariffBook(chosen[0].specialty).act_codes()
            hint = f"Actes {chosen[0].specialty_label.lower()} : {', '.join(codes)}"
        self.query_one("#acts-hint", Static).update(hint)

    @on(Select.Changed, "#practitioner")
    def _practitioner_changed(self, event: Select.Changed) -> None:
        clear_error(self, event.select)
        self._codes_hint()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        clear_error(self, event.input)

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "notes":
            self.action_save()
        else:
            self.focus_next()

    @on(PickField.Requested, "#prescriber")
    def _requested(self, event: PickField.Requested) -> None:
        self.action_pick_prescriber()

    def action_pick_prescriber(self) -> None:
        def chosen(prescriber: PrescriberRow | None) -> None:
            if prescriber is None:
                return
            self.query_one("#prescriber", PickField).set_value(
                prescriber.id, f"{prescriber.display_name} — {prescriber.number}"
            )
            clear_error(self, self.query_one("#prescriber", PickField))
            self.query_one("#practitioner", Select).focus()

        self.app.open_prescribers(chosen)

    def action_save(self) -> None:
        from tuibill.domain.act_notation import parse_date
        from tuibill.services.prescriptions import create_prescription, parse_prescribed_acts

        clear_errors(self)
        try:
            prescriber_id = self.query_one("#prescriber", PickField).value
            if prescriber_id is None:
                raise ValidationError(
                    "Choisissez le prescripteur (Entrée sur le champ, ou ctrl+p).",
                    field="prescriber",
                )
            practitioner_id = select_value(self.query_one("#practitioner", Select))
            if practitioner_id is None:
                raise ValidationError("Choisissez l'exécutant des soins.", field="practitioner")
            prescribed_on = parse_date(self.query_one("#date", Input).value, "date")
            acts = parse_prescribed_acts(self.query_one("#acts", Input).value)
            prescription = create_prescription(
                self.patient_id,
                prescriber_id,
                practitioner_id,
                prescribed_on,
                acts,
                notes=self.query_one("#notes", Input).value.strip(),
            )
        except TuibillError as error:
            show_error(self, error, self.FIELD_ALIASES)
            return
        self.dismiss(prescription.id)

    def action_cancel(self) -> None:
        leave_form(self, "Abandonner cette ordonnance ?")
