from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel

SPECIALTIES: dict[str, str] = {
    "24": "Infirmier",
    "26": "Masseur-kinésithérapeute",
    "28": "Orthophoniste",
    "29": "Orthoptiste",
    "27": "Pédicure-podologue",
}


class Practice(BaseModel):
    name = peewee.CharField()
    address = peewee.CharField(default="")
    phone = peewee.CharField(default="")
    email = peewee.CharField(default="")


class Practitioner(BaseModel):
    """A PS (exécutant): the one who performs and bills the acts."""

    last_name = peewee.CharField()
    first_name = peewee.CharField()
    am_number = peewee.CharField(max_length=9, unique=True)  # numéro AM (facturation)
    rpps = peewee.CharField(max_length=11, default="")
    specialty = peewee.CharField(max_length=2, default="24")
    zone = peewee.CharField(max_length=2, default="01")  # zone tarifaire
    active = peewee.BooleanField(default=True)

    @property
    def display_name(self) -> str:
        return f"{self.last_name} {self.first_name}"

    @property
    def specialty_label(self) -> str:
        return SPECIALTIES.get(self.specialty, self.specialty)


class Counter(BaseModel):
    """Next number to hand out, per practitioner and kind (``invoice``, ``lot``).

    Numbers are taken with ``UPDATE … RETURNING`` inside the transaction that uses them, so
    concurrent desks never share a number and a rolled-back transaction gives its number back.
    """

    practitioner = peewee.ForeignKeyField(Practitioner, backref="counters", on_delete="CASCADE")
    kind = peewee.CharField(max_length=16)
    next_value = peewee.BigIntegerField()

    class Meta:
        indexes = ((("practitioner", "kind"), True),)

