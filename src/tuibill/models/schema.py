"""Schema creation and versioned, in-place upgrades (``tuibill db upgrade``).

Each migration is a function run once, in order, inside one transaction, and the version row
moves with it: a practice database survives new versions of tuibill. Never edit a released
migration; add the next one.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee

from tuibill import models
from tuibill.domain.errors import ConfigError
from tuibill.models import (
    Invoice,
    InvoiceLine,
    InvoiceTransition,
    IsolatedAct,
    Lot,
    LotTransition,
)
from tuibill.models.base import db

Migration = Callable[[peewee.Database], None]


class SchemaVersion(peewee.Model):
    version = peewee.IntegerField()

    class Meta:
        database = db
        table_name = "schema_version"


def add_missing_columns(
    database: peewee.Database, model: type[peewee.Model], names: list[str]
) -> None:
    """Add *names* (fields of *model*) to its table where they are not there yet.

    Migrations are written this way so they hold both for a database made by an older version
    (the column is missing) and for a fresh one (the current model already created it).
    """
    from playhouse.migrate import SchemaMigrator, migrate

    table = model._meta.table_name
    present = {column.name for column in database.get_columns(table)}
    migrator = SchemaMigrator.from_database(database)
    operations = []
    for name in names:
        field = model._meta.fields[name]
        if field.column_name in present:
            continue
        if _sqlite_constant_column(database, table, field):
            continue
        operations.append(migrator.add_column(table, field.column_name, field))
    if operations:
        migrate(*operations)


def _sqlite_constant_column(database: peewee.Database, table: str, field: peewee.Field) -> bool:
    """On SQLite, add a NOT NULL column with a constant default in one O(1) statement.

    peewee's migrator adds it nullable, fills every row, then rebuilds the table to add NOT NULL:
    minutes on a million invoices, where ``ADD COLUMN … NOT NULL DEFAULT`` only edits the schema.
    """
    if not isinstance(database, peewee.SqliteDatabase) or field.null:
        return False
    if (
        field.default is None
        or callable(field.default)
        or isinstance(field, peewee.ForeignKeyField)
    ):
        return False
    value = field.db_value(field.default)
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, str):
        literal = "'" + value.replace("'", "''") + "'"
    elif isinstance(value, int | float):
        literal = repr(value)
    else:
        return False
    ctx = database.get_sql_context()
    datatype = ctx.sql(field.ddl_datatype(ctx)).query()[0]
    database.execute_sql(
        f'ALTER TABLE "{table}" ADD COLUMN "{field.column_name}" {datatype} '
        f"NOT NULL DEFAULT {literal}"
    )
    return True


def _v1_initial(database: peewee.Database) -> None:
    database.create_tables(models.V1_MODELS, safe=True)


def _v2_securing_pieces_lots(database: peewee.Database) -> None:
    database.create_tables(models.V2_MODELS, safe=True)
    add_missing_columns(
        database,
        Invoice,
        [
            "secured_with_vitale",
            "signature",
            "signature_algorithm",
            "signer",
            "signing_card",
            "signer_certificate",
            "secured_at",
            "tla_key",
            "lot",
        ],
    )


def _v3_rejected_state(database: peewee.Database) -> None:
    """A rejection is a state of the life cycle (« Rejetée »), no longer a flag beside it."""
    columns = {column.name for column in database.get_columns("invoice")}
    if "rejected" not in columns:
        return  # a database created by this version
    database.execute_sql(
        "UPDATE invoice SET state = 'REJETEE' WHERE state = 'TRANSMISE' AND rejected"
        if not isinstance(database, peewee.SqliteDatabase)
        else "UPDATE invoice SET state = 'REJETEE' WHERE state = 'TRANSMISE' AND rejected = 1"
    )
    # SQLite ≥ 3.35 and PostgreSQL drop a column in place.
    database.execute_sql('ALTER TABLE "invoice" DROP COLUMN "rejected"')


def _v4_returns(database: peewee.Database) -> None:
    database.create_tables(models.V4_MODELS, safe=True)
    add_missing_columns(database, Invoice, ["amo_paid_cents", "amc_paid_cents"])


def _v5_audit_chain(database: peewee.Database) -> None:
    """Chain the history: the rows already there are sealed in the order they happened."""
    import hashlib

    database.create_tables(models.V5_MODELS, safe=True)
    add_missing_columns(database, Lot, ["codec"])
    for model in (InvoiceTransition, LotTransition):
        add_missing_columns(database, model, ["seq", "hash"])
        table = model._meta.table_name
        indexes = {index.name for index in database.get_indexes(table)}
        if f"{table}_seq" not in indexes:
            database.execute_sql(f'CREATE UNIQUE INDEX "{table}_seq" ON "{table}" ("seq")')
    # The same canonical content and link as services.audit (kept here as the rule of this
    # version: a migration never changes afterwards).
    separator, previous, seq = "\x1f", "0" * 64, 0
    head = database.execute_sql('SELECT seq, hash FROM "audit_head" WHERE id = 1').fetchone()
    if head is not None:
        return  # already chained (a database made by this version)
    rows = []
    for kind, table, entity in (("facture", "invoice_transition", "invoice_id"),
                                ("lot", "lot_transition", "lot_id")):  # fmt: skip
        cursor = database.execute_sql(
            f'SELECT id, {entity}, at, "user", from_state, to_state, action, reason '
            f'FROM "{table}" WHERE seq IS NULL'
        )
        rows += [(row[2], kind, table, row) for row in cursor.fetchall()]
    rows.sort(key=lambda item: (str(item[0]), item[1], item[3][0]))
    updates: dict[str, list[tuple[int, str, int]]] = {}
    for _, kind, table, (row_id, entity_id, at, user, source, target, action, reason) in rows:
        seq += 1
        at_text = at.isoformat(sep=" ") if hasattr(at, "isoformat") else str(at)
        fields = (kind, seq, entity_id, at_text, user, source, target, action, reason)
        content = separator.join("" if f is None else str(f) for f in fields)
        previous = hashlib.sha256(f"{previous}{separator}{content}".encode()).hexdigest()
        updates.setdefault(table, []).append((seq, previous, row_id))
    placeholder = "?" if isinstance(database, peewee.SqliteDatabase) else "%s"
    for table, values in updates.items():
        cursor = database.cursor()
        cursor.executemany(
            f'UPDATE "{table}" SET seq = {placeholder}, hash = {placeholder} '
            f"WHERE id = {placeholder}",
            values,
        )
    database.execute_sql(
        f'INSERT INTO "audit_head" (id, seq, hash) VALUES (1, {placeholder}, {placeholder})',
        (seq, previous),
    )


def _v6_bank(database: peewee.Database) -> None:
    """The bank: accounts, statements, lines, matches and their history, and the first rules.

    The rules are written as they were when this version was released (a migration never
    changes afterwards; ``domain.bank_matching.DEFAULT_RULES`` may).
    """
    database.create_tables(models.V6_MODELS, safe=True)
    if database.execute_sql('SELECT COUNT(*) FROM "match_rule"').fetchone()[0]:
        return
    rules = [
        # position, name, kind, receipt_label, partner, tolerance_cents, days_before, days_after
        (1, "Libellé annoncé, montant exact", "virement", 1, 0, 0, 2, 10),
        (2, "Organisme nommé, montant exact", "virement", 0, 1, 0, 2, 10),
        (3, "Payeur nommé, montant exact", "reglement", 0, 1, 0, 5, 30),
        (4, "Libellé annoncé, écart signalé", "virement", 1, 0, 5000, 2, 10),
    ]  # fmt: skip
    placeholder = "?" if isinstance(database, peewee.SqliteDatabase) else "%s"
    columns = (
        "position, name, kind, receipt_label, partner, tolerance_cents, days_before, days_after"
    )
    for row in rules:
        values = (*row[:3], bool(row[3]), bool(row[4]), *row[5:])
        database.execute_sql(
            f'INSERT INTO "match_rule" ({columns}, label_contains, label_regex, active) '
            f"VALUES ({', '.join([placeholder] * 8)}, '', '', {placeholder})",
            (*values, True),
        )


def _v7_users(database: peewee.Database) -> None:
    """Staff accounts and their history (chained with the others; no rows to seal yet)."""
    database.create_tables(models.V7_MODELS, safe=True)


def _v8_payers(database: peewee.Database) -> None:
    """Tiers-payeurs and the home-care service (seed 004); the default levels of relance."""
    from tuibill.domain.payers import DEFAULT_REMINDER_LEVELS
    from tuibill.models import ReminderLevelRow

    database.create_tables(models.V8_MODELS, safe=True)
    if not ReminderLevelRow.select().exists():
        for level in DEFAULT_REMINDER_LEVELS:
            ReminderLevelRow.create(
                number=level.number, days=level.days, title=level.title, text=level.text
            )


# Indexes the journal's patient filter reads without touching a row (services.journal).
JOURNAL_INDEXES = {
    "invoice_billing_date_id_patient_name": ("billing_date", "id", "patient_name"),
    "invoice_patient_name_billing_date_id": ("patient_name", "billing_date", "id"),
}


def _v9_journal_indexes(database: peewee.Database) -> None:
    """The journal's order and the patient prefix each get a covering index; they replace the
    narrower (billing_date, id) and (patient_name) indexes, which are their first columns."""
    for name, columns in JOURNAL_INDEXES.items():
        listed = ", ".join(f'"{column}"' for column in columns)
        database.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "invoice" ({listed})')
    for name in ("invoice_billing_date_id", "invoice_patient_name"):
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    database.execute_sql('ANALYZE "invoice"')  # the planner weighs the new indexes at once


def _v10_rejections(database: peewee.Database) -> None:
    """Treating the returns: avoirs, the practice's motif rules, refused lines' statuses, lots
    pointed; nullable columns only on the big tables (O(1) on SQLite and PostgreSQL)."""
    database.create_tables(models.V10_MODELS, safe=True)
    add_missing_columns(
        database, Invoice, ["recycled_at", "recycled_by", "replaces", "amc_to_patient_cents"]
    )
    add_missing_columns(database, InvoiceLine, ["credit_of", "rebill_of"])
    add_missing_columns(database, IsolatedAct, ["rebills_line"])


MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "schéma initial", _v1_initial),
    (2, "sécurisation des factures, pièces SCOR, lots, fichiers reçus", _v2_securing_pieces_lots),
    (3, "rejet de la caisse : état « Rejetée »", _v3_rejected_state),
    (4, "retours NOEMIE : virements, factures payées et rejetées", _v4_returns),
    (5, "historique chaîné (empreintes SHA-256), format de chaque lot", _v5_audit_chain),
    (6, "banque : relevés, rapprochements et leurs règles", _v6_bank),
    (7, "comptes utilisateurs et rôles, leur historique chaîné", _v7_users),
    (8, "tiers-payeurs : plans d'aide, factures d'aide à domicile, bordereaux, règlements", _v8_payers),
    (9, "journal des factures : index couvrants du filtre patient", _v9_journal_indexes),
    (10, "rejets : avoirs, motifs, lignes refusées, recyclage, pointage des lots, DRE", _v10_rejections),
]

LATEST = MIGRATIONS[-1][0]


def current_version(database: peewee.Database | None = None) -> int:
    database = database or db.obj
    if not database.table_exists("schema_version"):
        return 0
    row = SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar()
    return int(row or 0)


def upgrade(database: peewee.Database | None = None) -> list[str]:
    """Apply the pending migrations; return what was done, in French."""
    database = database or db.obj
    done: list[str] = []
    with database.atomic():
        database.create_tables([SchemaVersion], safe=True)
        version = current_version(database)
        if version > LATEST:
            raise ConfigError(
                f"La base est en version {version}, plus récente que ce tuibill (version "
                f"{LATEST}) : mettez tuibill à jour."
            )
        for number, label, migrate in MIGRATIONS:
            if number <= version:
                continue
            migrate(database)
            SchemaVersion.delete().execute()
            SchemaVersion.create(version=number)
            done.append(f"version {number} : {label}")
    return done


def check_current(database: peewee.Database | None = None) -> None:
    """Refuse to work on a database that is not at this tuibill's version."""
    version = current_version(database)
    if version == 0:
        raise ConfigError(
            "La base de données n'est pas initialisée : lancez « tuibill init --db CHEMIN »."
        )
    if version < LATEST:
        raise ConfigError(
            f"La base est en version {version}, ce tuibill attend la version {LATEST} : "
            "lancez « tuibill db upgrade »."
        )
    if version > LATEST:
        raise ConfigError(
            f"La base est en version {version}, plus récente que ce tuibill ({LATEST}) : "
            "mettez tuibill à jour."
        )
