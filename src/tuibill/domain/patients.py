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


def nir_matches_birth(nir: str, birth: date) -> bool:
    """Whether *nir* encodes *birth*'s year and month (characters 2–3 and 4–5).

    A month outside 01–12 (20, 30–42, 50–99: born abroad, or the month unknown when the NIR
    was given) cannot be checked against a date, and passes.
    """
    year, month = nir[1:3], nir[3:5]
    if not (year.isdigit() and month.isdigit()):
        return True
    if year != f"{birth:%y}":
        return False
    return not 1 <= int(month) <= 12 or int(month) == birth.month


def check_nir_birth(nir: str, birth: date, *, insured_nir: str | None = None) -> None:
    """The NIR of an assuré encodes their birth year and month; a bénéficiaire's NIR is their
    own, or their assuré's (*insured_nir*, when the file knows it)."""
    if nir_matches_birth(nir, birth) or (insured_nir is not None and nir == insured_nir):
        return
    whose = "ni celles du patient, ni le NIR de son assuré" if insured_nir else "pas celles du patient"
    raise ValidationError(
        f"NIR {nir} : l'année et le mois de naissance qu'il porte ({nir[1:3]}/{nir[3:5]}) ne sont "
        f"{whose} (né(e) le {birth:%d/%m/%Y}).",
        field="nir",
    )


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
