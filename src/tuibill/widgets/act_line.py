"""One act of an invoice form: its text in the one-line notation, its priced total, its error.

The notation is the CLI's (« 20/11/2026 08:30 AMI 1,5 MAU IFD IK=4 »): ``domain.act_notation``
reads it, :func:`act_text` writes an act back in it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from tuibill.domain.acts import Act
from tuibill.domain.formatting import format_cents, format_coefficient, format_day, format_time

ACT_NOTATION = "JJ/MM/AAAA [HH:MM] CODE [COEF] [MAU] [MCI] [MIE] [IFD] [IK=km]"


def act_text(act: Act) -> str:
    """An act back in the one-line notation (the inverse of ``parse_act``)."""
    parts = [format_day(act.act_date)]
    if act.act_time is not None:
        parts.append(format_time(act.act_time))
    parts += [act.code, format_coefficient(act.coefficient_x100), *act.majorations]
    if act.home_visit:
        parts.append("IFD")
    if act.mileage_km:
        parts.append(f"IK={act.mileage_km}")
    return " ".join(parts)



class ActLine(Vertical):
    """One act: its text, its priced total, and its error right under it."""

    def __init__(self, text: str, number: int, isolated_act_id: int | None = None) -> None:
        super().__init__(classes="act-line")
        self.initial_text = text
        self.number = number
        # Kept so that an act billed from an « acte isolé » stays tied to it after edits.
        self.isolated_act_id = isolated_act_id

    def compose(self) -> ComposeResult:
        with Horizontal(classes="act-row"):
            yield Label(f"{self.number:>2}", classes="act-number")
            yield Input(
                self.initial_text,
                compact=True,
                classes="act-input",
                placeholder=ACT_NOTATION,
                select_on_focus=False,  # the desk edits a line, it seldom retypes it
            )
            yield Label("", classes="act-total")
        yield Static("", classes="line-error error", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one(".act-input", Input)

    @property
    def text(self) -> str:
        return self.input.value.strip()

    def renumber(self, number: int) -> None:
        self.number = number
        self.query_one(".act-number", Label).update(f"{number:>2}")

    def show(self, total_cents: int | None, error: str = "") -> None:
        self.query_one(".act-total", Label).update(
            "" if total_cents is None else f"{format_cents(total_cents)} €"
        )
        message = self.query_one(".line-error", Static)
        message.update(error)
        message.display = bool(error)
        self.input.set_class(bool(error), "-invalid")
