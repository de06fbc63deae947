"""F1: every key of the current screen, with what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from tuibill.widgets.tables import RowTable

NAVIGATION = [
    ("Tab / Maj+Tab", "Champ suivant / précédent"),
    ("↑ ↓ ← →", "Se déplacer dans une liste ou un tableau"),
    ("PgPréc / PgSuiv", "Page précédente / suivante"),
]  # Début / Fin: listed with the list's own keys when a list has the focus


class HelpDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Fermer", id="aide_fermer"),
        Binding("f1", "dismiss", "Fermer", show=False),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self._target = screen

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Aide — touches de cet écran", classes="title")
            yield RowTable(id="keys")
            yield Static("Échap : fermer", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Touche", "Action")
        seen = set()
        for key, active in self._target.active_bindings.items():
            binding = active.binding
            # Only tuibill's own bindings (they all have an id, in French); Textual's widget
            # keys (« Cursor up »…) are summed up in French below.
            if not binding.id or not binding.description:
                continue
            if (key, binding.description) in seen:
                continue
            seen.add((key, binding.description))
            table.add_row(self.app.get_key_display(binding), binding.description)
        for keys, label in NAVIGATION:
            table.add_row(keys, label)
        table.focus()
