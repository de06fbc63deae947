"""A title and a text that scrolls, to read — or to answer Oui / Non about."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class TextDialog(ModalScreen[bool]):
    """A title and a text that scrolls; Oui/Non when *confirm*, else just « Fermer ».

    Used for the previews (« constituer ces lots ? ») and the summaries of what an operation
    did, which may run to many lines: the text scrolls (↑ ↓ PgPréc PgSuiv), the keys stay.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "answer(True)", "Oui", id="texte_oui"),
        Binding("n", "answer(False)", "Non", id="texte_non"),
        Binding("enter", "enter", "Valider", show=False, id="texte_entree"),
        Binding("escape", "answer(False)", "Fermer", id="texte_fermer"),
    ]

    def __init__(self, title: str, text: str, *, confirm: bool = False, error: bool = False):
        super().__init__()
        self.title_text = title
        self.text = text
        self.confirm = confirm
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog text-dialog"):
            yield Static(self.title_text, classes="error" if self.error else "title", id="td-title")
            with VerticalScroll(id="td-body"):
                yield Static(self.text, id="td-text", markup=False)
            if self.confirm:
                with Horizontal(classes="td-buttons"):
                    yield Button("Oui (O)", id="yes", variant="primary")
                    yield Button("Non (N)", id="no")
            else:
                yield Static("Entrée ou Échap : fermer", classes="hint")

    def on_mount(self) -> None:
        if self.confirm:
            self.query_one("#yes", Button).focus()
        else:
            self.query_one("#td-body").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and parameters and parameters[0] is True:
            return self.confirm  # no « Oui » on a plain summary
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_enter(self) -> None:
        # On a question Entrée presses the focused button; on a summary it closes.
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
        else:
            self.dismiss(False)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

