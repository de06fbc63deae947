"""The demo's bank: a CFONB statement that matches most of the virements announced, with one
difference and one stranger, imported and matched through the real services.

It is built from the virements the demo's NOEMIE returns posted. When the demo has none (no
return posted yet), it first creates a few **demonstration virements** from the validated
invoices — recorded under a received file that says so (« démonstration : virements sans retour
NOEMIE »), never mistaken for a caisse's file.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from tuibill.config import TransmissionSettings
from tuibill.domain.invoices import InvoiceState
from tuibill.formats.bank import BankLine, BankStatement
from tuibill.formats.cfonb import write_cfonb
from tuibill.models import Invoice, Organism, Practitioner, ReceivedFile, Virement
from tuibill.models.database import immediate
from tuibill.services import bank, bank_matching

DEMO_USER = "demo"
BANK_CODE, BRANCH_CODE, ACCOUNT_NUMBER = "30004", "00823", "00012345678"  # FR76 3000 4008 23…
DEMO_FILE = "demonstration-virements-sans-retour-NOEMIE"
SHORTFALL_CENTS = 150  # what the caisse kept back on one virement: the demo's difference
STRANGER = ("VIR SEPA M OU MME DUPUIS ALAIN", "HONORAIRES SOINS OCTOBRE", 45_00)
MAX_DEMO_VIREMENTS = 6


def _body(organism: Organism) -> str:
    return f"{'CPAM' if organism.regime == '01' else 'MSA'} {organism.caisse}"


def _demo_virements(today: date) -> list[Virement]:
    """A few virements from the validated invoices, grouped by practitioner and caisse, one a
    week back from *today*; none if the demo has no validated invoice with an AMO share."""
    totals: dict[tuple[int, int], int] = defaultdict(int)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    query = (
        Invoice.select(Invoice.practitioner, Invoice.organism, Invoice.amo_cents)
        .where(
            (Invoice.state == InvoiceState.VALIDEE.value)
            & Invoice.organism.is_null(False)
            & (Invoice.amo_cents > 0)
        )
        .order_by(Invoice.id)
        .tuples()
    )
    for practitioner, organism, amo in query:
        totals[(practitioner, organism)] += amo
        counts[(practitioner, organism)] += 1
    groups = sorted(totals, key=lambda key: (-totals[key], key))[:MAX_DEMO_VIREMENTS]
    if not groups:
        return []
    practitioners = {p.id: p for p in Practitioner.select()}
    organisms = {o.id: o for o in Organism.select()}
    created = []
    with immediate():
        row = ReceivedFile.create(
            kind="retour",
            source="demo",
            message_id=f"demo:{DEMO_FILE}",
            file_name=DEMO_FILE,
            sha256="0" * 64,
            archive_path="",
            received_at=datetime.combine(today, time(8, 0)),
            status="applique",
            error="Virements de démonstration créés sans fichier NOEMIE (aucun retour posté "
            "dans la démonstration) : ils ne paient aucune facture.",
            processed_at=datetime.combine(today, time(8, 0)),
        )
        for rank, key in enumerate(groups):
            practitioner, organism = practitioners[key[0]], organisms[key[1]]
            day = today - timedelta(days=7 * (len(groups) - rank) - 2)
            body = _body(organism)
            created.append(
                Virement.create(
                    received_file=row.id,
                    practitioner=practitioner.id,
                    payee_number=practitioner.am_number,
                    accounting_date=day,
                    label=f"{body} PAIEMENT {day:%d%m%y} PS {practitioner.am_number}",
                    paying_body=body,
                    total_cents=totals[key],
                    invoice_count=counts[key],
                )
            )
    return created


def _payer_lines(today: date) -> list[BankLine]:
    """The tiers-payeurs' règlements recorded in F8 (when the home-care demo made some)."""
    from tuibill.models import Payer, Payment

    names = dict(Payer.select(Payer.id, Payer.name).tuples())
    lines = []
    for payment in (
        Payment.select()
        .where(Payment.payer.is_null(False) & (Payment.amount_cents > 0))
        .order_by(Payment.day, Payment.id)
    ):
        name = names.get(payment.payer_id, "")
        if payment.day > today:
            continue
        booked = min(today, payment.day + timedelta(days=1))
        lines.append(
            BankLine(
                booking_date=booked,
                value_date=booked,
                amount_cents=payment.amount_cents,
                label=f"VIR {name}"[:31],
                details=(("LIB", f"{name} {payment.reference}"[:70]),),
                operation_code="05",
            )
        )
    return lines


def _statement(virements: list[Virement], today: date) -> BankStatement:
    lines: list[BankLine] = _payer_lines(today)
    # The last virement announced is not on the statement yet; one came short of the caisse's
    # retention; a patient paid by transfer (nobody announced it); the bank took its fees.
    shown = virements[:-1] if len(virements) > 1 else virements
    for index, virement in enumerate(shown):
        booked = min(today, virement.accounting_date + timedelta(days=2))
        amount = virement.total_cents
        if index == 1 and amount > 2 * SHORTFALL_CENTS:
            amount -= SHORTFALL_CENTS
        lines.append(
            BankLine(
                booking_date=booked,
                value_date=booked,
                amount_cents=amount,
                label=f"VIR SEPA {virement.paying_body}"[:31],
                details=(("LIB", virement.label[:70]),),
                operation_code="05",
            )
        )
    first = min([v.accounting_date for v in virements] + [today - timedelta(days=30)])
    lines.append(
        BankLine(
            booking_date=today - timedelta(days=6),
            value_date=today - timedelta(days=6),
            amount_cents=STRANGER[2],
            label=STRANGER[0][:31],
            details=(("LIB", STRANGER[1]),),
            operation_code="05",
        )
    )
    lines.append(BankLine(today - timedelta(days=12), None, -8_50, "FRAIS TENUE DE COMPTE"))
    lines.append(BankLine(today - timedelta(days=20), None, -312_00, "PRLV SEPA URSSAF"))
    lines.sort(key=lambda line: line.booking_date)
    opening = 4_215_30
    return BankStatement(
        format="cfonb120",
        currency="EUR",
        lines=tuple(lines),
        bank_code=BANK_CODE,
        branch_code=BRANCH_CODE,
        account_number=ACCOUNT_NUMBER,
        opening_date=first,
        opening_balance_cents=opening,
        closing_date=today,
        closing_balance_cents=opening + sum(line.amount_cents for line in lines),
    )


def build_bank_demo(
    *, today: date, settings: TransmissionSettings | None = None
) -> dict[str, int]:
    """Import the demo statement and match it; counts of what was done."""
    virements = list(
        Virement.select()
        .where(Virement.total_cents > 0)
        .order_by(Virement.accounting_date, Virement.id)
    )
    made = 0
    if not virements:
        virements = _demo_virements(today)
        made = len(virements)
    if not virements:
        return {"demo_virements": 0, "bank_lines": 0, "matches": 0}
    data = write_cfonb([_statement(virements, today)])
    at = datetime.combine(today, time(9, 0))
    report = bank.import_data(
        data,
        f"releve-demo-{today:%Y%m%d}.cfonb",
        settings or TransmissionSettings(),
        user=DEMO_USER,
        now=at,
        source="demo",
    )
    matched = bank_matching.run_matching(user=DEMO_USER, now=at + timedelta(minutes=5))
    return {
        "demo_virements": made,
        "bank_lines": report.new_lines,
        "matches": len(matched.proposals),
    }
