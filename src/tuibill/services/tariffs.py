"""The dated tariff table: seeded from ``data/tariffs.toml``, looked up at each act's date."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from importlib import resources

from tuibill.domain.pricing import TariffEntry
from tuibill.models import Tariff


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


def load_default_rows() -> list[dict]:
    raw = resources.files("tuibill.data").joinpath("tariffs.toml").read_text(encoding="utf-8")
    rows = []
    for item in tomllib.loads(raw)["tariff"]:
        rows.append(
            {
                "specialty": item["specialty"],
                "code": item["code"],
                "label": item["label"],
                "kind": item["kind"],
                "value_cents": _cents(item["value"]),
                "coef_min_x100": _cents(item.get("coef_min", "0.01")),
                "coef_max_x100": _cents(item.get("coef_max", "100")),
                "valid_from": item["valid_from"],
                "valid_to": item.get("valid_to"),
            }
        )
    return rows


def seed_default_tariffs() -> int:
    """Insert the public tariffs that are not there yet; return how many were added."""
    added = 0
    for row in load_default_rows():
        exists = (
            Tariff.select()
            .where(
                (Tariff.specialty == row["specialty"])
                & (Tariff.code == row["code"])
                & (Tariff.valid_from == row["valid_from"])
            )
            .exists()
        )
        if not exists:
            Tariff.create(**row)
            added += 1
    return added


class TariffBook:
    """All tariff rows of one specialty, in memory (a few dozen rows), answering by date."""

    def __init__(self, specialty: str) -> None:
        self._rows: dict[str, list[Tariff]] = {}
        query = Tariff.select().where(Tariff.specialty == specialty).order_by(Tariff.valid_from)
        for row in query:
            self._rows.setdefault(row.code, []).append(row)

    def __call__(self, code: str, day: date) -> TariffEntry | None:
        chosen = None
        for row in self._rows.get(code.upper(), []):
            if row.valid_from <= day and (row.valid_to is None or day <= row.valid_to):
                chosen = row
        if chosen is None:
            return None
        return TariffEntry(
            code=chosen.code,
            label=chosen.label,
            kind=chosen.kind,
            value_cents=chosen.value_cents,
            coef_min_x100=chosen.coef_min_x100,
            coef_max_x100=chosen.coef_max_x100,
        )

    def act_codes(self) -> list[str]:
        return sorted(code for code, rows in self._rows.items() if rows[-1].kind == "act")
