"""Versioned in-place upgrades: an existing practice database survives a new version."""

from __future__ import annotations

import peewee
import pytest

from tuibill.domain.errors import ConfigError
from tuibill.models import Practitioner, db, schema


def test_fresh_database_is_at_latest(db_url) -> None:
    assert schema.current_version() == schema.LATEST
    assert schema.upgrade() == []  # idempotent
    schema.check_current()


def test_an_upgrade_keeps_the_data(db_url, monkeypatch) -> None:
    from tuibill.services import practice

    practice.create_practitioner("GAUTIER", "Anne", "281234567")

    def add_column(database: peewee.Database) -> None:
        from playhouse.migrate import SchemaMigrator, migrate

        migrator = SchemaMigrator.from_database(database)
        migrate(migrator.add_column("practitioner", "nickname", peewee.CharField(default="")))

    future = [*schema.MIGRATIONS, (schema.LATEST + 1, "surnom", add_column)]
    monkeypatch.setattr(schema, "MIGRATIONS", future)
    monkeypatch.setattr(schema, "LATEST", schema.LATEST + 1)
    with pytest.raises(ConfigError, match="tuibill db upgrade"):
        schema.check_current()
    assert schema.upgrade() == [f"version {schema.LATEST} : surnom"]
    assert Practitioner.get().am_number == "281234567"
    row = db.execute_sql("SELECT nickname FROM practitioner").fetchone()
    assert row == ("",)


def test_newer_database_is_refused(db_url) -> None:
    schema.SchemaVersion.update(version=schema.LATEST + 5).execute()
    with pytest.raises(ConfigError, match="plus récente"):
        schema.check_current()
    with pytest.raises(ConfigError, match="plus récente"):
        schema.upgrade()
    assert schema.current_version() == schema.LATEST + 5  # the database is left as it was


V9 = "version 9 : journal des factures : index couvrants du filtre patient"
V10 = "version 10 : rejets : avoirs, motifs, lignes refusées, recyclage, pointage des lots, DRE"
V8 = "version 8 : tiers-payeurs : plans d'aide, factures d'aide à domicile, bordereaux, règlements"


def test_a_version_5_database_gains_the_tiers_payeurs_tables(db_url) -> None:
    """Version 8 adds the home-care tables and the default levels of relance, once."""
    from tuibill.models import V8_MODELS, ReminderLevelRow

    for model in reversed(V8_MODELS):
        db.execute_sql(f'DROP TABLE "{model._meta.table_name}"')
    schema.SchemaVersion.update(version=7).execute()
    assert schema.upgrade() == [V8, V9, V10]
    assert all(db.table_exists(model._meta.table_name) for model in V8_MODELS)
    assert [(r.number, r.days) for r in ReminderLevelRow.select().order_by(ReminderLevelRow.number)] == [
        (1, 30), (2, 45), (3, 60),
    ]
    schema.check_current()


def test_a_version_1_database_is_upgraded_in_place(db_url) -> None:
    """Rebuild what version 1 made (no v2 tables or columns), with data, then upgrade it."""
    from tuibill.services import practice

    nurse = practice.create_practitioner("GAUTIER", "Anne", "281234567")
    v2_columns = ["secured_with_vitale", "signature", "signature_algorithm", "signer",
                  "signing_card", "signer_certificate", "secured_at", "tla_key", "lot_id"]
    for table in ("received_file", "invoice_piece", "lot_transition", "lot"):
        db.execute_sql(f'DROP TABLE "{table}"')
    db.execute_sql('DROP INDEX "invoice_lot_id"')
    for column in v2_columns:
        db.execute_sql(f'ALTER TABLE "invoice" DROP COLUMN "{column}"')
    schema.SchemaVersion.update(version=1).execute()
    with pytest.raises(ConfigError, match="version 1"):
        schema.check_current()

    assert schema.upgrade() == [
        "version 2 : sécurisation des factures, pièces SCOR, lots, fichiers reçus",
        "version 3 : rejet de la caisse : état « Rejetée »",
        "version 4 : retours NOEMIE : virements, factures payées et rejetées",
        "version 5 : historique chaîné (empreintes SHA-256), format de chaque lot",
        "version 6 : banque : relevés, rapprochements et leurs règles",
        "version 7 : comptes utilisateurs et rôles, leur historique chaîné",
        V8,
        V9,
        V10,
    ]
    columns = {c.name for c in db.get_columns("invoice")}
    assert set(v2_columns) <= columns
    assert db.table_exists("lot") and db.table_exists("invoice_piece")
    assert "invoice_lot_id" in {index.name for index in db.get_indexes("invoice")}
    assert Practitioner.get_by_id(nurse.id).am_number == "281234567"
    schema.check_current()


def test_a_version_2_rejection_flag_becomes_the_rejected_state(db_url) -> None:
    """Version 2 kept a paper rejection as a flag beside « Transmise »: it becomes « Rejetée »."""
    from tuibill.services import practice

    nurse = practice.create_practitioner("GAUTIER", "Anne", "281234567")
    patient = db.execute_sql(
        "INSERT INTO patient (last_name, first_name, search_name, birth_date, nir, rank, "
        "quality, amc_member_number, amc_tiers_payant, amo_tiers_payant, ald, maternity, "
        "exoneration, sector, address, phone) VALUES ('DUPONT', 'Jean', 'DUPONT JEAN', "
        "'1950-01-01', '150012812345621', 1, '00', '', 0, 1, 0, 0, '', '', '', '')"
    ).lastrowid
    for table in ("return_rejection", "return_line", "return_entry", "virement"):  # version 4
        db.execute_sql(f'DROP TABLE "{table}"')
    for column in ("amo_paid_cents", "amc_paid_cents"):
        db.execute_sql(f'ALTER TABLE "invoice" DROP COLUMN "{column}"')
    db.execute_sql('ALTER TABLE "invoice" ADD COLUMN "rejected" INTEGER NOT NULL DEFAULT 0')
    insert = (
        "INSERT INTO invoice (practitioner_id, patient_id, number, state, mode, billing_date, "
        "first_act_date, last_act_date, total_cents, amo_cents, amc_cents, patient_cents, "
        "amo_rate, amo_tiers_payant, amc_tiers_payant, patient_name, sector, rejected, "
        "secured_with_vitale, signature, signature_algorithm, signer, signing_card, "
        "signer_certificate, created_at, created_by) VALUES (?, ?, ?, 'TRANSMISE', 'degrade', "
        "'2026-11-02', '2026-11-02', '2026-11-02', 315, 189, 0, 126, 60, 1, 0, 'DUPONT JEAN', "
        "'', ?, 0, '', '', '', '', '', '2026-11-02 09:00:00', 'anne')"
    )
    db.execute_sql(insert, (nurse.id, patient, 7, 1))
    db.execute_sql(insert, (nurse.id, patient, 8, 0))
    schema.SchemaVersion.update(version=2).execute()

    assert schema.upgrade() == [
        "version 3 : rejet de la caisse : état « Rejetée »",
        "version 4 : retours NOEMIE : virements, factures payées et rejetées",
        "version 5 : historique chaîné (empreintes SHA-256), format de chaque lot",
        "version 6 : banque : relevés, rapprochements et leurs règles",
        "version 7 : comptes utilisateurs et rôles, leur historique chaîné",
        V8,
        V9,
        V10,
    ]
    states = db.execute_sql("SELECT number, state FROM invoice ORDER BY number").fetchall()
    assert states == [(7, "REJETEE"), (8, "TRANSMISE")]
    columns = {c.name for c in db.get_columns("invoice")}
    assert "rejected" not in columns and {"amo_paid_cents", "amc_paid_cents"} <= columns
    assert db.table_exists("return_entry") and db.table_exists("virement")
    schema.check_current()


def test_a_version_4_history_is_sealed_in_the_order_it_happened(db_url) -> None:
    """The rows written before the chain existed get their place in it at the upgrade."""
    from tuibill.models import AuditHead, InvoiceTransition
    from tuibill.services import audit, practice

    practice.create_practitioner("GAUTIER", "Anne", "281234567")
    patient = db.execute_sql(
        "INSERT INTO patient (last_name, first_name, search_name, birth_date, nir, rank, "
        "quality, amc_member_number, amc_tiers_payant, amo_tiers_payant, ald, maternity, "
        "exoneration, sector, address, phone) VALUES ('DUPONT', 'Jean', 'DUPONT JEAN', "
        "'1950-01-01', '150012812345621', 1, '00', '', 0, 1, 0, 0, '', '', '', '')"
    ).lastrowid
    invoice = db.execute_sql(
        "INSERT INTO invoice (practitioner_id, patient_id, state, mode, billing_date, "
        "first_act_date, last_act_date, total_cents, amo_cents, amc_cents, patient_cents, "
        "amo_rate, amo_tiers_payant, amc_tiers_payant, patient_name, sector, "
        "secured_with_vitale, signature, signature_algorithm, signer, signing_card, "
        "signer_certificate, created_at, created_by, amo_paid_cents, amc_paid_cents) VALUES "
        "(1, ?, 'VALIDEE', 'degrade', '2026-11-02', '2026-11-02', '2026-11-02', 315, 189, 0, "
        "126, 60, 1, 0, 'DUPONT JEAN', '', 0, '', '', '', '', '', '2026-11-02 09:00:00', 'a', "
        "0, 0)",
        (patient,),
    ).lastrowid
    for at, source, target, action in (
        ("2026-11-02 09:05:00", "SAISIE", "VALIDEE", "validate"),
        ("2026-11-02 09:00:00", None, "SAISIE", "create"),
    ):
        db.execute_sql(
            "INSERT INTO invoice_transition (invoice_id, at, user, from_state, to_state, action, "
            "reason, hash) VALUES (?, ?, 'anne', ?, ?, ?, '', '')",
            (invoice, at, source, target, action),
        )
    AuditHead.delete().execute()
    schema.SchemaVersion.update(version=4).execute()

    assert schema.upgrade() == [
        "version 5 : historique chaîné (empreintes SHA-256), format de chaque lot",
        "version 6 : banque : relevés, rapprochements et leurs règles",
        "version 7 : comptes utilisateurs et rôles, leur historique chaîné",
        V8,
        V9,
        V10,
    ]
    sealed = [(t.action, t.seq) for t in InvoiceTransition.select().order_by(InvoiceTransition.seq)]
    assert sealed == [("create", 1), ("validate", 2)]  # by time, not by insertion
    assert audit.verify().ok
    # And the chain goes on from there.
    from tuibill.models.database import immediate
    from tuibill.services import lifecycle

    with immediate():
        lifecycle.record_invoice_event(
            type("Row", (), {"id": invoice, "state": "VALIDEE"})(), "edit", "anne"
        )
    assert InvoiceTransition.select().order_by(InvoiceTransition.seq.desc()).first().seq == 3
    assert audit.verify().ok


def test_version_9_gives_the_journal_its_covering_indexes(db_url) -> None:
    """A version 8 database had (billing_date, id) and (patient_name): the upgrade replaces them
    with the covering indexes the journal's patient filter reads (issue 12)."""
    for name in schema.JOURNAL_INDEXES:
        db.execute_sql(f'DROP INDEX "{name}"')
    db.execute_sql('CREATE INDEX "invoice_billing_date_id" ON "invoice" ("billing_date", "id")')
    db.execute_sql('CREATE INDEX "invoice_patient_name" ON "invoice" ("patient_name")')
    schema.SchemaVersion.update(version=8).execute()

    assert schema.upgrade() == [V9, V10]
    indexes = {index.name: index.columns for index in db.get_indexes("invoice")}
    for name, columns in schema.JOURNAL_INDEXES.items():
        assert indexes[name] == list(columns)
    assert "invoice_billing_date_id" not in indexes
    assert "invoice_patient_name" not in indexes
    schema.check_current()


def test_a_version_9_database_gets_the_rejection_tables_and_columns(db_url) -> None:
    """Version 10 (issue 9): avoirs, motif rules, refused lines; nullable columns added in place."""
    from tuibill.models import db

    for table in ("credit_note", "rejection_rule", "line_decision", "lot_pointage", "dre"):
        db.execute_sql(f'DROP TABLE "{table}"')
    for table, columns in (
        ("invoice", ("recycled_at", "recycled_by", "replaces", "amc_to_patient_cents")),
        ("invoice_line", ("credit_of", "rebill_of")),
        ("isolated_act", ("rebills_line",)),
    ):
        for column in columns:
            db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    schema.SchemaVersion.update(version=9).execute()

    assert schema.upgrade() == [V10]
    assert db.table_exists("credit_note") and db.table_exists("line_decision")
    assert "recycled_at" in {c.name for c in db.get_columns("invoice")}
    assert "rebill_of" in {c.name for c in db.get_columns("invoice_line")}
    schema.check_current()
