"""One guard for every way out of a form with unsaved changes: Échap, an F-key menu, Ctrl+Q and
Ctrl+C all ask the same question before closing it.

A screen or dialog holding a form says so with ``has_unsaved_changes()`` and names what it holds
with ``unsaved_text()`` (« la fiche du patient DUPONT Anne »); whoever is about to close screens
calls :func:`confirm_leaving` with them and what to do then. Nothing to lose: it is done at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from textual.app import App
from textual.screen import Screen

from tuibill.dialogs.confirm import ConfirmDialog


@runtime_checkable
class HoldsUnsavedChanges(Protocol):
    """What a form screen or dialog offers the guard."""

    def has_unsaved_changes(self) -> bool: ...

    def unsaved_text(self) -> str: ...


def unsaved(screens: Iterable[Screen]) -> list[Screen]:
    """Those of *screens* whose form has changes not saved."""
    return [
        screen
        for screen in screens
        if isinstance(screen, HoldsUnsavedChanges) and screen.has_unsaved_changes()
    ]


class LeaveDialog(ConfirmDialog):
    """« Quitter sans enregistrer ? »: « Non » has the focus, a stray Entrée loses nothing."""

    AUTO_FOCUS = "#no"


def confirm_leaving(
    app: App,
    screens: Iterable[Screen],
    then: Callable[[], object],
    *,
    question: str = "Quitter sans enregistrer ?",
) -> None:
    """Run *then* (which closes *screens*), after asking when one of them has unsaved changes."""
    pending = unsaved(screens)
    if not pending:
        then()
        return
    if isinstance(app.screen, LeaveDialog):
        return  # already asked: one question at a time (Ctrl+Q pressed twice)
    lines = [f"  - {screen.unsaved_text()}" for screen in pending]
    detail = "Modifications non enregistrées :\n" + "\n".join(lines)
    detail += "\n\nO : quitter et les perdre — N : rester (Ctrl+S enregistre)."

    def answered(leave: bool | None) -> None:
        if leave:
            then()

    app.push_screen(LeaveDialog(question, detail), answered)


def leave_form(screen: Screen, question: str = "Quitter sans enregistrer ?") -> None:
    """Échap on a form: close it (dismissed with None), asking first if changes are unsaved."""
    confirm_leaving(screen.app, [screen], lambda: screen.dismiss(None), question=question)
