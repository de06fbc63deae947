"""Every file received from the caisses (ARL, returns), archived before anything acts on it."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.lots import Lot


class ReceivedFile(BaseModel):
    kind = peewee.CharField(max_length=12)  # arl / retour / inconnu
    source = peewee.CharField(max_length=12)  # pop3 / imap / inbox
    message_id = peewee.CharField(default="", index=True)  # the mail it came in
    file_name = peewee.CharField()
    sha256 = peewee.CharField(max_length=64, index=True)
    archive_path = peewee.CharField()
    received_at = peewee.DateTimeField()
    status = peewee.CharField(max_length=12, default="recu")  # recu / applique / refuse
    error = peewee.TextField(default="")
    lot = peewee.ForeignKeyField(Lot, null=True, backref="received_files", on_delete="SET NULL")
