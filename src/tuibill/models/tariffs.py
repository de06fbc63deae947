from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel


class Tariff(BaseModel):
    """One dated value of an NGAP letter key or majoration, for one profession."""

    specialty = peewee.CharField(max_length=2)
    code = peewee.CharField(max_length=8)
    label = peewee.CharField()
    kind = peewee.CharField(max_length=12)  # act / majoration / travel
    value_cents = peewee.IntegerField()
    coef_min_x100 = peewee.IntegerField(default=1)
    coef_max_x100 = peewee.IntegerField(default=10_000)
    valid_from = peewee.DateField()
    valid_to = peewee.DateField(null=True)

    class Meta:
        indexes = ((("specialty", "code", "valid_from"), True),)
