"""What every bank statement reader returns: statements, their lines, and the rules they share.

The three readers (``cfonb``, ``camt``, ``ofx``) turn bytes into :class:`BankStatement` values and
nothing else: no database, no clock. Amounts are signed integer cents (a credit to the account is
positive), dates are ``datetime.date`` as the bank wrote them (never shifted to another time zone).

Each line carries a ``unique_key`` so that importing a statement twice, or two statements that
overlap, adds each bank line once (:func:`with_keys`; the rule is in ``docs/formats/``).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from stdnum import exceptions as stdnum_errors
from stdnum import iban as stdnum_iban

from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_cents

FORMAT_CFONB = "cfonb120"
FORMAT_CAMT = "camt.053"
FORMAT_OFX = "ofx"


@dataclass(frozen=True)
class BankLine:
    """One booked operation of a statement, as the bank reported it."""

    booking_date: date  # date comptable
    value_date: date | None  # date de valeur, when the format gives one
    amount_cents: int  # signed: credit to the account > 0, debit < 0
    label: str  # the bank's label ("" when it gives none)
    reference: str | None = None  # payer's or bank's reference (CFONB zone référence, EndToEndId…)
    counterparty: str | None = None  # payer of a credit, payee of a debit
    details: tuple[tuple[str, str], ...] = ()  # (qualifier, text): CFONB 05, CAMT Ustrd, OFX MEMO
    bank_ref: str | None = None  # the bank's entry reference: AcctSvcrRef, FITID, n° d'écriture
    operation_code: str | None = None  # CFONB interbank code, CAMT BkTxCd, OFX TRNTYPE
    unique_key: str = ""  # set by the reader: see with_keys()


@dataclass(frozen=True)
class BankStatement:
    """One statement of one account (a file may hold several)."""

    format: str  # FORMAT_CFONB, FORMAT_CAMT or FORMAT_OFX
    currency: str  # ISO 4217, e.g. "EUR"
    lines: tuple[BankLine, ...]
    account_iban: str | None = None  # compact, checked (check_iban)
    bank_code: str | None = None  # code banque (5 digits in France)
    branch_code: str | None = None  # code guichet
    account_number: str | None = None  # numéro de compte (11 characters in France)
    opening_date: date | None = None
    opening_balance_cents: int | None = None
    closing_date: date | None = None
    closing_balance_cents: int | None = None
    statement_id: str | None = None  # the bank's statement identifier, when the format has one

    @property
    def account_key(self) -> str:
        """The account's identity: its IBAN, else bank/branch/account numbers."""
        if self.account_iban:
            return self.account_iban
        parts = (self.bank_code, self.branch_code, self.account_number)
        return "/".join(part or "" for part in parts)


# -- IBAN -------------------------------------------------------------------------------------

_RIB_LETTERS = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789"
)  # the clé RIB's letter values: A/J → 1, B/K/S → 2 … I/R/Z → 9


def check_iban(text: str) -> str:
    """The IBAN *text* in compact form (no spaces, upper case), or a French ValidationError.

    python-stdnum checks the length and layout of each country (ISO 13616 registry) and the
    mod-97 check digits, which cover the whole BBAN (the French clé RIB included).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("IBAN absent.", field="iban")
    shown = text.strip()
    try:
        return stdnum_iban.validate(shown)
    except stdnum_errors.InvalidChecksum:
        reason = "clé de contrôle fausse (faute de frappe ?)"
    except stdnum_errors.InvalidLength:
        reason = "longueur incorrecte pour ce pays"
    except stdnum_errors.InvalidComponent:
        reason = "code pays inconnu ou numéro de compte mal formé pour ce pays"
    except stdnum_errors.InvalidFormat:
        reason = "caractères non autorisés"
    except stdnum_errors.ValidationError:
        reason = "numéro invalide"
    raise ValidationError(f"IBAN « {shown[:40]} » invalide : {reason}.", field="iban")


def rib_key(bank_code: str, branch_code: str, account_number: str) -> str:
    """The 2-digit clé RIB of a French account (letters of the account number converted)."""
    account = account_number.upper().translate(_RIB_LETTERS)
    value = 89 * int(bank_code) + 15 * int(branch_code) + 3 * int(account)
    return f"{97 - value % 97:02d}"


_RIB = re.compile(r"[0-9]{5}")
_ACCOUNT = re.compile(r"[0-9A-Z]{11}")


def french_iban(bank_code: str, branch_code: str, account_number: str) -> str | None:
    """The French IBAN of a RIB (bank, branch, account), or None if these are not RIB-shaped."""
    if not (
        _RIB.fullmatch(bank_code)
        and _RIB.fullmatch(branch_code)
        and _ACCOUNT.fullmatch(account_number)
    ):
        return None
    bban = (
        bank_code + branch_code + account_number + rib_key(bank_code, branch_code, account_number)
    )
    return "FR" + stdnum_iban.calc_check_digits("FR00" + bban) + bban


def rib_parts(iban: str) -> tuple[str, str, str] | None:
    """(bank, branch, account) of a French IBAN, None for another country."""
    if not iban.startswith("FR") or len(iban) != 27:
        return None
    return iban[4:9], iban[9:14], iban[14:25]


# -- identity of a line -----------------------------------------------------------------------


def _digest(*parts: object) -> str:
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def with_keys(statement: BankStatement) -> BankStatement:
    """The statement with each line's ``unique_key`` set.

    A line with the bank's own entry reference (``bank_ref``; only CAMT and OFX, where it is
    unique per account) is keyed by format + account + that reference. A line without one is
    keyed by format + account + booking and value dates + amount + label + reference + its
    ordinal among the identical lines of the statement: two identical-looking operations on the
    same day get two keys, and a statement covering the same day again gives them the same two.
    """
    account = statement.account_key
    seen: Counter[str] = Counter()
    lines = []
    for line in statement.lines:
        if line.bank_ref and statement.format != FORMAT_CFONB:
            key = "ref-" + _digest(statement.format, account, line.bank_ref)
        else:
            base = _digest(
                statement.format,
                account,
                line.booking_date.isoformat(),
                line.value_date.isoformat() if line.value_date else "",
                line.amount_cents,
                line.label,
                line.reference,
                line.bank_ref,
            )
            key = f"line-{_digest(base, seen[base])}"
            seen[base] += 1
        lines.append(replace(line, unique_key=key))
    return replace(statement, lines=tuple(lines))


# -- balance ----------------------------------------------------------------------------------


def euros(cents: int) -> str:
    """Cents as the user reads them in a message: « -12,34 € »."""
    return f"{format_cents(cents)} €"


def balance_problem(
    opening_cents: int | None, amounts: Iterable[int], closing_cents: int | None
) -> str | None:
    """Why opening + operations ≠ closing, in French; None when they agree or a balance is absent."""
    if opening_cents is None or closing_cents is None:
        return None
    total = sum(amounts)
    if opening_cents + total == closing_cents:
        return None
    return (
        f"le relevé ne s'équilibre pas : ancien solde {euros(opening_cents)} + opérations "
        f"{euros(total)} = {euros(opening_cents + total)}, mais le nouveau solde annoncé est "
        f"{euros(closing_cents)} (écart {euros(closing_cents - opening_cents - total)})"
    )
