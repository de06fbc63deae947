"""A bordereau as Factur-X (EN 16931 profile): a PDF/A-3 with its CII XML embedded.

Public payers (conseils départementaux) take invoices through Chorus Pro, which reads Factur-X.
:func:`cii_xml` writes the Cross Industry Invoice (UN/CEFACT CII D16B, the EN 16931 profile of
Factur-X 1.0) of a bordereau with lxml; :func:`facturx_pdf` embeds it in the bordereau's PDF
with the ``factur-x`` package (Akretion's reference library: XMP metadata, PDF/A-3 attachment,
and its own check of the XML against the schema it ships).

Home-care services to dependent people are exempt from VAT here (category « E », the reason
given by the caller, default below: keep it checked by the service's accountant).
Each financed invoice is one line (quantity 1, its share as the price); an avoir deducted is a
line of quantity −1 (a price is never negative in EN 16931).
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from tuibill.formats.errors import FormatError
from tuibill.formats.slip_pdf import Party, SlipDocument

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931 = "urn:cen.eu:en16931:2017"
INVOICE_TYPE = "380"  # commercial invoice (UNTDID 1001)
DEFAULT_EXEMPTION = (
    "Exonération de TVA : services d'aide à la personne (article 261, 7-1° ter du CGI)"
)


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", **attrs)
    if text is not None:
        element.text = text
    return element


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _date(parent: etree._Element, tag: str, day: date) -> None:
    _el(_el(parent, tag), "udt:DateTimeString", f"{day:%Y%m%d}", format="102")


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    node = _el(parent, tag)
    _el(node, "ram:Name", party.name)
    siret = "".join(party.siret.split())
    if siret:
        # SIRET (ICD 0009): what Chorus Pro identifies a structure by.
        _el(_el(node, "ram:SpecifiedLegalOrganization"), "ram:ID", siret, schemeID="0009")
    address = _el(node, "ram:PostalTradeAddress")
    if party.postcode:
        _el(address, "ram:PostcodeCode", party.postcode)
    if party.address:
        _el(address, "ram:LineOne", party.address)
    if party.city:
        _el(address, "ram:CityName", party.city)
    _el(address, "ram:CountryID", "FR")
    if party.email:
        uri = _el(node, "ram:URIUniversalCommunication")
        _el(uri, "ram:URIID", party.email, schemeID="EM")


def cii_xml(
    slip: SlipDocument,
    *,
    due_date: date,
    buyer_reference: str = "",
    exemption_reason: str = DEFAULT_EXEMPTION,
) -> bytes:
    """The CII XML of *slip* (UTF-8). Refuses a bordereau without lines or with a negative
    total (a bordereau is never a credit note)."""
    if not slip.lines:
        raise FormatError(f"Bordereau {slip.number} sans ligne : pas de Factur-X.")
    if slip.total_cents < 0:
        raise FormatError(f"Bordereau {slip.number} négatif : pas de Factur-X.")
    if not slip.seller.name or not slip.buyer.name:
        raise FormatError("Factur-X : le nom du service et celui de l'organisme sont requis.")
    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)
    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", slip.number)
    _el(document, "ram:TypeCode", INVOICE_TYPE)
    _date(document, "ram:IssueDateTime", slip.issue_date)
    _el(_el(document, "ram:IncludedNote"), "ram:Content", f"Bordereau {slip.kind_label} de "
        f"la période du {slip.period_start:%d/%m/%Y} au {slip.period_end:%d/%m/%Y}")  # fmt: skip
    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for number, line in enumerate(slip.lines, start=1):
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(number))
        what = "Avoir déduit" if line.payer_cents < 0 else "Aide financée"
        _el(
            _el(item, "ram:SpecifiedTradeProduct"),
            "ram:Name",
            f"{what} — {line.beneficiary} — facture {line.invoice_number} ({line.period})",
        )
        price = _el(_el(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
        _el(price, "ram:ChargeAmount", _amount(abs(line.payer_cents)))
        _el(
            _el(item, "ram:SpecifiedLineTradeDelivery"),
            "ram:BilledQuantity",
            "-1" if line.payer_cents < 0 else "1",
            unitCode="C62",
        )
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", "E")
        _el(tax, "ram:RateApplicablePercent", "0")
        _el(
            _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
            "ram:LineTotalAmount",
            _amount(line.payer_cents),
        )
    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    if buyer_reference:
        _el(agreement, "ram:BuyerReference", buyer_reference)
    _party(agreement, "ram:SellerTradeParty", slip.seller)
    _party(agreement, "ram:BuyerTradeParty", slip.buyer)
    _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", "EUR")
    total = sum(line.payer_cents for line in slip.lines)
    if total != slip.total_cents:
        raise FormatError(
            f"Bordereau {slip.number} : total {_amount(slip.total_cents)} différent de la somme "
            f"de ses lignes ({_amount(total)})."
        )
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:CalculatedAmount", "0.00")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:ExemptionReason", exemption_reason)
    _el(tax, "ram:BasisAmount", _amount(total))
    _el(tax, "ram:CategoryCode", "E")
    _el(tax, "ram:RateApplicablePercent", "0")
    period = _el(settlement, "ram:BillingSpecifiedPeriod")
    _date(period, "ram:StartDateTime", slip.period_start)
    _date(period, "ram:EndDateTime", slip.period_end)
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _date(terms, "ram:DueDateDateTime", due_date)
    sums = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(sums, "ram:LineTotalAmount", _amount(total))
    _el(sums, "ram:TaxBasisTotalAmount", _amount(total))
    _el(sums, "ram:TaxTotalAmount", "0.00", currencyID="EUR")
    _el(sums, "ram:GrandTotalAmount", _amount(total))
    _el(sums, "ram:TotalPrepaidAmount", _amount(slip.paid_cents))
    _el(sums, "ram:DuePayableAmount", _amount(total - slip.paid_cents))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def facturx_pdf(pdf: bytes, xml: bytes, *, title: str, seller: str) -> bytes:
    """The PDF/A-3 of *pdf* with *xml* embedded as ``factur-x.xml`` (checked against the
    schema by the ``factur-x`` package first: an invalid XML is refused, never embedded)."""
    try:
        from facturx import generate_from_binary
    except ImportError as error:  # pragma: no cover - a declared dependency
        raise FormatError("Le paquet factur-x n'est pas installé.") from error
    try:
        return generate_from_binary(
            pdf,
            xml,
            flavor="factur-x",
            level="en16931",
            check_xsd=True,
            lang="fr-FR",
            pdf_metadata={
                "author": seller,
                "keywords": "Factur-X, bordereau",
                "title": title,
                "subject": title,
            },
        )
    except Exception as error:  # the library raises plain exceptions with its reason
        raise FormatError(f"Factur-X refusé : {error}") from error
