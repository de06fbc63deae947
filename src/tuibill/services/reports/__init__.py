"""The follow-up reports of the returns (issue 9 §4, seed 002's list): each one pages by key, is
exported as JSON, CSV or a printable PDF, and two charts (what the caisses owe by age, their
payment delays per month) draw what a table hides.

    from tuibill.services import reports
    report = reports.get("fse-rejetees")
    rows = report.page(reports.Filters(since=…), after=None, limit=200)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from tuibill.domain.errors import ConfigError
from tuibill.services.reports import charts
from tuibill.services.reports.base import PAGE, Column, Filters, Report, ReportRow
from tuibill.services.reports.invoices import REPORTS as _INVOICE_REPORTS
from tuibill.services.reports.lots import REPORTS as _LOT_REPORTS
from tuibill.services.reports.lots import point_lot
from tuibill.services.reports.returns import REPORTS as _RETURN_REPORTS

REPORTS: dict[str, Report] = {
    report.name: report for report in (*_INVOICE_REPORTS, *_LOT_REPORTS, *_RETURN_REPORTS)
}
NAMES = tuple(REPORTS)

__all__ = [
    "NAMES", "PAGE", "REPORTS", "Column", "Filters", "Report", "ReportRow", "charts",
    "csv_lines", "get", "pdf_bytes", "point_lot",
]  # fmt: skip


def get(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise ConfigError(f"rapport « {name} » inconnu (possibles : {', '.join(NAMES)}).") from None


def csv_lines(report: Report, rows: Iterable[ReportRow]) -> Iterator[str]:
    """The report as CSV (« ; » separated, the French spreadsheet's way), line by line."""
    from tuibill.services.reports.pdf import cell_text

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow([c.label for c in report.columns])
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell_text(c, row.values.get(c.key)) for c in report.columns])
        yield buffer.getvalue()


def pdf_bytes(report: Report, filters: Filters) -> bytes:
    """The printable report, with the charts of what is owed and of the payment delays."""
    from tuibill.domain.formatting import format_day
    from tuibill.services.reports.pdf import report_pdf

    period = "toute la période"
    if filters.since or filters.until:
        period = f"du {format_day(filters.since) or '…'} au {format_day(filters.until) or '…'}"
    owed = charts.owed_by_caisse(filters.day)
    since = filters.since or filters.day - timedelta(days=365)
    months, delays = charts.payment_delays(since, filters.until or filters.day)
    chart_list = [(
        "Dû par les caisses, par ancienneté",
        [(row.caisse, list(row.buckets)) for row in owed],
        [label for label, _, _ in charts.AGE_BUCKETS],
        "cents",
    )]  # fmt: skip
    if delays:
        chart_list.append((
            "Délai moyen de paiement (jours), par caisse",
            [(row.caisse, [round(sum(row.months.values()) / len(row.months))]) for row in delays],
            ["jours (moyenne sur la période)"],
            "j",
        ))  # fmt: skip
    return report_pdf(
        report.title,
        f"{report.description} — {period} — édité le {format_day(date.today())}",
        report.columns,
        report.rows(filters),
        chart_list,
    )
