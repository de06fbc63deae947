"""``tuibill sesam …`` in-process (same parser and handlers as the installed command), on the
process-wide emulated card bench that the demo uses."""

from __future__ import annotations

import io
import json
import sys

import pytest

from tests.support.sesam import add_patient, card_person, draft, fresh
from tuibill.cli.main import main
from tuibill.hardware.cards import demo_card_reader

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def no_config(monkeypatch) -> None:
    monkeypatch.setenv("TUIBILL_CONFIG", "")


def run(db_url: str, *args: str, stdin: str = "") -> int:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main(["--db", db_url, "--user", "cli", *args])
    finally:
        sys.stdin = old


def test_read_patient_create_then_json(setup, db_url, capsys) -> None:
    assert run(db_url, "sesam", "read-patient") == 0
    out = capsys.readouterr().out
    assert "MARTIN  SOPHIE" in out and "Absent du fichier" in out and "--create" in out

    code = run(
        db_url, "sesam", "read-patient", "--create", "--organism", str(setup.organism.id), "--json"
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["crees"]) == 3
    assert [b["statut"] for b in data["beneficiaires"]] == ["identique"] * 3
    assert data["beneficiaires"][2]["date_naissance"] == "2012-06-25"


def test_validate_reads_the_pin_from_stdin_only(setup, db_url, capsys) -> None:
    patient = add_patient(card_person(0), setup.organism)
    invoice = draft(setup, patient)

    assert run(db_url, "sesam", "validate", str(invoice.id)) == 2
    assert "--pin-stdin" in capsys.readouterr().err

    assert run(db_url, "sesam", "validate", str(invoice.id), "--pin-stdin", stdin="0000\n") == 1
    assert "il reste 2 essai(s)" in capsys.readouterr().err
    assert fresh(invoice).state == "SAISIE"

    code = run(
        db_url, "sesam", "validate", str(invoice.id), "--pin-stdin", "--json", stdin="1234\n"
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["faites"][0]["etat"] == "Validée" and data["faites"][0]["mode"] == "sesam_vitale"
    assert demo_card_reader().pin_tries_left() == 3
    # The PIN never reaches the history.
    from tuibill.models import InvoiceTransition

    assert not any("1234" in t.reason for t in InvoiceTransition.select())


def test_pending_and_secure_all(setup, db_url, capsys) -> None:
    from tuibill.hardware.tla import CardType, EmulatedPortableReader
    from tuibill.services import invoices as invoice_service
    from tuibill.services import tla_transfer

    invoice = draft(setup, add_patient(card_person(0), setup.organism))
    invoice_service.prepare(invoice.id, user="anne")
    device = EmulatedPortableReader()
    tla_transfer.load_prepared(device, "anne")
    device.device.secure(None, CardType.CPE)
    tla_transfer.unload(device, "anne")

    assert run(db_url, "sesam", "pending") == 0
    assert "Julie PETIT (281234567)" in capsys.readouterr().out  # the device's demo CPE
    assert run(db_url, "sesam", "secure", "--pin-stdin") == 2
    assert run(db_url, "sesam", "secure", "--all", "--pin-stdin", stdin="1234\n") == 0
    assert "Validée, sécurisée par Claire DUBOIS" in capsys.readouterr().out
    assert run(db_url, "sesam", "pending", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_validate_with_a_cpe_then_secure_with_the_cps(setup, db_url, capsys) -> None:
    from tuibill.hardware.cards.emulator_cards import demo_cpe

    invoice = draft(setup, add_patient(card_person(0), setup.organism))
    bench = demo_card_reader()
    cps = bench.remove(1)
    bench.insert(demo_cpe(), slot=1)
    try:
        code = run(
            db_url, "sesam", "validate", str(invoice.id), "--pin-stdin", "--json", stdin="1234\n"
        )
        assert code == 0
        [done] = json.loads(capsys.readouterr().out)["faites"]
        assert (done["etat"], done["mode"]) == ("À sécuriser", "sesam_vitale")
        assert done["signataire"] == "Julie PETIT (281234567)" and done["carte"].startswith("CPE")
        assert run(db_url, "sesam", "pending", "--json") == 0
        assert [row["id"] for row in json.loads(capsys.readouterr().out)] == [invoice.id]
        # The staff card cannot finish it.
        assert run(db_url, "sesam", "secure", "--all", "--pin-stdin", stdin="1234\n") == 1
        assert "ne peut pas finir" in capsys.readouterr().err
    finally:
        bench.insert(cps, slot=1)
    assert run(db_url, "sesam", "secure", str(invoice.id), "--pin-stdin", stdin="1234\n") == 0
    assert "Validée, sécurisée par Claire DUBOIS (281234567)" in capsys.readouterr().out
    assert fresh(invoice).state == "VALIDEE"


def test_attach_pieces_detach(setup, db_url, tmp_path, capsys) -> None:
    invoice = draft(setup, add_patient(card_person(0), setup.organism))
    scan = tmp_path / "ordonnance.pdf"
    scan.write_bytes(PDF)
    assert run(db_url, "sesam", "attach", str(invoice.id), str(scan), "--kind", "feuille") == 0
    assert "jointe à la facture" in capsys.readouterr().out
    assert run(db_url, "sesam", "pieces", str(invoice.id), "--json") == 0
    [piece] = json.loads(capsys.readouterr().out)
    assert (piece["fichier"], piece["type"], piece["taille"]) == (
        "ordonnance.pdf",
        "feuille",
        len(PDF),
    )

    (tmp_path / "photo.pdf").write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    assert run(db_url, "sesam", "attach", str(invoice.id), str(tmp_path / "photo.pdf")) == 1
    assert "n'est pas un PDF" in capsys.readouterr().err
    assert run(db_url, "sesam", "attach", str(invoice.id), str(tmp_path / "absent.pdf")) == 1
    assert "illisible" in capsys.readouterr().err

    assert run(db_url, "sesam", "detach", str(piece["id"])) == 0
    assert run(db_url, "sesam", "pieces", str(invoice.id)) == 0
    assert "Aucune pièce SCOR" in capsys.readouterr().out
