"""The caisses' returns (NOEMIE PS): the transfers they announce, what each invoice received,
per act line, and the rejections — as read from the archived file, never edited afterwards."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.invoices import Invoice, InvoiceLine
from tuibill.models.mail import ReceivedFile
from tuibill.models.practice import Practitioner


class Virement(BaseModel):
    """One payment of a return (entity 071): the bank transfer it announces."""

    received_file = peewee.ForeignKeyField(ReceivedFile, backref="virements", on_delete="CASCADE")
    practitioner = peewee.ForeignKeyField(Practitioner, null=True, backref="virements")
    payee_number = peewee.CharField(max_length=15)  # the 040's « destinataire de règlement »
    accounting_date = peewee.DateField()
    label = peewee.CharField(default="")  # the transfer's two label lines, as the bank shows them
    paying_body = peewee.CharField(default="")
    total_cents = peewee.BigIntegerField(default=0)  # signed sum of the parts it pays
    invoice_count = peewee.IntegerField(default=0)

    class Meta:
        indexes = ((("accounting_date", "id"), False),)


class ReturnEntry(BaseModel):
    """One invoice of one return (entity 100/102 and what nests in it)."""

    received_file = peewee.ForeignKeyField(ReceivedFile, backref="entries", on_delete="CASCADE")
    virement = peewee.ForeignKeyField(Virement, null=True, backref="entries", on_delete="SET NULL")
    # None: « non rapprochée » (nothing at the desk matched it); kept with its content.
    invoice = peewee.ForeignKeyField(Invoice, null=True, backref="return_entries")
    practitioner = peewee.ForeignKeyField(Practitioner, null=True, backref="return_entries")
    position = peewee.IntegerField()  # its rank in the file, from 1
    payee_number = peewee.CharField(max_length=15)
    invoice_number = peewee.BigIntegerField()
    lot_number = peewee.IntegerField(null=True)
    lot_date = peewee.DateField(null=True)
    invoice_type = peewee.CharField(max_length=1, default="")
    return_type = peewee.CharField(max_length=2, default="01")  # 081: 01 flux, 04 rappels…
    billing_date = peewee.DateField(null=True)
    patient_name = peewee.CharField(default="")
    nir = peewee.CharField(max_length=15, default="")
    amo_asked_cents = peewee.IntegerField(default=0)
    amo_state = peewee.CharField(max_length=1, default=" ")
    amo_paid_cents = peewee.IntegerField(default=0)  # signed
    amc_asked_cents = peewee.IntegerField(default=0)
    amc_state = peewee.CharField(max_length=1, default=" ")
    amc_paid_cents = peewee.IntegerField(default=0)  # signed
    # payee / partielle / rejetee / differee / sans_effet / non_rapprochee / doublon
    outcome = peewee.CharField(max_length=16)
    posted = peewee.BooleanField(default=True)  # False: recorded, not counted (a double payment)
    note = peewee.TextField(default="")  # why not matched, not moved, or flagged (French)
    content = peewee.TextField(default="")  # the entry as read, JSON (for non rapprochées)
    matched_at = peewee.DateTimeField(null=True)  # matched by hand
    matched_by = peewee.CharField(default="")

    class Meta:
        indexes = (
            (("invoice",), False),
            (("received_file", "position"), True),
            (("outcome", "id"), False),
        )


class ReturnLine(BaseModel):
    """One act line of a returned invoice (entity 210)."""

    entry = peewee.ForeignKeyField(ReturnEntry, backref="lines", on_delete="CASCADE")
    invoice_line = peewee.ForeignKeyField(InvoiceLine, null=True, backref="return_lines")
    line_number = peewee.SmallIntegerField()
    code = peewee.CharField(max_length=5, default="")  # nature de prestation (AMI…)
    act_date = peewee.DateField(null=True)
    quantity = peewee.IntegerField(default=1)
    coefficient_x100 = peewee.IntegerField(default=100)
    expense_cents = peewee.IntegerField(default=0)
    base_cents = peewee.IntegerField(default=0)
    rate = peewee.SmallIntegerField(default=0)
    refunded_cents = peewee.IntegerField(default=0)  # signed
    amc_cents = peewee.IntegerField(default=0)
    refused = peewee.BooleanField(default=False)  # named by a rejection at line level


class ReturnRejection(BaseModel):
    """A rejection (294) or a signalement (290) of a returned invoice."""

    entry = peewee.ForeignKeyField(ReturnEntry, backref="rejections", on_delete="CASCADE")
    invoice = peewee.ForeignKeyField(Invoice, null=True, backref="rejections")
    invoice_line = peewee.ForeignKeyField(InvoiceLine, null=True, backref="rejections")
    kind = peewee.CharField(max_length=12)  # rejet / signalement
    code = peewee.CharField(max_length=10)
    label = peewee.CharField(default="")
    level = peewee.CharField(max_length=1, default="F")  # F invoice / L line / A refined code
    part = peewee.CharField(max_length=1, default="O")  # O obligatoire (+ AMC) / C AMC only
    line_number = peewee.SmallIntegerField(null=True)
    care_date = peewee.DateField(null=True)
    info = peewee.CharField(default="")

    class Meta:
        indexes = ((("invoice",), False), (("code",), False))
