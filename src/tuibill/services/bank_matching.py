"""Rapprochement: each bank line matched to a receipt someone announced, by rules, or by hand.

``run_matching`` reads the bank lines no match holds and the receipts of every source
(``services.bank_sources``) no match holds, asks ``domain.bank_matching.propose`` for the pairs
the rules make (in order, the first matching rule wins), and records each pair with its
difference (bank − announced) and a history row chained with the rest of the history
(``services.audit``). ``dry_run`` runs the very same code in a transaction rolled back.

A match is undone, never deleted (its row stays « annulé », with who, when and why), and the
line and the receipt are free again. ``unmatched`` shows both sides left over; ``matches``
flags the differences; ``invoice_chain`` follows one invoice from its transmission to the bank.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tuibill.domain.bank_matching import (
    KIND_LABELS,
    Credit,
    ExpectedReceipt,
    Proposal,
    Rule,
    kind_label,
    propose,
)
from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.domain.formatting import format_cents, format_day, format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.models import (
    BankMatch,
    BankMatchEvent,
    BankOperation,
    Invoice,
    InvoiceTransition,
    MatchRule,
    ReceivedFile,
    ReturnEntry,
    db,
)
from tuibill.models.bank import ACTIVE, UNDONE
from tuibill.models.database import immediate
from tuibill.services import audit, bank_sources, lifecycle
from tuibill.services.bank import OperationView, bank_dates, operation, operations
from tuibill.services.bank_sources import InvoiceShare

BY_HAND = "à la main"
MATCH, MATCH_BY_HAND, UNDO = "rapprocher", "rapprocher_main", "annuler"
STATE_LABELS = {ACTIVE: "Rapproché", UNDONE: "Annulé"}
# Receipts dated this long before the first bank line imported are not looked for on the bank.
UNMATCHED_MARGIN_DAYS = 15


def _euros(cents: int) -> str:
    return f"{format_cents(cents)} €"


# --- the rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleView:
    id: int
    position: int
    rule: Rule

    def as_dict(self) -> dict:
        rule = self.rule
        return {
            "id": self.id,
            "ordre": self.position,
            "nom": rule.name,
            "origine": rule.kind,
            "libelle_contient": rule.label_contains,
            "libelle_regex": rule.label_regex,
            "libelle_annonce": rule.receipt_label,
            "payeur": rule.partner,
            "tolerance_cents": rule.tolerance_cents,
            "jours_avant": rule.days_before,
            "jours_apres": rule.days_after,
            "active": rule.active,
            "description": rule.describe(),
        }


def _rule_of(row: MatchRule) -> Rule:
    return Rule(
        name=row.name,
        kind=row.kind,
        label_contains=row.label_contains,
        label_regex=row.label_regex,
        receipt_label=row.receipt_label,
        partner=row.partner,
        tolerance_cents=row.tolerance_cents,
        days_before=row.days_before,
        days_after=row.days_after,
        active=row.active,
    )


def rules() -> list[RuleView]:
    """The rules, in the order they are tried."""
    query = MatchRule.select().order_by(MatchRule.position, MatchRule.id)
    return [RuleView(row.id, row.position, _rule_of(row)) for row in query]


# The keys of a rules file (TOML, « [[rule]] » tables), in the order of Rule's fields.
RULE_KEYS = {
    "name": str,
    "kind": str,
    "label_contains": str,
    "label_regex": str,
    "receipt_label": bool,
    "partner": bool,
    "tolerance_cents": int,
    "days_before": int,
    "days_after": int,
    "active": bool,
}


def parse_rules(text: str, file: str = "<règles>") -> list[Rule]:
    """The rules of a TOML text (« [[rule]] » tables, see docs/bank.md), checked, in order."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(f"{file} : fichier TOML illisible ({error}).") from None
    unknown = [key for key in data if key != "rule"]
    if unknown:
        raise ValidationError(f"{file} : clé « {unknown[0]} » inconnue (« [[rule]] » attendu).")
    tables = data.get("rule", [])
    if not isinstance(tables, list) or not tables:
        raise ValidationError(f"{file} : aucune règle (« [[rule]] » attendu).")
    found = []
    for number, table in enumerate(tables, 1):
        where = f"{file} : règle {number}"
        for key, value in table.items():
            expected = RULE_KEYS.get(key)
            if expected is None:
                raise ValidationError(
                    f"{where} : clé « {key} » inconnue (possibles : {', '.join(RULE_KEYS)})."
                )
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                kind = {str: "un texte", int: "un entier", bool: "true ou false"}[expected]
                raise ValidationError(f"{where} : « {key} » : {kind} est attendu.")
        if "name" not in table:
            raise ValidationError(f"{where} : « name » est obligatoire.")
        try:
            found.append(Rule(**table).check())
        except ValidationError as error:
            raise ValidationError(f"{where} : {error}", field=error.field) from None
    return found


def replace_rules(new_rules: list[Rule]) -> list[RuleView]:
    """The rules replaced by *new_rules* (checked), in this order. Matches already made keep the
    rule's name; the rules apply from the next ``run_matching``."""
    checked = [rule.check() for rule in new_rules]
    if not checked:
        raise ValidationError("Au moins une règle est nécessaire.")
    with immediate():
        MatchRule.delete().execute()
        for position, rule in enumerate(checked, 1):
            MatchRule.create(
                position=position,
                name=rule.name[:255],
                kind=rule.kind,
                label_contains=rule.label_contains[:255],
                label_regex=rule.label_regex[:255],
                receipt_label=rule.receipt_label,
                partner=rule.partner,
                tolerance_cents=rule.tolerance_cents,
                days_before=rule.days_before,
                days_after=rule.days_after,
                active=rule.active,
            )
    return rules()


def rules_toml(views: list[RuleView] | None = None) -> str:
    """The rules as a TOML text that :func:`parse_rules` reads back (to edit and load again)."""
    out = []
    for view in views if views is not None else rules():
        out.append("[[rule]]")
        for key in RULE_KEYS:
            value = getattr(view.rule, key)
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, int):
                text = str(value)
            else:
                text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            out.append(f"{key} = {text}")
        out.append("")
    return "\n".join(out)


# --- views -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptView:
    """An expected receipt as the screens show it."""

    kind: str
    id: int
    date: date
    amount_cents: int
    label: str
    partner: str
    detail: str = ""
    late_days: int | None = None  # days between its date and the last bank line imported

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    def as_dict(self) -> dict:
        return {
            "origine": self.kind,
            "id": self.id,
            "date": self.date,
            "montant_cents": self.amount_cents,
            "libelle": self.label,
            "payeur": self.partner,
            "detail": self.detail,
            "jours_depuis": self.late_days,
        }


def _receipt_view(receipt: ExpectedReceipt, last_bank: date | None = None) -> ReceiptView:
    return ReceiptView(
        kind=receipt.kind,
        id=receipt.id,
        date=receipt.date,
        amount_cents=receipt.amount_cents,
        label=receipt.label,
        partner=receipt.partner,
        detail=getattr(receipt, "detail", ""),
        late_days=(last_bank - receipt.date).days if last_bank else None,
    )


@dataclass(frozen=True)
class MatchView:
    id: int
    state: str
    operation: OperationView
    receipt: ReceiptView | None  # None: its source no longer has it
    kind: str
    receipt_id: int
    expected_cents: int
    amount_cents: int
    difference_cents: int
    rule_name: str
    matched_at: datetime
    matched_by: str
    undone_at: datetime | None = None
    undone_by: str = ""
    undo_reason: str = ""

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "etat": self.state_label,
            "ligne_bancaire": self.operation.as_dict(),
            "origine": self.kind,
            "recette": self.receipt_id,
            "recette_detail": self.receipt.as_dict() if self.receipt else None,
            "annonce_cents": self.expected_cents,
            "banque_cents": self.amount_cents,
            "ecart_cents": self.difference_cents,
            "regle": self.rule_name,
            "rapproche_le": self.matched_at,
            "rapproche_par": self.matched_by,
            "annule_le": self.undone_at,
            "annule_par": self.undone_by or None,
            "motif_annulation": self.undo_reason or None,
        }


def _match_view(row: BankMatch, view: OperationView | None = None) -> MatchView:
    source_receipt = None
    try:
        source_receipt = bank_sources.source(row.kind).receipt(row.receipt_id)
    except NotFound:
        pass
    if view is None:
        (view,) = operations(operation_id=row.operation_id)
    return MatchView(
        id=row.id,
        state=row.state,
        operation=view,
        receipt=_receipt_view(source_receipt) if source_receipt else None,
        kind=row.kind,
        receipt_id=row.receipt_id,
        expected_cents=row.expected_cents,
        amount_cents=row.amount_cents,
        difference_cents=row.difference_cents,
        rule_name=row.rule_name,
        matched_at=row.matched_at,
        matched_by=row.matched_by,
        undone_at=row.undone_at,
        undone_by=row.undone_by,
        undo_reason=row.undo_reason,
    )


def matches(
    *, differences_only: bool = False, include_undone: bool = False, limit: int = 2000
) -> list[MatchView]:
    """The matches, the latest bank line first; *differences_only*: those whose amounts differ."""
    query = BankMatch.select(BankMatch, BankOperation).join(BankOperation)
    if not include_undone:
        query = query.where(BankMatch.state == ACTIVE)
    if differences_only:
        query = query.where(BankMatch.difference_cents != 0)
    rows = list(
        query.order_by(BankOperation.booking_date.desc(), BankMatch.id.desc()).limit(limit)
    )
    if not rows:
        return []
    start = min(row.operation.booking_date for row in rows)
    end = max(row.operation.booking_date for row in rows)
    views = {item.id: item for item in operations(start=start, end=end, limit=None)}
    return [_match_view(row, views.get(row.operation_id)) for row in rows]


def get_match(match_id: int) -> MatchView:
    row = BankMatch.get_or_none(BankMatch.id == match_id)
    if row is None:
        raise NotFound(f"Rapprochement {match_id} introuvable.")
    return _match_view(row)


def invoices_of_match(match_id: int) -> list[InvoiceShare]:
    """The invoices the matched receipt pays."""
    row = BankMatch.get_or_none(BankMatch.id == match_id)
    if row is None:
        raise NotFound(f"Rapprochement {match_id} introuvable.")
    return bank_sources.source(row.kind).invoices_of(row.receipt_id)


# --- matching ----------------------------------------------------------------------------------


@dataclass
class MatchReport:
    """What a run matched (or would match, in a dry run)."""

    proposals: list[Proposal] = field(default_factory=list)
    match_ids: list[int] = field(default_factory=list)
    credits_left: int = 0
    receipts_left: int = 0
    rule_count: int = 0
    dry_run: bool = False

    @property
    def differences(self) -> list[Proposal]:
        return [p for p in self.proposals if p.difference_cents]

    def summary(self) -> str:
        if not self.rule_count:
            return "Aucune règle de rapprochement active : rien n'est rapproché (tuibill bank rules)."
        verb = "seraient rapprochée(s)" if self.dry_run else "rapprochée(s)"
        text = f"{len(self.proposals)} ligne(s) bancaire(s) {verb}"
        if self.differences:
            text += f", dont {len(self.differences)} avec un écart de montant"
        text += (
            f" ; restent {self.credits_left} crédit(s) non rapproché(s) et "
            f"{self.receipts_left} recette(s) annoncée(s) non retrouvée(s)."
        )
        if self.dry_run:
            text += " Simulation : rien n'est enregistré."
        return text

    def as_dict(self) -> dict:
        return {
            "simulation": self.dry_run,
            "rapprochements": [
                {
                    "rapprochement": self.match_ids[index] if index < len(self.match_ids) else None,
                    "ligne_bancaire": p.credit.id,
                    "date_banque": p.credit.booking_date,
                    "montant_banque_cents": p.credit.amount_cents,
                    "origine": p.receipt.kind,
                    "recette": p.receipt.id,
                    "date_annonce": p.receipt.date,
                    "montant_annonce_cents": p.receipt.amount_cents,
                    "libelle_annonce": p.receipt.label,
                    "ecart_cents": p.difference_cents,
                    "regle": p.rule.name,
                }
                for index, p in enumerate(self.proposals)
            ],
            "ecarts": len(self.differences),
            "credits_restants": self.credits_left,
            "recettes_restantes": self.receipts_left,
        }

    def lines(self) -> list[str]:
        """One French line per pair (the dry run's preview)."""
        out = []
        for p in self.proposals:
            gap = f" — écart {_euros(p.difference_cents)}" if p.difference_cents else ""
            out.append(
                f"{format_day(p.credit.booking_date)} {_euros(p.credit.amount_cents):>13} ← "
                f"{kind_label(p.receipt.kind)} {p.receipt.id} du {format_day(p.receipt.date)} "
                f"« {p.receipt.label} »{gap} [{p.rule.name}]"
            )
        return out


class _DryRun(Exception):
    pass


def _active_receipts() -> set[tuple[str, int]]:
    return set(
        BankMatch.select(BankMatch.kind, BankMatch.receipt_id)
        .where(BankMatch.state == ACTIVE)
        .tuples()
    )


def _credits(views: list[OperationView]) -> list[Credit]:
    return [Credit(view.id, view.booking_date, view.amount_cents, view.text) for view in views]


def _open_lines() -> list[OperationView]:
    """Bank lines no active match holds (credits and debits: a caisse may take money back)."""
    return [view for view in operations(limit=None) if view.match_id is None and view.amount_cents]


def _open_receipts(start: date | None, end: date | None) -> list[ExpectedReceipt]:
    taken = _active_receipts()
    return [
        receipt
        for receipt in bank_sources.all_receipts(start, end)
        if (receipt.kind, receipt.id) not in taken
    ]


def _seal_event(match: BankMatch, *, at: datetime, user: str, source: str | None, target: str,
                action: str, reason: str) -> None:  # fmt: skip
    BankMatchEvent.create(
        **audit.seal(
            BankMatchEvent,
            {
                "match": match.id,
                "at": at,
                "user": user,
                "from_state": source,
                "to_state": target,
                "action": action,
                "reason": reason[:255],
            },
        )
    )


def _record(
    operation_id: int,
    receipt: ExpectedReceipt,
    amount_cents: int,
    *,
    rule_id: int | None,
    rule_name: str,
    action: str,
    reason: str,
    user: str,
    at: datetime,
) -> BankMatch:
    difference = amount_cents - receipt.amount_cents
    match = BankMatch.create(
        operation=operation_id,
        kind=receipt.kind,
        receipt_id=receipt.id,
        expected_cents=receipt.amount_cents,
        amount_cents=amount_cents,
        difference_cents=difference,
        rule=rule_id,
        rule_name=rule_name[:255],
        state=ACTIVE,
        matched_at=at,
        matched_by=user,
    )
    why = reason + (f" ; écart {_euros(difference)}" if difference else "")
    _seal_event(match, at=at, user=user, source=None, target=ACTIVE, action=action, reason=why)
    return match


def run_matching(*, user: str, dry_run: bool = False, now: datetime | None = None) -> MatchReport:
    """``tuibill bank match``: the rules over every line and receipt still unmatched."""
    at = lifecycle.current_time(now)
    report = MatchReport(dry_run=dry_run)
    transaction = db.atomic() if dry_run else immediate()
    try:
        with transaction:
            _match_all(report, user=user, at=at)
            if dry_run:
                raise _DryRun()
    except _DryRun:
        report.match_ids = []
    return report


def _match_all(report: MatchReport, *, user: str, at: datetime) -> None:
    rows = [row for row in MatchRule.select().order_by(MatchRule.position, MatchRule.id)]
    active_rows = [row for row in rows if row.active]
    report.rule_count = len(active_rows)
    lines = _open_lines()
    if lines:
        first = min(line.booking_date for line in lines)
        last = max(line.booking_date for line in lines)
        widest_after = max((row.days_after for row in active_rows), default=0)
        widest_before = max((row.days_before for row in active_rows), default=0)
        receipts = _open_receipts(
            first - timedelta(days=widest_after), last + timedelta(days=widest_before)
        )
    else:
        receipts = []
    if active_rows and lines and receipts:
        report.proposals = propose(_credits(lines), receipts, [_rule_of(r) for r in active_rows])
    for proposal in report.proposals:
        row = active_rows[proposal.rule_index]
        match = _record(
            proposal.credit.id,
            proposal.receipt,
            proposal.credit.amount_cents,
            rule_id=row.id,
            rule_name=row.name,
            action=MATCH,
            reason=f"Règle « {row.name} »",
            user=user,
            at=at,
        )
        report.match_ids.append(match.id)
    matched_lines = {p.credit.id for p in report.proposals}
    report.credits_left = sum(
        1 for line in lines if line.amount_cents > 0 and line.id not in matched_lines
    )
    report.receipts_left = len(unmatched_receipts())


def link(
    operation_id: int,
    kind: str,
    receipt_id: int,
    *,
    user: str,
    reason: str = "",
    now: datetime | None = None,
) -> MatchView:
    """A bank line matched by hand to a receipt (an amount that differs is flagged)."""
    at = lifecycle.current_time(now)
    with immediate():
        row = operation(operation_id)
        receipt = bank_sources.receipt(kind, receipt_id)
        held = BankMatch.get_or_none(
            (BankMatch.operation == operation_id) & (BankMatch.state == ACTIVE)
        )
        if held is not None:
            raise RefusedOperation(
                f"La ligne bancaire {operation_id} est déjà rapprochée (rapprochement {held.id}) : "
                "annulez-le d'abord."
            )
        taken = BankMatch.get_or_none(
            (BankMatch.kind == kind) & (BankMatch.receipt_id == receipt_id)
            & (BankMatch.state == ACTIVE)
        )  # fmt: skip
        if taken is not None:
            raise RefusedOperation(
                f"{kind_label(kind)} {receipt_id} déjà rapproché (rapprochement {taken.id}) : "
                "annulez-le d'abord."
            )
        if not row.amount_cents or (row.amount_cents > 0) != (receipt.amount_cents > 0):
            raise ValidationError(
                f"La ligne bancaire de {_euros(row.amount_cents)} et "
                f"{kind_label(kind).lower()} de {_euros(receipt.amount_cents)} ne vont pas dans "
                "le même sens (crédit / débit)."
            )
        match = _record(
            operation_id,
            receipt,
            row.amount_cents,
            rule_id=None,
            rule_name=BY_HAND,
            action=MATCH_BY_HAND,
            reason=reason or "Rapprochement à la main",
            user=user,
            at=at,
        )
    return get_match(match.id)


def undo(match_id: int, *, user: str, reason: str = "", now: datetime | None = None) -> MatchView:
    """``tuibill bank undo``: the match annulled (kept, with who, when, why); the line and the
    receipt are free again."""
    at = lifecycle.current_time(now)
    with immediate():
        row = BankMatch.get_or_none(BankMatch.id == match_id)
        if row is None:
            raise NotFound(f"Rapprochement {match_id} introuvable.")
        if row.state != ACTIVE:
            raise RefusedOperation(
                f"Le rapprochement {match_id} est déjà annulé (le {row.undone_at:%d/%m/%Y} par "
                f"{row.undone_by})."
            )
        updated = (
            BankMatch.update(state=UNDONE, undone_at=at, undone_by=user, undo_reason=reason[:255])
            .where((BankMatch.id == match_id) & (BankMatch.state == ACTIVE))
            .execute()
        )
        if not updated:  # pragma: no cover - the immediate transaction holds the lock
            raise RefusedOperation(f"Le rapprochement {match_id} vient d'être annulé ailleurs.")
        _seal_event(row, at=at, user=user, source=ACTIVE, target=UNDONE, action=UNDO,
                    reason=reason or "Annulation")  # fmt: skip
    return get_match(match_id)


def history(match_id: int) -> list[dict]:
    """The match's history rows (made, undone), oldest first."""
    query = (
        BankMatchEvent.select()
        .where(BankMatchEvent.match == match_id)
        .order_by(BankMatchEvent.seq)
    )
    return [
        {"le": e.at, "par": e.user, "action": e.action, "vers": e.to_state, "motif": e.reason}
        for e in query
    ]


# --- both sides left over ----------------------------------------------------------------------


def unmatched_receipts() -> list[ReceiptView]:
    """Receipts announced and not found on the bank, from a little before the first bank line
    imported (older ones were paid before the statements tuibill knows)."""
    first, last = bank_dates()
    start = first - timedelta(days=UNMATCHED_MARGIN_DAYS) if first else None
    return [_receipt_view(receipt, last) for receipt in _open_receipts(start, None)]


@dataclass(frozen=True)
class Unmatched:
    credits: list[OperationView]  # bank credits nobody announced (yet)
    receipts: list[ReceiptView]  # receipts announced, not on the bank (yet)

    def as_dict(self) -> dict:
        return {
            "credits_bancaires": [c.as_dict() for c in self.credits],
            "recettes_annoncees": [r.as_dict() for r in self.receipts],
        }


def unmatched() -> Unmatched:
    """``tuibill bank unmatched``: both sides left over."""
    return Unmatched(operations(unmatched_credits=True, limit=None), unmatched_receipts())


def counts() -> dict[str, int]:
    """For the screen's tabs: statements, unmatched credits and receipts, matches, differences."""
    from tuibill.models import AccountStatement

    active = BankMatch.select().where(BankMatch.state == ACTIVE)
    return {
        "releves": AccountStatement.select().count(),
        "credits": len(operations(unmatched_credits=True, limit=None)),
        "recettes": len(unmatched_receipts()),
        "rapprochements": active.count(),
        "ecarts": active.where(BankMatch.difference_cents != 0).count(),
    }


# --- one invoice, from the transmission to the bank --------------------------------------------


@dataclass(frozen=True)
class ReturnStep:
    file_name: str
    received_at: datetime
    outcome: str
    amo_paid_cents: int
    amc_paid_cents: int
    virement_id: int | None


@dataclass(frozen=True)
class PaymentStep:
    receipt: ReceiptView
    paid_cents: int  # this invoice's share of the receipt
    match_id: int | None
    bank_date: date | None  # the day the bank credited it
    bank_amount_cents: int | None
    difference_cents: int | None


@dataclass(frozen=True)
class InvoiceChain:
    invoice_id: int
    number: str
    state: str
    transmitted_at: datetime | None
    returns: list[ReturnStep]
    payments: list[PaymentStep]

    def as_dict(self) -> dict:
        return {
            "facture": self.invoice_id,
            "numero": self.number,
            "etat": InvoiceState(self.state).label,
            "transmise_le": self.transmitted_at,
            "retours": [
                {
                    "fichier": step.file_name,
                    "recu_le": step.received_at,
                    "resultat": step.outcome,
                    "amo_paye_cents": step.amo_paid_cents,
                    "amc_paye_cents": step.amc_paid_cents,
                    "virement": step.virement_id,
                }
                for step in self.returns
            ],
            "paiements": [
                {
                    "origine": step.receipt.kind,
                    "recette": step.receipt.id,
                    "date_annonce": step.receipt.date,
                    "libelle": step.receipt.label,
                    "montant_recette_cents": step.receipt.amount_cents,
                    "part_facture_cents": step.paid_cents,
                    "rapprochement": step.match_id,
                    "credite_le": step.bank_date,
                    "montant_banque_cents": step.bank_amount_cents,
                    "ecart_cents": step.difference_cents,
                }
                for step in self.payments
            ],
        }

    def lines(self) -> list[str]:
        """The chain in French, one step a line."""
        out = [f"Facture {self.number} — {InvoiceState(self.state).label}"]
        out.append(
            f"  Transmise le {self.transmitted_at:%d/%m/%Y à %H:%M}"
            if self.transmitted_at
            else "  Pas encore transmise."
        )
        for step in self.returns:
            out.append(
                f"  Retour {step.file_name} du {step.received_at:%d/%m/%Y} : {step.outcome}, "
                f"AMO {_euros(step.amo_paid_cents)}, AMC {_euros(step.amc_paid_cents)}"
            )
        if not self.returns:
            out.append("  Aucun retour de caisse.")
        for step in self.payments:
            receipt = step.receipt
            out.append(
                f"  {receipt.kind_label} {receipt.id} du {format_day(receipt.date)} "
                f"« {receipt.label} » : {_euros(receipt.amount_cents)} (dont cette facture "
                f"{_euros(step.paid_cents)})"
            )
            if step.bank_date is not None:
                gap = (
                    f", écart {_euros(step.difference_cents)}" if step.difference_cents else ""
                )
                out.append(
                    f"    → crédité en banque le {format_day(step.bank_date)} : "
                    f"{_euros(step.bank_amount_cents or 0)} (rapprochement {step.match_id}{gap})"
                )
            else:
                out.append("    → pas encore retrouvé sur un relevé.")
        return out


def invoice_chain(invoice_id: int) -> InvoiceChain:
    """Transmitted → paid per the return → the virement (or règlement) → the bank line."""
    invoice = Invoice.get_or_none(Invoice.id == invoice_id)
    if invoice is None:
        raise NotFound(f"Facture {invoice_id} introuvable.")
    sent = (
        InvoiceTransition.select(InvoiceTransition.at)
        .where(
            (InvoiceTransition.invoice == invoice_id)
            & (InvoiceTransition.to_state == InvoiceState.TRANSMISE.value)
        )
        .order_by(InvoiceTransition.seq.desc(nulls="LAST"), InvoiceTransition.id.desc())
        .first()
    )
    returns = [
        ReturnStep(
            file_name=entry.received_file.file_name,
            received_at=entry.received_file.received_at,
            outcome=entry.outcome,
            amo_paid_cents=entry.amo_paid_cents,
            amc_paid_cents=entry.amc_paid_cents,
            virement_id=entry.virement_id,
        )
        for entry in ReturnEntry.select(ReturnEntry, ReceivedFile)
        .join(ReceivedFile)
        .where(ReturnEntry.invoice == invoice_id)
        .order_by(ReturnEntry.id)
    ]
    payments = []
    for item in bank_sources.sources():
        for receipt, share in item.payments_of_invoice(invoice_id):
            held = (
                BankMatch.select(BankMatch, BankOperation)
                .join(BankOperation)
                .where(
                    (BankMatch.kind == receipt.kind)
                    & (BankMatch.receipt_id == receipt.id)
                    & (BankMatch.state == ACTIVE)
                )
                .first()
            )
            payments.append(
                PaymentStep(
                    receipt=_receipt_view(receipt),
                    paid_cents=share,
                    match_id=held.id if held else None,
                    bank_date=held.operation.booking_date if held else None,
                    bank_amount_cents=held.amount_cents if held else None,
                    difference_cents=held.difference_cents if held else None,
                )
            )
    payments.sort(key=lambda step: (step.receipt.date, step.receipt.kind, step.receipt.id))
    return InvoiceChain(
        invoice_id=invoice.id,
        number=format_invoice_number(invoice.number) or "—",
        state=invoice.state,
        transmitted_at=sent.at if sent else None,
        returns=returns,
        payments=payments,
    )


__all__ = [
    "BY_HAND",
    "KIND_LABELS",
    "InvoiceChain",
    "MatchReport",
    "MatchView",
    "ReceiptView",
    "RuleView",
    "Unmatched",
    "counts",
    "get_match",
    "history",
    "invoice_chain",
    "invoices_of_match",
    "link",
    "matches",
    "parse_rules",
    "replace_rules",
    "rules",
    "rules_toml",
    "run_matching",
    "undo",
    "unmatched",
    "unmatched_receipts",
]
