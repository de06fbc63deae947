"""The paper list of a lot (« Traitement manuel »): its text and CSV, saved or printed."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tuibill.domain.errors import RefusedOperation
from tuibill.domain.formatting import format_cents, format_day, format_invoice_number
from tuibill.domain.lots import (
    FSE,
    LotState,
)
from tuibill.services.lot_views import LotDetail, LotSummary, lot_detail


def default_paper_path(lot: LotSummary, directory: Path | None = None) -> Path:
    """``~/lot-<AM>-<numéro>-<AAAAMMJJ>.txt``: one name per lot and day, easy to find."""
    base = directory or Path.home()
    return base / f"lot-{lot.practitioner_am}-{lot.number_text}-{date.today():%Y%m%d}.txt"


def save_paper_list(
    lot_id: int, path: str | Path
) -> tuple[Path, Path]:
    """Write the paper list as text at *path* and as CSV beside it (same name, ``.csv``)."""
    paper = paper_list(lot_id)
    text_path = Path(path).expanduser()
    if text_path.suffix.lower() == ".csv":
        text_path = text_path.with_suffix(".txt")
    text_path.parent.mkdir(parents=True, exist_ok=True)
    csv_path = text_path.with_suffix(".csv")
    text_path.write_text(paper.text(), encoding="utf-8")
    # utf-8-sig: a French spreadsheet opens the accents right.
    csv_path.write_text(paper.csv(), encoding="utf-8-sig")
    return text_path, csv_path


class PrintError(RefusedOperation):
    """Printing failed; the message is French."""


def print_command() -> list[str] | None:
    """The system's print command (CUPS ``lp``, else BSD ``lpr``), or None."""
    for name in ("lp", "lpr"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def print_paper_list(lot_id: int) -> str:
    """Send the paper list to the default printer; the French outcome, or PrintError."""
    command = print_command()
    if command is None:
        raise PrintError(
            "Aucune commande d'impression (lp ou lpr) sur ce poste : enregistrez la liste dans "
            "un fichier et imprimez-le depuis un autre poste."
        )
    text = paper_list(lot_id).text()
    try:
        done = subprocess.run(
            command,
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PrintError(f"Impression impossible : {error}") from error
    if done.returncode != 0:
        why = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
        raise PrintError(f"Impression refusée par {Path(command[0]).name} : {why or 'erreur'}.")
    return f"Liste envoyée à l'imprimante ({Path(command[0]).name})."


@dataclass(frozen=True)
class PaperList:
    """What to send the caisse by post when a lot is in « Traitement manuel »."""

    detail: LotDetail

    def text(self) -> str:
        lot = self.detail.lot
        what = "FSE" if lot.kind == FSE else "pièces SCOR"
        if lot.state is LotState.TRAITEMENT_MANUEL:
            title = f"TRAITEMENT MANUEL - envoi papier du lot {lot.number_text} ({what})"
        else:
            title = f"Lot {lot.number_text} ({what}) - {lot.state_label}"
        sendings = f"{lot.send_count}" + (
            f" (le dernier le {lot.sent_at:%d/%m/%Y %H:%M})" if lot.sent_at else ""
        )
        lines = [
            title,
            "",
            f"Praticien      : {lot.practitioner}, n° AM {lot.practitioner_am}",
            f"Caisse         : {lot.destination[:2]} {lot.destination[2:]} {lot.organism}".rstrip(),
            f"Fichier        : {lot.file_name} (SHA-256 {lot.file_sha256})",
            f"Créé le        : {lot.created_at:%d/%m/%Y %H:%M}",
            f"Envois         : {sendings}",
            f"État           : {lot.state_label}"
            + (f" - {lot.arl_reason}" if lot.arl_reason else ""),
            "",
        ]
        if lot.kind == FSE:
            header = (
                f"{'Facture':<9}  {'Date':<10}  {'Patient':<28}  {'NIR':<15}  "
                f"{'Actes du':<10}  {'au':<10}  {'Total':>9}  {'AMO':>9}  {'AMC':>9}  {'Assuré':>9}"
            )
            lines += [header, "-" * len(header)]
            for item in self.detail.invoices:
                lines.append(
                    f"{format_invoice_number(item.number):<9}  {format_day(item.billing_date):<10}  "
                    f"{item.patient[:28]:<28}  {item.nir:<15}  {format_day(item.first_act_date):<10}  "
                    f"{format_day(item.last_act_date):<10}  {format_cents(item.total_cents):>9}  "
                    f"{format_cents(item.amo_cents):>9}  {format_cents(item.amc_cents):>9}  "
                    f"{format_cents(item.patient_cents):>9}"
                )
            invoices = self.detail.invoices
            lines += [
                "-" * len(header),
                f"{len(invoices)} facture(s) - total {format_cents(sum(i.total_cents for i in invoices))} €"
                f", AMO {format_cents(sum(i.amo_cents for i in invoices))} €"
                f", AMC {format_cents(sum(i.amc_cents for i in invoices))} €"
                f", assurés {format_cents(sum(i.patient_cents for i in invoices))} €",
            ]
        else:
            header = f"{'Facture':<9}  {'Pièce':<16}  {'Nature':<12}  {'Octets':>9}"
            lines += [header, "-" * len(header)]
            for piece in self.detail.pieces:
                lines.append(
                    f"{format_invoice_number(piece.invoice_number):<9}  {piece.entry_name:<16}  "
                    f"{piece.kind:<12}  {piece.size:>9}"
                )
            lines += [
                "-" * len(header),
                f"{len(self.detail.pieces)} pièce(s) à imprimer et joindre.",
            ]
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        """Semicolon-separated, decimal comma: opens as is in a French spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        lot = self.detail.lot
        if lot.kind == FSE:
            writer.writerow(
                ["lot", "facture", "date", "patient", "nir", "naissance", "premier_acte",
                 "dernier_acte", "mode", "total", "amo", "amc", "assure", "etat"]
            )  # fmt: skip
            for item in self.detail.invoices:
                writer.writerow(
                    [lot.number_text, format_invoice_number(item.number), format_day(item.billing_date),
                     item.patient, item.nir, format_day(item.birth_date), format_day(item.first_act_date),
                     format_day(item.last_act_date), item.mode, format_cents(item.total_cents),
                     format_cents(item.amo_cents), format_cents(item.amc_cents),
                     format_cents(item.patient_cents), item.state_label]
                )  # fmt: skip
        else:
            writer.writerow(["lot", "facture", "piece", "nature", "octets", "sha256"])
            for piece in self.detail.pieces:
                writer.writerow(
                    [lot.number_text, format_invoice_number(piece.invoice_number),
                     piece.entry_name, piece.kind, piece.size, piece.sha256]
                )  # fmt: skip
        return out.getvalue()


def paper_list(lot_id: int) -> PaperList:
    """The printable list of a lot (any state; meant for « Traitement manuel »)."""
    return PaperList(lot_detail(lot_id))
