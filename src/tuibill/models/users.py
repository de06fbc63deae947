"""The practice's staff accounts (schema v7) and the history of each account."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.practice import Practitioner


class User(BaseModel):
    """Someone who works at the desk: logs in, and signs what they do.

    Secrets are stored only as argon2 hashes (``services.users``); the PIN, for quick unlocks
    of a locked screen, too. ``role`` holds a ``domain.permissions.Role`` code.
    """

    login = peewee.CharField(max_length=32, unique=True)
    name = peewee.CharField(default="")
    role = peewee.CharField(max_length=20)
    active = peewee.BooleanField(default=True)
    password_hash = peewee.CharField(max_length=200)
    pin_hash = peewee.CharField(max_length=200, default="")  # empty: no PIN
    # A praticien's own practitioner: the invoices they may sign and credit.
    practitioner = peewee.ForeignKeyField(Practitioner, null=True, backref="accounts")
    created_at = peewee.DateTimeField()


class UserTransition(BaseModel):
    """Created, disabled, role changed, password or PIN changed: who did it and when.

    States are the account's role code, or ``inactif``; chained like every history table.
    """

    account = peewee.ForeignKeyField(User, backref="transitions", on_delete="CASCADE")
    at = peewee.DateTimeField()
    user = peewee.CharField()  # who did it (the logged-in login)
    from_state = peewee.CharField(max_length=20, null=True)  # None: creation
    to_state = peewee.CharField(max_length=20)
    action = peewee.CharField(max_length=32)
    reason = peewee.CharField(default="")
    seq = peewee.BigIntegerField(null=True, unique=True)
    hash = peewee.CharField(max_length=64, default="")
