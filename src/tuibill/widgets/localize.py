"""Textual's own words, in French: the keys' names (footer, F1, hint lines) and the few bindings
of Textual's widgets that show in the footer.

Everything a user reads is French. Textual names keys in English (« home », « pgdn »,
« escape », « ^s ») and describes its widgets' keys in English (« Dismiss menu »). The App
draws every key through :func:`key_display` (``TuibillApp.get_key_display``), and
:func:`translate_textual_bindings` gives Textual's shown bindings French descriptions, once, at
start-up.
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding
from textual.keys import format_key

KEY_NAMES: dict[str, str] = {
    "enter": "Entrée",
    "escape": "Échap",
    "delete": "Suppr",
    "insert": "Inser",
    "home": "Début",
    "end": "Fin",
    "pageup": "PgPréc",
    "pagedown": "PgSuiv",
    "space": "Espace",
    "tab": "Tab",
    "backspace": "Retour arrière",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "plus": "+",
    "minus": "-",
    "slash": "/",
    "question_mark": "?",
}
MODIFIERS: dict[str, str] = {"ctrl": "Ctrl", "shift": "Maj", "alt": "Alt", "super": "Super"}


def key_display(key: str) -> str:
    """« ctrl+s » → « Ctrl+S », « pagedown » → « PgSuiv », « f2 » → « F2 »."""
    *modifiers, name = key.split("+") if key != "+" else ["plus"]
    if name in KEY_NAMES:
        text = KEY_NAMES[name]
    elif name[:1] == "f" and name[1:].isdigit():
        text = name.upper()
    elif len(name) == 1:
        text = name.upper() if modifiers else name
    else:
        text = format_key(name)
    return "+".join([MODIFIERS.get(m, m.capitalize()) for m in modifiers] + [text])


# The bindings of Textual's widgets that the footer shows, and their French descriptions.
TEXTUAL_DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("textual.widgets._select.SelectOverlay", "dismiss"): "Fermer la liste",
}


def translate_textual_bindings() -> None:
    """Give the footer-shown bindings of Textual's widgets their French descriptions."""
    import importlib

    for (path, action), description in TEXTUAL_DESCRIPTIONS.items():
        module_name, _, class_name = path.rpartition(".")
        widget_class = getattr(importlib.import_module(module_name), class_name)
        bindings = []
        for binding in widget_class.BINDINGS:
            if isinstance(binding, tuple):
                binding = Binding(*binding)
            if binding.action == action:
                binding = replace(binding, description=description)
            bindings.append(binding)
        widget_class.BINDINGS = bindings
        widget_class._merged_bindings = widget_class._merge_bindings()
