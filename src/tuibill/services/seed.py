"""Bulk realistic data (``tuibill seed --invoices N``) for volume tests and benchmarks.

Rows go through the DB-API cursor's ``executemany`` in batches (per-row ORM calls would take
hours for a million invoices); ids are assigned here so lines and history need no look-ups.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import lru_cache

import peewee

from tuibill.domain import pricing
from tuibill.domain.acts import Act
from tuibill.domain.errors import RefusedOperation
from tuibill.domain.patients import nir_key
from tuibill.domain.public_holidays import is_sunday_or_holiday
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
_RECENT_STATES = ["SAISIE", "VALIDEE", "VALIDEE", "A_TRANSMETTRE", "TRANSMISE", "TRANSMISE"]
_COEFFICIENTS = [100, 150, 200, 300]
_KILOMETRES = [0, 2, 4, 8]


@lru_cache(maxsize=1024)
def shape_rows(
    specialty: str, coefficient_x100: int, km: int, sunday: bool, rate: int, has_amc: bool
) -> tuple[tuple[tuple, ...], tuple[int, int, int, int]]:
    """:func:`priced_shape` as the rows the seeder writes: each line's columns after its id,
    invoice and date, and the invoice's totals (total, AMO, AMC, patient)."""
    priced = priced_shape(specialty, coefficient_x100, km, sunday, rate, has_amc)
    lines = tuple(
        (position, line.parent, line.code, line.label, line.kind, line.coefficient_x100,
         line.quantity, line.unit_cents, line.total_cents, line.amo_cents, line.amc_cents,
         line.patient_cents)
        for position, line in enumerate(priced.lines)
    )  # fmt: skip
    totals = (priced.total_cents, priced.amo_cents, priced.amc_cents, priced.patient_cents)
    return lines, totals


class _DayTexts:
    """The texts of the few thousand days of a seed, each made once."""

    def __init__(self) -> None:
        self._days: dict[date, str] = {}
        self._mornings: dict[date, str] = {}
        self._holidays: dict[date, bool] = {}

    def day(self, day: date) -> str:
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = day.isoformat()
        return text

    def nine_am(self, day: date) -> str:
        text = self._mornings.get(day)
        if text is None:
            text = self._mornings[day] = f"{day.isoformat()} 09:00:00"
        return text

    def sunday_or_holiday(self, day: date) -> bool:
        found = self._holidays.get(day)
        if found is None:
            found = self._holidays[day] = is_sunday_or_holiday(day)
        return found


# The tables a seed fills, whose secondary indexes a big seed drops and makes again.
_FILLED = ("invoice", "invoice_line", "invoice_transition")


@contextmanager
def _bulk_load(database: peewee.Database, invoices: int) -> Iterator[None]:
    """Fill the tables fast. SQLite: a bigger page cache for this connection and, when the seed
    at least doubles the invoices, their secondary indexes dropped first and made again after
    (sorting a million keys once instead of a million inserts into each of a dozen B-trees)."""
    if not isinstance(database, peewee.SqliteDatabase):
        yield
        return
    cache = database.execute_sql("PRAGMA cache_size").fetchone()[0]
    database.execute_sql("PRAGMA cache_size = -65536")  # KiB: this connection only
    marks = ", ".join("?" for _ in _FILLED)
    indexes: list[tuple[str, str]] = []
    if invoices >= (Invoice.select(peewee.fn.COUNT(peewee.SQL("*"))).scalar() or 0):
        indexes = database.execute_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            _FILLED,
        ).fetchall()
        with immediate(database):
            for name, _ in indexes:
                database.execute_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        if indexes:
            with immediate(database):
                for _, sql in indexes:
                    database.execute_sql(sql)
        database.execute_sql(f"PRAGMA cache_size = {int(cache)}")


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
    day_text = _DayTexts()
    reason = "données générées (tuibill seed)"
    # The history's chain, extended here row by row (services.audit's canonical content and
    # link, written out: a million rows through dicts would cost seconds).
    head = audit.chain_head()
    seq, previous = head
    separator = audit.SEPARATOR
    with _bulk_load(database, invoices):
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
                    state = rng.choice(_RECENT_STATES)
                number = None
                if state != "SAISIE":
                    number = next_number[practitioner.id]
                    next_number[practitioner.id] += 1
                lot = None
                if state in ("TRANSMISE", "A_TRANSMETTRE"):
                    lot = (lot_counter[practitioner.id] // 40) % 999 + 1
                    lot_counter[practitioner.id] += 1
                coef = rng.choice(_COEFFICIENTS)
                km = rng.choice(_KILOMETRES)
                act_day = billing - timedelta(days=rng.randint(0, 6))
                act_text = day_text.day(act_day)
                lines, totals = shape_rows(
                    practitioner.specialty, coef, km, day_text.sunday_or_holiday(act_day), rate,
                    patient[9] is not None,
                )
                for line in lines:
                    line_rows.append((line_id, invoice_id, line[0], line[1], act_text, *line[2:]))
                    line_id += 1
                created = day_text.nine_am(billing)
                inv_rows.append((
                    invoice_id, practitioner.id, patient[0], number, state,
                    "degrade", day_text.day(billing), act_text, act_text,
                    *totals, rate, True, patient[9] is not None, patient[8], patient[9],
                    patient[3], patient[11], lot, created, "seed",
                ))  # fmt: skip
                seq += 1
                content = separator.join(
                    ("facture", str(seq), str(invoice_id), created, "seed", "", state, "import",
                     reason)
                )  # fmt: skip
                previous = hashlib.sha256(f"{previous}{separator}{content}".encode()).hexdigest()
                hist_rows.append((
                    transition_id, invoice_id, created, "seed", None, state, "import", reason,
                    seq, previous,
                ))  # fmt: skip
                transition_id += 1
                invoice_id += 1
            with immediate(database):
                if audit.chain_head() != head:
                    raise RefusedOperation(
                        "L'historique a été écrit par un autre poste pendant le remplissage : "
                        "recommencez sur une base que personne n'utilise."
                    )
                _insert(database, "invoice", [
                    "id", "practitioner_id", "patient_id", "number", "state", "mode",
                    "billing_date", "first_act_date", "last_act_date", "total_cents",
                    "amo_cents", "amc_cents", "patient_cents", "amo_rate", "amo_tiers_payant",
                    "amc_tiers_payant", "organism_id", "mutuelle_id", "patient_name", "sector",
                    "lot_number", "created_at", "created_by",
                ], inv_rows)  # fmt: skip
                _insert(database, "invoice_line", [
                    "id", "invoice_id", "position", "parent_position", "act_date", "code",
                    "label", "kind", "coefficient_x100", "quantity", "unit_cents",
                    "total_cents", "amo_cents", "amc_cents", "patient_cents",
                ], line_rows)  # fmt: skip
                _insert(database, "invoice_transition", [
                    "id", "invoice_id", "at", "user", "from_state", "to_state", "action",
                    "reason", "seq", "hash",
                ], hist_rows)  # fmt: skip
                head = (seq, previous)
                audit.move_chain_head(seq, previous)
            made += batch
            if progress:
                progress(made, invoices)
    with database.atomic():
        for practitioner_id, value in next_number.items():
            Counter.update(next_value=value).where(
                (Counter.practitioner == practitioner_id) & (Counter.kind == "invoice")
            ).execute()
    _fix_sequences(database)
    if isinstance(database, peewee.SqliteDatabase):
        # Statistics from a sample of each index: enough for the planner, seconds less.
        database.execute_sql("PRAGMA analysis_limit = 1000")
    database.execute_sql("ANALYZE")
    return {"invoices": invoices, "lines": line_id - first_line, "patients": patient_count}
