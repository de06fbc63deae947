"""A prescription: prescripteur, exécutant, date and the acts « CODE:NOMBRE[:COEF] ».

New (``prescription_id=None``): every field. Existing (Entrée on it in the patient file): the
prescripteur and the date are corrected (seed 000: « Prescripteur inconnu », « Date de
prescription erronée »), the rest is shown as billed. The prescripteur is picked in « Données ›
Prescripteurs » (``app.open_prescribers``), where a missing one is created on the spot.
Dismissed with the prescription's id.
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
    """A new prescription, or the prescripteur and date of *prescription_id* to correct."""

    CSS_PATH = "../styles/patients.tcss"
    AUTO_FOCUS = "#prescriber"

    # create_prescription names these fields; the form has one « Actes » line for them.
    FIELD_ALIASES: ClassVar[dict[str, str]] = {
        "count": "acts",
        "coefficient": "acts",
        "prescription_date": "date",  # the correction's name for it
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="ordonnance_enregistrer"),
        Binding("ctrl+p", "pick_prescriber", "Prescripteurs", id="ordonnance_prescripteurs"),
        Binding("escape", "cancel", "Annuler", id="ordonnance_annuler"),
    ]

    def __init__(self, patient_id: int, prescription_id: int | None = None) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.prescription_id = prescription_id

    def compose(self) -> ComposeResult:
        from tuibill.services.practice import list_practitioners

        self.practitioners = list_practitioners()
        current = self._current()
        editing = current is not None
        with Vertical(classes="dialog line-form"):
            yield Static(
                "Nouvelle ordonnance" if current is None else
                f"Ordonnance du {format_day(current.date)} : prescripteur et date",
                classes="title",
            )
            prescriber = PickField(
                "(à choisir) — Entrée : liste des prescripteurs", id="prescriber"
            )
            if current is not None and current.prescriber_id is not None:
                prescriber.set_value(
                    current.prescriber_id,
                    f"{current.prescriber.display_name} — {current.prescriber.number}",
                )
            yield field("Prescripteur", prescriber)
            practitioners = [(p.display_name, p.id) for p in self.practitioners]
            if current is not None and current.practitioner_id not in {i for _, i in practitioners}:
                practitioners.append((current.practitioner.display_name, current.practitioner_id))
            yield field(
                "Exécutant",
                Select(
                    practitioners,
                    value=(
                        current.practitioner_id if current is not None
                        else self.practitioners[0].id if self.practitioners else Select.NULL
                    ),
                    prompt="(à choisir)",
                    compact=True,
                    id="practitioner",
                    classes="form-value",
                    disabled=editing,  # the acts billed are the exécutant's
                ),
            )
            yield field(
                "Date de prescription",
                Input(
                    value=format_day(current.date if current is not None else date.today()),
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
                    value=self._acts_text() if editing else "",
                    placeholder="CODE:NOMBRE[:COEF]  ex. AMI:10 AIS:15:3",
                    compact=True,
                    id="acts",
                    classes="form-value",
                    disabled=editing,
                ),
            )
            yield Static("", id="acts-hint", classes="field-hint -shown")
            yield field(
                "Notes",
                Input(
                    value=current.notes if current is not None else "",
                    compact=True,
                    id="notes",
                    classes="form-value",
                    max_length=200,
                    disabled=editing,
                ),
            )
            yield Static(
                "Entrée : champ suivant — Ctrl+S : enregistrer — Échap : annuler", classes="hint"
            )

    def _current(self):
        """The prescription being corrected (None: a new one)."""
        if self.prescription_id is None:
            return None
        from tuibill.services.prescriptions import get_prescription

        return get_prescription(self.prescription_id)

    def _acts_text(self) -> str:
        from tuibill.domain.formatting import format_coefficient
        from tuibill.services.prescriptions import items

        return " ".join(
            f"{item.code}:{item.count}"
            + (f":{format_coefficient(item.coefficient_x100)}" if item.coefficient_x100 != 100 else "")
            + f" ({item.billed} facturé(s))"
            for item in items(self.prescription_id)
        )

    def on_mount(self) -> None:
        self._codes_hint()
        self.mark_saved()

    def unsaved_text(self) -> str:
        return "la nouvelle ordonnance" if self.prescription_id is None else "l'ordonnance corrigée"

    def _codes_hint(self) -> None:
        from tuibill.services.tariffs import TariffBook

        practitioner_id = select_value(self.query_one("#practitioner", Select))
        chosen = [p for p in self.practitioners if p.id == practitioner_id]
        hint = ""
        if chosen and self.prescription_id is None:  # the acts of a new one only
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
        last = "notes" if self.prescription_id is None else "date"
        if event.input.id == last:
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
            next_field = "#practitioner" if self.prescription_id is None else "#date"
            self.set_focus(self.query_one(next_field))

        self.app.open_prescribers(chosen)

    def action_save(self) -> None:
        from tuibill.domain.act_notation import parse_date
        from tuibill.services.prescriptions import (
            create_prescription,
            parse_prescribed_acts,
            update_prescription_header,
        )

        clear_errors(self)
        try:
            prescriber_id = self.query_one("#prescriber", PickField).value
            if prescriber_id is None:
                raise ValidationError(
                    "Choisissez le prescripteur (Entrée sur le champ, ou Ctrl+P).",
                    field="prescriber",
                )
            prescribed_on = parse_date(self.query_one("#date", Input).value, "date")
            if self.prescription_id is not None:
                prescription = update_prescription_header(
                    self.prescription_id, prescriber_id=prescriber_id, prescribed_on=prescribed_on
                )
                self.dismiss(prescription.id)
                return
            practitioner_id = select_value(self.query_one("#practitioner", Select))
            if practitioner_id is None:
                raise ValidationError("Choisissez l'exécutant des soins.", field="practitioner")
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
