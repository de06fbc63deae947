"""Every file received from the caisses (ARL, returns), archived before anything acts on it."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.lots import Lot


class ReceivedFile(BaseModel):
    kind = peewee.CharField(max_length=12)  # arl / retour / inconnu
    source = peewee.CharField(max_length=12)  # pop3 / imap / inbox
    message_id = peewee.CharField(default="", index=True)  # the mail it came in
    in_reply_to = peewee.CharField(default="")  # the lot mail it answers, when it says so
    file_name = peewee.CharField()
    sha256 = peewee.CharField(max_length=64, index=True)
    archive_path = peewee.CharField()
    received_at = peewee.DateTimeField()
    # recu (archived, not acted on yet) / applique / refuse (unreadable) / ignore (nothing to do)
    status = peewee.CharField(max_length=12, default="recu", index=True)
    error = peewee.TextField(default="")  # refuse / ignore: why, in French
    processed_at = peewee.DateTimeField(null=True)
    lot = peewee.ForeignKeyField(Lot, null=True, backref="received_files", on_delete="SET NULL")
