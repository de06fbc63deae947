"""Schema version 6: a version 5 practice database gains the bank's tables and the first
rules, which are the domain's default rules; upgrading twice changes nothing."""

from __future__ import annotations

from tuibill.domain.bank_matching import DEFAULT_RULES
from tuibill.models import V6_MODELS, MatchRule, db, schema
from tuibill.services import bank_matching


def test_a_version_5_database_gains_the_bank(db_url) -> None:
    db.drop_tables(V6_MODELS)
    schema.SchemaVersion.update(version=5).execute()

    done = schema.upgrade()
    assert done[0] == "version 6 : banque : relevés, rapprochements et leurs règles"
    assert len(done) == schema.LATEST - 5  # the later versions run again, changing nothing

    assert all(db.table_exists(model._meta.table_name) for model in V6_MODELS)
    assert [view.rule for view in bank_matching.rules()] == list(DEFAULT_RULES)
    indexes = {index.name for index in db.get_indexes("bank_match")}
    assert {"bank_match_active_operation", "bank_match_active_receipt"} <= indexes
    schema.check_current()


def test_the_rules_a_practice_set_survive_the_migration_run_again(db_url) -> None:
    MatchRule.update(tolerance_cents=0).execute()
    schema.SchemaVersion.update(version=5).execute()
    schema.upgrade()
    assert MatchRule.select().count() == len(DEFAULT_RULES)
    assert {rule.tolerance_cents for rule in MatchRule.select()} == {0}
