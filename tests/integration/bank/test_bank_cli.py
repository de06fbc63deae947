"""``tuibill bank …`` and ``tuibill accounting …`` on the demo, with --json and exit statuses."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from datetime import date

from bank_support import line, statement

from tuibill.cli.main import main
from tuibill.formats.cfonb import write_cfonb

SIREN = "732829320"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as leaving:
            code = leaving.code if isinstance(leaving.code, int) else 2
    return code or 0, out.getvalue(), err.getvalue()


def json_of(*argv: str):
    code, out, err = run(*argv, "--json")
    assert code == 0, err
    return json.loads(out)


def demo_counts() -> tuple[int, int]:
    """The demo statement's lines and credits: every virement announced but the last, a
    stranger, two debits."""
    from tuibill.models import BankOperation

    credits = BankOperation.select().where(BankOperation.amount_cents > 0).count()
    return BankOperation.select().count(), credits


def test_the_bank_commands_on_the_demo(story_url, tmp_path) -> None:
    db = ("--db", story_url)
    lines, credits = demo_counts()
    assert lines == credits + 2
    (listed,) = json_of("bank", "list", *db)
    assert (listed["format"], listed["lignes"]) == ("CFONB 120", lines)
    assert len(json_of("bank", "list", "--lines", *db)) == lines
    matches = json_of("bank", "matches", *db)
    assert len(matches) == credits - 1
    (difference,) = json_of("bank", "matches", "--differences", *db)
    assert difference["ecart_cents"] == -150 and difference["etat"] == "Rapproché"
    left = json_of("bank", "unmatched", *db)
    assert [c["montant_cents"] for c in left["credits_bancaires"]] == [4500]
    # The last virement is not on the statement yet; the clients' cheques (F8) are not either.
    virements = [r for r in left["recettes_annoncees"] if r["origine"] == "virement"]
    assert len(virements) == 1

    undone = json_of("bank", "undo", str(difference["id"]), "--reason", "à revoir", *db)
    assert undone["etat"] == "Annulé" and undone["motif_annulation"] == "à revoir"
    code, _, err = run("bank", "undo", str(difference["id"]), *db)
    assert code == 1 and "déjà annulé" in err
    preview = json_of("bank", "match", "--dry-run", *db)
    assert preview["simulation"] and len(preview["rapprochements"]) == 1
    assert len(json_of("bank", "matches", *db)) == credits - 2  # the dry run wrote nothing
    code, out, _ = run("bank", "match", *db)
    assert code == 0 and "1 ligne(s) bancaire(s) rapprochée(s), dont 1 avec un écart" in out
    assert len(json_of("bank", "matches", "--all", *db)) == credits

    stranger = left["credits_bancaires"][0]["id"]
    receipt = virements[0]
    linked = json_of("bank", "link", str(stranger), f"virement:{receipt['id']}", *db)
    assert linked["regle"] == "à la main"
    assert linked["ecart_cents"] == 4500 - receipt["montant_cents"]
    code, _, err = run("bank", "link", "1", "cheque:1", *db)
    assert code == 1 and "inconnue" in err
    code, _, err = run("bank", "link", "1", "virement", *db)
    assert code == 2 and "ORIGINE:ID" in err

    rules = json_of("bank", "rules", *db)
    assert [r["ordre"] for r in rules] == [1, 2, 3, 4]
    code, text, _ = run("bank", "rules", "--toml", *db)
    path = tmp_path / "regles.toml"
    path.write_text(text.replace("tolerance_cents = 5000", "tolerance_cents = 200"), "utf-8")
    loaded = json_of("bank", "rules", "--load", str(path), *db)
    assert loaded[-1]["tolerance_cents"] == 200


def test_bank_import_and_its_exit_status(story_url, tmp_path) -> None:
    db = ("--db", story_url, "--config", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text(
        f'[transmission]\narchive_dir = "{tmp_path / "archive"}"\n', encoding="utf-8"
    )
    good = tmp_path / "avril.cfonb"
    good.write_bytes(write_cfonb([statement([line(date(2026, 11, 20), 1_000, "VIR X")])]))
    bad = tmp_path / "abime.cfonb"
    bad.write_bytes(b"01 pas un releve\r\n")

    code, out, _ = run("bank", "import", str(good), "--dry-run", *db)
    assert code == 0 and "simulation" in out
    code, out, _ = run("bank", "import", str(good), str(bad), "--json", *db)
    assert code == 1  # one file refused, the other imported
    reports = json.loads(out)
    assert [r["statut"] for r in reports] == ["importé", "refusé"]
    assert reports[0]["nouvelles"] == 1 and "ligne 1" in reports[1]["motif"]
    code, out, _ = run("bank", "import", str(good), *db)
    assert code == 0 and "déjà importé" in out
    (refused,) = json_of("bank", "list", "--refused", *db)
    assert refused["fichier"] == "abime.cfonb"


def test_the_accounting_commands(story_url, tmp_path) -> None:
    db = ("--db", story_url)
    _, credits = demo_counts()
    report = json_of("accounting", "fec", "--year", "2026", "--siren", SIREN,
                     "--output", str(tmp_path), *db)  # fmt: skip
    path = tmp_path / f"{SIREN}FEC20261231.txt"
    assert report["fichier"] == str(path) and report["ecritures"] == credits
    assert report["total_debit_cents"] == report["total_credit_cents"]
    checked = json_of("accounting", "check", str(path))
    assert checked["conforme"] and checked["ecritures"] == credits and checked["tresorerie"]
    code, out, _ = run("accounting", "check", str(path))
    assert code == 0 and out.startswith(f"FEC conforme : {credits} écriture(s)")

    path.write_bytes(path.read_bytes().replace(b"\t1\t", b"\t9\t", 1))
    code, out, _ = run("accounting", "check", str(path))
    assert code == 1 and "FEC non conforme" in out and "ligne 2" in out

    code, _, err = run("accounting", "fec", "--year", "2026", "--siren", "123", *db)
    assert code == 2 and "SIREN" in err
    code, _, err = run("accounting", "fec", "--year", "2026", *db)
    assert code == 1 and "SIREN absent" in err
    code, _, err = run("accounting", "fec", "--year", "2026", "--siren", SIREN,
                       "--closing", "20251231", *db)  # fmt: skip
    assert code == 1 and "hors de l'exercice" in err

    csv_path = tmp_path / "recettes.csv"
    code, out, _ = run("accounting", "receipts", "--year", "2026", "--output", str(csv_path),
                       *db)  # fmt: skip
    assert code == 0 and f"{credits} recette(s)" in out
    assert csv_path.read_bytes().startswith(b"date;montant;libelle_banque;")
    rows = json_of("accounting", "receipts", "--from", "01/11/2026", "--to", "30/11/2026", *db)
    assert rows and all(row["date"].startswith("2026-11") for row in rows)
    code, _, err = run("accounting", "receipts", "--year", "2026", "--from", "01/11/2026", *db)
    assert code == 1 and "pas les deux" in err


def test_chain_of_an_invoice_and_the_help_in_a_real_process(story_url) -> None:
    code, out, _ = run("bank", "chain", "1", "--db", story_url)
    assert code == 0 and out.startswith("Facture ")
    assert "Aucun retour de caisse." in out
    result = subprocess.run(
        [sys.executable, "-m", "tuibill", "bank", "--help"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0
    assert "import" in result.stdout and "rapprocher" in result.stdout
