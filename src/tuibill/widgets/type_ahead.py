"""Type-ahead: each key of a burst reaches the field that has the focus once the keys before it
have taken effect.

Why: Textual hands a key from the terminal to the focused widget at once, but resolves the
bindings of that widget and of its screen (Tab, Entrée that moves to the next field, Ctrl+N that
opens a form…) only when the key has bubbled back up to the App, through each parent's message
queue. By then the App has already handed the following keys of the burst to the same, old,
focus: « DUPONT Tab Anne Tab 01/02/1980 » sent at once all landed in the first field. Fast
typists, a paste over SSH and barcode readers send such bursts.

So the App (``TuibillApp.on_event``) asks :meth:`TypeAhead.admit` for every key from the
terminal: a key is handed on at once when the previous one has settled, else held, in order.
After handing a key on, the App calls :meth:`TypeAhead.handed_on`, which watches the key's path
(the App, the screen, the focused widget and its parents) round after round until their queues
are empty — the key has bubbled, its bindings ran, the messages it posted (``Submitted``, a
``focus()``, a screen pushed) were handled — then hands on the next held key. Typing at human
speed finds every key settled and costs a round or two of callbacks per key; keys held behind
another (a burst) wait the whole MAX_ROUNDS, some effects showing in no queue for a round or two.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from textual import events
from textual._context import active_message_pump

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

# A bound on the rounds spent on one key: a screen whose timers post messages all the time (the
# card readers' polling) never blocks the keyboard; a key's own effects settle in a few rounds.
MAX_ROUNDS = 40


def _unfinished(node: MessagePump) -> int:
    """Messages *node* has queued or is handling (its handler may be awaiting), besides the
    callback running this check."""
    queue = node._message_queue
    unfinished = getattr(queue, "_unfinished_tasks", None)
    if unfinished is None:
        # Textual's own queue: the message being handled (this callback, on the active pump) is
        # already out of it. Counting it again made every key run all MAX_ROUNDS rounds.
        return queue.qsize()
    # asyncio.Queue counts a message until the pump calls task_done() after handling it.
    return unfinished - 1 if node is active_message_pump.get(None) else unfinished


class TypeAhead:
    """Holds the keys that come while an earlier key is still taking effect."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._held: deque[events.Key] = deque()
        self._busy = False  # a key was handed on and has not settled yet
        self._releasing: events.Key | None = None  # the held key on its way back to the App
        self._round = 0
        self._waiting = 0
        self._rounds = 0

    @property
    def held(self) -> int:
        """How many keys wait for the previous ones to settle."""
        return len(self._held)

    def admit(self, event: events.Key) -> bool:
        """True: hand *event* on now. False: it is held, and will come back to the App."""
        if event is self._releasing:
            self._releasing = None
            return True
        if self._busy or self._held:
            self._held.append(event)
            return False
        return True

    def handed_on(self) -> None:
        """The App has handed a key on: watch its path until it has taken effect."""
        self._busy = True
        self._rounds = 0
        self._start_round()

    def _path(self) -> list[MessagePump]:
        app = self._app
        nodes: list[MessagePump] = [app]
        try:
            screen = app.screen
        except Exception:  # no screen yet, or the app is closing
            return nodes
        nodes.append(screen)
        focused = screen.focused
        if focused is not None:
            nodes += [n for n in focused.ancestors_with_self if n is not app and n is not screen]
        return nodes

    def _start_round(self) -> None:
        self._round += 1
        token = self._round
        self._waiting = 0
        for node in self._path():
            # Queued behind whatever the node has to do: it runs once that is done.
            if node.call_later(self._reached, token):
                self._waiting += 1
        if not self._waiting:
            self._settled()

    def _reached(self, token: int) -> None:
        if token != self._round:
            return
        self._waiting -= 1
        if self._waiting:
            return
        self._rounds += 1
        # The key may still be bubbling, or have posted messages further up: one more round.
        # Keys held behind it (a burst: a paste, a barcode reader) wait all MAX_ROUNDS rounds:
        # some effects (a binding run once the key is back at the App, a screen pushed) show in
        # no queue of the path for a round or two. A key typed alone is settled once the path
        # is quiet — the next one comes tens of milliseconds later.
        if self._rounds < MAX_ROUNDS and (
            self._held or any(_unfinished(n) for n in self._path())
        ):
            self._start_round()
        else:
            self._settled()

    def _settled(self) -> None:
        self._busy = False
        if not self._held:
            return
        held = self._held.popleft()
        key = events.Key(held.key, held.character)
        key.set_sender(self._app)
        self._releasing = key
        self._busy = True  # until it is handed on: a key arriving meanwhile waits behind it
        if not self._app.post_message(key):  # the app is closing
            self._releasing = None
            self._busy = False
            self._held.clear()
