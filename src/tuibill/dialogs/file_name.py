"""Ask for a file name to save under, proposing one."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PathDialog(ModalScreen[str | None]):
    """Ask for a file name, proposing one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Annuler", id="fichier_annuler"),
    ]

    def __init__(self, question: str, default: str, hint: str = "") -> None:
        super().__init__()
        self.question = question
        self.default = default
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="title")
            if self.hint:
                yield Static(self.hint, classes="hint", markup=False)
            yield Input(self.default, id="path")
            yield Static("", id="path-error", classes="error")
            yield Static("Entrée : enregistrer — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            self.query_one("#path-error", Static).update("Indiquez un nom de fichier.")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
