"""Lots (batches of FSE or SCOR pieces per practitioner and caisse) and their history."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.parties import Organism
from tuibill.models.practice import Practitioner


class Lot(BaseModel):
    practitioner = peewee.ForeignKeyField(Practitioner, backref="lots")
    organism = peewee.ForeignKeyField(Organism, backref="lots")  # destination caisse
    kind = peewee.CharField(max_length=8, default="FSE")  # FSE / SCOR
    number = peewee.IntegerField()  # 3 digits, wraps (a number is reused after 999)
    state = peewee.CharField(max_length=20)
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField(default="")
    # Régime + caisse (« 01281 »): what routes the lot (transmission.caisses) and groups it.
    destination = peewee.CharField(max_length=5, default="")
    # A SCOR lot travels with the FSE lot whose pieces it carries.
    parent = peewee.ForeignKeyField("self", null=True, backref="scor_lots", on_delete="SET NULL")
    # The exact bytes sent: a re-sending after a time-out is identical, byte for byte.
    file_name = peewee.CharField(default="")
    file_sha256 = peewee.CharField(max_length=64, default="")
    file_bytes = peewee.BlobField(null=True)
    # The lot codec that wrote it (schema v5): it is read back with that one, whatever the
    # setting says later.
    codec = peewee.CharField(max_length=40, default="tuibill")
    invoice_count = peewee.IntegerField(default=0)
    piece_count = peewee.IntegerField(default=0)  # SCOR lots: the PDF pieces carried
    total_cents = peewee.BigIntegerField(default=0)
    # « Annuler facture transmise » on its invoices: all of them cancelled → Annulé.
    cancelled_count = peewee.IntegerField(default=0)
    send_count = peewee.SmallIntegerField(default=0)
    send_started_at = peewee.DateTimeField(null=True)  # set before the mail goes out
    sent_at = peewee.DateTimeField(null=True)  # set once the server accepted it
    message_id = peewee.CharField(default="")
    recipient = peewee.CharField(default="")  # the caisse address of the last sending
    last_error = peewee.TextField(default="")
    last_error_at = peewee.DateTimeField(null=True)
    arl_at = peewee.DateTimeField(null=True)
    arl_code = peewee.CharField(max_length=3, default="")  # reason code of a negative ARL
    arl_reason = peewee.TextField(default="")

    class Meta:
        indexes = (
            (("created_at", "id"), False),
            (("practitioner", "number"), False),
            (("state", "created_at"), False),
            (("number",), False),
        )


class LotTransition(BaseModel):
    lot = peewee.ForeignKeyField(Lot, backref="transitions", on_delete="CASCADE")
    at = peewee.DateTimeField()
    user = peewee.CharField()
    from_state = peewee.CharField(max_length=20, null=True)
    to_state = peewee.CharField(max_length=20)
    action = peewee.CharField(max_length=32)
    reason = peewee.TextField(default="")
    seq = peewee.BigIntegerField(null=True, unique=True)  # the history's hash chain (v5)
    hash = peewee.CharField(max_length=64, default="")
