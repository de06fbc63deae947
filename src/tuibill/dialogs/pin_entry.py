"""The CPS PIN (« code porteur »): typed masked, returned to the caller, never kept.

The dialog shows whose card it is and how many tries are left, and the previous attempt's
error. The PIN is only the dismiss value: it is not logged, not stored in an attribute, and the
field is emptied before the dialog closes.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

PIN_MIN, PIN_MAX = 4, 8  # what the card layer accepts (PinFormatError otherwise)


def tries_text(tries_left: int) -> str:
    if tries_left <= 1:
        return "Dernier essai : un code erroné bloquera la carte."
    return f"{tries_left} essais restants."


class PinDialog(ModalScreen[str | None]):
    """Returns the PIN typed, or None (Échap)."""

    DEFAULT_CSS = """
    PinDialog #pin-holder {
        padding: 0 1;
        text-style: bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Annuler", id="code_porteur_annuler"),
    ]

    def __init__(self, holder: str, tries_left: int, *, purpose: str = "", error: str = "") -> None:
        super().__init__()
        self.holder = holder
        self.tries_left = tries_left
        self.purpose = purpose
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="pin-dialog"):
            yield Static("Code porteur de la carte", classes="title")
            yield Static(self.holder, id="pin-holder", markup=False)
            if self.purpose:
                yield Static(self.purpose, classes="hint", markup=False)
            yield Static(
                tries_text(self.tries_left),
                id="pin-tries",
                classes="error" if self.tries_left <= 1 else "hint",
            )
            yield Input(
                placeholder="Code (4 à 8 chiffres)",
                password=True,
                max_length=PIN_MAX,
                restrict=r"[0-9]*",
                id="pin",
            )
            yield Static(self.error, id="pin-error", classes="error", markup=False)
            yield Static("Entrée : valider — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#pin", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = self.query_one("#pin", Input)
        if not PIN_MIN <= len(event.value) <= PIN_MAX:
            self.query_one("#pin-error", Static).update("Le code porteur compte 4 à 8 chiffres.")
            return
        value = event.value
        field.value = ""  # nothing of it stays on screen
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.query_one("#pin", Input).value = ""
        self.dismiss(None)
