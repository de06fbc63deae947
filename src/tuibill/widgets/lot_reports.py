"""What the lot operations say, in French: one line per lot, the build preview, and the
summaries of a build, a sending, a collection of ARLs and the ARL time-out check.

Plain text for Transmettre's dialogs and status line (its first line), and for the lot dialogs.
The keys named (« t », « r », « i ») are Transmettre's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tuibill.domain.formatting import format_cents
from tuibill.domain.lots import FSE
from tuibill.services.lot_views import LotSummary
from tuibill.services.lots import BuildReport, LotPreview, SkippedInvoice

if TYPE_CHECKING:
    from tuibill.services.lot_check import CheckReport
    from tuibill.services.receiving import ReceivedOutcome, ReceiveReport
    from tuibill.services.sending import SendReport

MAX_LISTED = 30  # lines per section of a summary before « et n autre(s) »


def more(lines: list[str], limit: int = MAX_LISTED) -> list[str]:
    """*lines*, the first *limit* of them and a count of the others."""
    if len(lines) <= limit:
        return lines
    # Plain ASCII words: the Linux console's fonts may lack « … ».
    return lines[:limit] + [f"  et {len(lines) - limit} autre(s)"]


def euros(cents: int) -> str:
    """« 1 234,50 € »: a plain space for thousands (the Linux console lacks U+202F)."""
    amount = format_cents(cents)
    whole, _, decimals = amount.partition(",")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-')):,}".replace(",", " ")
    return f"{sign}{whole},{decimals} €"


def lot_title(lot: LotSummary) -> str:
    what = "FSE" if lot.kind == FSE else "SCOR"
    return f"Lot {lot.number_text} ({what}) — {lot.state_label}"


def lot_line(lot: LotSummary) -> str:
    """« Lot 003 GAUTIER Anne · 01281 CPAM CHARTRES · 4 FSE 140,20 € » (fits a dialog line)."""
    if lot.kind == FSE:
        content = f"{lot.invoice_count} FSE {format_cents(lot.total_cents)} €"
    else:
        content = f"SCOR {lot.piece_count} pièce(s)"
    caisse = f"{lot.destination} {lot.organism[:18]}".strip()
    return f"Lot {lot.number_text} {lot.practitioner} · {caisse} · {content}"


def preview_text(previews: Sequence[LotPreview], skipped: Sequence[SkippedInvoice]) -> str:
    """The lots a build will make, and the invoices it will leave out (with why)."""
    invoices = sum(len(p.invoice_ids) for p in previews)
    lots = sum(p.lot_count for p in previews)
    lines = [
        f"{lots} lot(s) de FSE pour {invoices} facture(s), "
        f"{euros(sum(p.total_cents for p in previews))} :",
    ]
    lines += more(
        [
            f"  {p.practitioner} · {p.destination} {p.organism} : {len(p.invoice_ids)} FSE, "
            f"{euros(p.total_cents)}" + (f" ({p.lot_count} lots)" if p.lot_count > 1 else "")
            for p in previews
        ]
    )
    if skipped:
        lines += ["", f"Écartée(s), resteront « Validée » : {len(skipped)}"]
        lines += more([f"  {item.reason}" for item in skipped])
    lines += ["", "Les pièces SCOR des factures en mode dégradé partent en lots SCOR à part."]
    return "\n".join(lines)


def merge_builds(reports: Sequence[BuildReport], skipped: Sequence[SkippedInvoice]) -> BuildReport:
    """One report for a build done group by group (the preview's refusals included)."""
    return BuildReport(
        lots=tuple(lot for report in reports for lot in report.lots),
        skipped=tuple(skipped) + tuple(item for report in reports for item in report.skipped),
        warnings=tuple(text for report in reports for text in report.warnings),
    )


def build_summary(report: BuildReport) -> tuple[str, bool]:
    """(text, has problems) of a build."""
    fse = [lot for lot in report.lots if lot.kind == FSE]
    scor = [lot for lot in report.lots if lot.kind != FSE]
    count = sum(lot.invoice_count for lot in fse)
    total = sum(lot.total_cents for lot in fse)
    if fse:
        head = f"{len(fse)} lot(s) de FSE constitué(s) : {count} facture(s), {euros(total)}"
        head += f", et {len(scor)} lot(s) de pièces SCOR." if scor else "."
    else:
        head = "Aucun lot constitué."
    lines = [head]
    lines += more([f"  {lot_line(lot)}" for lot in report.lots])
    if report.skipped:
        lines += ["", f"Écartée(s), restent « Validée » : {len(report.skipped)}"]
        lines += more([f"  {item.reason}" for item in report.skipped])
    if report.warnings:
        # One warning per group built (the build runs group by group): under one heading.
        lines += ["", "Attention :"] + more([f"  - {warning}" for warning in report.warnings])
    if fse:
        lines += ["", "Ils attendent dans « Fichier à transmettre » : t pour tout transmettre."]
    return "\n".join(lines), bool(report.skipped)


def send_summary(report: SendReport) -> tuple[str, bool]:
    """(text, has problems) of a ``sending.SendReport``; one reason said once for its lots."""
    from tuibill.services.sending import FAILED, NOT_CONFIGURED, SENT, UNCERTAIN

    outcomes = report.outcomes
    if not outcomes:
        lines = ["Aucun lot à transmettre."]
    else:
        parts = [f"{report.count(SENT)} lot(s) transmis"]
        failed = report.count(FAILED) + report.count(NOT_CONFIGURED)
        if failed:
            parts.append(f"{failed} non envoyé(s)")
        if report.count(UNCERTAIN):
            parts.append(f"{report.count(UNCERTAIN)} à l'envoi incertain")
        lines = [", ".join(parts) + "."]
        sent = [o.lot for o in outcomes if o.status == SENT]
        if sent:
            lines += more([f"  {lot_line(lot)}" for lot in sent])
        problems: dict[tuple[str, str], list[LotSummary]] = {}
        for outcome in outcomes:
            if outcome.status != SENT:
                problems.setdefault((outcome.status_label, outcome.message), []).append(outcome.lot)
        for (label, message), lots in problems.items():
            names = ", ".join(f"{lot.number_text} ({lot.practitioner})" for lot in lots[:10])
            others = f" et {len(lots) - 10} autre(s)" if len(lots) > 10 else ""
            lines += ["", f"{label} : lot(s) {names}{others}", f"  {message}"]
        if sent:
            lines += ["", "Les ARL des caisses arrivent par courriel : r pour les relever."]
    if report.uncertain:
        lines += [
            "",
            f"{len(report.uncertain)} lot(s) « En cours » (envoi incertain) : vérifiez auprès du "
            "serveur d'envoi, puis i sur le lot (onglet 3) pour dire s'il est parti.",
        ]
    return "\n".join(lines), not report.all_sent or bool(report.uncertain)


def receive_summary(report: ReceiveReport) -> tuple[str, bool]:
    """(text, has problems) of a ``receiving.ReceiveReport``."""
    if report.fetched:
        head = (
            f"{report.fetched} message(s) lu(s), {len(report.recorded)} fichier(s) "
            f"enregistré(s), {report.deleted} message(s) retiré(s) du serveur"
        )
    else:
        head = "Aucun message des caisses dans la boîte"
    if report.left:
        head += f", {report.left} autre(s) laissé(s) (pas d'une caisse)"
    if report.already_known:
        head += f", {report.already_known} déjà connu(s)"
    lines = [head + "."]
    lines += _outcome_lines(report.processed)
    return "\n".join(lines), bool(report.flagged)


def _outcome_lines(outcomes: Sequence[ReceivedOutcome]) -> list[str]:
    return more(
        [
            ("  ! " if outcome.file.flagged else "  ") + f"{outcome.file.file_name} : "
            f"{outcome.message}"
            for outcome in outcomes
        ]
    )


def check_summary(report: CheckReport, timeout_hours: int) -> tuple[str, bool]:
    """(text, has problems) of a ``lot_check.CheckReport`` (run without re-sending)."""
    lines: list[str] = []
    if report.received is not None:
        text, _ = receive_summary(report.received)
        lines += ["Relevé des ARL : " + text]
    lines += _outcome_lines(report.processed)
    if report.timed_out:
        lines += ["", f"Sans ARL {timeout_hours} h après l'envoi : {len(report.timed_out)} lot(s)"]
        lines += more(
            [
                f"  Lot {lot.number_text} ({lot.practitioner}) : {lot.state_label}"
                for lot in report.timed_out
            ]
        )
    elif not report.errors:
        lines += ["", f"Aucun lot sans ARL depuis plus de {timeout_hours} h."]
    if report.uncertain:
        lines += [
            "",
            f"Envoi incertain (« En cours ») : {len(report.uncertain)} lot(s), i pour décider.",
        ]
    if report.manual:
        lines += ["", f"Traitement manuel (envoi papier) : {len(report.manual)} lot(s)"]
        lines += more([f"  {lot_line(lot)}" for lot in report.manual])
        lines.append("  Journal des lots (F6), Entrée sur le lot, p : liste papier.")
    for error in report.errors:
        lines += ["", error]
    return "\n".join(lines).strip(), bool(report.errors or report.flagged_files)

