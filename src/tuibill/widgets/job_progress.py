"""The line that shows a long operation running in a worker thread: what it does, how far it
got (a bar when the total is known), and for how long — ticking every half second, so that a
slow server never looks like a frozen desk."""

from __future__ import annotations

import time

from textual.timer import Timer
from textual.widgets import Static

TICK = 0.5  # s


class JobProgress(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id, markup=False)
        self.label = ""  # the operation running ("" when none)
        self._started = 0.0
        self._progress = (0, 0, "")
        self._ticker: Timer | None = None

    def on_mount(self) -> None:
        self.display = False

    def start(self, label: str) -> None:
        self.label = label
        self._started = time.monotonic()
        self._progress = (0, 0, "")
        self._show()
        self._ticker = self.set_interval(TICK, self._show)

    def advance(self, done: int, total: int, detail: str = "") -> None:
        """*done* of *total* (0: unknown), and what is being done."""
        self._progress = (done, total, detail)
        self._show()

    def stop(self) -> None:
        self.label = ""
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self.display = False

    def _show(self) -> None:
        if not self.label:
            return
        done, total, detail = self._progress
        seconds = int(time.monotonic() - self._started)
        text = f"{self.label}..."
        if total:
            width = 20
            filled = width * min(done, total) // total
            full, empty = ("#", "-") if getattr(self.app, "ascii_borders", False) else ("█", "░")
            text += f" {done}/{total} [{full * filled}{empty * (width - filled)}]"
        text += f" {seconds} s"
        if detail:
            text += f" — {detail}"
        self.display = True
        self.update(text)
