"""The home-care service (seed 004): its identity, prestations, clients with their contract,
the interventions of their planning, and their plans d'aide."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.payers import Payer


class HomecareService(BaseModel):
    """One row: the service that bills (the seller of its Factur-X invoices)."""

    name = peewee.CharField()
    address = peewee.CharField(default="")
    postcode = peewee.CharField(max_length=10, default="")
    city = peewee.CharField(default="")
    siret = peewee.CharField(max_length=14, default="")
    email = peewee.CharField(default="")
    phone = peewee.CharField(default="")
    iban = peewee.CharField(default="")


class Prestation(BaseModel):
    """A kind of intervention: aide à domicile, ménage, accompagnement…"""

    code = peewee.CharField(max_length=12, unique=True)
    label = peewee.CharField()


class Client(BaseModel):
    """A client of the service: the bénéficiaire of the plans d'aide."""

    last_name = peewee.CharField()
    first_name = peewee.CharField(default="")
    search_name = peewee.CharField(index=True)
    address = peewee.CharField(default="")
    postcode = peewee.CharField(max_length=10, default="")
    city = peewee.CharField(default="")
    email = peewee.CharField(default="")
    phone = peewee.CharField(default="")
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField()

    @property
    def display_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()


class ContractLine(BaseModel):
    """A prestation of the client's contract, with its hourly rates (cents)."""

    client = peewee.ForeignKeyField(Client, backref="contract", on_delete="CASCADE")
    prestation = peewee.CharField(max_length=12)
    base_cents = peewee.IntegerField()
    saturday_cents = peewee.IntegerField()
    sunday_cents = peewee.IntegerField()

    class Meta:
        indexes = ((("client", "prestation"), True),)


class Intervention(BaseModel):
    """One intervention of the client's planning; ``invoice_id`` once billed."""

    client = peewee.ForeignKeyField(Client, backref="interventions", on_delete="CASCADE")
    day = peewee.DateField()
    start_minute = peewee.IntegerField()
    end_minute = peewee.IntegerField()  # above 1440 when it ends after midnight
    prestation = peewee.CharField(max_length=12)
    intervenant = peewee.CharField(default="")
    source = peewee.CharField(max_length=8, default="saisie")  # saisie / import
    # The invoice that bills it (no foreign key: the invoices' module stands above this one).
    invoice_id = peewee.IntegerField(null=True, index=True)
    created_at = peewee.DateTimeField()

    class Meta:
        indexes = ((("client", "day", "start_minute"), False),)


class AidPlan(BaseModel):
    """A plan d'aide: what a payer finances of one prestation for one client."""

    client = peewee.ForeignKeyField(Client, backref="plans", on_delete="CASCADE")
    payer = peewee.ForeignKeyField(Payer, backref="plans")
    prestation = peewee.CharField(max_length=12)
    reference = peewee.CharField(default="")  # the payer's number for the plan
    valid_from = peewee.DateField()
    valid_until = peewee.DateField(null=True)
    monthly_minutes = peewee.IntegerField()
    base_cents = peewee.IntegerField()
    saturday_cents = peewee.IntegerField()
    sunday_cents = peewee.IntegerField()
    pec_bp = peewee.IntegerField()
    sunday_pec_bp = peewee.IntegerField(null=True)
    sunday_cap_minutes = peewee.IntegerField(null=True)
    billing_mode = peewee.CharField(max_length=20)
    state = peewee.CharField(max_length=10, default="SAISI")
    created_at = peewee.DateTimeField()

    class Meta:
        indexes = ((("client", "prestation"), False), (("payer",), False))
