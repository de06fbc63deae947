"""Bulk realistic data (``tuibill seed --invoices N``) for volume tests and benchmarks.

Rows go through the DB-API cursor's ``executemany`` in batches (per-row ORM calls would take
hours for a million invoices); ids are assigned here so lines and history need no look-ups.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache

import peewee

from tuibill.domain import pricing
from tuibill.domain.acts import Act
from tuibill.domain.patients import nir_key
from tuibill.domain.pricing import is_sunday_or_holiday
from tuibill.models import (
    ALL_MODELS,
    Counter,
    Invoice,
    InvoiceLine,
    InvoiceTransition,
    Mutuelle,
    Organism,
    Patient,
    Practitioner,
    db,
)
from tuibill.models.database import immediate
from tuibill.services import audit
from tuibill.services.patients import search_key
from tuibill.services.tariffs import TariffBook

BATCH = 20_000
LAST_NAMES = [
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU",
    "LAURENT", "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL",
    "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT",
    "MULLER", "LEFEVRE", "FAURE", "ANDRE", "MERCIER", "BLANC", "GUERIN", "BOYER", "GARNIER",
    "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN", "CLEMENT",
    "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON", "DUPUIS",
]
FIRST_NAMES = [
    "Jean", "Marie", "Michel", "Monique", "Pierre", "Françoise", "André", "Nicole", "Jacques",
    "Jeanne", "Bernard", "Simone", "Daniel", "Yvette", "Alain", "Denise", "Henri", "Colette",
    "Louis", "Odette", "René", "Suzanne", "Roger", "Paulette", "Marcel", "Germaine",
]


def _placeholders(count: int, database: peewee.Database) -> str:
    mark = "%s" if isinstance(database, peewee.PostgresqlDatabase) else "?"
    return ", ".join([mark] * count)


def _defaults(table: str, columns: list[str]) -> tuple[list[str], tuple]:
    """The columns this seeder does not set, with their model defaults.

    Peewee's defaults live in Python, not in the schema: a raw INSERT must give them, and a
    column added by a later schema version must not break the seeder.
    """
    model = next(m for m in ALL_MODELS if m._meta.table_name == table)
    extra_columns, extra_values = [], []
    for field in model._meta.sorted_fields:
        if field.column_name in columns or field.null or field.default is None:
            continue
        default = field.default() if callable(field.default) else field.default
        extra_columns.append(field.column_name)
        extra_values.append(default)
    return extra_columns, tuple(extra_values)


def _insert(database: peewee.Database, table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    extra_columns, extra_values = _defaults(table, columns)
    if extra_columns:
        columns = columns + extra_columns
        rows = [row + extra_values for row in rows]
    quoted = ", ".join(f'"{c}"' for c in columns)  # "user" is reserved in PostgreSQL
    sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({_placeholders(len(columns), database)})'
    cursor = database.cursor()
    if isinstance(database, peewee.PostgresqlDatabase):
        from psycopg2.extras import execute_batch

        execute_batch(cursor, sql, rows, page_size=2000)
    else:
        cursor.executemany(sql, rows)


def _next_id(model: type[peewee.Model]) -> int:
    return (model.select(peewee.fn.MAX(model.id)).scalar() or 0) + 1


def _fix_sequences(database: peewee.Database) -> None:
    if isinstance(database, peewee.PostgresqlDatabase):
        for model in (Patient, Invoice, InvoiceLine, InvoiceTransition):
            table = model._meta.table_name
            database.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))"
            )


def _patients(rng: random.Random, count: int, today: date) -> Iterator[tuple]:
    organisms = [o.id for o in Organism.select(Organism.id)]
    mutuelles = [m.id for m in Mutuelle.select(Mutuelle.id)] or [None]
    for _ in range(count):
        last, first = rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES)
        birth = date(rng.randint(1925, 2015), rng.randint(1, 12), rng.randint(1, 28))
        first13 = f"{rng.randint(1, 2)}{birth:%y}{birth:%m}{rng.randint(10, 95)}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
        yield (
            last, first, search_key(last, first), birth.isoformat(), first13 + nir_key(first13),
            1, "00", rng.choice(organisms) if organisms else None,
            rng.choice(mutuelles) if rng.random() < 0.7 else None,
            rng.random() < 0.3, rng.choice(["EST", "OUEST", "CENTRE", "NORD"]),
        )


# The main act of each profession, for the generated invoices.
MAIN_ACT = {"24": "AMI", "26": "AMK", "28": "AMO"}
_SUNDAY, _WEEKDAY = date(2024, 1, 7), date(2024, 1, 10)


@lru_cache(maxsize=1024)
def priced_shape(
    specialty: str, coefficient_x100: int, km: int, sunday: bool, rate: int, has_amc: bool
):
    """The priced lines of one generated invoice's shape, through the same pricing as billing
    (a few dozen shapes: pricing each of a million invoices would cost more than inserting it).
    Tariffs are dated but have not changed over the generated years."""
    book = _books.setdefault(specialty, TariffBook(specialty))
    act = Act(
        act_date=_SUNDAY if sunday else _WEEKDAY,
        code=MAIN_ACT.get(specialty, "AMI"),
        coefficient_x100=coefficient_x100,
        home_visit=True,
        mileage_km=km,
    )
    return pricing.price_acts(
        [act], book, pricing.Coverage(amo_rate=rate, has_amc=has_amc)
    )


_books: dict[str, TariffBook] = {}


def seed(
    invoices: int,
    *,
    years: int = 5,
    today: date | None = None,
    rng_seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Add *invoices* invoices (3 lines and 1 history row each) to an initialised database."""
    database = db.obj
    today = today or date.today()
    rng = random.Random(rng_seed)
    practitioners = list(Practitioner.select().where(Practitioner.active))
    counters = {
        c.practitioner_id: c
        for c in Counter.select().where(Counter.kind == "invoice")
    }
    practitioners = [p for p in practitioners if p.id in counters]
    if not practitioners:
        from tuibill.domain.errors import RefusedOperation

        raise RefusedOperation(
            "Aucun praticien avec une numérotation : créez-en un (ou « tuibill init --demo »)."
        )
    patient_count = max(200, invoices // 150)
    first_patient = _next_id(Patient)
    with database.atomic():
        rows = [(first_patient + i, *row) for i, row in enumerate(_patients(rng, patient_count, today))]
        for start in range(0, len(rows), BATCH):
            _insert(database, "patient", [
                "id", "last_name", "first_name", "search_name", "birth_date", "nir", "rank",
                "quality", "organism_id", "mutuelle_id", "ald", "sector",
            ], rows[start:start + BATCH])
    patient_rows = {r[0]: r for r in rows}
    patient_ids = list(patient_rows)

    next_number = {p.id: counters[p.id].next_value for p in practitioners}
    invoice_id = _next_id(Invoice)
    line_id = first_line = _next_id(InvoiceLine)
    transition_id = _next_id(InvoiceTransition)
    days = years * 365
    made = 0
    lot_counter = {p.id: 1 for p in practitioners}
    while made < invoices:
        batch = min(BATCH, invoices - made)
        inv_rows, line_rows, hist_rows = [], [], []
        for k in range(batch):
            # Spread evenly over the period, oldest first, so numbers grow with dates.
            age = days - ((made + k) * days) // invoices
            billing = today - timedelta(days=age)
            practitioner = practitioners[(made + k) % len(practitioners)]
            patient = patient_rows[rng.choice(patient_ids)]
            rate = 100 if patient[10] else 60
            if age > 45:
                state = "TRANSMISE" if rng.random() < 0.985 else "NON_TRANSMISSIBLE"
            else:
                state = rng.choice(["SAISIE", "VALIDEE", "VALIDEE", "A_TRANSMETTRE", "TRANSMISE", "TRANSMISE"])
            number = None
            if state != "SAISIE":
                number = next_number[practitioner.id]
                next_number[practitioner.id] += 1
            lot = None
            if state in ("TRANSMISE", "A_TRANSMETTRE"):
                lot = (lot_counter[practitioner.id] // 40) % 999 + 1
                lot_counter[practitioner.id] += 1
            coef = rng.choice([100, 150, 200, 300])
            km = rng.choice([0, 2, 4, 8])
            act_day = billing - timedelta(days=rng.randint(0, 6))
            priced = priced_shape(
                practitioner.specialty, coef, km, is_sunday_or_holiday(act_day), rate,
                patient[9] is not None,
            )
            totals = [priced.total_cents, priced.amo_cents, priced.amc_cents, priced.patient_cents]
            for position, line in enumerate(priced.lines):
                line_rows.append((
                    line_id, invoice_id, position, line.parent, act_day.isoformat(), line.code,
                    line.label, line.kind, line.coefficient_x100, line.quantity, line.unit_cents,
                    line.total_cents, line.amo_cents, line.amc_cents, line.patient_cents,
                ))
                line_id += 1
            created = datetime.combine(billing, datetime.min.time()).replace(hour=9)
            inv_rows.append((
                invoice_id, practitioner.id, patient[0], number, state,
                "degrade", billing.isoformat(), act_day.isoformat(), act_day.isoformat(),
                *totals, rate, True, patient[9] is not None, patient[8], patient[9],
                patient[3], patient[11], lot, created.isoformat(sep=" "), "seed",
            ))
            hist_rows.append((
                transition_id, invoice_id, created.isoformat(sep=" "), "seed", None, state,
                "import", "données générées (tuibill seed)",
            ))
            transition_id += 1
            invoice_id += 1
        with immediate(database):
            _insert(database, "invoice", [
                "id", "practitioner_id", "patient_id", "number", "state", "mode", "billing_date",
                "first_act_date", "last_act_date", "total_cents", "amo_cents", "amc_cents",
                "patient_cents", "amo_rate", "amo_tiers_payant", "amc_tiers_payant",
                "organism_id", "mutuelle_id", "patient_name", "sector", "lot_number",
                "created_at", "created_by",
            ], inv_rows)
            _insert(database, "invoice_line", [
                "id", "invoice_id", "position", "parent_position", "act_date", "code", "label",
                "kind", "coefficient_x100", "quantity", "unit_cents", "total_cents", "amo_cents",
                "amc_cents", "patient_cents",
            ], line_rows)
            names = ("id", "invoice", "at", "user", "from_state", "to_state", "action", "reason")
            sealed = audit.seal_many(InvoiceTransition, [dict(zip(names, row, strict=True)) for row in hist_rows])
            _insert(database, "invoice_transition", [
                "id", "invoice_id", "at", "user", "from_state", "to_state", "action", "reason",
                "seq", "hash",
            ], [(*row, values["seq"], values["hash"]) for row, values in zip(hist_rows, sealed, strict=True)])
        made += batch
        if progress:
            progress(made, invoices)
    with database.atomic():
        for practitioner_id, value in next_number.items():
            Counter.update(next_value=value).where(
                (Counter.practitioner == practitioner_id) & (Counter.kind == "invoice")
            ).execute()
    _fix_sequences(database)
    database.execute_sql("ANALYZE")
    return {"invoices": invoices, "lines": line_id - first_line, "patients": patient_count}
