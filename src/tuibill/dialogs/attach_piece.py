"""Attach a SCOR piece (a PDF file on disk) to a mode-dégradé invoice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static


@dataclass(frozen=True)
class PieceRequest:
    path: Path
    kind: str


class AttachPieceDialog(ModalScreen[PieceRequest | None]):
    BINDINGS = [Binding("escape", "cancel", "Annuler", id="piece_annuler")]

    def __init__(self, kinds: dict[str, str]) -> None:
        super().__init__()
        self.kinds = kinds

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Joindre une pièce SCOR (PDF)", classes="title")
            yield Select(
                [(label, kind) for kind, label in self.kinds.items()],
                value=next(iter(self.kinds)),
                allow_blank=False,
                id="piece-kind",
            )
            yield Input(placeholder="Chemin du fichier PDF", id="piece-path")
            yield Static("", id="piece-error", classes="error")
            yield Static("Entrée : joindre — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#piece-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip() or not path.is_file():
            self.query_one("#piece-error", Static).update(f"Fichier introuvable : {path}")
            return
        self.dismiss(PieceRequest(path, str(self.query_one("#piece-kind", Select).value)))

    def action_cancel(self) -> None:
        self.dismiss(None)
