"""Printed documents of the tiers-payeurs (seed 004): bordereaux and relances, as PDF (fpdf2).

Pure: content (dataclasses) in, PDF bytes out; the caller passes the dates and, for accents and
the euro sign, a TrueType font to embed (DejaVu Sans where the system has it). Without one, the
PDF core font is used and the text is reduced to Latin-1 (« € » written « EUR »).

Each document carries an sRGB output intent and embeds its font, as PDF/A asks, so that
``formats.facturx`` can make a PDF/A-3 of a bordereau by adding its XML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from tuibill.domain.formatting import format_cents


@dataclass(frozen=True)
class Party:
    name: str
    address: str = ""
    postcode: str = ""
    city: str = ""
    siret: str = ""
    email: str = ""

    @property
    def lines(self) -> list[str]:
        town = f"{self.postcode} {self.city}".strip()
        return [line for line in (self.name, self.address, town) if line]


@dataclass(frozen=True)
class SlipLine:
    beneficiary: str
    invoice_number: str
    period: str  # « 11/2026 »
    minutes: int  # financed
    invoiced_cents: int  # the invoice's total
    payer_cents: int  # what the payer owes on it (negative for an avoir)


@dataclass(frozen=True)
class SlipDocument:
    number: str  # « B-000012 », or « (non validé) » for a simulation
    issue_date: date
    period_start: date
    period_end: date
    kind_label: str  # Individuelle / Globale
    seller: Party
    buyer: Party
    lines: tuple[SlipLine, ...]
    total_cents: int
    paid_cents: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def remaining_cents(self) -> int:
        return self.total_cents - self.paid_cents


@dataclass(frozen=True)
class Letter:
    """A printed relance."""

    title: str
    issue_date: date
    seller: Party
    buyer: Party
    body: str


_LATIN1 = str.maketrans({"€": "EUR", "—": "-", "–": "-", "œ": "oe", "Œ": "OE", "’": "'",
                         "…": "...", "\u202f": " "})  # fmt: skip


class _Writer:
    def __init__(self, font_path: str | None, title: str) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_title(title)
        self.pdf.set_author("tuibill")
        self.pdf.set_creator("tuibill")
        self.pdf.set_lang("fr-FR")
        self.pdf.set_auto_page_break(True, margin=15)
        self.unicode = bool(font_path)
        if font_path:
            self.pdf.add_font("Texte", "", font_path)
            self.family = "Texte"
        else:
            self.family = "helvetica"
        _output_intent(self.pdf)

    def text(self, value: str) -> str:
        return value if self.unicode else value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    def line(self, value: str, size: float = 10, height: float = 5, align: str = "L") -> None:
        self.pdf.set_font(self.family, size=size)
        self.pdf.multi_cell(0, height, self.text(value), align=align, new_x="LMARGIN", new_y="NEXT")

    def parties(self, seller: Party, buyer: Party) -> None:
        pdf = self.pdf
        pdf.set_font(self.family, size=10)
        top = pdf.get_y()
        for text in [*seller.lines, f"SIRET {seller.siret}" if seller.siret else ""]:
            if text:
                pdf.cell(90, 5, self.text(text), new_x="LMARGIN", new_y="NEXT")
        left_end = pdf.get_y()
        pdf.set_y(top)
        for text in buyer.lines:
            pdf.set_x(115)
            pdf.cell(85, 5, self.text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(left_end, pdf.get_y()) + 6)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _output_intent(pdf) -> None:
    """An sRGB output intent (PDF/A): the profile comes from Pillow, which fpdf2 requires."""
    try:
        from fpdf.enums import OutputIntentSubType
        from fpdf.output import PDFICCProfile
        from PIL import ImageCms
    except ImportError:  # pragma: no cover - fpdf2 depends on Pillow
        return
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pdf.add_output_intent(
        OutputIntentSubType.PDFA,
        output_condition_identifier="sRGB",
        dest_output_profile=PDFICCProfile(contents=profile, n=3, alternate="DeviceRGB"),
        info="sRGB IEC61966-2.1",
    )


def _euros(cents: int) -> str:
    return f"{format_cents(cents)} €"


def _hours(minutes: int) -> str:
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    return f"{sign}{minutes // 60} h {minutes % 60:02d}"


def _slip_pages(writer: _Writer, slip: SlipDocument) -> None:
    pdf = writer.pdf
    pdf.add_page()
    writer.parties(slip.seller, slip.buyer)
    writer.line(f"Bordereau {slip.number}", size=14, height=7)
    writer.line(
        f"{slip.kind_label} — période du {slip.period_start:%d/%m/%Y} au "
        f"{slip.period_end:%d/%m/%Y} — émis le {slip.issue_date:%d/%m/%Y}",
        size=10,
    )
    pdf.ln(3)
    widths = (58, 30, 18, 22, 30, 32)
    headers = ("Bénéficiaire", "Facture", "Mois", "Heures", "Facturé", "Part organisme")
    pdf.set_font(writer.family, size=9)
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 6, writer.text(header), border=1)
    pdf.ln()
    for line in slip.lines:
        cells = (
            line.beneficiary[:34], line.invoice_number, line.period, _hours(line.minutes),
            _euros(line.invoiced_cents), _euros(line.payer_cents),
        )  # fmt: skip
        for index, (width, value) in enumerate(zip(widths, cells, strict=True)):
            pdf.cell(width, 5, writer.text(value), border=1, align="R" if index >= 3 else "L")
        pdf.ln()
    pdf.ln(2)
    writer.line(f"Total dû par l'organisme : {_euros(slip.total_cents)}", size=11, align="R")
    if slip.paid_cents:
        writer.line(f"Déjà réglé : {_euros(slip.paid_cents)}", align="R")
        writer.line(f"Reste à régler : {_euros(slip.remaining_cents)}", align="R")
    for note in slip.notes:
        writer.line(note, size=9)


def slip_pdf(slips: Sequence[SlipDocument], *, font_path: str | None = None) -> bytes:
    """One PDF: each bordereau from a new page (« Édition d'un lot » prints several)."""
    if not slips:
        raise ValueError("no bordereau to print")
    title = f"Bordereau {slips[0].number}" if len(slips) == 1 else f"{len(slips)} bordereaux"
    writer = _Writer(font_path, title)
    for slip in slips:
        _slip_pages(writer, slip)
    return writer.output()


def letter_pdf(letters: Sequence[Letter], *, font_path: str | None = None) -> bytes:
    """Printed relances, one letter per page."""
    if not letters:
        raise ValueError("no letter to print")
    writer = _Writer(font_path, letters[0].title)
    for letter in letters:
        writer.pdf.add_page()
        writer.parties(letter.seller, letter.buyer)
        writer.line(f"{letter.title} — le {letter.issue_date:%d/%m/%Y}", size=12, height=7)
        writer.pdf.ln(3)
        writer.line(letter.body)
    return writer.output()
