"""Facturer's criteria bar: the patient (name prefix), the sector, the practitioner, the list.

It says when the criteria change (``Changed``: at once for a choice, once the typing pauses for
the name, so that a slow link is not asked a list at every key), when Entrée is pressed in the
name (``Submitted``) and when another list is chosen (``ListChosen``); the screen reads
:meth:`BillingCriteria.criteria` and reloads.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, Select

from tuibill.services.worklists import LIST_LABELS, LIST_ORDER, Criteria

ALL_SECTORS = ""  # « TOUS »
TYPING_PAUSE = 0.3  # s: the name is searched once the typing pauses this long


class BillingCriteria(Vertical):
    class Changed(Message):
        """A criterion changed (the list shown aside)."""

    class Submitted(Message):
        """Entrée in the name: search now, then go to the list."""

    class ListChosen(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(
        self,
        practitioners: Sequence[tuple[str, int]],
        sectors: Sequence[str],
        list_name: str,
        *,
        id: str = "criteria",
    ) -> None:
        super().__init__(id=id)
        self.practitioners = list(practitioners)
        self.sectors = list(sectors)
        self.list_name = list_name
        self._typing: Timer | None = None

    def compose(self) -> ComposeResult:
        practitioners = self.practitioners
        with Horizontal(classes="crit-row"):
            yield Label("Pour le patient", classes="crit-label")
            yield Input(placeholder="Nom…", compact=True, id="crit-patient")
            yield Label("Secteur", classes="crit-label")
            yield Select(
                [("TOUS", ALL_SECTORS)] + [(s, s) for s in self.sectors],
                value=ALL_SECTORS,
                allow_blank=False,
                compact=True,
                id="crit-sector",
            )
        with Horizontal(classes="crit-row"):
            yield Label("Pour le praticien", classes="crit-label")
            yield Select(
                practitioners,
                value=practitioners[0][1] if practitioners else Select.NULL,
                allow_blank=not practitioners,
                prompt="Aucun praticien",
                compact=True,
                id="crit-practitioner",
            )
        with Horizontal(classes="crit-row"):
            yield Label("Liste", classes="crit-label")
            yield Select(
                [(f"{n} {LIST_LABELS[name]}", name) for n, name in enumerate(LIST_ORDER, 1)],
                value=self.list_name,
                allow_blank=False,
                compact=True,
                id="crit-list",
            )

    def criteria(self) -> Criteria:
        practitioner = self.query_one("#crit-practitioner", Select).value
        sector = self.query_one("#crit-sector", Select).value
        return Criteria(
            patient=self.query_one("#crit-patient", Input).value.strip(),
            practitioner_id=None if practitioner is Select.NULL else int(practitioner),
            sector=ALL_SECTORS if sector is Select.NULL else str(sector),
        )

    @property
    def patient_text(self) -> str:
        """The name typed, as is (a new invoice's patient search starts from it)."""
        return self.query_one("#crit-patient", Input).value

    def show_list(self, name: str) -> None:
        # Through the Select, so that it always shows the list on screen.
        self.query_one("#crit-list", Select).value = name

    def stop_typing(self) -> None:
        """The search is being done now: no need to do it again when the typing pauses."""
        if self._typing is not None:
            self._typing.stop()
            self._typing = None

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id != "crit-list":
            self.post_message(self.Changed())
        elif event.value is not Select.NULL and event.value != self.list_name:
            self.list_name = str(event.value)
            self.post_message(self.ListChosen(self.list_name))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.stop_typing()
        self._typing = self.set_timer(TYPING_PAUSE, self._typed)

    def _typed(self) -> None:
        self._typing = None
        self.post_message(self.Changed())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.stop_typing()
        self.post_message(self.Submitted())
