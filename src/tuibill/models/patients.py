from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.parties import Mutuelle, Organism


class Patient(BaseModel):
    """A bénéficiaire; ``insured`` points at the assuré when the patient is a dependant."""

    last_name = peewee.CharField()
    first_name = peewee.CharField()
    # Upper-case, accent-free "NOM PRENOM": prefix searches are index range scans.
    search_name = peewee.CharField(index=True)
    birth_date = peewee.DateField()
    nir = peewee.CharField(max_length=15, index=True)
    insured = peewee.ForeignKeyField("self", null=True, backref="dependants", on_delete="SET NULL")
    rank = peewee.SmallIntegerField(default=1)  # rang de naissance
    quality = peewee.CharField(max_length=2, default="00")  # qualité
    death_date = peewee.DateField(null=True)
    organism = peewee.ForeignKeyField(Organism, null=True, backref="patients")
    mutuelle = peewee.ForeignKeyField(Mutuelle, null=True, backref="patients")
    amc_member_number = peewee.CharField(default="")
    amc_tiers_payant = peewee.BooleanField(default=False)
    amo_tiers_payant = peewee.BooleanField(default=True)
    ald = peewee.BooleanField(default=False)
    maternity = peewee.BooleanField(default=False)
    exoneration = peewee.CharField(default="")  # free text: "C2S", "AT 12/2025"…
    sector = peewee.CharField(default="")  # secteur de tournée (« EST »)
    address = peewee.CharField(default="")
    phone = peewee.CharField(default="")

    @property
    def display_name(self) -> str:
        return f"{self.last_name} {self.first_name}"
