"""The one-line act notation shared by the CLI and the quick-entry field of Facturer.

``DATE [HEURE] CODE [COEF] [MAU] [MCI] [MIE] [IFD] [IK=km]``, e.g.
``20/11/2026 08:30 AMI 1,5 MAU IFD IK=4`` or ``2026-11-20 AIS 3``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from tuibill.domain.acts import Act
from tuibill.domain.errors import ValidationError
from tuibill.domain.pricing import REQUESTED_MAJORATIONS, parse_coefficient


def parse_date(text: str, field: str = "date") -> date:
    if not text.strip():
        raise ValidationError("Date absente : JJ/MM/AAAA attendu.", field=field)
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y", "%d%m%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"Date « {text} » invalide : JJ/MM/AAAA attendu.", field=field)


def parse_time(text: str) -> time:
    try:
        return datetime.strptime(text.strip().replace("h", ":"), "%H:%M").time()
    except ValueError:
        raise ValidationError(
            f"Heure « {text} » invalide : HH:MM attendu.", field="act_time"
        ) from None


def parse_act(text: str) -> Act:
    parts = text.split()
    if len(parts) < 2:
        raise ValidationError(
            f"Acte « {text} » incomplet : « DATE [HEURE] CODE [COEF] [MAU] [IFD] [IK=km] » attendu.",
            field="acts",
        )
    act_date = parse_date(parts.pop(0), "act_date")
    act_time = None
    if parts and re.fullmatch(r"\d{1,2}[:h]\d{2}", parts[0]):
        act_time = parse_time(parts.pop(0))
    if not parts:
        raise ValidationError(f"Acte « {text} » sans code.", field="code")
    code = parts.pop(0).upper()
    coefficient = 100
    if parts and parts[0][:1].isdigit():
        coefficient = parse_coefficient(parts.pop(0))
    majorations: list[str] = []
    home_visit = False
    mileage = 0
    for token in parts:
        word = token.upper()
        if word in REQUESTED_MAJORATIONS:
            majorations.append(word)
        elif word == "IFD":
            home_visit = True
        elif word.startswith("IK="):
            value = word[3:]
            if not value.isdigit():
                raise ValidationError(f"Kilométrage « {token} » invalide.", field="ik")
            mileage = int(value)
        else:
            raise ValidationError(
                f"« {token} » non compris dans l'acte « {text} » (MAU, MCI, MIE, IFD, IK=km).",
                field="acts",
            )
    return Act(act_date, code, coefficient, act_time, tuple(majorations), home_visit, mileage)
