"""Yes/no confirmation, keyboard first (O / N, Entrée, Échap)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmDialog(ModalScreen[bool]):
    # The button focused at first, as a class attribute: a subclass's on_mount could not move
    # it (Textual runs every class's on_mount, the base's last).
    AUTO_FOCUS = "#yes"
    BINDINGS = [
        Binding("o", "answer(True)", "Oui", id="confirmer_oui"),
        Binding("n", "answer(False)", "Non", id="confirmer_non"),
        Binding("escape", "answer(False)", "Annuler", id="confirmer_annuler"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            # Plain text: the names and reasons shown are typed by users.
            yield Static(self.question, classes="title", markup=False)
            if self.detail:
                yield Static(self.detail, classes="hint", markup=False)
            with HorizontalGroup():
                yield Button("Oui (O)", id="yes", variant="primary")
                yield Button("Non (N)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

