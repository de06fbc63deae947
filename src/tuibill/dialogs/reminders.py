"""« Relances tiers-payeurs » (seed 004): choose the level and the method, tick the payers
(a payer without e-mail address is marked ⚠), send."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from tuibill.domain.formatting import format_cents
from tuibill.widgets.forms import field


class RemindersDialog(ModalScreen[tuple[int, str, list[int]] | None]):
    """Dismissed with (level, method, payer ids) to send, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Envoyer", id="relance_envoyer"),
        Binding("escape", "cancel", "Annuler", id="relance_annuler"),
    ]

    def __init__(self, levels: list[tuple[int, int, str]]) -> None:
        super().__init__()
        self.levels = levels  # (number, days, title)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Relances tiers-payeurs", classes="title")
            with Vertical(classes="line-form"):
                yield field("Niveau", Select(
                    [(f"{n} — J+{days} {title}", n) for n, days, title in self.levels],
                    allow_blank=False, compact=True, id="level",
                ))  # fmt: skip
                yield field("Méthode", Select(
                    [("Courriel", "courriel"), ("Courrier (PDF)", "courrier")],
                    allow_blank=False, value="courriel", compact=True, id="method",
                ))  # fmt: skip
            yield SelectionList[int](id="payers")
            yield Static("", id="reminder-hint", classes="hint", markup=False)
            yield Static("Espace : cocher — Ctrl+S : envoyer — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.add_class("tiers")
        self._load()
        self.query_one("#payers", SelectionList).focus()

    @on(Select.Changed, "#level")
    def _level_changed(self) -> None:
        self._load()

    def _load(self) -> None:
        from tuibill.services.payer_mail import reminder_candidates

        level = int(self.query_one("#level", Select).value)
        candidates = reminder_candidates(level)
        payers = self.query_one("#payers", SelectionList)
        payers.clear_options()
        payers.add_options([
            Selection(
                f"{'⚠ ' if not c.email else ''}{c.payer} — {len(c.lines)} bordereau(x), reste "
                f"{format_cents(c.remaining_cents)} €",
                c.payer_id, True,
            )
            for c in candidates
        ])  # fmt: skip
        missing = sum(1 for c in candidates if not c.email)
        self.query_one("#reminder-hint", Static).update(
            (f"{len(candidates)} tiers-payeur(s) à relancer"
             + (f" ; ⚠ {missing} sans adresse e-mail (par courrier seulement)" if missing else ""))
            if candidates else "Aucun tiers-payeur à relancer à ce niveau."
        )  # fmt: skip

    def action_send(self) -> None:
        chosen = list(self.query_one("#payers", SelectionList).selected)
        if not chosen:
            self.notify("Cochez au moins un tiers-payeur.", severity="warning")
            return
        self.dismiss(
            (int(self.query_one("#level", Select).value), str(self.query_one("#method", Select).value), chosen)
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
