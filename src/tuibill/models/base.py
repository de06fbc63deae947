"""The database proxy and the base model."""

from __future__ import annotations

import peewee

db = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = db
        legacy_table_names = False


def unindexed(column: peewee.Field) -> peewee.Node:
    """*column* as SQLite compares it without its indexes (« +column »): for a test that picks
    few rows of the other table but that SQLite, counting ten rows per value, would rather read
    through this column's index (every invoice « Transmise »). Other databases weigh the
    choice from their statistics: the column as it is there."""
    if isinstance(db.obj, peewee.SqliteDatabase):
        return peewee.NodeList((peewee.SQL("+"), column), glue="")
    return column
