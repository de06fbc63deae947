"""Identity rules for patients: NIR and its key (python-stdnum), rang, qualité."""

from __future__ import annotations

from datetime import date

from tuibill.domain.errors import ValidationError

# Qualité du bénéficiaire (codes of the French health insurance).
QUALITIES: dict[str, str] = {
    "00": "Assuré",
    "01": "Ascendant, descendant, collatéral",
    "02": "Conjoint",
    "03": "Conjoint divorcé",
    "04": "Concubin",
    "05": "Conjoint séparé",
    "06": "Enfant",
    "09": "Conjoint survivant",
    "10": "Autre ayant droit",
}


def normalize_nir(value: str) -> str:
    return "".join(value.split()).upper()


def check_nir(value: str, *, field: str = "nir") -> str:
    """Return the NIR (15 characters, key included) or raise a French :class:`ValidationError`."""
    from stdnum import exceptions
    from stdnum.fr import nir

    compact = normalize_nir(value)
    if len(compact) != 15:
        raise ValidationError(
            f"NIR « {value} » invalide : 15 caractères attendus (13 + clé de 2 chiffres).",
            field=field,
        )
    try:
        return nir.validate(compact)
    except exceptions.InvalidChecksum:
        raise ValidationError(
            f"Clé du NIR invalide : « {value} » (la clé attendue est {nir.calc_check_digits(compact[:13])}).",
            field=field,
        ) from None
    except exceptions.ValidationError:
        raise ValidationError(
            f"NIR « {value} » invalide : sexe, année, mois et département à vérifier.", field=field
        ) from None


def nir_key(first13: str) -> str:
    """The 2-digit key of a 13-character NIR (Corsica 2A/2B handled by stdnum)."""
    from stdnum.fr import nir

    return nir.calc_check_digits(first13)


def check_quality(code: str) -> str:
    if code not in QUALITIES:
        raise ValidationError(f"Qualité « {code} » inconnue.", field="quality")
    return code


def check_rank(rank: int) -> int:
    if not 1 <= rank <= 9:
        raise ValidationError("Le rang de naissance va de 1 à 9.", field="rank")
    return rank


def check_dates(birth: date, death: date | None, today: date) -> None:
    if birth > today:
        raise ValidationError("La date de naissance est dans le futur.", field="birth_date")
    if death is not None and (death < birth or death > today):
        raise ValidationError(
            "La date de décès doit être entre la naissance et aujourd'hui.", field="death_date"
        )
