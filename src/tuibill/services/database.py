"""The database as the screens and the command line reach it: open it, bring its schema up to
date, and the per-thread housekeeping of worker threads (peewee keeps one connection per thread).
"""

from __future__ import annotations

import peewee

from tuibill.models import database, schema
from tuibill.models.base import db

# Any failure of the database itself (locked, gone, unreadable), as the UI catches it.
DatabaseError = peewee.PeeweeException
LATEST_VERSION = schema.LATEST


def open_database(url: str, *, check: bool = True, create: bool = False) -> peewee.Database:
    """Bind the models to *url*; refuse a schema older or newer than this tuibill's.

    Only *create* makes a SQLite file that does not exist (``tuibill init`` and the demo).
    """
    bound = database.bind(url, create=create)
    if check:
        schema.check_current(bound)
    return bound


def current_url() -> str | None:
    """The URL of the database the models are bound to (None before any is opened)."""
    return database.bound_url


def upgrade() -> list[str]:
    """Apply the pending schema migrations; what was done, in French."""
    return schema.upgrade()


def schema_version() -> int:
    return schema.current_version()


def is_postgres(url: str) -> bool:
    return database.is_postgres(url)


def close_thread_connection() -> None:
    """Close the calling worker thread's connection.

    Textual runs thread workers in the event loop's default executor, whose threads outlive the
    worker: without this, each would keep a connection open.
    """
    if db.obj is not None and not db.is_closed():
        db.close()
