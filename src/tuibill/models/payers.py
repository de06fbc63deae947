"""Tiers-payeurs (seed 004): Définition, Paramétrage, default plan values, Notes, Envois, and the
levels of Relances."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel


class Payer(BaseModel):
    """A tiers-payeur: a département (APA, PCH), a caisse de retraite, a mutuelle…"""

    name = peewee.CharField(unique=True)
    address = peewee.CharField(default="")
    postcode = peewee.CharField(max_length=10, default="")
    city = peewee.CharField(default="")
    email = peewee.CharField(default="")
    phone = peewee.CharField(default="")
    siret = peewee.CharField(max_length=14, default="")
    account = peewee.CharField(default="")  # compte comptable (e.g. 4111APA)
    # A public payer (conseil départemental) receives its bordereaux through Chorus Pro, as
    # Factur-X; Chorus Pro's « code service », when it asks for one.
    public = peewee.BooleanField(default=False)
    service_code = peewee.CharField(default="")
    slip_kind = peewee.CharField(max_length=12, default="INDIVIDUELLE")  # SlipKind
    aid_paid_to_client = peewee.BooleanField(default=False)
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField()


class PayerDefault(BaseModel):
    """« Valeurs plan d'aide défaut »: what a new plan of this prestation starts with."""

    payer = peewee.ForeignKeyField(Payer, backref="defaults", on_delete="CASCADE")
    prestation = peewee.CharField(max_length=12)
    monthly_minutes = peewee.IntegerField(default=0)
    base_cents = peewee.IntegerField()
    saturday_cents = peewee.IntegerField()
    sunday_cents = peewee.IntegerField()
    pec_bp = peewee.IntegerField()
    sunday_pec_bp = peewee.IntegerField(null=True)
    sunday_cap_minutes = peewee.IntegerField(null=True)
    billing_mode = peewee.CharField(max_length=20, default="TARIF_BASE_PEC")

    class Meta:
        indexes = ((("payer", "prestation"), True),)


class PayerNote(BaseModel):
    """« Notes »: an internal note, or a reply in a thread (``parent``)."""

    payer = peewee.ForeignKeyField(Payer, backref="notes", on_delete="CASCADE")
    parent = peewee.ForeignKeyField("self", null=True, backref="replies", on_delete="CASCADE")
    at = peewee.DateTimeField()
    user = peewee.CharField(default="")
    text = peewee.TextField()


class PayerMail(BaseModel):
    """« Envois »: every mail sent to the payer (bordereaux, relances), archived as sent."""

    payer = peewee.ForeignKeyField(Payer, backref="mails", on_delete="CASCADE")
    at = peewee.DateTimeField()
    user = peewee.CharField(default="")
    kind = peewee.CharField(max_length=12)  # BORDEREAU / RELANCE
    recipient = peewee.CharField(default="")
    subject = peewee.CharField(default="")
    message_id = peewee.CharField(default="")
    status = peewee.CharField(max_length=12)  # ENVOYE / REFUSE / INCERTAIN / IMPRIME
    detail = peewee.TextField(default="")  # the server's refusal, in French
    raw = peewee.BlobField(null=True)  # the message as handed to the server

    class Meta:
        indexes = ((("payer", "at"), False),)


class ReminderLevelRow(BaseModel):
    """A level of relance (data, not code): days after sending, title, text."""

    number = peewee.IntegerField(unique=True)
    days = peewee.IntegerField()
    title = peewee.CharField()
    text = peewee.TextField()

    class Meta:
        table_name = "reminder_level"
