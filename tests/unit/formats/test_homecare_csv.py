"""The planning file (interventions CSV): strict reader, refused whole with the line and why."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuibill.formats.errors import FormatError
from tuibill.formats.homecare_csv import (
    InterventionRow,
    SlipExportRow,
    read_interventions,
    write_interventions,
    write_slip_export,
)

HEADER = "client;date;debut;fin;prestation;intervenant\r\n"


def test_reads_a_file_in_any_column_order_with_a_bom() -> None:
    data = ("\ufeffprestation;client;fin;debut;date;intervenant\r\n"
            "ad;12;11:00;09:00;02/11/2026;Léa M.\r\n"
            "MEN;12;02:00;22:30;2026-11-28;\r\n\r\n").encode()  # fmt: skip
    rows = read_interventions(data)
    assert rows == [
        InterventionRow(2, 12, date(2026, 11, 2), 540, 660, "AD", "Léa M."),
        InterventionRow(3, 12, date(2026, 11, 28), 1350, 1560, "MEN", ""),  # the next day
    ]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        pytest.param("", "Fichier vide", id="empty"),
        pytest.param("client;date;debut;fin\r\n", "colonne(s) absente(s) de l'en-tête : prestation",
                     id="missing-column"),
        pytest.param(HEADER.replace("intervenant", "salarie"), "inconnue(s) : salarie", id="unknown-column"),
        pytest.param(HEADER + "x;02/11/2026;09:00;10:00;AD;\r\n", "Ligne 2, colonne « client »", id="client"),
        pytest.param(HEADER + "1;31/11/2026;09:00;10:00;AD;\r\n", "Ligne 2, colonne « date »", id="date"),
        pytest.param(HEADER + "1;02/11/2026;9h75;10:00;AD;\r\n", "colonne « debut »", id="start"),
        pytest.param(HEADER + "1;02/11/2026;09:00;25:00;AD;\r\n", "colonne « fin »", id="end"),
        pytest.param(HEADER + "1;02/11/2026;09:00;09:00;AD;\r\n", "même heure", id="zero"),
        pytest.param(HEADER + "1;02/11/2026;24:00;01:00;AD;\r\n", "pas une heure de début", id="24h-start"),
        pytest.param(HEADER + "1;02/11/2026;09:00;10:00;;\r\n", "colonne « prestation »", id="prestation"),
        pytest.param(HEADER + "1;02/11/2026;09:00;10:00;AD\r\n", "Ligne 2 : 5 colonne(s), 6", id="short"),
        pytest.param(HEADER + "1;02/11/2026;09:00;10:00;AD;\r\n2;3;4\r\n", "Ligne 3", id="third-line"),
    ],
)  # fmt: skip
def test_refusals_name_the_line_and_the_column(body: str, words: str) -> None:
    with pytest.raises(FormatError) as caught:
        read_interventions(body.encode())
    assert words in str(caught.value)


def test_not_utf8_is_refused_with_its_line() -> None:
    data = HEADER.encode() + "1;02/11/2026;09:00;10:00;AD;Léa\r\n".encode("latin-1")
    with pytest.raises(FormatError, match="Ligne 2 : le fichier n'est pas en UTF-8"):
        read_interventions(data)


rows = st.builds(
    InterventionRow,
    line=st.just(0),
    client_id=st.integers(1, 10**9),
    day=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    start_minute=st.integers(0, 1439),
    end_minute=st.just(0),
    prestation=st.sampled_from(["AD", "MEN", "ACC"]),
    intervenant=st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20).map(str.strip),
).flatmap(
    lambda row: st.integers(1, 1439).map(
        lambda length: InterventionRow(0, row.client_id, row.day, row.start_minute,
                                       row.start_minute + length, row.prestation, row.intervenant)
    )
)  # fmt: skip


@given(st.lists(rows, max_size=8))
def test_what_is_written_reads_back(items: list[InterventionRow]) -> None:
    back = read_interventions(write_interventions(items))
    assert [(r.client_id, r.day, r.start_minute, r.end_minute, r.prestation, r.intervenant)
            for r in back] == [
        (r.client_id, r.day, r.start_minute, r.end_minute, r.prestation, r.intervenant)
        for r in items
    ]  # fmt: skip


@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_in_french(data: bytes) -> None:
    try:
        read_interventions(data)
    except FormatError as error:
        assert str(error)


def test_slip_export_has_decimal_commas_and_a_bom() -> None:
    data = write_slip_export([
        SlipExportRow("B-000001", "APA", "Globale", "(tous)", date(2026, 11, 1), date(2026, 11, 30),
                      date(2026, 12, 3), "Réglé partiellement", 7520, 2000, "4111APA"),
    ])  # fmt: skip
    text = data.decode("utf-8")
    assert text.startswith("\ufeffnumero;organisme;")
    assert text.splitlines()[1] == (
        "B-000001;APA;Globale;(tous);01/11/2026;30/11/2026;03/12/2026;Réglé partiellement;"
        "75,20;20,00;55,20;4111APA"
    )
