"""Opening a database from a path or URL, and its settings for concurrent desks."""

from __future__ import annotations

from pathlib import Path

import peewee

from tuibill.domain.errors import ConfigError
from tuibill.models.base import db

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never block the desk that validates
    "busy_timeout": 10_000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -32_000,
}


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def make_database(url: str) -> peewee.Database:
    if is_postgres(url):
        from playhouse.db_url import connect

        try:
            return connect(url)
        except ImportError as error:  # psycopg2 missing
            raise ConfigError(
                "PostgreSQL demandé mais le pilote psycopg2 n'est pas installé "
                "(pip install 'tuibill[postgres]').",
                key="database.url",
            ) from error
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    if path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        path = str(Path(path).expanduser())
    return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, returning_clause=True)


def bind(url: str) -> peewee.Database:
    """Point the model proxy at *url* and connect."""
    database = make_database(url)
    if db.obj is not None and not db.is_closed():
        db.close()
    db.initialize(database)
    db.connect(reuse_if_open=True)
    return database


def immediate(database: peewee.Database | None = None):
    """A write transaction that takes the write lock at once (SQLite ``BEGIN IMMEDIATE``).

    Deferred transactions that read then write dead-lock each other under several desks; an
    immediate one waits its turn within ``busy_timeout`` instead.
    """
    target = database or db.obj
    if isinstance(target, peewee.SqliteDatabase):
        return target.atomic("IMMEDIATE")
    return target.atomic()
