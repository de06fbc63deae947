"""Issue 9 §4 and §6: the follow-up reports on the demo practice after a real billing run (lots
sent to the simulated caisse, a mixed NOEMIE return posted), paged by key, exported as JSON, CSV
and PDF, the charts; and the CLI verbs in real subprocesses (exit 0/1/2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest
from lots_support import CAISSE_ADDRESSES

from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, Lot, ReturnEntry, ReturnRejection
from tuibill.services import invoices as invoice_service
from tuibill.services import lots, receiving, reports, sending
from tuibill.simulator.scenarios import Answer, FixedScenario

NOW = datetime(2026, 11, 23, 18, 0, 0)
LATER = date(2026, 12, 28)  # 35 days on: past the 21 days of « en attente », late payments
CAISSES = {**CAISSE_ADDRESSES, "01594": "lots@cpam-flandres.example", "02028": "lots@msa.example"}


def cli(db: str, *args: str, check: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "tuibill", "--db", db, *args],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "TUIBILL_CONFIG": ""},
    )  # fmt: skip
    assert result.returncode == check, result.stderr + result.stdout
    return result


@pytest.fixture
def billed_demo(demo_url, start_caisse):
    """The demo's validated invoices sent and answered « mixte »; then one more lot, silent."""
    caisse = start_caisse(FixedScenario((Answer("positive"), Answer("mixte"))), caisses=CAISSES)
    built = lots.build_lots(caisse.settings, user="demo", now=NOW).lots
    assert built and sending.send_lots(caisse.settings, user="demo", now=NOW).all_sent
    receiving.receive(caisse.settings, user="demo", now=NOW)
    silent = start_caisse(FixedScenario((Answer("positive"),)), caisses=CAISSES)
    draft = Invoice.select().where(Invoice.state == "SAISIE").order_by(Invoice.id).first()
    invoice_service.validate(draft.id, user="demo")
    (last,) = lots.build_lots(silent.settings, user="demo", now=NOW).lots
    sending.send_lots(silent.settings, user="demo", now=NOW)
    receiving.receive(silent.settings, user="demo", now=NOW)
    return demo_url, Lot.get_by_id(last.id)


def count(state: str) -> int:
    return Invoice.select().where(Invoice.state == state).count()


def names(report: str, **filters) -> list[int]:
    return [row.values["id"] for row in reports.get(report).rows(reports.Filters(**filters))]


def test_each_report_on_the_demo(billed_demo):
    _, silent_lot = billed_demo
    sent = Invoice.select().where(Invoice.lot.is_null(False)).count()
    assert ReturnEntry.select().count() > 0 and count("REJETEE") > 0

    assert len(names("fse-transmises")) == sent
    assert len(names("fse-non-payees")) == count("TRANSMISE") > 0
    assert len(names("fse-rejetees")) == count("REJETEE")
    assert len(names("fse-en-attente", today=NOW.date())) == count("TRANSMISE")
    assert names("fse-en-attente", today=LATER) == []
    assert names("fse-recyclees") == []  # nothing rejected was paid yet
    late = reports.get("retards").rows(reports.Filters(today=LATER))
    late = list(late)
    assert late and all(row.values["jours_retard"] > 0 for row in late)
    assert all(row.values["penalite_cents"] > 0 for row in late)
    assert len(names("lots-transmis")) == Lot.select().where(
        (Lot.kind == "FSE") & Lot.sent_at.is_null(False)
    ).count()
    assert names("lots-sans-retour", today=NOW.date()) == []  # too early to worry
    assert names("lots-sans-retour", today=LATER) == [silent_lot.id]
    reports.point_lot(silent_lot.id, user="demo", note="caisse appelée")
    assert names("lots-sans-retour", today=LATER, pointed=False) == []
    (pointed,) = reports.get("lots-sans-retour").rows(reports.Filters(today=LATER, pointed=True))
    assert "caisse appelée" in pointed.values["pointage"]

    # An AMC rejection shows with its code and label.
    rejected = Invoice.get(Invoice.state == "REJETEE")
    entry = ReturnEntry.get(ReturnEntry.invoice == rejected.id)
    ReturnRejection.create(entry=entry.id, invoice=rejected.id, kind="rejet", code="0250",
                           label="ADHERENT INCONNU DE LA MUTUELLE", level="F", part="C")  # fmt: skip
    (amc,) = reports.get("rejets-amc").rows(reports.Filters())
    assert (amc.values["code"], amc.values["id"]) == ("0250", rejected.id)


def test_reports_page_by_key_and_export(billed_demo):
    report = reports.get("fse-transmises")
    filters = reports.Filters()
    everything = [row.values["id"] for row in report.rows(filters)]
    paged = [row.values["id"] for row in report.rows(filters, page_size=7)]
    assert paged == everything and len(set(paged)) == len(paged) > 7
    first = report.page(filters, None, 5)
    second = report.page(filters, first[-1].key, 5)
    assert [r.values["id"] for r in first + second] == everything[:10]
    days = [row.values["date"] for row in report.rows(filters)]
    assert days == sorted(days)
    since = days[len(days) // 2]
    assert all(d >= since for d in (r.values["date"] for r in report.rows(reports.Filters(since=since))))

    lines = list(reports.csv_lines(report, report.rows(filters)))
    assert lines[0].startswith("Id;N° FSE;Date FSE") and len(lines) == len(everything) + 1
    pdf = reports.pdf_bytes(report, reports.Filters(today=LATER))
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_the_charts_of_what_is_owed_and_the_delays(billed_demo):
    from tuibill.services.reports import charts

    owed = charts.owed_by_caisse(LATER)
    unpaid = sum(
        i.amo_cents - i.amo_paid_cents
        for i in Invoice.select().where(
            Invoice.state.in_(["TRANSMISE", "PAYEE_PARTIELLEMENT", "REJETEE", "RECYCLEE"])
            & Invoice.amo_tiers_payant
        )
    )
    assert sum(row.total for row in owed) == unpaid > 0
    assert all(row.buckets[0] == 0 for row in owed)  # 35 days on: nothing under a week old
    drawn = charts.draw_owed(owed)
    assert any("█" in line or "▓" in line or "▒" in line for line in drawn)
    glyphs = set(charts.BLOCKS + charts.LEVELS.strip() + "–→")
    plain = charts.draw_owed(owed, ascii=True)
    assert not glyphs & set("".join(plain)) and "#" in "".join(plain)
    # The simulated caisse dates its transfers by the real clock: the lots were sent on NOW.
    today = date.today()
    months, delays = charts.payment_delays(date(2026, 1, 1), today + timedelta(days=1))
    assert months == [f"{today:%Y-%m}"] and delays
    expected = (today - NOW.date()).days
    assert all(days == expected for row in delays for days in row.months.values())
    assert not glyphs & set("".join(charts.draw_delays(months, delays, ascii=True)))


def test_the_headless_verbs(billed_demo, tmp_path):
    db, silent_lot = billed_demo
    rejected = Invoice.select().where(Invoice.state == "REJETEE").order_by(Invoice.id).first()
    listed = json.loads(cli(db, "rejection", "list", "--json").stdout)
    assert rejected.id in [row["facture"] for row in listed]
    shown = json.loads(cli(db, "rejection", "show", f"{rejected.number:09d}", "--json").stdout)
    assert shown["motif"] == "prescripteur_inconnu" and shown["rejets"][0]["code"] == "0460"
    assert [a["action"] for a in shown["actions"]] == ["restart", "credit_note"]

    waiting = Invoice.select().where(Invoice.state == "TRANSMISE").order_by(Invoice.id).first()
    refused = cli(db, "rejection", "treated", str(waiting.id), check=1)  # no rejection to treat
    assert "seul un rejet" in refused.stderr
    assert cli(db, "invoice", "restart", str(rejected.id), check=2).returncode == 2  # --reason
    moved = json.loads(cli(db, "invoice", "restart", str(rejected.id), "--reason", "0460 corrigé",
                           "--validate", "--json").stdout)  # fmt: skip
    assert (moved["etat_code"], moved["numero"]) == ("VALIDEE", f"{rejected.number:09d}")

    other = Invoice.select().where(Invoice.state == "REJETEE").order_by(Invoice.id.desc()).first()
    made = json.loads(cli(db, "invoice", "credit-note", str(other.id), "--reason", "avoir",
                          "--new-invoice", "--json").stdout)  # fmt: skip
    assert made["etat_code"] == "ANNULEE_AVOIR" and made["avoir"].startswith("AV")
    assert Invoice.get_by_id(made["nouvelle_facture"]).replaces == other.id

    partial = Invoice.get(Invoice.state == "PAYEE_PARTIELLEMENT")
    lines = json.loads(cli(db, "invoice", "line-status", str(partial.id), "--json").stdout)
    rank = next(line["ligne"] for line in lines if line["refusee"])
    wrong = cli(db, "invoice", "line-status", str(partial.id), str(rank), "note-de-credit", check=1)
    assert "ligne payée" in wrong.stderr
    assert cli(db, "invoice", "line-status", str(partial.id), str(rank), "nimporte", check=2)
    done = json.loads(cli(db, "invoice", "line-status", str(partial.id), str(rank), "a-juste-titre",
                          "--json").stdout)  # fmt: skip
    assert done["statut"] == "a-juste-titre"

    pending = Invoice.get(Invoice.state == "TRANSMISE")
    assert "moins de 90 jours" in cli(db, "invoice", "reactivate", str(pending.id), check=1).stderr
    cli(db, "invoice", "recycle", str(pending.id), "--reason", "sans réponse")
    back = json.loads(cli(db, "invoice", "reactivate", str(pending.id), "--json").stdout)
    assert back["etat_code"] == "VALIDEE"

    rows = json.loads(cli(db, "report", "fse-transmises", "--json").stdout)
    assert rows and {"id", "numero", "date", "etat"} <= set(rows[0])
    csv_out = cli(db, "report", "lots-transmis", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("Id;Lot;Envoyé le")
    pdf = tmp_path / "rejetees.pdf"
    cli(db, "report", "fse-rejetees", "--format", "pdf", "--output", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "fse-rejetees" in cli(db, "report", "nimporte", check=2).stderr  # the names listed
    charts = cli(db, "report", "graphiques", "--ascii").stdout
    assert "Dû par les caisses" in charts and "█" not in charts and "#" in charts
    cli(db, "report", "point", str(silent_lot.id), "--note", "appel")
    rules = json.loads(cli(db, "rejection", "rule", "list", "--json").stdout)
    assert any(rule["codes"] == "0460" for rule in rules)
    assert "inconnu" in cli(db, "rejection", "rule", "add", "nimporte", "--code", "1234",
                            check=2).stderr  # fmt: skip
    assert InvoiceState(Invoice.get_by_id(partial.id).state) is InvoiceState.PAYEE_PARTIELLEMENT
