"""An act to bill, in one shape from the keyboard to the invoice line.

The Facturer's quick-entry notation, the CLI, the prescription's items and the isolated acts all
become :class:`Act`; pricing prices it, and the services write its lines. The optional ids tie it
to what it consumes (a prescribed item, an isolated act).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time


@dataclass(frozen=True)
class Act:
    act_date: date
    code: str
    coefficient_x100: int = 100
    act_time: time | None = None
    majorations: tuple[str, ...] = ()  # asked for on the act: MAU, MCI, MIE
    home_visit: bool = False  # IFD
    mileage_km: int = 0  # IK
    prescription_item_id: int | None = None
    isolated_act_id: int | None = None
