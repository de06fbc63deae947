"""The motif table in use: the shipped file (``data/rejection_motifs.toml``) and the practice's
own rules (the database), tried first. See ``domain.rejection_codes``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources

from tuibill.domain.errors import NotFound
from tuibill.domain.rejection_codes import MotifTable, Rule, check_rule, parse_table
from tuibill.models import RejectionRule
from tuibill.models.database import immediate

SHIPPED_FILE = "rejection_motifs.toml"


@lru_cache(maxsize=1)
def shipped_table() -> MotifTable:
    text = resources.files("tuibill.data").joinpath(SHIPPED_FILE).read_text(encoding="utf-8")
    return parse_table(text, SHIPPED_FILE)


def _rule(row: RejectionRule) -> Rule:
    codes = tuple(code for code in row.codes.split(",") if code)
    return Rule(row.motif, codes, row.pattern, source="cabinet")  # type: ignore[arg-type]


def table() -> MotifTable:
    """The shipped table with the practice's rules before it."""
    rows = RejectionRule.select().order_by(RejectionRule.id)
    return shipped_table().with_rules([_rule(row) for row in rows])


@dataclass(frozen=True)
class RuleRow:
    id: int | None  # None: a shipped rule
    motif: str
    motif_label: str
    codes: str
    pattern: str
    source: str

    def as_dict(self) -> dict:
        return {
            "id": self.id, "motif": self.motif, "libelle_motif": self.motif_label,
            "codes": self.codes, "libelle_contient": self.pattern, "origine": self.source,
        }  # fmt: skip


def rules() -> list[RuleRow]:
    """Every rule, in the order they are tried (the practice's first)."""
    motifs = shipped_table().motifs
    found = [
        RuleRow(row.id, row.motif, motifs[_rule(row).motif].label, row.codes, row.pattern,
                "cabinet")  # fmt: skip
        for row in RejectionRule.select().order_by(RejectionRule.id)
    ]
    for rule in shipped_table().rules:
        found.append(
            RuleRow(None, rule.motif.value, motifs[rule.motif].label, ",".join(rule.codes),
                    rule.pattern, "livré")  # fmt: skip
        )
    return found


def add_rule(motif: str, codes: list[str], pattern: str, *, user: str) -> RuleRow:
    """A practice's rule (checked: known motif, 4-character codes, valid pattern)."""
    rule = check_rule(motif, tuple(c.strip().upper() for c in codes if c.strip()), pattern)
    with immediate():
        row = RejectionRule.create(
            motif=rule.motif.value, codes=",".join(rule.codes), pattern=rule.pattern,
            created_at=datetime.now().replace(microsecond=0), created_by=user,
        )  # fmt: skip
    return RuleRow(row.id, row.motif, shipped_table().motifs[rule.motif].label, row.codes,
                   row.pattern, "cabinet")  # fmt: skip


def delete_rule(rule_id: int) -> None:
    with immediate():
        if not RejectionRule.delete().where(RejectionRule.id == rule_id).execute():
            raise NotFound(f"Règle {rule_id} introuvable (les règles livrées ne se suppriment pas).")
