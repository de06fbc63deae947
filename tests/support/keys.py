"""Keys as a terminal sends them: a whole burst at once, with no wait between keys.

``pilot.press`` waits for the app to go idle after every key, so it never shows what a fast
typist, a paste over SSH or a barcode reader does: many keys queued before the first is handled.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual.app import App
from textual.keys import _character_to_key


def typed(text: str) -> list[str]:
    """The keys that type *text*, one character each."""
    return list(text)


def send_burst(app: App, keys: Iterable[str]) -> None:
    """Queue *keys* to *app* as one burst from the terminal. A one-character item types that
    character; a longer one is a key name (« tab », « enter », « ctrl+s », « f2 »)."""
    for item in keys:
        if len(item) == 1:
            key = item if item.isalnum() else _character_to_key(item)
            event = events.Key(key, item)
        else:
            event = events.Key(item, {"tab": "\t", "enter": "\r", "space": " "}.get(item))
        event.set_sender(app)
        app._driver.send_message(event)
