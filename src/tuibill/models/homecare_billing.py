"""What the home-care service bills (seed 004): clients' invoices and avoirs with their lines,
each payer's share of an invoice (``Funding``), bordereaux, payments and their allocations —
with the three histories, chained in the audit trail (``services.audit``)."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.homecare import AidPlan, Client, Intervention
from tuibill.models.payers import Payer


class HomecareCounter(BaseModel):
    """Next number per kind (``invoice``: invoices and avoirs; ``slip``: bordereaux), taken
    with ``UPDATE … RETURNING`` in the transaction that uses it: no gap, no double."""

    kind = peewee.CharField(max_length=16, unique=True)
    next_value = peewee.BigIntegerField(default=1)


class HomecareInvoice(BaseModel):
    client = peewee.ForeignKeyField(Client, backref="invoices")
    kind = peewee.CharField(max_length=8, default="FACTURE")  # FACTURE / AVOIR
    number = peewee.BigIntegerField(null=True, unique=True)
    state = peewee.CharField(max_length=12, default="CREEE")
    period_start = peewee.DateField()  # the first day of the month billed
    period_end = peewee.DateField()
    issue_date = peewee.DateField()
    total_cents = peewee.IntegerField(default=0)
    client_cents = peewee.IntegerField(default=0)  # « net à payer » by the client
    payer_cents = peewee.IntegerField(default=0)  # « montant dû organisme », all payers
    client_paid_cents = peewee.IntegerField(default=0)
    credited = peewee.ForeignKeyField("self", null=True, backref="credit_notes")  # an avoir's
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField(default="")

    class Meta:
        indexes = ((("client", "period_start"), False), (("state", "issue_date"), False))


class HomecareInvoiceLine(BaseModel):
    invoice = peewee.ForeignKeyField(HomecareInvoice, backref="lines", on_delete="CASCADE")
    position = peewee.IntegerField()
    intervention = peewee.ForeignKeyField(Intervention, null=True, on_delete="SET NULL")
    day = peewee.DateField()
    start_minute = peewee.IntegerField()
    end_minute = peewee.IntegerField()
    prestation = peewee.CharField(max_length=12)
    day_kind = peewee.CharField(max_length=16)
    funding = peewee.CharField(max_length=32)  # domain.aid_plans.Funding
    rate_cents = peewee.IntegerField()
    amount_cents = peewee.IntegerField()
    payer_cents = peewee.IntegerField()
    client_cents = peewee.IntegerField()
    pec_bp = peewee.IntegerField(default=0)
    payer = peewee.ForeignKeyField(Payer, null=True)
    plan = peewee.ForeignKeyField(AidPlan, null=True, on_delete="SET NULL")
    explanation = peewee.TextField(default="")


class HomecareInvoiceTransition(BaseModel):
    invoice = peewee.ForeignKeyField(HomecareInvoice, backref="transitions", on_delete="CASCADE")
    at = peewee.DateTimeField()
    user = peewee.CharField()
    from_state = peewee.CharField(max_length=20, null=True)
    to_state = peewee.CharField(max_length=20)
    action = peewee.CharField(max_length=32)
    reason = peewee.CharField(default="")
    seq = peewee.BigIntegerField(null=True, unique=True)
    hash = peewee.CharField(max_length=64, default="")


class Slip(BaseModel):
    """A bordereau: one payer, one period, one beneficiary (Individuelle) or all (Globale)."""

    payer = peewee.ForeignKeyField(Payer, backref="slips")
    client = peewee.ForeignKeyField(Client, null=True, backref="slips")  # Individuelle
    kind = peewee.CharField(max_length=12)
    number = peewee.BigIntegerField(null=True, unique=True)
    state = peewee.CharField(max_length=20, default="CREE")
    period_start = peewee.DateField()
    period_end = peewee.DateField()
    slip_date = peewee.DateField()
    total_cents = peewee.IntegerField(default=0)  # its fundings, avoir deductions included
    paid_cents = peewee.IntegerField(default=0)
    sent_at = peewee.DateTimeField(null=True)
    sent_by = peewee.CharField(max_length=8, default="")  # courriel / courrier
    reminder_level = peewee.IntegerField(default=0)
    reminded_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField()

    class Meta:
        indexes = ((("payer", "period_start"), False), (("state", "slip_date"), False))


class SlipTransition(BaseModel):
    slip = peewee.ForeignKeyField(Slip, backref="transitions", on_delete="CASCADE")
    at = peewee.DateTimeField()
    user = peewee.CharField()
    from_state = peewee.CharField(max_length=20, null=True)
    to_state = peewee.CharField(max_length=20)
    action = peewee.CharField(max_length=32)
    reason = peewee.CharField(default="")
    seq = peewee.BigIntegerField(null=True, unique=True)
    hash = peewee.CharField(max_length=64, default="")


class Funding(BaseModel):
    """One payer's share of one invoice (negative for an avoir), put on one bordereau."""

    invoice = peewee.ForeignKeyField(HomecareInvoice, backref="fundings")
    payer = peewee.ForeignKeyField(Payer, backref="fundings")
    cents = peewee.IntegerField()
    paid_cents = peewee.IntegerField(default=0)
    slip = peewee.ForeignKeyField(Slip, null=True, backref="fundings", on_delete="SET NULL")

    class Meta:
        indexes = ((("invoice", "payer"), True), (("payer", "slip"), False))


class Payment(BaseModel):
    emitter = peewee.CharField(max_length=8)  # PAYEUR / CLIENT
    payer = peewee.ForeignKeyField(Payer, null=True, backref="payments")
    client = peewee.ForeignKeyField(Client, null=True, backref="payments")
    day = peewee.DateField()
    amount_cents = peewee.IntegerField()
    allocated_cents = peewee.IntegerField(default=0)
    mode = peewee.CharField(max_length=12)
    reference = peewee.CharField(default="")
    state = peewee.CharField(max_length=24, default="ENREGISTRE")
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField(default="")


class Allocation(BaseModel):
    """A part of a payment put on a financed share (payer) or on an invoice (client)."""

    payment = peewee.ForeignKeyField(Payment, backref="allocations", on_delete="CASCADE")
    funding = peewee.ForeignKeyField(Funding, null=True, backref="allocations")
    invoice = peewee.ForeignKeyField(HomecareInvoice, backref="allocations")
    cents = peewee.IntegerField()
    at = peewee.DateTimeField()
    user = peewee.CharField(default="")
    undone_at = peewee.DateTimeField(null=True)
    undone_by = peewee.CharField(default="")


class PaymentTransition(BaseModel):
    payment = peewee.ForeignKeyField(Payment, backref="transitions", on_delete="CASCADE")
    at = peewee.DateTimeField()
    user = peewee.CharField()
    from_state = peewee.CharField(max_length=24, null=True)
    to_state = peewee.CharField(max_length=24)
    action = peewee.CharField(max_length=32)
    reason = peewee.CharField(default="")
    seq = peewee.BigIntegerField(null=True, unique=True)
    hash = peewee.CharField(max_length=64, default="")


class PayerDocument(BaseModel):
    """« Documents »: each bordereau PDF, Factur-X, export and printed relance made."""

    payer = peewee.ForeignKeyField(Payer, backref="documents", on_delete="CASCADE")
    slip = peewee.ForeignKeyField(Slip, null=True, backref="documents", on_delete="SET NULL")
    at = peewee.DateTimeField()
    name = peewee.CharField()
    kind = peewee.CharField(max_length=12)  # PDF / FACTURX / CSV / RELANCE
    data = peewee.BlobField()
