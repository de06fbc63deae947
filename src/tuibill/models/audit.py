"""The head of the history's hash chain, and the outcome of the last check of it."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel


class AuditHead(BaseModel):
    """One row: the last sequence number handed to a history row, and that row's hash."""

    seq = peewee.BigIntegerField(default=0)
    hash = peewee.CharField(max_length=64, default="")


class AuditCheck(BaseModel):
    """Each `tuibill audit verify` (or check from the menu): when, and what it found."""

    at = peewee.DateTimeField()
    user = peewee.CharField(default="")
    ok = peewee.BooleanField()
    rows = peewee.BigIntegerField(default=0)
    message = peewee.TextField(default="")
