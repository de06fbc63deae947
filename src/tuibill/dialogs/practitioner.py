"""Create or correct a practitioner (« Données › Praticiens »): identity, specialty, the CPS his
invoices are signed with, and the next invoice and lot numbers. Errors show at their field."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Select, Static

from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.services.practice import PractitionerInput, PractitionerRow
from tuibill.widgets.forms import (
    FormBaseline,
    clear_error,
    clear_errors,
    field,
    select_value,
    show_error,
)


class PractitionerDialog(FormBaseline, ModalScreen[int | None]):
    """Create (``None``) or correct a practitioner; dismissed with his id once saved."""

    CSS_PATH = "../styles/patients.tcss"
    AUTO_FOCUS = "#last_name"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="praticien_enregistrer"),
        Binding("escape", "cancel", "Annuler", id="praticien_annuler"),
    ]

    def __init__(self, current: PractitionerRow | None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        from tuibill.services.practice import specialties

        current = self.current
        with Vertical(classes="dialog line-form", id="practitioner-form"):
            yield Static(
                "Nouveau praticien" if current is None else f"Praticien {current.display_name}",
                classes="title",
                markup=False,
            )
            yield field("Nom", self._input("last_name", current.last_name if current else ""))
            yield field(
                "Prénom", self._input("first_name", current.first_name if current else "")
            )
            am = self._input(
                "am_number",
                current.am_number if current else "",
                restrict=r"[0-9]*",
                max_length=9,
                placeholder="9 chiffres",
            )
            # His invoices, lots and signatures carry it: kept once he has billed.
            am.disabled = bool(current and current.has_billed)
            yield field("N° AM (facturation)", am)
            yield field(
                "N° RPPS",
                self._input(
                    "rpps",
                    current.rpps if current else "",
                    restrict=r"[0-9]*",
                    max_length=11,
                    placeholder="11 chiffres (facultatif)",
                ),
            )
            yield field(
                "Spécialité",
                Select(
                    [(f"{code} {label}", code) for code, label in specialties().items()],
                    value=current.specialty if current else "24",
                    allow_blank=False,
                    compact=True,
                    id="specialty",
                    classes="form-value",
                ),
            )
            yield field(
                "Zone tarifaire",
                self._input(
                    "zone", current.zone if current else "01", restrict=r"[0-9]*", max_length=2
                ),
            )
            active = Checkbox(
                "oui" if current is None or current.active else "non",
                value=current is None or current.active,
                compact=True,
                id="active",
                classes="form-value",
            )
            yield field("Actif", active)
            yield field(
                "Prochain n° de facture",
                self._input(
                    "next_invoice_number",
                    str(current.next_invoice_number)
                    if current and current.next_invoice_number is not None
                    else "",
                    restrict=r"[0-9]*",
                    max_length=9,
                    placeholder="non configuré : il ne peut pas valider",
                ),
            )
            yield field(
                "Prochain n° de lot",
                self._input(
                    "next_lot_number",
                    str(current.next_lot_number)
                    if current and current.next_lot_number is not None
                    else "",
                    restrict=r"[0-9]*",
                    max_length=3,
                    placeholder="1 à 999",
                ),
            )
            yield Static(self._cps_text(), id="cps-hint", classes="field-hint -shown")
            yield Static(
                "Entrée : champ suivant — Ctrl+S : enregistrer — Échap : annuler", classes="hint"
            )

    @staticmethod
    def _input(widget_id: str, value: str, **options: Any) -> Input:
        options.setdefault("max_length", 60)
        return Input(value=value, id=widget_id, compact=True, classes="form-value", **options)

    def _cps_text(self) -> str:
        am = self.query_one("#am_number", Input).value if self.is_mounted else (
            self.current.am_number if self.current else ""
        )
        if not am:
            return "CPS : celle qui porte son numéro AM signe ses factures."
        return f"CPS : la carte n° {am} signe ses factures (une autre est refusée)."

    def on_mount(self) -> None:
        self.mark_saved()

    def unsaved_text(self) -> str:
        if self.current is None:
            return "le nouveau praticien"
        return f"le praticien {self.current.display_name}"

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        clear_error(self, event.input)
        if event.input.id == "am_number":
            self.query_one("#cps-hint", Static).update(self._cps_text())

    @on(Checkbox.Changed)
    def _checked(self, event: Checkbox.Changed) -> None:
        event.checkbox.label = "oui" if event.value else "non"

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "next_lot_number":
            self.action_save()
        else:
            self.focus_next()

    def _number(self, widget_id: str) -> int | None:
        text = self.query_one(f"#{widget_id}", Input).value.strip()
        return int(text) if text else None

    def _collect(self) -> PractitionerInput:
        def text(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value.strip()

        if self.current is not None and self.current.next_invoice_number is not None:
            if self._number("next_invoice_number") is None:
                raise ValidationError(
                    "Le prochain numéro de facture ne s'efface pas une fois configuré.",
                    field="next_invoice_number",
                )
        return PractitionerInput(
            last_name=text("last_name"),
            first_name=text("first_name"),
            am_number=text("am_number"),
            rpps=text("rpps"),
            specialty=str(select_value(self.query_one("#specialty", Select)) or ""),
            zone=text("zone"),
            active=self.query_one("#active", Checkbox).value,
            next_invoice_number=self._number("next_invoice_number"),
            next_lot_number=self._number("next_lot_number"),
        )

    def action_save(self) -> None:
        from tuibill.services.practice import save_practitioner

        clear_errors(self)
        try:
            saved = save_practitioner(
                self.current.id if self.current else None, self._collect(), user=self.app.user
            )
        except TuibillError as error:
            show_error(self, error)
            return
        self.dismiss(saved.id)

    def action_cancel(self) -> None:
        leave_form(self, "Abandonner la saisie du praticien ?")
