"""``tuibill returns …`` and ``invoice show`` after a return, in real subprocesses: import with
dry run, exit statuses, the JSON keys the issue names, lists, match by hand, late payments."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from lots_support import T0
from test_lot_cli import cli, write_config
from test_returns_posting import POSITIVE, return_file, sent_lot

from tuibill.formats.noemie import read_return, write_return
from tuibill.models import Invoice, ReturnEntry


def test_import_dry_run_then_real_then_again(office, start_caisse, db_url, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 4, home_visit=True)
    config = write_config(tmp_path / "config.toml", caisse)
    path = tmp_path / "retour.noe"
    path.write_bytes(return_file(lot, "mixte"))

    dry = json.loads(cli(db_url, config, "returns", "import", str(path), "--dry-run", "--json").stdout)
    (simulated,) = dry["fichiers"]
    assert simulated["simulation"] is True and simulated["statut"] == "importé"
    assert ReturnEntry.select().count() == 0
    assert [Invoice.get_by_id(i).state for i in ids] == ["TRANSMISE"] * 4

    real = json.loads(cli(db_url, config, "returns", "import", str(path), "--json").stdout)
    (report,) = real["fichiers"]
    for key in ("payees", "partielles", "rejetees", "differees", "non_rapprochees"):
        assert report[key] == simulated[key] == (0 if key == "non_rapprochees" else 1)
    assert report["montant_paye_cents"] == simulated["montant_paye_cents"] > 0

    again = cli(db_url, config, "returns", "import", str(path))
    assert "déjà importé" in again.stdout

    shown = json.loads(cli(db_url, config, "invoice", "show", str(ids[2]), "--json").stdout)
    assert shown["etat"] == "Payée partiellement"
    assert shown["amo_paye_cents"] > 0 and shown["amc_paye_cents"] == 0
    refused = [line for line in shown["lignes"] if line["refusee"]]
    assert len(refused) == 1 and refused[0]["rembourse_cents"] == 0
    (rejection,) = shown["rejets"]
    assert (rejection["code"], rejection["niveau"], rejection["ligne"]) == ("0460", "Ligne", 2)
    assert shown["retours"][0]["fichier"] == "retour.noe"
    text = cli(db_url, config, "invoice", "show", shown["numero"]).stdout
    assert "Payé par la caisse" in text and "0460" in text

    files = json.loads(cli(db_url, config, "returns", "list", "--json").stdout)
    assert [f["fichier"] for f in files] == ["retour.noe"]
    rejected = json.loads(cli(db_url, config, "returns", "list", "--vue", "rejets", "--json").stdout)
    assert sorted(r["numero"] for r in rejected) == sorted(
        f"{Invoice.get_by_id(i).number:09d}" for i in ids[1:3]
    )
    shown_file = json.loads(cli(db_url, config, "returns", "show", str(files[0]["id"]), "--json").stdout)
    assert [e["resultat"] for e in shown_file["factures"]] == [
        "Payée", "Rejetée", "Payée partiellement", "Différée",
    ]  # fmt: skip
    assert shown_file["virements"][0]["montant_cents"] == report["montant_paye_cents"]


def test_refused_file_exits_1_and_the_others_are_imported(office, start_caisse, db_url, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 1)
    config = write_config(tmp_path / "config.toml", caisse)
    good, bad = tmp_path / "bon.noe", tmp_path / "coupe.noe"
    good.write_bytes(return_file(lot, "paiement"))
    bad.write_bytes(return_file(lot, "paiement", file_id="R00009")[:-128])

    result = cli(db_url, config, "returns", "import", str(bad), str(good), "--json", check=1)

    statuses = [f["statut"] for f in json.loads(result.stdout)["fichiers"]]
    assert statuses == ["refusé", "importé"]
    assert Invoice.get_by_id(ids[0]).state == "PAYEE"
    missing = cli(db_url, config, "returns", "import", str(tmp_path / "absent.noe"), check=1)
    assert "fichier illisible" in missing.stdout


def test_match_by_hand_from_the_command_line(office, start_caisse, db_url, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 1)
    config = write_config(tmp_path / "config.toml", caisse)
    content = read_return(return_file(lot, "paiement"))
    stranger = replace(content.invoices[0], number="000000042")
    path = tmp_path / "retour.noe"
    path.write_bytes(write_return(replace(content, items=(stranger,))))
    cli(db_url, config, "returns", "import", str(path))
    unmatched = json.loads(
        cli(db_url, config, "returns", "list", "--vue", "non-rapprochees", "--json").stdout
    )
    (row,) = unmatched
    number = f"{Invoice.get_by_id(ids[0]).number:09d}"

    out = cli(db_url, config, "returns", "match", str(row["ligne_retour"]), "--invoice", number)

    assert "rapprochée de la facture" in out.stdout and "Payée" in out.stdout
    assert Invoice.get_by_id(ids[0]).state == "PAYEE"
    again = cli(db_url, config, "returns", "match", str(row["ligne_retour"]), "--invoice", number, check=1)
    assert "déjà rapprochée" in again.stderr


def test_late_payments_and_penalties(office, start_caisse, db_url, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 2)
    config = write_config(tmp_path / "config.toml", caisse)
    # One invoice paid 20 days after its ARL (late: 10 % of the AMO share), one never.
    content = read_return(return_file(lot, "paiement", "20"))
    first = content.invoices[0]
    path = tmp_path / "retour.noe"
    path.write_bytes(write_return(replace(content, items=(first,))))
    cli(db_url, config, "returns", "import", str(path))

    as_of = f"{T0.date() + timedelta(days=30):%d/%m/%Y}"
    report = json.loads(cli(db_url, config, "returns", "late", "--date", as_of, "--json").stdout)

    arl_day = lot.arl_at.date()
    assert arl_day == T0.date()
    (paid_late,) = report["payees_en_retard"]
    paid_id = Invoice.get(Invoice.number == int(first.matching_number)).id
    assert paid_late["facture"] == paid_id
    assert paid_late["paye_le"] == (arl_day + timedelta(days=20)).isoformat()
    amo = Invoice.get_by_id(paid_id).amo_cents
    assert paid_late["penalite_cents"] == (amo * 1000 + 5000) // 10_000
    (unpaid,) = report["paiements_en_retard"]
    assert unpaid["facture"] == next(i for i in ids if i != paid_id)
    assert unpaid["jours_ouvres_de_retard"] > 0
    text = cli(db_url, config, "returns", "late", "--date", as_of).stdout
    assert "Paiements des caisses en retard" in text and "pénalités dues" in text


def test_simulate_a_return_on_demand_then_import_it(office, start_caisse, db_url, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 2)
    config = write_config(tmp_path / "config.toml", caisse)
    target = tmp_path / "a-importer.noe"

    out = cli(db_url, config, "simulate", "return", str(lot.id), "--genre", "paiement",
              "--output", str(target))  # fmt: skip

    assert "écrit dans" in out.stdout and target.stat().st_size % 128 == 0
    cli(db_url, config, "returns", "import", str(target))
    assert [Invoice.get_by_id(i).state for i in ids] == ["PAYEE", "PAYEE"]
    bad = cli(db_url, config, "simulate", "return", str(lot.id), "--genre", "rejet:12",
              "--output", str(target), check=2)  # fmt: skip
    assert "code de rejet à 4 chiffres" in bad.stderr
