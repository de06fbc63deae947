"""Add an intervention to a client's planning (seed 004): day, start, end (before the start:
the next day), prestation of the contract, intervenant."""

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
from tuibill.widgets.forms import DATE_CHARS, FormBaseline, clear_errors, field, show_error


def parse_clock(text: str, field_name: str) -> int:
    value = text.strip().lower().replace("h", ":")
    hours, _, minutes = value.partition(":")
    if not hours.isdigit() or (minutes and not minutes.isdigit()):
        raise ValidationError(f"Heure « {text} » invalide (HH:MM).", field=field_name)
    total = int(hours) * 60 + int(minutes or 0)
    if int(minutes or 0) >= 60 or total > 1440:
        raise ValidationError(f"Heure « {text} » invalide (HH:MM).", field=field_name)
    return total


class InterventionDialog(FormBaseline, ModalScreen[int | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="intervention_enregistrer"),
        Binding("escape", "cancel", "Annuler", id="intervention_annuler"),
    ]

    def __init__(self, client_id: int, day: date, prestations: list[tuple[str, str]]) -> None:
        super().__init__()
        self.client_id = client_id
        self.day = day
        self.prestations = prestations  # (label, code) of the contract

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Nouvelle intervention", classes="title")
            with Vertical(classes="line-form"):
                yield field("Date", Input(format_day(self.day), id="day", compact=True, classes="form-value",
                                          restrict=DATE_CHARS, max_length=10))  # fmt: skip
                yield field("Début", Input("09:00", id="start_minute", compact=True, max_length=5,
                                           classes="form-value"))  # fmt: skip
                yield field("Fin", Input("11:00", id="end_minute", compact=True, max_length=5,
                                         classes="form-value"))  # fmt: skip
                yield field(
                    "Prestation",
                    Select(self.prestations, allow_blank=False, compact=True, id="prestation",
                           classes="form-value")
                    if self.prestations
                    else Static("(contrat vide)", id="prestation"),
                )  # fmt: skip
                yield field("Intervenant", Input(id="intervenant", compact=True, max_length=60,
                                                 classes="form-value"))  # fmt: skip
            yield Static("Ctrl+S : enregistrer — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.add_class("tiers")
        self.query_one("#day", Input).focus()
        self.mark_saved()

    def unsaved_text(self) -> str:
        def value(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value.strip()

        return (
            f"la saisie d'une intervention le {value('day')} "
            f"de {value('start_minute')} à {value('end_minute')}"
        )

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "intervenant":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        from tuibill.domain.act_notation import parse_date
        from tuibill.services.homecare import add_intervention

        clear_errors(self)
        try:
            if not self.prestations:
                raise ValidationError("Le contrat du client n'a aucune prestation.", field="prestation")
            start = parse_clock(self.query_one("#start_minute", Input).value, "start_minute")
            end = parse_clock(self.query_one("#end_minute", Input).value, "end_minute")
            if end <= start:
                end += 1440  # ends after midnight, as the planning file reads it
            item = add_intervention(
                self.client_id, parse_date(self.query_one("#day", Input).value, "day"), start, end,
                str(self.query_one("#prestation", Select).value),
                self.query_one("#intervenant", Input).value,
            )  # fmt: skip
        except TuibillError as error:
            show_error(self, error)
            return
        self.dismiss(item.id)

    def action_cancel(self) -> None:
        leave_form(self)
