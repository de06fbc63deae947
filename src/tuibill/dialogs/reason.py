"""Ask for a short reason (recorded in the invoice's history)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ReasonDialog(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Annuler", id="motif_annuler")]

    def __init__(self, question: str, *, required: bool = True, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.required = required
        self.detail = detail  # what the reason is for (the invoices concerned…)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="title", markup=False)
            if self.detail:
                yield Static(self.detail, classes="hint", markup=False)
            yield Input(placeholder="Motif", id="reason")
            yield Static("", id="reason-error", classes="error")
            yield Static("Entrée : valider — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if self.required and not value:
            self.query_one("#reason-error", Static).update("Le motif est obligatoire.")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
