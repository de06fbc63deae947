"""``tuibill db copy --to URL``: move a practice's whole database to another (SQLite → PostgreSQL
when the practice grows to several desks), and prove nothing was lost.

The target must be empty: its schema is made by the same migrations, then every table is
copied in the order of its foreign keys, ids kept (a self reference — a SCOR lot's FSE lot, a
beneficiary's insured — is filled in once the table is there), PostgreSQL's id sequences moved
past the copied ids. Then the two databases are compared: rows per table, the invoices' count
and amounts, the lines', the history's rows, and the hash chain walked again on the target
(``services.audit.verify``: same rows, intact). A table of the source that tuibill does not know
stops the copy before anything is written: nothing is left behind silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import peewee

from tuibill.domain.errors import RefusedOperation
from tuibill.models import ALL_MODELS, Invoice, InvoiceLine, database, schema
from tuibill.models.base import db
from tuibill.services import audit

PAGE = 2000
# Tables of the database engine or of the schema's own bookkeeping, not copied as data.
_ENGINE_TABLES = {"sqlite_sequence", "sqlite_stat1", "sqlite_stat4", "schema_version"}


@dataclass(frozen=True)
class Comparison:
    label: str  # French: « factures : total (centimes) »
    source: int | str
    target: int | str

    @property
    def ok(self) -> bool:
        return self.source == self.target


@dataclass
class CopyReport:
    target: str
    tables: dict[str, int] = field(default_factory=dict)  # rows copied per table
    comparisons: list[Comparison] = field(default_factory=list)
    chain: str = ""  # audit.verify's message on the target

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    def as_dict(self) -> dict:
        return {
            "cible": self.target,
            "conforme": self.ok,
            "tables": self.tables,
            "controles": [
                {"controle": c.label, "source": c.source, "cible": c.target, "ok": c.ok}
                for c in self.comparisons
            ],
            "chaine": self.chain,
        }


def _models_in_order() -> list[type[peewee.Model]]:
    """Every model after the ones it refers to (self references aside)."""
    ordered: list[type[peewee.Model]] = []
    seen: set[type[peewee.Model]] = set()

    def visit(model: type[peewee.Model]) -> None:
        if model in seen:
            return
        seen.add(model)
        for target in model._meta.refs.values():
            if target is not model:
                visit(target)
        ordered.append(model)

    for model in ALL_MODELS:
        visit(model)
    return ordered


def _masked(url: str) -> str:
    """*url* without its password (it goes into messages and reports)."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


def _measures() -> list[tuple[str, int | str]]:
    """What must be equal on both sides, read from whichever database the models are bound to."""
    measures: list[tuple[str, int | str]] = []
    for model in ALL_MODELS:
        measures.append((f"{model._meta.table_name} : lignes", model.select().count()))
    invoices = Invoice.select(
        peewee.fn.COUNT(Invoice.id),
        peewee.fn.COALESCE(peewee.fn.SUM(Invoice.total_cents), 0),
        peewee.fn.COALESCE(peewee.fn.SUM(Invoice.amo_cents), 0),
        peewee.fn.COALESCE(peewee.fn.SUM(Invoice.amc_cents), 0),
        peewee.fn.COALESCE(peewee.fn.SUM(Invoice.patient_cents), 0),
        peewee.fn.COALESCE(peewee.fn.SUM(Invoice.number), 0),
    ).tuples().first()
    for label, value in zip(
        ("nombre", "total (centimes)", "part AMO", "part AMC", "part patient", "somme des numéros"),
        invoices,
        strict=True,
    ):
        measures.append((f"factures : {label}", int(value)))
    lines = InvoiceLine.select(
        peewee.fn.COUNT(InvoiceLine.id),
        peewee.fn.COALESCE(peewee.fn.SUM(InvoiceLine.total_cents), 0),
    ).tuples().first()
    measures.append(("lignes de factures : total (centimes)", int(lines[1])))
    head = audit.AuditHead.get_or_none(audit.AuditHead.id == 1)
    measures.append(("historique : dernière empreinte", head.hash if head else ""))
    report = audit.verify()
    measures.append(("historique : lignes chaînées vérifiées", report.rows))
    measures.append(("historique : chaîne intacte", "oui" if report.ok else report.message))
    return measures


def _check_target_empty(target: peewee.Database, url: str) -> None:
    tables = [name for name in target.get_tables() if name not in {"sqlite_sequence"}]
    if tables:
        raise RefusedOperation(
            f"La base cible « {_masked(url)} » n'est pas vide ({len(tables)} table(s), dont "
            f"« {tables[0]} ») : la copie demande une base vide."
        )


def _check_source_known(source: peewee.Database) -> None:
    known = {model._meta.table_name for model in ALL_MODELS} | _ENGINE_TABLES
    unknown = sorted(set(source.get_tables()) - known)
    if unknown:
        raise RefusedOperation(
            f"Table(s) inconnue(s) de ce tuibill dans la base : {', '.join(unknown)} ; rien n'est "
            "copié (mettez tuibill à jour)."
        )


def _copy_table(model: type[peewee.Model], target: peewee.Database) -> int:
    fields = list(model._meta.sorted_fields)
    self_refs = [f for f in fields if isinstance(f, peewee.ForeignKeyField) and f.rel_model is model]
    table = model._meta.table_name
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join([target.param] * len(fields))
    insert = f'INSERT INTO "{table}" ({columns}) VALUES ({marks})'
    later: list[tuple] = []  # (value of each self reference…, id)
    copied, last = 0, None
    primary = model._meta.primary_key
    while True:
        query = model.select(*fields).order_by(primary).limit(PAGE)  # the source: bound
        if last is not None:
            query = query.where(primary > last)
        rows = list(query.tuples())
        if not rows:
            break
        values = []
        for row in rows:
            record = dict(zip((f.name for f in fields), row, strict=True))
            if self_refs and any(record[f.name] is not None for f in self_refs):
                later.append((*(record[f.name] for f in self_refs), record[primary.name]))
                for f in self_refs:
                    record[f.name] = None
            values.append(tuple(f.db_value(record[f.name]) for f in fields))
        target.cursor().executemany(insert, values)
        copied += len(rows)
        last = rows[-1][fields.index(primary)]
    if later:
        sets = ", ".join(f'"{f.column_name}" = {target.param}' for f in self_refs)
        target.cursor().executemany(
            f'UPDATE "{table}" SET {sets} WHERE "{primary.column_name}" = {target.param}', later
        )
    if not isinstance(target, peewee.SqliteDatabase) and isinstance(primary, peewee.AutoField):
        target.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{primary.column_name}'), "
            f'COALESCE(MAX("{primary.column_name}"), 1), MAX("{primary.column_name}") IS NOT NULL) '
            f'FROM "{table}"'
        )
    return copied


def copy_database(
    target_url: str, *, progress: Callable[[str, int], None] | None = None
) -> CopyReport:
    """Copy the bound database into the empty one at *target_url*; compare them. The report's
    ``ok`` says whether every comparison holds (the target is kept either way, for a look)."""
    source = db.obj
    source_url = database.bound_url
    if source is None or source_url is None:
        raise RefusedOperation("Aucune base ouverte à copier.")
    if target_url.strip() == source_url.strip():
        raise RefusedOperation("La base cible est la base source.")
    schema.check_current(source)
    _check_source_known(source)
    target = database.make_database(target_url, create=True)
    target.connect(reuse_if_open=True)
    report = CopyReport(_masked(target_url))
    try:
        _check_target_empty(target, target_url)
        models = _models_in_order()
        with target.bind_ctx([*ALL_MODELS, schema.SchemaVersion]):
            schema.upgrade(target)
        with target.atomic():
            # The migrations' own rows (the chain's empty head) give way to the source's.
            for model in reversed(models):
                target.execute_sql(f'DELETE FROM "{model._meta.table_name}"')
            for model in models:
                report.tables[model._meta.table_name] = _copy_table(model, target)
                if progress:
                    progress(model._meta.table_name, report.tables[model._meta.table_name])
        before = _measures()
        with target.bind_ctx([*ALL_MODELS, schema.SchemaVersion]):
            after = _measures()
            report.chain = audit.verify().message
        report.comparisons = [
            Comparison(label, value, other)
            for (label, value), (_, other) in zip(before, after, strict=True)
        ]
    finally:
        target.close()
    return report
