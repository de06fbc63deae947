"""Who may do what: the roles of the practice's staff and one table of action families.

Roles are data (``User.role`` holds one of :class:`Role`'s codes); what each role may do is
the table :data:`ALLOWED` below, checked by ``services.users.require`` where a family is not
every role's: every invoice and lot move (``services.lifecycle``), the accounts, the practice
and its practitioners, the settings. A refusal names the roles that may do the action, in
French.
"""

from __future__ import annotations

from enum import StrEnum

from tuibill.domain.errors import Forbidden
from tuibill.domain.invoices import InvoiceAction


class Role(StrEnum):
    SECRETARIAT = "secretariat"
    PRATICIEN = "praticien"
    ADMINISTRATEUR = "administrateur"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.SECRETARIAT: "secrétariat",
    Role.PRATICIEN: "praticien",
    Role.ADMINISTRATEUR: "administrateur",
}


class Family(StrEnum):
    """Families of actions, as the help pages group them."""

    PATIENTS = "patients"  # patients, prescripteurs, prescriptions
    BILLING = "facturer"  # invoices: entry, validation, portable reader
    TRANSMIT = "transmettre"  # lots, sending, ARL
    RETURNS = "retours"  # NOEMIE returns, rejections, payments
    SIGN = "signer"  # securing an FSE with one's own CPS
    CREDIT = "avoirs"  # cancelling a transmitted invoice (an avoir), one's own invoices
    PRACTICE = "cabinet"  # the practice and its practitioners
    USERS = "utilisateurs"
    SETTINGS = "reglages"  # settings, the database (upgrade, copy)
    TARIFFS = "tarifs"

    @property
    def label(self) -> str:
        return FAMILY_LABELS[self]


FAMILY_LABELS: dict[Family, str] = {
    Family.PATIENTS: "patients et prescripteurs",
    Family.BILLING: "facturer",
    Family.TRANSMIT: "transmettre",
    Family.RETURNS: "retours et paiements",
    Family.SIGN: "sécuriser avec sa CPS",
    Family.CREDIT: "annuler une facture transmise (avoir)",
    Family.PRACTICE: "cabinet et praticiens",
    Family.USERS: "utilisateurs",
    Family.SETTINGS: "réglages et base de données",
    Family.TARIFFS: "tarifs",
}

_DESK = frozenset(Role)
_PRACTITIONER = frozenset({Role.PRATICIEN, Role.ADMINISTRATEUR})
_ADMIN = frozenset({Role.ADMINISTRATEUR})

# The table: which roles may act in each family. The administrateur may do everything; the
# secrétariat the desk's daily work; the praticien that and what needs their own CPS.
ALLOWED: dict[Family, frozenset[Role]] = {
    Family.PATIENTS: _DESK,
    Family.BILLING: _DESK,
    Family.TRANSMIT: _DESK,
    Family.RETURNS: _DESK,
    Family.SIGN: _PRACTITIONER,
    Family.CREDIT: _PRACTITIONER,
    Family.PRACTICE: _ADMIN,
    Family.USERS: _ADMIN,
    Family.SETTINGS: _ADMIN,
    Family.TARIFFS: _ADMIN,
}

# Families where a praticien acts only on their own invoices (the administrateur on any).
OWN_ONLY: frozenset[Family] = frozenset({Family.SIGN, Family.CREDIT})

_INVOICE_FAMILIES: dict[InvoiceAction, Family] = {
    InvoiceAction.SECURE: Family.SIGN,
    InvoiceAction.CANCEL_TRANSMITTED: Family.CREDIT,
    InvoiceAction.PUT_IN_LOT: Family.TRANSMIT,
    InvoiceAction.REMOVE_FROM_LOT: Family.TRANSMIT,
    InvoiceAction.TRANSMIT: Family.TRANSMIT,
    InvoiceAction.PAY: Family.RETURNS,
    InvoiceAction.PAY_PARTIALLY: Family.RETURNS,
    InvoiceAction.REJECT: Family.RETURNS,
    InvoiceAction.CLEAR_REJECTION: Family.RETURNS,
    # Treating the caisses' answers (issue 9); an avoir is one's own, as a cancellation is.
    InvoiceAction.CREDIT_NOTE: Family.CREDIT,
    InvoiceAction.RESTART: Family.RETURNS,
    InvoiceAction.RECYCLE: Family.RETURNS,
    InvoiceAction.REACTIVATE: Family.RETURNS,
    InvoiceAction.MARK_TREATED: Family.RETURNS,
    InvoiceAction.AMC_PAPER: Family.RETURNS,
    InvoiceAction.BILL_PATIENT: Family.RETURNS,
}


def invoice_family(action: InvoiceAction | str) -> Family:
    """The family of an invoice move (or of an event such as a creation: Facturer)."""
    try:
        return _INVOICE_FAMILIES.get(InvoiceAction(action), Family.BILLING)
    except ValueError:
        return Family.BILLING


def may_roles(family: Family) -> str:
    """« praticien ou administrateur »: the roles that may act in *family*, in French."""
    names = [role.label for role in Role if role in ALLOWED[family]]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " ou " + names[-1]


def refusal(
    role: Role | str, family: Family, *, login: str = "", own: bool | None = None
) -> str | None:
    """Why *role* may not act in *family* (French), or None when it may.

    *own*: for the families of :data:`OWN_ONLY`, whether the invoice is the user's own
    practitioner's (None: not tied to an invoice).
    """
    role = Role(role)
    who = f"« {login} » ({role.label})" if login else f"le rôle {role.label}"
    if role not in ALLOWED[family]:
        return (
            f"Action réservée au rôle {may_roles(family)} : {family.label} "
            f"({who} ne peut pas)."
        )
    if family in OWN_ONLY and role is Role.PRATICIEN and own is False:
        return (
            f"Un praticien ne peut {family.label} que pour ses propres factures ; le rôle "
            f"administrateur le peut pour toutes ({who})."
        )
    return None


def check(role: Role | str, family: Family, *, login: str = "", own: bool | None = None) -> None:
    """Raise :class:`Forbidden` with the reason when *role* may not act in *family*."""
    reason = refusal(role, family, login=login, own=own)
    if reason is not None:
        raise Forbidden(reason)


def valid_pin(pin: str) -> bool:
    """A PIN for quick unlocks: 4 to 8 digits."""
    return pin.isdigit() and 4 <= len(pin) <= 8
