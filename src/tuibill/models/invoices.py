from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.parties import Mutuelle, Organism
from tuibill.models.patients import Patient
from tuibill.models.practice import Practitioner
from tuibill.models.prescriptions import Prescription, PrescriptionItem


class Invoice(BaseModel):
    """An FSE. Only Saisie invoices change; the others move through the life cycle table."""

    practitioner = peewee.ForeignKeyField(Practitioner, backref="invoices")
    patient = peewee.ForeignKeyField(Patient, backref="invoices")
    prescription = peewee.ForeignKeyField(Prescription, null=True, backref="invoices")
    number = peewee.BigIntegerField(null=True)
    state = peewee.CharField(max_length=20, default="SAISIE")
    mode = peewee.CharField(max_length=12, default="degrade")  # degrade / sesam_vitale
    billing_date = peewee.DateField()
    first_act_date = peewee.DateField()
    last_act_date = peewee.DateField()
    total_cents = peewee.IntegerField(default=0)
    amo_cents = peewee.IntegerField(default=0)
    amc_cents = peewee.IntegerField(default=0)
    patient_cents = peewee.IntegerField(default=0)
    amo_rate = peewee.SmallIntegerField(default=60)
    amo_tiers_payant = peewee.BooleanField(default=True)
    amc_tiers_payant = peewee.BooleanField(default=False)
    organism = peewee.ForeignKeyField(Organism, null=True, backref="invoices")
    mutuelle = peewee.ForeignKeyField(Mutuelle, null=True, backref="invoices")
    # The search form of the patient name, copied while in Saisie: the journal filters on it
    # with an index range scan, no join.
    patient_name = peewee.CharField()
    sector = peewee.CharField(default="")
    lot_number = peewee.IntegerField(null=True)
    # What the caisses paid so far, per part, over every return (signed sums; schema v4).
    amo_paid_cents = peewee.IntegerField(default=0)
    amc_paid_cents = peewee.IntegerField(default=0)
    # Securing (schema v2): the signature of the invoice's canonical content with a CPS/CPE.
    secured_with_vitale = peewee.BooleanField(default=False)
    signature = peewee.TextField(default="")  # base64
    signature_algorithm = peewee.CharField(default="")
    signer = peewee.CharField(default="")  # holder name and PS number of the card
    signing_card = peewee.CharField(default="")  # CPS / CPE and the card's serial
    signer_certificate = peewee.TextField(default="")  # base64 DER
    secured_at = peewee.DateTimeField(null=True)
    tla_key = peewee.CharField(null=True)  # the key under which the TLA holds it
    lot = peewee.DeferredForeignKey("Lot", null=True, backref="invoices", on_delete="SET NULL")
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField(default="")
    # After the returns (schema v10): recycled at the concentrator (when, who); the invoice this
    # one replaces (avoir + « Nouvelle facture »); the AMC share the patient was asked to pay.
    recycled_at = peewee.DateTimeField(null=True)
    recycled_by = peewee.CharField(null=True)
    replaces = peewee.IntegerField(null=True)
    amc_to_patient_cents = peewee.IntegerField(null=True)

    class Meta:
        indexes = (
            (("practitioner", "number"), True),
            # The journal's order, with the patient name: a prefix filter over the newest rows
            # is checked in the index, rows are read only for what is shown (schema v9).
            (("billing_date", "id", "patient_name"), False),
            (("state", "billing_date"), False),
            (("number",), False),
            (("lot_number",), False),
            (("patient",), False),
            # A patient prefix and its invoices in journal order, without reading a row (v9).
            (("patient_name", "billing_date", "id"), False),
            (("organism", "billing_date"), False),
        )


class InvoiceLine(BaseModel):
    invoice = peewee.ForeignKeyField(Invoice, backref="lines", on_delete="CASCADE")
    position = peewee.SmallIntegerField()
    parent_position = peewee.SmallIntegerField(null=True)
    act_date = peewee.DateField()
    act_time = peewee.CharField(max_length=5, null=True)  # HH:MM
    code = peewee.CharField(max_length=8)
    label = peewee.CharField(default="")
    kind = peewee.CharField(max_length=12)
    coefficient_x100 = peewee.IntegerField(default=100)
    quantity = peewee.IntegerField(default=1)
    unit_cents = peewee.IntegerField()
    total_cents = peewee.IntegerField()
    amo_cents = peewee.IntegerField()
    amc_cents = peewee.IntegerField()
    patient_cents = peewee.IntegerField()
    prescription_item = peewee.ForeignKeyField(PrescriptionItem, null=True)
    # The next billing run after refused lines (schema v10): a negative line credits the line
    # *credit_of*; a positive one bills the line *rebill_of* again (ids of invoice lines).
    credit_of = peewee.IntegerField(null=True)
    rebill_of = peewee.IntegerField(null=True)


class InvoiceTransition(BaseModel):
    """Who moved an invoice from which state to which, when and why."""

    invoice = peewee.ForeignKeyField(Invoice, backref="transitions", on_delete="CASCADE")
    at = peewee.DateTimeField()
    user = peewee.CharField()
    from_state = peewee.CharField(max_length=20, null=True)  # None: creation
    to_state = peewee.CharField(max_length=20)
    action = peewee.CharField(max_length=32)
    reason = peewee.CharField(default="")
    # The history's hash chain (schema v5): one sequence over every history table, and the
    # SHA-256 of this row's content and the previous row's hash (services.audit).
    seq = peewee.BigIntegerField(null=True, unique=True)
    hash = peewee.CharField(max_length=64, default="")


class IsolatedAct(BaseModel):
    """An act recorded without a prescription (« Actes isolés »), waiting to be billed."""

    patient = peewee.ForeignKeyField(Patient, backref="isolated_acts", on_delete="CASCADE")
    practitioner = peewee.ForeignKeyField(Practitioner, backref="isolated_acts")
    act_date = peewee.DateField()
    act_time = peewee.CharField(max_length=5, null=True)
    code = peewee.CharField(max_length=8)
    coefficient_x100 = peewee.IntegerField(default=100)
    majorations = peewee.CharField(default="")  # "MAU,MCI"
    home_visit = peewee.BooleanField(default=False)
    mileage_km = peewee.IntegerField(default=0)
    invoice = peewee.ForeignKeyField(Invoice, null=True, backref="isolated_acts", on_delete="SET NULL")
    # An act put back to be billed again after a refused line (schema v10): that line's id.
    rebills_line = peewee.IntegerField(null=True)
