"""Rapprochement on a real database: the default rules over a statement imported, the dry run,
the differences, both sides left over, undo, by hand, rules replaced as data, another source
of receipts plugged in, and the history in the hash chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from bank_support import DAY, line, statement, virement

from tuibill.domain.bank_matching import Receipt
from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.formats.cfonb import write_cfonb
from tuibill.models import BankMatch, BankMatchEvent, db
from tuibill.services import audit, bank, bank_matching, bank_sources
from tuibill.services.bank_sources import InvoiceShare

NOW = datetime(2026, 4, 1, 10, 0)


@pytest.fixture
def month(transmission, tmp_path):
    """Four virements announced; the bank shows three of them (one short of 1,50 €, one whose
    label lost the lot number) and a transfer nobody announced."""
    v = {
        "exact": virement(12_345, label="VIR CPAM 281 LOT 012 PS 281234567"),
        "short": virement(57_516, day=DAY + timedelta(days=7), label="VIR CPAM 281 LOT 013"),
        "body": virement(8_000, day=DAY + timedelta(days=9), label="VIR CPAM 595 LOT 002",
                         body="CPAM 595"),
        "missing": virement(9_900, day=date(2026, 3, 28), label="VIR CPAM 281 LOT 014"),
    }  # fmt: skip
    lines = [
        line(DAY + timedelta(days=2), 12_345, "VIR SEPA CPAM 281", "VIR CPAM 281 LOT 012",
             "PS 281234567"),
        line(DAY + timedelta(days=9), 57_366, "VIR SEPA CPAM 281", "VIR CPAM 281 LOT 013"),
        line(DAY + timedelta(days=10), 8_000, "VIR SEPA CPAM 595 PAIEMENT"),
        line(DAY + timedelta(days=11), 4_500, "VIR M OU MME DUPUIS ALAIN", "HONORAIRES"),
        line(DAY + timedelta(days=12), -850, "FRAIS TENUE DE COMPTE"),
    ]  # fmt: skip
    path = tmp_path / "mars.cfonb"
    path.write_bytes(write_cfonb([statement(lines)]))
    (report,) = bank.import_files([path], transmission, user="anne", now=NOW)
    assert report.new_lines == 5
    ops = {view.amount_cents: view.id for view in bank.operations()}
    return v, ops


def test_the_dry_run_shows_what_the_rules_do_and_writes_nothing(month) -> None:
    v, ops = month
    preview = bank_matching.run_matching(user="anne", dry_run=True, now=NOW)

    assert BankMatch.select().count() == 0 and BankMatchEvent.select().count() == 0
    found = {(p.credit.id, p.receipt.id, p.rule.name, p.difference_cents)
             for p in preview.proposals}  # fmt: skip
    assert found == {
        (ops[12_345], v["exact"].id, "Libellé annoncé, montant exact", 0),
        (ops[8_000], v["body"].id, "Organisme nommé, montant exact", 0),
        (ops[57_366], v["short"].id, "Libellé annoncé, écart signalé", -150),
    }
    assert "3 ligne(s) bancaire(s) seraient rapprochée(s), dont 1 avec un écart" in (
        preview.summary()
    )
    assert "Simulation" in preview.summary() and preview.match_ids == []
    assert any("écart -1,50 €" in text for text in preview.lines())


def test_matching_flags_the_difference_and_leaves_both_sides_visible(month) -> None:
    v, ops = month
    report = bank_matching.run_matching(user="anne", now=NOW)

    assert len(report.match_ids) == 3 and (report.credits_left, report.receipts_left) == (1, 1)
    (difference,) = bank_matching.matches(differences_only=True)
    assert (difference.receipt_id, difference.expected_cents, difference.amount_cents) == (
        v["short"].id, 57_516, 57_366,
    )  # fmt: skip
    assert difference.difference_cents == -150
    left = bank_matching.unmatched()
    assert [c.id for c in left.credits] == [ops[4_500]]  # the debit is nobody's receipt
    assert [r.key for r in left.receipts] == [f"virement:{v['missing'].id}"]
    assert left.receipts[0].late_days == (DAY + timedelta(days=12) - date(2026, 3, 28)).days
    # Running again finds nothing new: each line and each receipt is matched once.
    again = bank_matching.run_matching(user="anne", now=NOW)
    assert again.proposals == [] and BankMatch.select().count() == 3
    assert bank_matching.counts() == {
        "releves": 1, "credits": 1, "recettes": 1, "rapprochements": 3, "ecarts": 1,
    }  # fmt: skip


def test_a_match_is_undone_kept_and_made_again(month) -> None:
    v, ops = month
    bank_matching.run_matching(user="anne", now=NOW)
    match = BankMatch.get(BankMatch.receipt_id == v["exact"].id)

    undone = bank_matching.undo(match.id, user="paul", reason="mauvais virement", now=NOW)

    assert (undone.state, undone.undone_by, undone.undo_reason) == ("annule", "paul",
                                                                    "mauvais virement")  # fmt: skip
    left = bank_matching.unmatched()
    assert ops[12_345] in [c.id for c in left.credits]
    assert f"virement:{v['exact'].id}" in [r.key for r in left.receipts]
    with pytest.raises(RefusedOperation, match="déjà annulé"):
        bank_matching.undo(match.id, user="paul")
    with pytest.raises(NotFound):
        bank_matching.undo(999, user="paul")
    assert len(bank_matching.matches(include_undone=True)) == 3
    redone = bank_matching.run_matching(user="anne", now=NOW)
    assert [p.receipt.id for p in redone.proposals] == [v["exact"].id]
    assert BankMatch.select().count() == 4  # the undone row stays
    assert [e["action"] for e in bank_matching.history(match.id)] == ["rapprocher", "annuler"]


def test_matching_by_hand_and_what_it_refuses(month) -> None:
    v, ops = month
    bank_matching.run_matching(user="anne", now=NOW)

    match = bank_matching.link(ops[4_500], "virement", v["missing"].id, user="anne",
                               reason="le patient a payé la part caisse", now=NOW)  # fmt: skip

    assert (match.rule_name, match.difference_cents) == ("à la main", 4_500 - 9_900)
    assert bank_matching.unmatched().credits == []
    with pytest.raises(RefusedOperation, match="déjà rapprochée"):
        bank_matching.link(ops[4_500], "virement", v["exact"].id, user="anne")
    with pytest.raises(RefusedOperation, match="déjà rapproché"):
        bank_matching.link(ops[-850], "virement", v["exact"].id, user="anne")
    bank_matching.undo(BankMatch.get(BankMatch.receipt_id == v["exact"].id).id, user="anne")
    with pytest.raises(ValidationError, match="même sens"):
        bank_matching.link(ops[-850], "virement", v["exact"].id, user="anne")
    with pytest.raises(NotFound, match="Origine de recette « cheque » inconnue"):
        bank_matching.link(ops[12_345], "cheque", 1, user="anne")
    with pytest.raises(NotFound, match="Virement NOEMIE 999 introuvable"):
        bank_matching.link(ops[12_345], "virement", 999, user="anne")


def test_the_history_joins_the_hash_chain(month) -> None:
    v, _ops = month
    bank_matching.run_matching(user="anne", now=NOW)
    bank_matching.undo(BankMatch.get(BankMatch.receipt_id == v["body"].id).id, user="anne",
                       reason="à vérifier")  # fmt: skip
    events = list(BankMatchEvent.select().order_by(BankMatchEvent.seq))
    assert len(events) == 4 and all(e.seq and len(e.hash) == 64 for e in events)
    assert "écart -1,50 €" in next(e.reason for e in events if "écart" in e.reason)
    assert audit.verify().ok and audit.verify().rows == 4

    db.execute_sql("UPDATE bank_match_event SET reason = 'rien' WHERE id = ?", (events[1].id,))
    report = audit.verify()
    assert not report.ok and report.table == "bank_match_event"
    assert report.message.startswith("Historique des rapprochements, ligne")


def test_rules_are_data_replaced_from_a_file(month) -> None:
    v, ops = month
    text = bank_matching.rules_toml()
    assert [r.rule for r in bank_matching.rules()] == bank_matching.parse_rules(text)

    bank_matching.replace_rules(bank_matching.parse_rules(
        '[[rule]]\nname = "Dupuis paie la part caisse"\nlabel_contains = "dupuis"\n'
        "tolerance_cents = 6000\ndays_after = 30\n"
    ))  # fmt: skip

    (view,) = bank_matching.rules()
    assert view.position == 1 and view.rule.label_contains == "dupuis"
    report = bank_matching.run_matching(user="anne", now=NOW)
    # Only the line naming Dupuis is looked at; among the receipts within 60 €, the nearest.
    assert [(p.credit.id, p.receipt.id, p.difference_cents) for p in report.proposals] == [
        (ops[4_500], v["body"].id, 4_500 - 8_000)
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rule]]\nname = 'x'\ncolour = 'bleu'\n", "clé « colour » inconnue"),
        ("[[rule]]\nname = 'x'\ntolerance_cents = 'cinq'\n", "un entier est attendu"),
        ("[[rule]]\nkind = 'virement'\n", "« name » est obligatoire"),
        ("[[rule]]\nname = 'x'\nlabel_regex = '('\n", "expression régulière"),
        ("regle = 1\n", "clé « regle » inconnue"),
        ("[[rule]\n", "illisible"),
    ],
)
def test_a_wrong_rules_file_is_refused_with_what_is_wrong(db_url, text, message) -> None:
    with pytest.raises(ValidationError, match=message):
        bank_matching.parse_rules(text, "regles.toml")
    assert len(bank_matching.rules()) == 4  # the rules in place are kept


@dataclass(frozen=True)
class Reglement:
    """A tiers-payeur's règlement as the payers' module would hand it."""

    id: int
    date: date
    amount_cents: int
    label: str
    partner: str
    kind: str = "reglement"


class ReglementSource:
    """A second source, as the tiers-payeurs plug theirs in."""

    kind = "reglement"
    label = "Règlements des tiers-payeurs"
    items = [Reglement(1, DAY, 32_000, "APA MARS 2026", "Conseil départemental d'Eure-et-Loir")]

    def receipts(self, start=None, end=None):
        return [r for r in self.items if (start is None or r.date >= start)]

    def receipt(self, receipt_id):
        return next((r for r in self.items if r.id == receipt_id), None)

    def invoices_of(self, receipt_id):
        return [InvoiceShare(7, "000000007", "DUPUIS ALAIN", 32_000)]

    def payments_of_invoice(self, invoice_id):
        return [(self.items[0], 32_000)] if invoice_id == 7 else []


def test_another_source_of_receipts_plugs_in(month, transmission, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(bank_sources._SOURCES, "reglement", ReglementSource())
    path = tmp_path / "avril.cfonb"
    path.write_bytes(write_cfonb([statement(
        [line(DAY + timedelta(days=20), 32_000, "VIR CONSEIL DEPARTEMENTAL",
              "D EURE ET LOIR APA")],
        start=date(2026, 3, 20), end=date(2026, 3, 31), opening=200_000,
    )]))  # fmt: skip
    bank.import_files([path], transmission, user="anne", now=NOW)

    report = bank_matching.run_matching(user="anne", now=NOW)

    (payer,) = [p for p in report.proposals if p.receipt.kind == "reglement"]
    assert payer.rule.name == "Payeur nommé, montant exact" and payer.difference_cents == 0
    assert isinstance(payer.receipt, Receipt) is False  # any object with the six fields
    match = bank_matching.get_match(report.match_ids[report.proposals.index(payer)])
    assert match.receipt.partner == "Conseil départemental d'Eure-et-Loir"
    assert [s.number for s in bank_matching.invoices_of_match(match.id)] == ["000000007"]


def test_the_database_itself_holds_one_active_match_per_line_and_per_receipt(month) -> None:
    import peewee

    bank_matching.run_matching(user="anne", now=NOW)
    held = BankMatch.get()
    copy = {name: getattr(held, name) for name in ("kind", "receipt_id", "expected_cents",
            "amount_cents", "matched_at", "matched_by")}  # fmt: skip
    other = BankMatch.select().where(BankMatch.id != held.id).get()
    with pytest.raises(peewee.IntegrityError), db.atomic():
        BankMatch.create(**copy, operation=other.operation_id)  # the same receipt again
    with pytest.raises(peewee.IntegrityError), db.atomic():
        BankMatch.create(**{**copy, "receipt_id": 999}, operation=held.operation_id)
    BankMatch.create(**copy, operation=other.operation_id, state="annule")  # undone: allowed
