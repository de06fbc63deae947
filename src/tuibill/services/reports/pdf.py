"""Printable PDF of a report (fpdf2: pure Python, light, well kept; core fonts only, so the text
is brought to what they print: Latin-1, « € » written EUR)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from tuibill.domain.formatting import format_cents
from tuibill.services.reports.base import Column, ReportRow

_REPLACE = {"€": "EUR", "—": "-", "–": "-", "’": "'", "…": "...", "→": "->", "≥": ">="}


def latin1(text: str) -> str:
    for char, plain in _REPLACE.items():
        text = text.replace(char, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


def cell_text(column: Column, value: object) -> str:
    if value is None:
        return ""
    if column.kind == "cents":
        return format_cents(int(value))  # type: ignore[arg-type]
    if isinstance(value, date | datetime):
        return f"{value:%d/%m/%Y}"
    return str(value)


def _new(title: str):
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(latin1(title))
    pdf.set_creator("tuibill")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, latin1(title), new_x="LMARGIN", new_y="NEXT")
    return pdf


def report_pdf(
    title: str,
    subtitle: str,
    columns: Sequence[Column],
    rows: Iterable[ReportRow],
    charts: Sequence[tuple[str, list[tuple[str, list[int]]], list[str], str]] = (),
) -> bytes:
    """The report as a table (header repeated on each page), then its charts: each a title, bars
    (label, stacked values in cents) and a legend."""
    pdf = _new(title)
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, latin1(subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    total = sum(c.width for c in columns)
    widths = [c.width * (pdf.epw / total) for c in columns]

    def header() -> None:
        pdf.set_font("Helvetica", "B", 8)
        for column, width in zip(columns, widths, strict=True):
            pdf.cell(width, 6, latin1(column.label), border=1)
        pdf.ln()
        pdf.set_font("Helvetica", "", 8)

    header()
    count = 0
    for row in rows:
        if pdf.will_page_break(5):
            pdf.add_page()
            header()
        for column, width in zip(columns, widths, strict=True):
            text = latin1(cell_text(column, row.values.get(column.key)))
            align = "R" if column.kind in ("cents", "int") else "L"
            while text and pdf.get_string_width(text) > width - 1:
                text = text[:-1]
            pdf.cell(width, 5, text, border=1, align=align)
        pdf.ln()
        count += 1
    pdf.ln(2)
    pdf.cell(0, 5, f"{count} ligne(s)", new_x="LMARGIN", new_y="NEXT")
    for chart_title, bars, legend, unit in charts:
        _chart(pdf, chart_title, bars, legend, unit)
    return bytes(pdf.output())


_SHADES = ((40, 40, 40), (100, 100, 100), (160, 160, 160), (210, 210, 210))


def _chart(
    pdf, title: str, bars: list[tuple[str, list[int]]], legend: list[str], unit: str
) -> None:
    """Horizontal stacked bars; *unit*: « cents » (amounts) or a word printed after the value."""
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    top = max((sum(values) for _, values in bars), default=0)
    label_width, bar_width = 60, pdf.epw - 100
    for label, values in bars:
        y = pdf.get_y()
        pdf.cell(label_width, 7, latin1(label[:34]))
        x = pdf.get_x()
        for shade, value in zip(_SHADES, values, strict=False):
            width = bar_width * value / top if top else 0
            if width > 0:
                pdf.set_fill_color(*shade)
                pdf.rect(x, y + 1, width, 5, style="F")
                x += width
        pdf.set_xy(pdf.l_margin + label_width + bar_width + 4, y)
        total = sum(values)
        text = f"{format_cents(total)} EUR" if unit == "cents" else f"{total} {unit}"
        pdf.cell(30, 7, latin1(text), align="R")
        pdf.ln(8)
    pdf.ln(2)
    for shade, text in zip(_SHADES, legend, strict=False):
        pdf.set_fill_color(*shade)
        pdf.rect(pdf.get_x(), pdf.get_y() + 1, 4, 4, style="F")
        pdf.set_x(pdf.get_x() + 6)
        pdf.cell(40, 6, latin1(text))
    pdf.ln()


def text_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A one-document PDF of plain lines (the paper claim to a mutuelle)."""
    pdf = _new(title)
    pdf.set_font("Courier", "", 9)
    for line in lines:
        pdf.cell(0, 5, latin1(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
