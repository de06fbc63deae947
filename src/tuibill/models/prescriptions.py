from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.parties import Prescriber
from tuibill.models.patients import Patient
from tuibill.models.practice import Practitioner


class Prescription(BaseModel):
    patient = peewee.ForeignKeyField(Patient, backref="prescriptions", on_delete="CASCADE")
    prescriber = peewee.ForeignKeyField(Prescriber, backref="prescriptions")
    practitioner = peewee.ForeignKeyField(Practitioner, backref="prescriptions")
    date = peewee.DateField(index=True)
    notes = peewee.TextField(default="")


class PrescriptionItem(BaseModel):
    """A prescribed act and how many of it remain to be billed."""

    prescription = peewee.ForeignKeyField(Prescription, backref="items", on_delete="CASCADE")
    code = peewee.CharField(max_length=8)
    coefficient_x100 = peewee.IntegerField(default=100)
    count = peewee.IntegerField()
    billed = peewee.IntegerField(default=0)
    label = peewee.CharField(default="")

    @property
    def remaining(self) -> int:
        return self.count - self.billed
