"""FEC: the writer's file passes the checker; the writer refuses, the checker finds each problem."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from tuibill.domain.errors import ValidationError
from tuibill.formats import fec
from tuibill.formats.errors import FormatError
from tuibill.formats.fec import FecEntry, FecLine


def receipt(number: int, day: date, cents: int, patient: str = "DURAND Jeanne") -> FecEntry:
    """A receipt on a cash basis: the bank debited, the fees account credited."""
    return FecEntry(
        journal_code="BQ",
        journal_label="Banque",
        number=number,
        date=day,
        piece_ref=f"VIR-{number:04d}",
        piece_date=day,
        label=f"Règlement {patient}",
        validation_date=day,
        lines=(
            FecLine("512000", "Banque", debit_cents=cents),
            FecLine(
                "706000",
                "Honoraires",
                credit_cents=cents,
                aux_account="P0042",
                aux_label=patient,
            ),
        ),
        payment_date=day,
        payment_mode="Virement",
        nature="Recette",
    )


ENTRIES = [
    receipt(1, date(2024, 1, 5), 12345),
    receipt(2, date(2024, 1, 5), 4410, "LEFÈVRE Zoé"),
    replace(
        receipt(3, date(2024, 2, 1), 990),
        label="Frais bancaires",
        lines=(
            FecLine("627000", "Services bancaires", debit_cents=990),
            FecLine(
                "512000",
                "Banque",
                credit_cents=990,
                lettering="AA",
                lettering_date=date(2024, 2, 3),
            ),
        ),
        nature="Dépense",
    ),
]


def test_the_written_file_passes_the_check():
    data = fec.write_fec(ENTRIES, cash_basis=True)
    report = fec.check_fec(data)
    assert report.ok, report.problems
    assert report.cash_basis is True
    assert (report.entry_count, report.line_count) == (3, 6)
    assert report.total_debit_cents == report.total_credit_cents == 12345 + 4410 + 990


def test_the_layout_of_the_file():
    data = fec.write_fec(ENTRIES, cash_basis=True)
    assert fec.FEC_ENCODING == "utf-8"
    text = data.decode(fec.FEC_ENCODING)
    rows = text.split("\r\n")
    assert rows[-1] == ""  # every line ends with CR LF
    assert rows[0].split("\t") == list(fec.FEC_FIELDS + fec.CASH_BASIS_FIELDS)
    first = dict(zip(rows[0].split("\t"), rows[1].split("\t"), strict=True))
    assert first == {
        "JournalCode": "BQ",
        "JournalLib": "Banque",
        "EcritureNum": "1",
        "EcritureDate": "20240105",
        "CompteNum": "512000",
        "CompteLib": "Banque",
        "CompAuxNum": "",
        "CompAuxLib": "",
        "PieceRef": "VIR-0001",
        "PieceDate": "20240105",
        "EcritureLib": "Règlement DURAND Jeanne",
        "Debit": "123,45",
        "Credit": "0,00",
        "EcritureLet": "",
        "DateLet": "",
        "ValidDate": "20240105",
        "Montantdevise": "",
        "Idevise": "",
        "DateRglt": "20240105",
        "ModeRglt": "Virement",
        "NatOp": "Recette",
    }
    assert "LEFÈVRE Zoé".encode() in data
    assert "AA\t20240203\t" in rows[6]


def test_an_accrual_file_has_the_18_fields_only():
    entries = [
        replace(entry, payment_date=None, payment_mode=None, nature=None) for entry in ENTRIES
    ]
    data = fec.write_fec(entries)
    assert data.split(b"\r\n")[0].split(b"\t") == [name.encode() for name in fec.FEC_FIELDS]
    report = fec.check_fec(data)
    assert report.ok and report.cash_basis is False


def test_file_name_with_a_checked_siren():
    assert fec.fec_filename("732 829 320", date(2024, 12, 31)) == "732829320FEC20241231.txt"
    with pytest.raises(ValidationError, match="SIREN « 732829321 » invalide : clé de contrôle"):
        fec.fec_filename("732829321", date(2024, 12, 31))
    with pytest.raises(ValidationError, match="9 chiffres"):
        fec.fec_filename("7328", date(2024, 12, 31))


# -- the writer refuses ---------------------------------------------------------------------


def write_refused(entries, *, cash_basis: bool = True) -> str:
    with pytest.raises(FormatError) as caught:
        fec.write_fec(entries, cash_basis=cash_basis)
    return str(caught.value)


def test_the_writer_refuses_an_unbalanced_entry():
    lines = ENTRIES[0].lines
    unbalanced = replace(ENTRIES[0], lines=(replace(lines[0], debit_cents=12346), lines[1]))
    message = write_refused([unbalanced])
    assert "écriture 1 (pièce VIR-0001)" in message
    assert "déséquilibrée : débit 123,46 €, crédit 123,45 € (écart 0,01 €)" in message


def test_the_writer_refuses_a_gap_in_numbering():
    message = write_refused([ENTRIES[0], ENTRIES[2]])
    assert "numéro 3 après 1" in message


def test_the_writer_refuses_entries_out_of_validation_order():
    late = replace(ENTRIES[1], validation_date=date(2024, 1, 4))
    assert "avant l'écriture 1" in write_refused([ENTRIES[0], late])


def test_the_writer_refuses_a_tab_in_a_text():
    assert "EcritureLib contient une tabulation" in write_refused(
        [replace(ENTRIES[0], label="a\tb")]
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            FecLine("512000", "Banque", debit_cents=5, credit_cents=5),
            "à la fois au débit et au crédit",
        ),
        (FecLine("512000", "Banque"), "ni débit ni crédit"),
        (FecLine("512000", "Banque", debit_cents=-5), "montant positif attendu"),
        (FecLine("BQ1", "Banque", debit_cents=5), "3 premiers caractères"),
        (
            FecLine("411000", "Client", debit_cents=5, aux_account="C1"),
            "CompAuxNum sans CompAuxLib",
        ),
        (FecLine("512000", "", debit_cents=5), "CompteLib vide"),
    ],
)
def test_the_writer_refuses_a_bad_line(line, reason):
    entry = replace(ENTRIES[0], lines=(line, FecLine("706000", "Honoraires", credit_cents=5)))
    message = write_refused([entry])
    assert reason in message and "ligne 1" in message


def test_the_writer_refuses_cash_basis_fields_in_an_accrual_file():
    assert "comptabilité de trésorerie" in write_refused([ENTRIES[0]], cash_basis=False)


# -- the checker finds ----------------------------------------------------------------------


def rows_of(data: bytes) -> list[str]:
    return data.decode(fec.FEC_ENCODING).split("\r\n")[:-1]


def join(rows: list[str]) -> bytes:
    return ("\r\n".join(rows) + "\r\n").encode(fec.FEC_ENCODING)


def problems(data: bytes) -> list[str]:
    report = fec.check_fec(data)
    assert not report.ok
    return [str(problem) for problem in report.problems]


GOOD = fec.write_fec(ENTRIES, cash_basis=True)


def test_the_checker_finds_swapped_lines():
    rows = rows_of(GOOD)
    rows[2], rows[3] = rows[3], rows[2]  # the 2nd line of entry 1 after the 1st of entry 2
    found = problems(join(rows))
    assert any(p.startswith("ligne 4 : écriture 1 reprise ici") for p in found)
    assert any(p.startswith("ligne 2 : écriture 1 déséquilibrée") for p in found)


def test_the_checker_finds_swapped_entries():
    rows = rows_of(GOOD)
    rows[1:3], rows[5:7] = rows[5:7], rows[1:3]
    found = problems(join(rows))
    assert any("ligne 4 : écriture 2 après l'écriture 3 : 4 attendue" in p for p in found)
    assert any("ligne 4 : écriture 2 validée le 05/01/2024, avant l'écriture 3" in p for p in found)


def test_the_checker_finds_a_gap_in_numbering():
    rows = rows_of(GOOD)
    rows[5:7] = [row.replace("\t3\t", "\t4\t", 1) for row in rows[5:7]]
    assert problems(join(rows)) == [
        "ligne 6 : écriture 4 après l'écriture 2 : 3 attendue (numérotation sans trou, dans l'ordre)."
    ]


def test_the_checker_finds_a_changed_amount():
    rows = rows_of(GOOD)
    rows[3] = rows[3].replace("\t44,10\t", "\t44,01\t")
    assert problems(join(rows)) == [
        "ligne 4 : écriture 2 déséquilibrée : débit 44,01 €, crédit 44,10 € (écart -0,09 €)."
    ]


def test_the_checker_finds_a_bad_header():
    rows = rows_of(GOOD)
    rows[0] = rows[0].replace("EcritureLib", "Libelle")
    (found,) = problems(join(rows))
    assert found.startswith("ligne 1 : en-tête incorrect")


def test_the_checker_finds_line_level_problems():
    rows = rows_of(GOOD)
    rows[1] = rows[1].replace("20240105", "20240230", 1)  # EcritureDate
    rows[2] = rows[2].replace("\t0,00\t", "\t0.00\t", 1)
    rows[3] = rows[3] + "\textra"
    rows[4] = rows[4].replace("\tVIR-0002\t", "\t\t")
    found = problems(join(rows))
    assert "ligne 2 : EcritureDate « 20240230 » n'est pas une date AAAAMMJJ." in found
    assert "ligne 3 : Debit « 0.00 » n'est pas un montant (virgule décimale)." in found
    assert "ligne 4 : 22 champs au lieu de 21." in found
    assert "ligne 5 : champ(s) obligatoire(s) vide(s) : PieceRef." in found


def test_the_checker_finds_another_encoding():
    data = GOOD.decode(fec.FEC_ENCODING).encode("iso-8859-15")
    (found,) = problems(data)
    assert found.startswith("ligne 2 : octet non UTF-8")  # the è of « Règlement »


def test_the_checker_accepts_lf_and_a_pipe_separator():
    text = GOOD.decode(fec.FEC_ENCODING).replace("\r\n", "\n").replace("\t", "|")
    assert fec.check_fec(text.encode(fec.FEC_ENCODING)).ok


def test_the_documented_example_is_the_writer_s_and_passes_the_check():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "formats" / "fec.md").read_text("utf-8")
    (block,) = re.findall(r"```text\n(.*?)\n```", doc, flags=re.DOTALL)
    data = (block.replace("|", "\t").replace("\n", "\r\n") + "\r\n").encode(fec.FEC_ENCODING)
    assert data == GOOD
    for name in fec.FEC_FIELDS + fec.CASH_BASIS_FIELDS:
        assert f"| {name} |" in doc
