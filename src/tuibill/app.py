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

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App, ScreenStackError
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.screen import Screen

from tuibill.config import Settings
from tuibill.screens.menu import MENU
from tuibill.widgets.console import ConsoleDriver, is_plain_console
from tuibill.widgets.localize import key_display, translate_textual_bindings
from tuibill.widgets.type_ahead import TypeAhead

if TYPE_CHECKING:
    from tuibill.services.dashboard import MenuFacts
    from tuibill.services.patients import PrescriberRow
    from tuibill.services.users import Session

# What a kiosk does instead of leaving: these keys lock the screen (docs/kiosk.md).
KIOSK_LOCK_KEYS = "ctrl+c,ctrl+z,ctrl+backslash"
# The actions still possible on the login and lock screens.
_WHILE_LOCKED = frozenset({"lock", "quit", "help_quit", "command_palette"})


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


def _returns(view: str):
    def build():
        from tuibill.screens.returns import view_screen

        return view_screen(view)

    return build


def _tiers():
    from tuibill.screens.tiers_payeurs import TiersPayeursScreen

    return TiersPayeursScreen()


def _menu():
    from tuibill.screens.menu import MenuScreen

    menu = MenuScreen()
    if not menu.app.screen_stack:
        # The desk's first screen: the style sheet was just read with the app's variables, yet
        # Textual reads it all again and restyles every node for a screen of MODES (~30 ms of
        # CPU at start-up, issue 12). A theme change still re-reads it (Textual's own count).
        menu._css_update_count = menu.app._css_update_count
    return menu


def _titled(mode: str, build: Callable[[], Screen]) -> Callable[[], Screen]:
    """A menu's first screen, named in the header by its label in the menu (unless it names
    itself): every screen says where the user is."""
    menu = mode.split("-")[0]  # F7's lists (« retours-virements »…) are the menu « retours »
    title = next(label for _, _, menu_mode, _, label in MENU if menu_mode == menu)

    def titled() -> Screen:
        screen = build()
        if screen.title is None:
            screen.title = title
        return screen

    return titled


class TuibillApp(App[int]):
    TITLE = "tuibill"
    CSS_PATH = "styles/app.tcss"
    ENABLE_COMMAND_PALETTE = False
    # The menu is the first screen, made when the app composes: no default screen made and
    # left, nor the two style sheet re-reads a mode switch costs (issue 12, start-up).
    DEFAULT_MODE = "menu"

    MODES: ClassVar = {
        "menu": _menu,
        **{
            mode: _titled(mode, build)
            for mode, build in (
                ("facturer", _facturer),
                ("transmettre", _transmettre),
                ("lecteur", _lecteur),
                ("journal", _journal),
                ("lots", _lots),
                # F7's five lists are modes of their own: each keeps its place while the others
                # are seen.
                ("retours", _returns("fichiers")),
                ("retours-virements", _returns("virements")),
                ("retours-rejets", _returns("rejets")),
                ("retours-partiels", _returns("partiels")),
                ("retours-non-rapprochees", _returns("non-rapprochees")),
                ("tiers", _tiers),
                ("patients", _patients),
            )
        },
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
        self,
        settings: Settings | None = None,
        user: str = "",
        demo: bool = False,
        *,
        session: Session | None = None,
        kiosk: bool | None = None,
        login_hint: str = "",
        menu_facts: MenuFacts | None = None,
    ) -> None:
        """*session*: already logged in (the demo, ``--user`` with TUIBILL_PASSWORD); *user*:
        an account already authenticated by the caller (or, on a database without accounts,
        the name to record); neither: the login screen asks."""
        self.settings = settings or Settings()
        self.session = session
        # The logged-in login: what every service call records (never the OS login).
        self.user = session.login if session else user
        self._given_user = user
        self.login_hint = login_hint or self.settings.user.name
        self.demo = demo
        self.menu_facts = menu_facts  # read ahead by the start, taken by the menu's first display
        self.kiosk = self.settings.ui.kiosk if kiosk is None else kiosk
        self.last_input = time.monotonic()
        # The Linux console's fonts: ASCII frames and glyphs (widgets.console decides).
        self.ascii_borders = is_plain_console(self.settings.ui.ascii_borders)
        translate_textual_bindings()
        super().__init__()
        # No tooltips in the desk (keys, not a mouse): Textual would add their widget to every
        # screen, one more node to style and lay out at each screen's first display (issue 12).
        self._disable_tooltips = True
        self.type_ahead = TypeAhead(self)
        if self.kiosk:
            # Textual's copy of the class's bindings shares each key's list with the class:
            # bound in place, Ctrl+C would lock every later app of the process, kiosk or not.
            bindings = self._bindings.key_to_bindings
            self._bindings.key_to_bindings = {key: list(each) for key, each in bindings.items()}
            self._bindings.bind(KIOSK_LOCK_KEYS, "lock", "Verrouiller", show=False, priority=True)
        if self.settings.ui.keymap:
            self.set_keymap(self.settings.ui.keymap)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.last_input = time.monotonic()  # the idle lock counts from the last key
        if isinstance(event, events.Key) and not event.is_forwarded:
            # A key of a burst waits until the keys before it have moved the focus
            # (widgets.type_ahead): each lands in the field it was typed for.
            if not self.type_ahead.admit(event):
                return
            await super().on_event(event)
            self.type_ahead.handed_on()
            return
        if (
            isinstance(event, events.Resize)
            and event.size == self._size
            and self._resize_timer is None
        ):
            # The terminal's size again, unchanged: Textual would still hand it to the screen
            # once idle, which lays it out and draws it all again — at every start, where the
            # driver's first size comes after the app's own: a second full frame (~7 KB) just
            # after the first (issue 12, start-up). A real change, or one under way (the
            # timer), goes through.
            event.stop()
            return
        await super().on_event(event)

    def get_driver_class(self) -> type[Driver]:
        driver_class = super().get_driver_class()
        if self.ascii_borders and issubclass(ConsoleDriver, driver_class):
            return ConsoleDriver  # only what a console font can draw reaches the terminal
        return driver_class

    def get_key_display(self, binding: Binding) -> str:
        """Keys named in French in the footer, F1 and the hint lines (widgets.localize)."""
        return binding.key_display or key_display(binding.key)

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header: where the user is (the screen's title) first, then who and which base."""
        if not sub_title:
            return Content(title).stylize("bold")
        return Content.assemble(
            Content(title).stylize("bold"), (" — ", "dim"), Content(sub_title).stylize("dim")
        )

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        # The Linux console has no rounded box glyphs: ASCII frames there or on request.
        variables["frame"] = "ascii" if self.ascii_borders else "round"
        return variables

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # A field's cursor stays lit: Textual blinks it by drawing the field again twice a
        # second, ~1.8 KB/s to the terminal for as long as the desk waits on a form or a
        # search field — over a slow SSH link, forever (issue 12).
        if getattr(event.widget, "cursor_blink", False):
            event.widget.cursor_blink = False

    def on_mount(self) -> None:
        theme = self.settings.ui.theme
        if is_plain_console():
            self.add_class("-console")  # 16 colours: nothing to dim or blend with (app.tcss)
            if theme == "textual-dark":
                theme = "ansi-dark"  # use the console's own palette
        if theme in self.available_themes:
            self.theme = theme
        self.open_session()
        self.set_interval(15, self.lock_if_idle)

    def on_load(self) -> None:
        # Before the first screen is composed, so that its header says where and who from its
        # first frame: set once mounted, both came a frame late (the whole screen drawn twice).
        from tuibill.services.practice import get_practice

        practice = get_practice()
        self.title = practice.name if practice else "tuibill"
        self._resolve_session()

    def _refresh_notifications(self) -> None:
        # Textual shows the notifications on each screen as it resumes, even none: its toast
        # rack, hidden by its style sheet, is then hidden by an inline style — a layout and a
        # new frame of the whole screen (~7 KB) at every screen's first display, the desk's
        # start included (issue 12). Nothing to show and nothing shown: nothing to do.
        if not self._notifications:
            try:
                rack = self.screen.get_child_by_id("textual-toastrack")
            except (NoMatches, ScreenStackError):
                rack = None
            if rack is not None and not rack.display:
                return
        super()._refresh_notifications()

    def get_system_commands(self, screen):  # kiosk: no palette, no screenshot-to-file
        return iter(())

    # --- who is at the desk: login, lock, kiosk -----------------------------------------------

    def _resolve_session(self) -> None:
        """The session given, the bootstrap administrator of a database without accounts, the
        account the caller authenticated — or none yet: the login screen will ask."""
        from tuibill.services import users

        if self.session is None:
            if not users.accounts_in_use():
                self.session = users.bootstrap_session(self._given_user or self.settings.user.name)
            elif self._given_user:
                self.session = users.session_for(self._given_user)
        if self.session is not None:
            self._show_session()

    def open_session(self) -> None:
        """Start as the session resolved before the first screen, or whoever logs in on the
        login screen."""
        if self.session is None:
            self.push_screen(self._login_screen(), self.logged_in)
            return
        if self.demo:
            self.notify(
                f"Démonstration : connecté automatiquement en tant que {self.session.label}.",
                title="Connexion",
                timeout=8,
            )

    def _login_screen(self, notice: str = ""):
        from tuibill.screens.login import LoginScreen

        return LoginScreen(self.login_hint, notice=notice)

    def _show_session(self) -> None:
        assert self.session is not None
        self.user = self.session.login
        self.sub_title = self.session.label + (" — DÉMONSTRATION" if self.demo else "")

    def logged_in(self, session: Session | None) -> None:
        """After the login screen: a different user starts afresh from the menu (the previous
        user's open screens are closed); the same user finds the desk as they left it."""
        if session is None:
            return
        previous, self.session = self.session, session
        self.last_input = time.monotonic()
        self._show_session()
        if previous is not None and previous.login != session.login:
            self.call_later(self._close_every_screen)

    async def _close_every_screen(self) -> None:
        await self.switch_mode("menu")
        for mode in list(self._screen_stacks):
            if mode != "menu" and mode in self.MODES:
                await self.remove_mode(mode)
                self.add_mode(mode, self.MODES[mode])
        while len(self.screen_stack) > 1:
            self.pop_screen()

    @property
    def is_locked(self) -> bool:
        # Asked for every key: a desk that has shown neither screen has not imported them.
        login = sys.modules.get("tuibill.screens.login")
        return login is not None and isinstance(self.screen, login.LockScreen | login.LoginScreen)

    def lock(self) -> None:
        """Hide the desk behind the lock screen; what was open stays as it was, unsaved."""
        if self.is_locked or self.session is None:
            return
        from tuibill.screens.login import LockScreen

        self.push_screen(LockScreen(self.session), self._after_lock)

    def _after_lock(self, outcome: str | None) -> None:
        self.last_input = time.monotonic()
        if outcome == "switch":
            self.switch_user()

    def switch_user(self) -> None:
        """« Changer d'utilisateur »: the login screen over the desk."""
        if self.session is not None and self.session.bootstrap:
            self.notify(
                "Aucun compte utilisateur : créez-en dans « Données › Utilisateurs ».",
                severity="warning",
            )
            return
        self.push_screen(self._login_screen("Changer d'utilisateur"), self.logged_in)

    def action_lock(self) -> None:
        self.lock()

    def action_command_palette(self) -> None:
        if self.kiosk:
            self.lock()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The F-keys and Échap do nothing while the login or lock screen is up.
        if action not in _WHILE_LOCKED and self.is_locked:
            return False
        return True

    def lock_if_idle(self) -> None:
        """Lock a desk left idle for ``[ui] lock_after_minutes`` (when there are accounts)."""
        minutes = self.settings.ui.lock_after_minutes
        if not minutes or self.session is None or self.session.bootstrap:
            return
        if time.monotonic() - self.last_input >= minutes * 60:
            self.lock()

    def _fatal_error(self) -> None:
        # A crash's trace goes to the terminal (and a kiosk's journal): no local variables (a
        # PIN, a patient's record) and NIRs masked, instead of Textual's trace with locals.
        import traceback

        from rich.text import Text

        from tuibill.domain.masking import mask_nir

        error = self._exception or sys.exc_info()[1]
        lines = traceback.format_exception(error) if error is not None else ["erreur inconnue\n"]
        self.bell()
        self._exit_renderables.append(Text(mask_nir("".join(lines))))
        self._close_messages_no_wait()

    # --- ways out: every one asks first when a form has unsaved changes (dialogs.unsaved) ---

    def action_open_menu(self, mode: str) -> None:
        from tuibill.dialogs.unsaved import confirm_leaving

        # The F-key leaves the forms of this menu: closed (their changes dropped) once agreed.
        leaving = self.screen_stack[1:] if self.current_mode == mode else self.screen_stack
        confirm_leaving(self, leaving, lambda: self._open_menu(mode))

    def _open_menu(self, mode: str) -> None:
        from tuibill.dialogs.unsaved import unsaved

        if self.current_mode == mode:
            # Back to the root of that menu, as a fresh start.
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        # Another menu: this one keeps its screens, but not a form the user chose to drop.
        while len(self.screen_stack) > 1 and unsaved(self.screen_stack):
            self.pop_screen()
        self.switch_mode(mode)

    def action_back(self) -> None:
        from tuibill.dialogs.unsaved import confirm_leaving

        confirm_leaving(self, [self.screen], self._back)

    def _back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.current_mode != "menu":
            self.switch_mode("menu")

    def every_screen(self) -> list[Screen]:
        """The screens of every menu (each mode keeps its own stack)."""
        stacks = getattr(self, "_screen_stacks", None)  # Textual keeps no public list of them
        if not stacks:
            return list(self.screen_stack)
        return [screen for stack in stacks.values() for screen in stack]

    async def action_quit(self) -> None:
        """Ctrl+Q: quit, after asking when a form has unsaved changes (a kiosk locks instead:
        it never leaves to a shell, and the form stays behind the lock)."""
        from tuibill.dialogs.unsaved import confirm_leaving

        if self.kiosk:
            self.lock()
            return
        confirm_leaving(
            self, self.every_screen(), self.exit, question="Quitter tuibill sans enregistrer ?"
        )

    def action_help_quit(self) -> None:
        """Ctrl+C (a reflex, not always meant): quit after a question, in French."""
        from tuibill.dialogs.confirm import ConfirmDialog
        from tuibill.dialogs.unsaved import confirm_leaving, unsaved

        if self.kiosk:
            self.lock()
            return
        if unsaved(self.every_screen()):
            confirm_leaving(
                self, self.every_screen(), self.exit, question="Quitter tuibill sans enregistrer ?"
            )
            return
        if isinstance(self.screen, ConfirmDialog):
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.exit()

        self.push_screen(ConfirmDialog("Quitter tuibill ?", "O : quitter — N : rester."), answered)

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

    def open_users(self) -> None:
        """« Données › Utilisateurs », for an administrateur (others are told who may)."""
        from tuibill.domain.permissions import Family, refusal

        reason = refusal(self.session.role, Family.USERS, login=self.user) if self.session else ""
        if reason:
            self.notify(reason, severity="error", title="Refusé", markup=False)
            return
        from tuibill.screens.users import UsersScreen

        self.push_screen(UsersScreen())

    def open_practitioners(self) -> None:
        """« Données › Praticiens »: the practitioners, their numbering and their CPS."""
        from tuibill.screens.practitioners import PractitionersScreen

        self.push_screen(PractitionersScreen())

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
