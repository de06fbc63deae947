"""Who is at the desk: the login screen, and the lock screen over an unattended desk.

Both cover the whole terminal (no dimmed screen behind: patients' data stay hidden). The lock
screen sits on top of whatever was open — the form being typed stays behind it, unsaved — and
goes away with the same user's PIN or password; « Changer d'utilisateur » opens the login
screen instead (another user starts afresh from the menu).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static

from tuibill.domain.errors import RefusedOperation
from tuibill.services import users
from tuibill.services.users import Session
from tuibill.widgets.screen_frames import DrawnOnce

# Wrong PINs accepted before only the password unlocks (a PIN is short: guessing is bounded).
PIN_TRIES = 3


class LoginScreen(DrawnOnce[Session]):
    """Login and password; dismissed with the new session."""

    TITLE = "Connexion"

    CSS_PATH = "../styles/login.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Effacer", id="connexion_effacer"),
    ]

    def __init__(self, login_hint: str = "", *, notice: str = "") -> None:
        super().__init__()
        self.login_hint = login_hint
        self.notice = notice

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="login-box"):
            yield Static(f"{self.app.title} — connexion", classes="title")
            if self.notice:
                yield Static(self.notice, classes="hint", id="login-notice")
            yield Static("Identifiant", classes="hint")
            yield Input(self.login_hint, id="login", placeholder="identifiant")
            yield Static("Mot de passe", classes="hint")
            yield Input(id="password", password=True, placeholder="mot de passe")
            yield Static("", classes="error", id="login-error")
            yield Static("Entrée : se connecter", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#password" if self.login_hint else "#login", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "login":
            self.query_one("#password", Input).focus()
            return
        login = self.query_one("#login", Input).value
        password = self.query_one("#password", Input)
        try:
            session = users.authenticate(login, password.value)
        except RefusedOperation as error:
            password.value = ""
            self.query_one("#login-error", Static).update(str(error))
            return
        self.dismiss(session)

    def action_clear(self) -> None:
        self.query_one("#password", Input).value = ""
        self.query_one("#login-error", Static).update("")


class LockScreen(DrawnOnce[str]):
    """The desk is locked: *session*'s PIN or password unlocks it. Dismissed with « unlocked »
    or « switch » (« Changer d'utilisateur »)."""

    TITLE = "Poste verrouillé"

    CSS_PATH = "../styles/login.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+u", "switch_user", "Changer d'utilisateur", id="verrou_changer", priority=True
        ),
        Binding("escape", "clear", "Effacer", id="verrou_effacer"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.failed_pins = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="lock-box"):
            yield Static(f"{self.app.title} — poste verrouillé", classes="title")
            yield Static(
                f"Utilisateur : {self.session.label}"
                + (f" — {self.session.name}" if self.session.name else ""),
                classes="hint",
            )
            yield Input(id="secret", password=True, placeholder=self._prompt())
            yield Static("", classes="error", id="lock-error")
            yield Static("Entrée : déverrouiller — Ctrl+U : changer d'utilisateur", classes="hint")

    def _prompt(self) -> str:
        if self.session.has_pin and self.failed_pins < PIN_TRIES:
            return "PIN ou mot de passe"
        return "mot de passe"

    def on_mount(self) -> None:
        self.query_one("#secret", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        secret = event.value
        event.input.value = ""
        try:
            unlocked = users.unlock(self.session, secret, pin_allowed=self.failed_pins < PIN_TRIES)
        except RefusedOperation as blocked:  # too many wrong secrets: the account waits
            self.query_one("#lock-error", Static).update(str(blocked))
            return
        if unlocked:
            self.dismiss("unlocked")
            return
        if secret.isdigit():
            self.failed_pins += 1
        event.input.placeholder = self._prompt()
        message = "PIN ou mot de passe incorrect."
        if self.session.has_pin and self.failed_pins >= PIN_TRIES:
            message = "Trop d'essais de PIN : le mot de passe seul déverrouille."
        self.query_one("#lock-error", Static).update(message)

    def action_switch_user(self) -> None:
        self.dismiss("switch")

    def action_clear(self) -> None:
        self.query_one("#secret", Input).value = ""
