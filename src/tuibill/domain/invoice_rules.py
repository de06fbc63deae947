"""Checks an invoice's acts must pass before it is saved (seed 000's rejection motifs, prevented)."""

from __future__ import annotations

from datetime import date

from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_coefficient


def check_act_date(
    act_date: date,
    *,
    billing_date: date,
    prescription_date: date | None,
    death_date: date | None,
) -> None:
    """The act date must lie between the prescription date and the billing date, before death."""
    if act_date > billing_date:
        raise ValidationError(
            f"La date de l'acte ({act_date:%d/%m/%Y}) est postérieure à la date de facturation "
            f"({billing_date:%d/%m/%Y}).",
            field="act_date",
        )
    if prescription_date is not None and act_date < prescription_date:
        raise ValidationError(
            f"La date de l'acte ({act_date:%d/%m/%Y}) est antérieure à la date de prescription "
            f"({prescription_date:%d/%m/%Y}).",
            field="act_date",
        )
    if death_date is not None and act_date > death_date:
        raise ValidationError(
            f"La date de l'acte ({act_date:%d/%m/%Y}) est postérieure à la date de décès du "
            f"patient ({death_date:%d/%m/%Y}).",
            field="act_date",
        )


def check_has_acts(count: int) -> None:
    if count == 0:
        raise ValidationError("Une facture doit comporter au moins un acte.", field="acts")


def check_within_prescription(code: str, coefficient_x100: int, prescribed_x100: int) -> None:
    """An act billed against a prescribed item cannot go beyond what was prescribed."""
    if coefficient_x100 > prescribed_x100:
        raise ValidationError(
            f"{code} {format_coefficient(coefficient_x100)} : la prescription prévoit "
            f"{code} {format_coefficient(prescribed_x100)} ; un acte au-delà de la prescription "
            "n'est pas remboursé.",
            field="coefficient",
        )
