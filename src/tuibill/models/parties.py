"""The organisations around an invoice: AMO caisses, AMC mutuelles, prescripteurs."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel


class Organism(BaseModel):
    """An AMO caisse: régime (2 digits) / caisse (3) / centre (4)."""

    regime = peewee.CharField(max_length=2)
    caisse = peewee.CharField(max_length=3)
    centre = peewee.CharField(max_length=4, default="0000")
    name = peewee.CharField()
    email = peewee.CharField(default="")

    class Meta:
        indexes = ((("regime", "caisse", "centre"), True),)

    @property
    def code(self) -> str:
        return f"{self.regime} {self.caisse} {self.centre}"


class Mutuelle(BaseModel):
    """An AMC (complémentaire)."""

    number = peewee.CharField(max_length=10, unique=True)
    name = peewee.CharField()
    email = peewee.CharField(default="")


class Prescriber(BaseModel):
    """The doctor who wrote a prescription (9-digit identifier, e.g. 591030325)."""

    number = peewee.CharField(max_length=11, unique=True)
    last_name = peewee.CharField()
    first_name = peewee.CharField(default="")
    specialty = peewee.CharField(default="Médecine générale")

    @property
    def display_name(self) -> str:
        return f"Dr {self.last_name} {self.first_name}".strip()
