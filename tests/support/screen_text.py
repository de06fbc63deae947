"""What the screen shows, as plain text: every line the compositor draws."""

from __future__ import annotations

from textual.app import App


def screen_text(app: App) -> str:
    """The rendered lines of the current screen (a dialog: its own lines)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def header_title(app: App) -> str:
    """The title line of the current screen's header."""
    from textual.widgets._header import HeaderTitle

    return str(app.screen.query_one(HeaderTitle).render())


def dialog_text(app: App) -> str:
    """What the current screen's own text widgets say (a dialog: not the screen behind it)."""
    from textual.widgets import Label, Static

    return "\n".join(str(widget.render()) for widget in app.screen.query(Static) if
                     isinstance(widget, (Static, Label)))
