"""A history no one can rewrite quietly: every history row is chained by SHA-256.

Each row of a history table (:func:`chained_tables`: invoices — the returns' moves among
them —, lots, bank matches, staff accounts, home-care invoices, bordereaux, règlements) gets the
next number of one sequence over all of them (``seq``, handed out in the writing transaction:
SQLite's write lock, PostgreSQL's row lock on :class:`~tuibill.models.AuditHead`) and the hash of
its canonical content with the previous row's hash. :func:`verify` walks the chain in ``seq``
order and names the first row edited, deleted or moved; :class:`AuditHead` keeps the last number
and hash, so rows deleted at the end are found too.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import peewee

from tuibill.models import AuditCheck, AuditHead, InvoiceTransition, LotTransition, UserTransition

GENESIS = "0" * 64
SEPARATOR = "\x1f"  # the ASCII unit separator: never in a field the desk writes


@dataclass(frozen=True)
class Chained:
    """A history table in the chain: its kind (part of every hash) and its entity column."""

    kind: str
    model: type[peewee.Model]
    entity: str  # the column naming what the row is the history of
    plural: str = ""  # in the French messages; empty: the kind and an s

    @property
    def kinds(self) -> str:
        return self.plural or f"{self.kind}s"


@functools.cache
def chained_tables() -> tuple[Chained, ...]:
    """The history tables of the chain. Made on first use: the bank's and the home-care's
    models are then loaded (``tuibill.models`` loads them lazily; the desk's start reads the
    last check, not the chain)."""
    from tuibill import models

    return (
        Chained("facture", InvoiceTransition, "invoice"),
        Chained("lot", LotTransition, "lot"),
        Chained("rapprochement", models.BankMatchEvent, "match"),
        Chained("utilisateur", UserTransition, "account"),
        # Tiers-payeurs (seed 004): home-care invoices and avoirs, bordereaux, règlements.
        Chained("facture d'aide à domicile", models.HomecareInvoiceTransition, "invoice",
                "factures d'aide à domicile"),
        Chained("bordereau", models.SlipTransition, "slip", "bordereaux"),
        Chained("règlement", models.PaymentTransition, "payment"),
    )  # fmt: skip


@functools.cache
def _by_model() -> dict[type[peewee.Model], Chained]:
    return {chained.model: chained for chained in chained_tables()}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


# The fields after the row's kind, number and entity, in the order the hash covers them.
_CONTENT = ("at", "user", "from_state", "to_state", "action", "reason")


def canonical(kind: str, seq: int, entity_id: int, values: dict) -> str:
    """The content a row's hash covers, in a fixed order."""
    return f"{kind}{SEPARATOR}{_text(seq)}{SEPARATOR}{_text(entity_id)}{SEPARATOR}{_tail(values)}"


def _tail(values: dict) -> str:
    get = values.get
    return SEPARATOR.join([_text(get(name)) for name in _CONTENT])


def link(previous: str, content: str) -> str:
    return hashlib.sha256(f"{previous}{SEPARATOR}{content}".encode()).hexdigest()


def chain_head() -> tuple[int, str]:
    """The chain's head (its last number and hash), locked for the caller's transaction (a row
    lock on PostgreSQL; SQLite's write lock is the transaction's); created on first use.

    Read and moved in plain SQL: each batch of history rows reads and moves the head (twice for
    each lot built), and peewee built the same two statements each time (~0.3 ms each)."""
    database = AuditHead._meta.database
    sql = f'SELECT "seq", "hash" FROM "{AuditHead._meta.table_name}" WHERE "id" = {database.param}'
    if not isinstance(database.obj, peewee.SqliteDatabase):
        sql += " FOR UPDATE"
    row = database.execute_sql(sql, (1,)).fetchone()
    if row is None:
        AuditHead.insert(id=1, seq=0, hash=GENESIS).on_conflict_ignore().execute()
        row = database.execute_sql(sql, (1,)).fetchone()
    return int(row[0]), row[1] or GENESIS


def move_chain_head(seq: int, digest: str) -> None:
    """The chain's head set to *seq* and *digest*, in the caller's transaction (after rows
    chained by hand, as the seed does)."""
    database = AuditHead._meta.database
    mark = database.param
    database.execute_sql(
        f'UPDATE "{AuditHead._meta.table_name}" SET "seq" = {mark}, "hash" = {mark} '
        f'WHERE "id" = {mark}',
        (seq, digest, 1),
    )


def seal_many(model: type[peewee.Model], rows: list[dict]) -> list[dict]:
    """Give *rows* (values of *model*, in the order they happen) their place in the chain.

    The caller holds the write transaction and inserts the rows as returned.
    """
    chained = _by_model()[model]
    ids, tails = [], []
    # Most rows of a batch share their time, user, move and reason: that part of the canonical
    # text is made once per distinct values (their types in the key: 1, True and "1" differ).
    known: dict[tuple, str] = {}
    for values in rows:
        entity = values[chained.entity]
        ids.append(entity if isinstance(entity, int) else entity.id)
        get = values.get
        content = tuple([get(name) for name in _CONTENT])
        key = (content, tuple(map(type, content)))
        try:
            tail = known[key]
        except KeyError:
            tail = known[key] = _tail(values)
        except TypeError:  # a value not hashable
            tail = _tail(values)
        tails.append(tail)
    places = _chain(chained.kind, ids, tails)
    return [
        {**values, "seq": seq, "hash": digest}
        for values, (seq, digest) in zip(rows, places, strict=True)
    ]


def seal_alike(
    model: type[peewee.Model], entity_ids: Sequence[int], values: dict
) -> list[tuple[int, str]]:
    """The places in the chain (seq, hash) of one row of *model* per entity of *entity_ids*, in
    that order, every row with the same other *values* (a batch move: one time, user, move and
    reason): what :func:`seal_many` gives, without a dict per row. The caller holds the write
    transaction and inserts the rows."""
    return _chain(_by_model()[model].kind, entity_ids, itertools.repeat(_tail(values)))


def _chain(kind: str, entity_ids: Sequence[int], tails: Iterable[str]) -> list[tuple[int, str]]:
    """Chain rows after the head: each one's entity and the canonical text after it."""
    seq, previous = chain_head()
    start = f"{SEPARATOR}{kind}{SEPARATOR}"
    sha256 = hashlib.sha256
    places = []
    for entity_id, tail in zip(entity_ids, tails, strict=False):  # tails may repeat forever
        seq += 1
        # link(previous, canonical(kind, seq, entity_id, values)), written out: thousands a lot.
        text = f"{previous}{start}{seq}{SEPARATOR}{_text(entity_id)}{SEPARATOR}{tail}"
        previous = sha256(text.encode()).hexdigest()
        places.append((seq, previous))
    if places:
        move_chain_head(seq, previous)
    return places


def seal(model: type[peewee.Model], values: dict) -> dict:
    return seal_many(model, [values])[0]


# --- checking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of checking the history's hash chain, and where it broke."""

    ok: bool
    rows: int  # rows read
    message: str  # French: « chaîne intacte … » or the first problem found
    table: str = ""
    row_id: int | None = None
    seq: int | None = None

    def as_dict(self) -> dict:
        return {
            "intacte": self.ok,
            "lignes": self.rows,
            "message": self.message,
            "table": self.table,
            "ligne": self.row_id,
            "seq": self.seq,
        }


def _stream(chained: Chained, page: int = 5000) -> Iterator[tuple[int, Chained, dict]]:
    model = chained.model
    entity = getattr(model, chained.entity)
    columns = (model.id, model.seq, model.hash, entity, model.at, model.user,
               model.from_state, model.to_state, model.action, model.reason)  # fmt: skip
    names = ("id", "seq", "hash", chained.entity, "at", "user", "from_state", "to_state",
             "action", "reason")  # fmt: skip
    last = -1
    while True:
        batch = list(
            model.select(*columns)
            .where(model.seq.is_null(False) & (model.seq > last))
            .order_by(model.seq)
            .limit(page)
            .tuples()
        )
        for values in batch:
            row = dict(zip(names, values, strict=True))
            yield row["seq"], chained, row
        if len(batch) < page:
            return
        last = batch[-1][1]


def verify() -> VerifyReport:
    """Walk every chained row in sequence order; the first row edited, deleted or moved."""
    unsealed = [
        (chained, chained.model.select(chained.model.id).where(chained.model.seq.is_null()).first())
        for chained in chained_tables()
    ]
    for chained, row in unsealed:
        if row is not None:
            return VerifyReport(
                False, 0, f"Ligne {row.id} de l'historique des {chained.kinds} hors de la chaîne "
                "(ajoutée à la main ?).", chained.model._meta.table_name, row.id,
            )  # fmt: skip
    expected, previous, rows = 1, GENESIS, 0
    streams = [_stream(chained) for chained in chained_tables()]
    for seq, chained, row in heapq.merge(*streams, key=lambda item: item[0]):
        rows += 1
        table = chained.model._meta.table_name
        where = f"historique des {chained.kinds}, ligne {row['id']} (n° {seq})"
        if seq != expected:
            return VerifyReport(
                False, rows, f"Rupture de la chaîne avant {where} : la ligne n° {expected} a été "
                "supprimée ou déplacée.", table, row["id"], seq,
            )  # fmt: skip
        recomputed = link(previous, canonical(chained.kind, seq, row[chained.entity], row))
        if recomputed != row["hash"]:
            return VerifyReport(
                False, rows, f"{where[0].upper()}{where[1:]} : contenu modifié après coup (son "
                "empreinte ne correspond plus).", table, row["id"], seq,
            )  # fmt: skip
        previous, expected = recomputed, expected + 1
    head = AuditHead.get_or_none(AuditHead.id == 1)
    if head is not None and (head.seq != expected - 1 or (head.hash or GENESIS) != previous):
        return VerifyReport(
            False, rows, f"Fin de la chaîne supprimée : {head.seq - expected + 1} ligne(s) "
            f"manquante(s) après la n° {expected - 1}.", "", None, expected,
        )  # fmt: skip
    return VerifyReport(True, rows, f"Historique intact : {rows} ligne(s) vérifiée(s).")


def record_check(report: VerifyReport, *, user: str, at: datetime) -> None:
    """Keep the outcome: the menu warns while the last check failed."""
    from tuibill.models.database import immediate

    with immediate():
        AuditCheck.create(
            at=at, user=user, ok=report.ok, rows=report.rows, message=report.message
        )


def last_check() -> AuditCheck | None:
    return AuditCheck.select().order_by(AuditCheck.id.desc()).first()
