"""« Envoi incertain »: did the lot go out? A person says, having checked; never the software."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tuibill.domain.formatting import format_when
from tuibill.services.lot_views import LotSummary
from tuibill.widgets.lot_reports import lot_line


class ResolveDialog(ModalScreen[bool | None]):
    """« Envoi incertain »: did the lot go out? True (envoyé), False (pas envoyé), None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "answer(True)", "Envoyé", id="decision_envoye"),
        Binding("n", "answer(False)", "Pas envoyé", id="decision_pas_envoye"),
        Binding("escape", "cancel", "Annuler", id="decision_annuler"),
    ]

    def __init__(self, lot: LotSummary) -> None:
        super().__init__()
        self.lot = lot

    def compose(self) -> ComposeResult:
        lot = self.lot
        started = format_when(lot.send_started_at) or "?"
        with Vertical(classes="dialog"):
            yield Static(f"Lot {lot.number_text} « En cours » : envoi incertain", classes="title")
            yield Static(
                f"{lot_line(lot)}\n"
                f"L'envoi a commencé le {started} vers {lot.recipient or 'la caisse'} sans que "
                "l'on sache s'il a abouti (coupure, arrêt du poste).\n"
                "Vérifiez dans le journal du serveur d'envoi ou auprès de la caisse, puis dites "
                "ce qu'il en est. « Envoyé » : on attend son ARL. « Pas envoyé » : il repart au "
                "prochain envoi.",
                classes="hint",
                markup=False,
            )
            with Horizontal(classes="td-buttons"):
                yield Button("Envoyé (E)", id="sent", variant="primary")
                yield Button("Pas envoyé (N)", id="not-sent")
                yield Button("Annuler (Échap)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # the safe choice under a stray Entrée

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss({"sent": True, "not-sent": False}.get(event.button.id or ""))

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
