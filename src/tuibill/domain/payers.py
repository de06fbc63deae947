"""Tiers-payeurs (seed 004): their settings, what a bordereau groups, avoir deductions, relances.

* Paramétrage: bordereau Individuelle (one per beneficiary) or Globale (one for all); « Aide
  versée directement au client »: then no bordereau can be made for the payer; default plan
  values per prestation — and only those prestations can get a plan (:func:`check_plan_prestation`).
* An avoir on a financed invoice: its financed part (negative) is deducted from the payer's next
  bordereau (:func:`take_deductions`), never making it negative; what does not fit waits for the
  one after.
* Relances: levels are data (days after the bordereau was sent, a title and a text); a payer is
  reminded at a level for every bordereau still owed that is at least that old, for what remains
  (:func:`reminder_lines`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_cents


@dataclass(frozen=True)
class PayerSettings:
    slip_kind: str  # domain.slips.SlipKind
    aid_paid_to_client: bool


def check_can_make_slips(name: str, settings: PayerSettings) -> None:
    if settings.aid_paid_to_client:
        raise ValidationError(
            f"{name} : « Aide versée directement au client » est cochée, aucun bordereau ne "
            "peut être fait pour cet organisme (décochez-la dans son Paramétrage).",
            field="aid_paid_to_client",
        )


def check_plan_prestation(payer_name: str, prestation: str, defaults: Iterable[str]) -> None:
    """Only prestations with default values in the payer's Paramétrage can get a plan."""
    known = sorted(set(defaults))
    if prestation not in known:
        offered = ", ".join(known) or "aucune : renseignez d'abord les valeurs par défaut"
        raise ValidationError(
            f"{payer_name} n'a pas de valeurs par défaut pour la prestation « {prestation} » "
            f"(prestations possibles : {offered}).",
            field="prestation",
        )


def check_siret(siret: str) -> str:
    """A SIRET is 14 digits with a valid Luhn key (``stdnum``); empty is allowed."""
    from stdnum.exceptions import ValidationError as StdnumError
    from stdnum.fr import siret as siret_rules

    value = "".join(siret.split())
    if not value:
        return ""
    try:
        return siret_rules.validate(value)
    except StdnumError:
        raise ValidationError(
            f"SIRET « {siret} » invalide (14 chiffres, clé de contrôle).", field="siret"
        ) from None


def check_email(address: str) -> str:
    value = address.strip()
    if value and ("@" not in value or " " in value or value.startswith("@") or value.endswith("@")):
        raise ValidationError(f"Adresse e-mail « {address} » invalide.", field="email")
    return value


def slip_groups(kind: str, beneficiaries: Iterable[int]) -> list[tuple[int, ...]]:
    """Which beneficiaries share a bordereau: each alone (Individuelle), or all (Globale)."""
    ordered = sorted(set(beneficiaries))
    if not ordered:
        return []
    if kind == "INDIVIDUELLE":
        return [(client,) for client in ordered]
    return [tuple(ordered)]


@dataclass(frozen=True)
class Deduction:
    key: int  # the avoir's funding row
    cents: int  # negative: what the payer no longer owes


def take_deductions(total_cents: int, pending: Sequence[Deduction]) -> list[Deduction]:
    """The avoir deductions a bordereau of *total_cents* takes, oldest first (the order given).

    Each is taken whole while the bordereau stays ≥ 0; one that would make it negative waits
    for the next bordereau (a bordereau is never a credit note).
    """
    taken: list[Deduction] = []
    left = total_cents
    for item in pending:
        if left + item.cents >= 0:
            taken.append(item)
            left += item.cents
    return taken


@dataclass(frozen=True)
class ReminderLevel:
    number: int
    days: int  # after the bordereau was sent
    title: str
    text: str  # the mail's opening paragraph


DEFAULT_REMINDER_LEVELS: tuple[ReminderLevel, ...] = (
    ReminderLevel(
        1,
        30,
        "Relance de courtoisie",
        "Sauf erreur de notre part, les bordereaux ci-dessous restent à régler. Si votre "
        "règlement est en cours, merci de ne pas tenir compte de ce message.",
    ),
    ReminderLevel(
        2,
        45,
        "Deuxième relance",
        "Malgré notre précédent rappel, les bordereaux ci-dessous restent impayés. Nous vous "
        "remercions de procéder à leur règlement dans les meilleurs délais.",
    ),
    ReminderLevel(
        3,
        60,
        "Mise en demeure",
        "Les bordereaux ci-dessous demeurent impayés à ce jour. Nous vous mettons en demeure "
        "de les régler sous quinze jours à réception de ce courrier.",
    ),
)


def check_levels(levels: Sequence[ReminderLevel]) -> None:
    numbers = [level.number for level in levels]
    if len(set(numbers)) != len(numbers):
        raise ValidationError("Deux niveaux de relance portent le même numéro.", field="level")
    ordered = sorted(levels, key=lambda level: level.number)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.days <= before.days:
            raise ValidationError(
                f"Le niveau {after.number} ({after.days} j) doit venir après le niveau "
                f"{before.number} ({before.days} j).",
                field="days",
            )


@dataclass(frozen=True)
class OpenSlip:
    key: int
    number: str
    sent_on: date
    due_cents: int
    paid_cents: int

    @property
    def remaining_cents(self) -> int:
        return self.due_cents - self.paid_cents


def reminder_lines(
    level: ReminderLevel, slips: Iterable[OpenSlip], today: date
) -> list[OpenSlip]:
    """The bordereaux a reminder at *level* names: still owed, sent *level.days* or more ago."""
    return sorted(
        (
            slip
            for slip in slips
            if slip.remaining_cents > 0 and (today - slip.sent_on).days >= level.days
        ),
        key=lambda slip: (slip.sent_on, slip.key),
    )


def reminder_text(
    level: ReminderLevel, payer: str, service: str, lines: Sequence[OpenSlip]
) -> str:
    """The French body of a reminder mail (or printed letter)."""
    rows = [
        f"  - Bordereau {slip.number} envoyé le {slip.sent_on:%d/%m/%Y} : "
        f"{format_cents(slip.due_cents)} €, réglé {format_cents(slip.paid_cents)} €, "
        f"reste {format_cents(slip.remaining_cents)} €"
        for slip in lines
    ]
    total = sum(slip.remaining_cents for slip in lines)
    return "\n".join(
        [
            "Madame, Monsieur,",
            "",
            level.text,
            "",
            *rows,
            "",
            f"Total restant dû : {format_cents(total)} €.",
            "",
            "Nous vous prions d'agréer nos salutations distinguées.",
            service,
            "",
            f"({level.title} — {payer})",
        ]
    )
