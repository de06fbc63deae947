"""Treating the caisses' answers (issue 9): avoirs, the practice's motif rules, the status of each
refused line, and the clerk's « pointage » of lots left without a return."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.invoices import Invoice, InvoiceLine, IsolatedAct
from tuibill.models.lots import Lot
from tuibill.models.practice import Practitioner


class CreditNote(BaseModel):
    """An avoir: it cancels an invoice whole; numbered in its own series per practitioner."""

    practitioner = peewee.ForeignKeyField(Practitioner, backref="credit_notes")
    number = peewee.BigIntegerField()
    invoice = peewee.ForeignKeyField(Invoice, backref="credit_notes", unique=True)
    # The new invoice made in its place (« Nouvelle facture »), once made.
    replacement = peewee.ForeignKeyField(Invoice, null=True, backref="replaced_credit_notes")
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField(default="")
    reason = peewee.CharField(default="")
    total_cents = peewee.IntegerField(default=0)  # what it cancels (positive amounts)
    amo_cents = peewee.IntegerField(default=0)
    amc_cents = peewee.IntegerField(default=0)
    patient_cents = peewee.IntegerField(default=0)

    class Meta:
        indexes = ((("practitioner", "number"), True),)


class RejectionRule(BaseModel):
    """A practice's own rule of the motif table, tried before the shipped ones."""

    motif = peewee.CharField(max_length=24)
    codes = peewee.CharField(default="")  # « 0460,0461 »
    pattern = peewee.CharField(default="")  # on the label, capitals without accents
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField(default="")


class LineDecision(BaseModel):
    """The status chosen for one act line after a return (seed 001); « Restaurer » deletes it."""

    invoice_line = peewee.ForeignKeyField(InvoiceLine, backref="decisions", unique=True)
    invoice = peewee.ForeignKeyField(Invoice, backref="line_decisions")
    patient = peewee.IntegerField(index=True)  # the next run looks them up per patient
    practitioner = peewee.IntegerField()
    organism = peewee.IntegerField(null=True)  # the payer of the refused line's invoice
    status = peewee.CharField(max_length=20)
    refused = peewee.BooleanField(default=False)  # the caisse refused it (not paid)
    set_at = peewee.DateTimeField()
    set_by = peewee.CharField(default="")
    # The act put back among « Actes isolés » (re-billing statuses): its invoice is the positive
    # line's; the invoice that carries the negative line.
    rebill_act = peewee.ForeignKeyField(IsolatedAct, null=True, on_delete="SET NULL")
    credit_invoice = peewee.ForeignKeyField(Invoice, null=True, backref="credited_decisions")


class LotPointage(BaseModel):
    """« Lots en absence de retour, traités »: the clerk pointed the lot as treated."""

    lot = peewee.ForeignKeyField(Lot, unique=True, backref="pointages", on_delete="CASCADE")
    at = peewee.DateTimeField()
    by = peewee.CharField(default="")
    note = peewee.CharField(default="")


class Dre(BaseModel):
    """The AMC part of an invoice in tiers payant (seed 003), with its own life cycle
    (``domain.dre``); identified by its invoice's number."""

    invoice = peewee.ForeignKeyField(Invoice, backref="dres", unique=True, on_delete="CASCADE")
    mutuelle = peewee.IntegerField(null=True)
    state = peewee.CharField(max_length=12, index=True)
    amount_cents = peewee.IntegerField(default=0)  # the AMC share asked
    paid_cents = peewee.IntegerField(default=0)  # what the mutuelle paid so far (signed)
    lot = peewee.IntegerField(null=True, index=True)  # its DRE lot (Lot.kind « DRE »)
    lot_number = peewee.IntegerField(null=True)
    created_at = peewee.DateTimeField()
    updated_at = peewee.DateTimeField()
