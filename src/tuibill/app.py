"""The Textual application: modes per menu, global F-keys, theme, keymap, and the way screens
open one another. Nothing else.

Every screen is a thin client of ``tuibill.services``; the F-keys F1–F9 are global (priority)
bindings with ids, so a user's ``[ui.keymap]`` can rebind them. Screens use letters,
ctrl+letters, Enter/Space/Insert/Delete and F10–F12 for their own actions. A screen opens
another one (an invoice, a lot, a patient file, a pick list) through the ``open_*`` / ``pick_*``
methods below, never by importing it: the screens import no screen above them, and no import
goes round in a circle.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from tuibill.config import Settings
from tuibill.screens.menu import MENU

if TYPE_CHECKING:
    from tuibill.services.patients import PrescriberRow


def _facturer():
    from tuibill.screens.facturer import FacturerScreen

    return FacturerScreen()


def _journal():
    from tuibill.screens.journal import JournalScreen

    return JournalScreen()


def _patients():
    from tuibill.screens.patients import PatientsScreen

    return PatientsScreen()


def _lecteur():
    from tuibill.screens.lecteur import LecteurScreen

    return LecteurScreen()


def _transmettre():
    from tuibill.screens.transmettre import TransmettreScreen

    return TransmettreScreen()


def _lots():
    from tuibill.screens.lots_journal import LotsJournalScreen

    return LotsJournalScreen()


def _pending(key: str):
    def build():
        from tuibill.screens.pending import PendingScreen

        return PendingScreen(key)

    return build


def _menu():
    from tuibill.screens.menu import MenuScreen

    return MenuScreen()


class TuibillApp(App[int]):
    TITLE = "tuibill"
    CSS_PATH = "styles/app.tcss"
    ENABLE_COMMAND_PALETTE = False

    MODES: ClassVar = {
        "menu": _menu,
        "facturer": _facturer,
        "transmettre": _transmettre,
        "lecteur": _lecteur,
        "journal": _journal,
        "lots": _lots,
        "retours": _pending("retours"),
        "tiers": _pending("tiers"),
        "patients": _patients,
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Aide", id="aide", priority=True),
        *[
            Binding(key, f"open_menu('{mode}')", label, id=binding_id, priority=True)
            for binding_id, key, mode, label, _ in MENU
        ],
        Binding("escape", "back", "Retour", id="retour"),
        Binding("ctrl+q", "quit", "Quitter", id="quitter", priority=True, show=False),
    ]

    def __init__(
        self, settings: Settings | None = None, user: str = "", demo: bool = False
    ) -> None:
        self.settings = settings or Settings()
        self.user = user or self.settings.user_name()
        self.demo = demo
        self.ascii_borders = self.settings.ui.ascii_borders or os.environ.get("TERM") == "linux"
        super().__init__()
        if self.settings.ui.keymap:
            self.set_keymap(self.settings.ui.keymap)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        # The Linux console has no rounded box glyphs: ASCII frames there or on request.
        variables["frame"] = "ascii" if self.ascii_borders else "round"
        return variables

    def on_mount(self) -> None:
        theme = self.settings.ui.theme
        if os.environ.get("TERM") == "linux" and theme == "textual-dark":
            theme = "ansi-dark"  # 16 colours: use the console's own palette
        if theme in self.available_themes:
            self.theme = theme
        from tuibill.services.practice import get_practice

        practice = get_practice()
        self.title = practice.name if practice else "tuibill"
        self.sub_title = f"{self.user}" + (" — DÉMONSTRATION" if self.demo else "")
        self.switch_mode("menu")

    def get_system_commands(self, screen):  # kiosk: no palette, no screenshot-to-file
        return iter(())

    def action_open_menu(self, mode: str) -> None:
        # A form with unsaved changes (« dirty ») is never left silently by an F-key.
        if getattr(self.screen, "dirty", False):
            from tuibill.dialogs.confirm import ConfirmDialog

            def leave(confirmed: bool | None) -> None:
                if confirmed:
                    self._open_menu(mode)

            self.push_screen(
                ConfirmDialog(
                    "Des modifications ne sont pas enregistrées.",
                    "Quitter cet écran sans les enregistrer ?",
                ),
                leave,
            )
            return
        self._open_menu(mode)

    def _open_menu(self, mode: str) -> None:
        if self.current_mode == mode:
            # Back to the root of that menu, as a fresh start.
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        self.switch_mode(mode)

    def action_back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.current_mode != "menu":
            self.switch_mode("menu")

    def action_help(self) -> None:
        from tuibill.dialogs.help import HelpDialog

        if isinstance(self.screen, HelpDialog):
            return
        self.push_screen(HelpDialog(self.screen))

    # --- navigation: how a screen opens another without importing it --------------------------

    def open_invoice(self, invoice_id: int) -> None:
        """The detail of an invoice (read-only, its history, its SCOR pieces)."""
        from tuibill.screens.invoice_detail import InvoiceDetailScreen

        self.push_screen(InvoiceDetailScreen(invoice_id))

    def open_lot(self, lot_id: int) -> None:
        """The detail of a lot (its invoices, files, ARLs, history and actions)."""
        from tuibill.screens.lot_detail import LotDetailScreen

        self.push_screen(LotDetailScreen(lot_id))

    def open_patient_file(self, patient_id: int | None = None, *, initial_name: str = "") -> None:
        """A patient's file; None: a new patient named *initial_name*."""
        from tuibill.screens.patient_file import PatientFileScreen

        self.push_screen(PatientFileScreen(patient_id, initial_name=initial_name))

    def pick_patient(self, chosen: Callable[[int | None], None]) -> None:
        """The patients list in pick mode: *chosen* gets the patient's id (None: Échap)."""
        from tuibill.screens.patients import PatientsScreen

        self.push_screen(PatientsScreen(pick=True), chosen)

    def open_prescribers(
        self, chosen: Callable[[PrescriberRow | None], None] | None = None
    ) -> None:
        """« Données › Prescripteurs »; with *chosen*, in pick mode (Entrée chooses)."""
        from tuibill.screens.prescribers import PrescribersScreen

        self.push_screen(PrescribersScreen(pick=chosen is not None), chosen)

    def open_rejection(self, invoice_id: int) -> None:
        """The guided treatment of a rejected (or partly paid) invoice: motif, what to do, keys."""
        from tuibill.screens.rejection_treatment import RejectionTreatmentScreen

        self.push_screen(RejectionTreatmentScreen(invoice_id))

    def open_refused_lines(self, invoice_id: int) -> None:
        """The act lines of a paid or partly paid invoice and the status of each refused one."""
        from tuibill.dialogs.refused_lines import RefusedLinesDialog

        self.push_screen(RefusedLinesDialog(invoice_id))

    def open_reports(self, name: str | None = None) -> None:
        """F7 › Rapports: the follow-up reports (*name*: one of services.reports.NAMES)."""
        from tuibill.screens.reports import ReportsScreen

        self.push_screen(ReportsScreen(name))
