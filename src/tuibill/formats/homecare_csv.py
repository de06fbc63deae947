"""The home-care service's CSV files (seed 004): interventions in, bordereaux out.

Interventions (« Import du planning »): UTF-8 (a BOM is allowed), ``;``-separated, one header
line naming the columns, in any order::

    client;date;debut;fin;prestation;intervenant
    12;02/11/2026;09:00;11:00;AD;Léa MARTIN
    12;28/11/2026;22:00;02:00;AD;Léa MARTIN      ← ends after midnight: the next day

``client`` is the client's number (Id), ``date`` JJ/MM/AAAA (or AAAA-MM-JJ), ``debut``/``fin``
HH:MM; an end before the start is on the next day; ``intervenant`` may be empty. The reader is
strict: one bad line refuses the whole file, naming the line, the column and why.

Bordereaux export (« Export »): the same separator and encoding, one line per bordereau.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from tuibill.formats.errors import FormatError

COLUMNS = ("client", "date", "debut", "fin", "prestation", "intervenant")
REQUIRED = ("client", "date", "debut", "fin", "prestation")
MAX_LINES = 200_000


@dataclass(frozen=True)
class InterventionRow:
    line: int  # in the file, from 1 (the header)
    client_id: int
    day: date
    start_minute: int
    end_minute: int  # above 1440 when it ends the next day
    prestation: str
    intervenant: str


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FormatError(
            f"Ligne {line} : le fichier n'est pas en UTF-8 (enregistrez-le en « CSV UTF-8 »).",
            record_number=line,
        ) from None


def _clock(text: str, line: int, column: str) -> int:
    value = text.strip().replace("h", ":")
    parts = value.split(":")
    if len(parts) == 2 and all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        hours, minutes = int(parts[0]), int(parts[1])
        if (0 <= hours < 24 and 0 <= minutes < 60) or (hours == 24 and minutes == 0):
            return hours * 60 + minutes
    raise FormatError(
        f"Ligne {line}, colonne « {column} » : heure « {text} » invalide (HH:MM attendu).",
        record_number=line,
        field=column,
    )


def _day(text: str, line: int) -> date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise FormatError(
        f"Ligne {line}, colonne « date » : date « {text} » invalide (JJ/MM/AAAA attendu).",
        record_number=line,
        field="date",
    )


def read_interventions(data: bytes) -> list[InterventionRow]:
    """Every line of an interventions file, or :class:`FormatError` for the first bad one."""
    text = _text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    try:
        header = next(reader)
    except StopIteration:
        raise FormatError("Fichier vide : une ligne d'en-tête est attendue.", record_number=1) from None
    names = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise FormatError(
            f"Ligne 1 : colonne(s) absente(s) de l'en-tête : {', '.join(missing)} "
            f"(en-tête attendu : {';'.join(COLUMNS)}).",
            record_number=1,
        )
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise FormatError(
            f"Ligne 1 : colonne(s) inconnue(s) : {', '.join(unknown)}.", record_number=1
        )
    index = {name: names.index(name) for name in names}
    rows: list[InterventionRow] = []
    for line_number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line (often the last)
        if len(rows) >= MAX_LINES:
            raise FormatError(f"Plus de {MAX_LINES} lignes : découpez le fichier.")
        if len(cells) != len(names):
            raise FormatError(
                f"Ligne {line_number} : {len(cells)} colonne(s), {len(names)} attendue(s).",
                record_number=line_number,
            )

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[index[name]].strip() if name in index else ""

        client = cell("client")
        if not client.isdigit() or int(client) < 1 or len(client) > 18:
            raise FormatError(
                f"Ligne {line_number}, colonne « client » : « {client} » n'est pas un numéro "
                "de client.",
                record_number=line_number,
                field="client",
            )
        day = _day(cell("date"), line_number)
        start = _clock(cell("debut"), line_number, "debut")
        end = _clock(cell("fin"), line_number, "fin")
        if start >= 1440:
            raise FormatError(
                f"Ligne {line_number}, colonne « debut » : 24:00 n'est pas une heure de début.",
                record_number=line_number,
                field="debut",
            )
        if end == start:
            raise FormatError(
                f"Ligne {line_number} : le début et la fin sont à la même heure.",
                record_number=line_number,
                field="fin",
            )
        if end < start:
            end += 1440  # ends after midnight
        prestation = cell("prestation").upper()
        if not prestation or len(prestation) > 12:
            raise FormatError(
                f"Ligne {line_number}, colonne « prestation » : code « {prestation} » invalide "
                "(1 à 12 caractères).",
                record_number=line_number,
                field="prestation",
            )
        rows.append(
            InterventionRow(
                line_number, int(client), day, start, end, prestation, cell("intervenant")
            )
        )
    return rows


def write_interventions(rows: Iterable[InterventionRow]) -> bytes:
    """The same file (tests and the demo write what the reader reads)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        end = row.end_minute - 1440 if row.end_minute > 1440 else row.end_minute
        writer.writerow(
            [
                row.client_id,
                f"{row.day:%d/%m/%Y}",
                f"{row.start_minute // 60:02d}:{row.start_minute % 60:02d}",
                f"{end // 60:02d}:{end % 60:02d}",
                row.prestation,
                row.intervenant,
            ]
        )
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class SlipExportRow:
    number: str
    payer: str
    kind: str
    beneficiary: str
    period_start: date
    period_end: date
    slip_date: date
    state: str
    total_cents: int
    paid_cents: int
    account: str


EXPORT_HEADER = (
    "numero", "organisme", "type", "beneficiaire", "periode_debut", "periode_fin",
    "date", "etat", "montant", "regle", "reste", "compte",
)  # fmt: skip


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def write_slip_export(rows: Iterable[SlipExportRow]) -> bytes:
    """« Export » of the bordereaux of a period: amounts with a decimal comma (a spreadsheet
    opens it as numbers), UTF-8 with a BOM (so that it shows accents right)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        writer.writerow(
            [
                row.number, row.payer, row.kind, row.beneficiary,
                f"{row.period_start:%d/%m/%Y}", f"{row.period_end:%d/%m/%Y}",
                f"{row.slip_date:%d/%m/%Y}", row.state, _euros(row.total_cents),
                _euros(row.paid_cents), _euros(row.total_cents - row.paid_cents), row.account,
            ]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")
