"""SCOR pieces (scanned PDF documents) attached to mode-dégradé invoices."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.invoices import Invoice
from tuibill.models.lots import Lot


class InvoicePiece(BaseModel):
    invoice = peewee.ForeignKeyField(Invoice, backref="pieces", on_delete="CASCADE")
    kind = peewee.CharField(max_length=20, default="prescription")  # prescription / feuille
    file_name = peewee.CharField()
    content = peewee.BlobField()
    sha256 = peewee.CharField(max_length=64)
    added_at = peewee.DateTimeField()
    added_by = peewee.CharField(default="")
    lot = peewee.ForeignKeyField(Lot, null=True, backref="pieces", on_delete="SET NULL")
