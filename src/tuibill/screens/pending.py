"""Menus whose work arrives with later releases: an honest empty state, with the real counts
the desk can already act on, and where to go meanwhile."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tuibill.widgets.footer import AppFooter, AppHeader

TEXTS: dict[str, tuple[str, str]] = {
    "transmettre": (
        "Transmettre",
        "La constitution des lots, l'envoi aux caisses et la lecture des ARL ne sont pas encore "
        "disponibles dans cette version.\n\nLes factures validées restent en attente, à l'état "
        "« Validée », sans limite : rien n'est perdu. Elles figurent dans le Journal des factures "
        "(F5, filtre État).",
    ),
    "lecteur": (
        "Lecteur",
        "La lecture des cartes Vitale et CPS et le lecteur portable (TLA) ne sont pas encore "
        "disponibles dans cette version.\n\nEn attendant, validez en mode dégradé depuis "
        "Facturer (F2) ; les factures « À charger » attendent le lecteur portable.",
    ),
    "lots": (
        "Journal des lots",
        "Aucun lot : la télétransmission n'est pas encore disponible dans cette version.",
    ),
    "retours": (
        "Retours et rejets",
        "Aucun retour : les paiements et rejets des caisses (NOEMIE) seront lus ici une fois la "
        "télétransmission disponible.",
    ),
    "tiers": (
        "Tiers-payeurs",
        "Les plans d'aide, bordereaux et règlements des tiers-payeurs ne sont pas encore "
        "disponibles dans cette version.",
    ),
}


class PendingScreen(Screen):
    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def compose(self) -> ComposeResult:
        title, text = TEXTS[self.key]
        yield AppHeader()
        with VerticalScroll():
            yield Static(title, classes="title")
            yield Static(text, classes="hint", id="pending-text")
            yield Static(id="pending-counts", classes="hint")
        yield AppFooter()

    def on_mount(self) -> None:
        from datetime import date, timedelta

        from tuibill.services.dashboard import state_counts

        wanted = {"transmettre": "Validée", "lecteur": "À charger"}.get(self.key)
        if wanted:
            counts = dict(state_counts(date.today() - timedelta(days=61)))
            self.query_one("#pending-counts", Static).update(
                f"\nFactures « {wanted} » des 2 derniers mois : {counts.get(wanted, 0)}"
            )
