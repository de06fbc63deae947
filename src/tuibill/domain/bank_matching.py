"""Bank reconciliation (« rapprochement »): which bank credit is which announced receipt.

Pure: the services hand in the bank credits not matched yet, the receipts expected and not
matched yet (a caisse's NOEMIE virement, a tiers-payeur's règlement…) and the rules, in order;
:func:`propose` says which credit goes with which receipt, by which rule, with what difference.

Rules are data, as Odoo's reconciliation models are: each names conditions on the bank line
(its text contains a word, matches a regular expression), on the pair (the receipt's label or
its partner appears in the bank text; the amounts are equal or within a tolerance; the bank
date falls in a window around the receipt's date) and which kind of receipt it looks at.
**The first matching rule wins**: the rules are tried in order, each over the credits still
unmatched, so a strict rule (exact amount, label found) takes its pairs before a looser one
(amount within a tolerance) is tried; a credit is matched once, a receipt once.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

from tuibill.domain.errors import ValidationError

# The kinds of receipt tuibill knows; a source registers under one of them.
VIREMENT = "virement"  # a caisse's NOEMIE virement (services.bank_sources.VirementSource)
REGLEMENT = "reglement"  # a tiers-payeur's règlement (tiers-payeurs, F8)
KIND_LABELS = {VIREMENT: "Virement NOEMIE", REGLEMENT: "Règlement tiers-payeur"}

MAX_WINDOW_DAYS = 366
MAX_TOLERANCE_CENTS = 100_000_00  # 100 000 €: beyond, an amount no longer says anything


@runtime_checkable
class ExpectedReceipt(Protocol):
    """Money someone announced: what a bank credit is matched to.

    ``kind`` names the source (« virement », « reglement »), ``id`` the record in that source;
    ``date`` is the day the money was announced as paid, ``amount_cents`` signed (a credit to
    the account > 0), ``label`` what the bank is expected to show, ``partner`` who pays.
    """

    @property
    def kind(self) -> str: ...

    @property
    def id(self) -> int: ...

    @property
    def date(self) -> date: ...

    @property
    def amount_cents(self) -> int: ...

    @property
    def label(self) -> str: ...

    @property
    def partner(self) -> str: ...


@dataclass(frozen=True)
class Receipt:
    """A plain :class:`ExpectedReceipt` (what the sources return)."""

    kind: str
    id: int
    date: date
    amount_cents: int
    label: str
    partner: str
    detail: str = ""  # shown beside it: « 12 factures, PS 281234567 »

    @property
    def key(self) -> str:
        return receipt_key(self)


def receipt_key(receipt: ExpectedReceipt) -> str:
    """« virement:12 »: a receipt's identity across the sources."""
    return f"{receipt.kind}:{receipt.id}"


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


@dataclass(frozen=True)
class Credit:
    """A bank line to match: its id, date, signed amount, and every text the bank gave."""

    id: int
    booking_date: date
    amount_cents: int
    text: str  # label, reference, counterparty and details, joined


# -- text ------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Upper case, no accents, every run of other characters one space: banks write labels in
    capitals without accents, and cut or pad them as they like."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9A-Z]+", " ", plain.upper()).split())


def words(text: str) -> frozenset[str]:
    return frozenset(normalise(text).split())


def found_in(needle: str, haystack_words: frozenset[str]) -> bool:
    """Every word of *needle* is among the bank text's words (wherever the bank put them:
    label, reference or detail line). An empty *needle* is never found."""
    wanted = words(needle)
    return bool(wanted) and wanted <= haystack_words


# -- rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One reconciliation rule; conditions left at their default do not constrain."""

    name: str
    kind: str = ""  # "" any receipt, else « virement » / « reglement »
    label_contains: str = ""  # the bank text contains these words
    label_regex: str = ""  # the bank text (normalised: upper case, no accents) matches this
    receipt_label: bool = False  # the receipt's label is found in the bank text
    partner: bool = False  # the receipt's partner (caisse, payer) is found in the bank text
    tolerance_cents: int = 0  # 0: amounts equal; else the largest difference accepted
    days_before: int = 2  # the bank date may be this many days before the receipt's date…
    days_after: int = 10  # … or this many after
    active: bool = True

    def check(self) -> Rule:
        """The rule itself, or a French ValidationError naming the wrong condition."""
        where = f"Règle « {self.name} »" if self.name else "Règle sans nom"
        if not self.name.strip():
            raise ValidationError(f"{where} : un nom est obligatoire.", field="name")
        if self.kind and self.kind not in KIND_LABELS:
            raise ValidationError(
                f"{where} : origine « {self.kind} » inconnue (possibles : "
                f"{', '.join(KIND_LABELS)}, ou vide pour toutes).",
                field="kind",
            )
        if self.label_regex:
            try:
                re.compile(self.label_regex)
            except re.error as error:
                raise ValidationError(
                    f"{where} : expression régulière « {self.label_regex} » invalide ({error}).",
                    field="label_regex",
                ) from None
        for name, value, high in (
            ("tolerance_cents", self.tolerance_cents, MAX_TOLERANCE_CENTS),
            ("days_before", self.days_before, MAX_WINDOW_DAYS),
            ("days_after", self.days_after, MAX_WINDOW_DAYS),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
                raise ValidationError(
                    f"{where} : {name} = {value!r} hors des valeurs possibles (0 à {high}).",
                    field=name,
                )
        return self

    def line_ok(self, text_words: frozenset[str], normalised: str) -> bool:
        """The conditions on the bank line alone."""
        if self.label_contains and not found_in(self.label_contains, text_words):
            return False
        if self.label_regex and not re.search(self.label_regex, normalised):
            return False
        return True

    def pair_ok(self, credit: Credit, text_words: frozenset[str], receipt: ExpectedReceipt) -> bool:
        """The conditions on the credit and the receipt together."""
        if self.kind and receipt.kind != self.kind:
            return False
        if (credit.amount_cents > 0) != (receipt.amount_cents > 0) or not receipt.amount_cents:
            return False
        if abs(credit.amount_cents - receipt.amount_cents) > self.tolerance_cents:
            return False
        gap = (credit.booking_date - receipt.date).days
        if not -self.days_before <= gap <= self.days_after:
            return False
        if self.receipt_label and not found_in(receipt.label, text_words):
            return False
        if self.partner and not found_in(receipt.partner, text_words):
            return False
        return True

    def describe(self) -> str:
        """The rule's conditions in one French line."""
        parts = [f"origine : {kind_label(self.kind)}" if self.kind else "toute origine"]
        if self.label_contains:
            parts.append(f"libellé contient « {self.label_contains} »")
        if self.label_regex:
            parts.append(f"libellé correspond à /{self.label_regex}/")
        if self.receipt_label:
            parts.append("libellé annoncé retrouvé")
        if self.partner:
            parts.append("payeur retrouvé dans le libellé")
        parts.append(
            "montant égal"
            if not self.tolerance_cents
            else f"écart de montant ≤ {self.tolerance_cents / 100:.2f} €".replace(".", ",")
        )
        parts.append(f"date de −{self.days_before} à +{self.days_after} jours")
        return " ; ".join(parts)


# The rules a new database starts with (schema version 10 writes them; `tuibill bank rules`
# lists and replaces them): strict first, a tolerance last, so a difference is only ever
# accepted when nothing exact fits.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        "Libellé annoncé, montant exact",
        kind=VIREMENT,
        receipt_label=True,
        days_before=2,
        days_after=10,
    ),
    Rule(
        "Organisme nommé, montant exact",
        kind=VIREMENT,
        partner=True,
        days_before=2,
        days_after=10,
    ),
    Rule(
        "Payeur nommé, montant exact",
        kind=REGLEMENT,
        partner=True,
        days_before=5,
        days_after=30,
    ),
    Rule(
        "Libellé annoncé, écart signalé",
        kind=VIREMENT,
        receipt_label=True,
        tolerance_cents=50_00,
        days_before=2,
        days_after=10,
    ),
)


# -- matching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """One pair the rules found: the credit, the receipt, the rule, and the difference."""

    credit: Credit
    receipt: ExpectedReceipt
    rule: Rule
    rule_index: int  # its position in the rules given, from 0
    difference_cents: int = field(init=False)

    def __post_init__(self) -> None:
        # Bank minus announced: < 0 when less arrived than was announced.
        object.__setattr__(
            self, "difference_cents", self.credit.amount_cents - self.receipt.amount_cents
        )


def propose(
    credits: Iterable[Credit],
    receipts: Iterable[ExpectedReceipt],
    rules: Sequence[Rule],
) -> list[Proposal]:
    """The pairs the *rules* make, first matching rule first (see the module's doc).

    Each rule goes over the credits still unmatched by date, then id; a credit takes, among the
    receipts still unmatched that the rule accepts, the one with the smallest difference, then
    the nearest date, then the oldest, then the smallest id (deterministic, whatever the order
    the receipts came in).
    """
    pending = sorted(
        (credit for credit in credits if credit.amount_cents),
        key=lambda c: (c.booking_date, c.id),
    )
    texts = {credit.id: (words(credit.text), normalise(credit.text)) for credit in pending}
    # By amount, so each credit looks only at the receipts within the rule's tolerance.
    by_amount = sorted(
        (receipt for receipt in receipts if receipt.amount_cents),
        key=lambda r: r.amount_cents,
    )
    amounts = [receipt.amount_cents for receipt in by_amount]
    taken: set[str] = set()
    proposals: list[Proposal] = []
    for index, rule in enumerate(rules):
        if not rule.active:
            continue
        still = []
        for credit in pending:
            text_words, normalised = texts[credit.id]
            best = None
            if rule.line_ok(text_words, normalised):
                low = bisect_left(amounts, credit.amount_cents - rule.tolerance_cents)
                high = bisect_right(amounts, credit.amount_cents + rule.tolerance_cents)
                candidates = [
                    receipt
                    for receipt in by_amount[low:high]
                    if receipt_key(receipt) not in taken
                    and rule.pair_ok(credit, text_words, receipt)
                ]
                if candidates:
                    best = min(
                        candidates,
                        key=lambda r: (
                            abs(credit.amount_cents - r.amount_cents),
                            abs((credit.booking_date - r.date).days),
                            r.date,
                            r.kind,
                            r.id,
                        ),
                    )
            if best is None:
                still.append(credit)
                continue
            taken.add(receipt_key(best))
            proposals.append(Proposal(credit, best, rule, index))
        pending = still
    return proposals
