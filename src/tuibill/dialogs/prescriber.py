"""Create or correct a prescripteur (« Données › Prescripteurs »); errors show at their field."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.errors import TuibillError
from tuibill.services.patients import PrescriberRow
from tuibill.widgets.forms import FormBaseline, clear_error, clear_errors, field, show_error


class PrescriberDialog(FormBaseline, ModalScreen[PrescriberRow | None]):
    """Create (``None``) or correct a prescripteur; dismissed with the one saved."""

    CSS_PATH = "../styles/patients.tcss"
    AUTO_FOCUS = "#number"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="prescripteur_enregistrer"),
        Binding("escape", "cancel", "Annuler", id="prescripteur_annuler"),
    ]

    def __init__(self, prescriber: PrescriberRow | None) -> None:
        super().__init__()
        self.prescriber = prescriber

    def compose(self) -> ComposeResult:
        current = self.prescriber
        with Vertical(classes="dialog line-form"):
            yield Static(
                "Nouveau prescripteur" if current is None else "Modifier le prescripteur",
                classes="title",
            )
            yield field(
                "Numéro (AM/RPPS)",
                self._input(
                    "number",
                    current.number if current else "",
                    placeholder="9 chiffres (AM) ou 11 (RPPS)",
                    restrict=r"[0-9]*",
                    max_length=11,
                ),
            )
            yield field("Nom", self._input("last_name", current.last_name if current else ""))
            yield field("Prénom", self._input("first_name", current.first_name if current else ""))
            yield field(
                "Spécialité",
                self._input("specialty", current.specialty if current else "Médecine générale"),
            )
            yield Static(
                "Entrée : champ suivant — Ctrl+S : enregistrer — Échap : annuler", classes="hint"
            )

    @staticmethod
    def _input(widget_id: str, value: str, **options: Any) -> Input:
        options.setdefault("max_length", 60)
        return Input(value=value, id=widget_id, compact=True, classes="form-value", **options)

    def on_mount(self) -> None:
        self.mark_saved()

    def unsaved_text(self) -> str:
        if self.prescriber is None:
            return "le nouveau prescripteur"
        return f"le prescripteur {self.prescriber.display_name}"

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        clear_error(self, event.input)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "specialty":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        from tuibill.services.patients import (
            create_prescriber,
            prescriber_row,
            update_prescriber,
        )

        def value(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value

        clear_errors(self)
        try:
            if self.prescriber is None:
                saved = create_prescriber(
                    value("number"), value("last_name"), value("first_name"), value("specialty")
                )
            else:
                saved = update_prescriber(
                    self.prescriber.id,
                    value("number"),
                    value("last_name"),
                    value("first_name"),
                    value("specialty"),
                )
        except TuibillError as error:
            show_error(self, error)
            return
        self.dismiss(prescriber_row(saved))

    def action_cancel(self) -> None:
        leave_form(self, "Abandonner la saisie du prescripteur ?")
