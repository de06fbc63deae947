"""Every euro traced: invoices really sent to the simulated caisse, paid by its NOEMIE return,
the virement found on a bank statement — the invoice knows the whole chain, and the FEC names
the caisse the same way on the sale and on the bank line."""

from __future__ import annotations

from datetime import date, timedelta

from lots_support import T0, invoice_states

from tuibill.config import AccountingSettings
from tuibill.formats.bank import BankLine, BankStatement
from tuibill.formats.cfonb import write_cfonb
from tuibill.formats.lot_file import TuibillLotCodec
from tuibill.formats.noemie import write_return
from tuibill.models import Invoice, Lot, Virement
from tuibill.services import accounting, bank, bank_matching, lots, receiving, returns, sending
from tuibill.simulator.returns import build_return
from tuibill.simulator.scenarios import Answer, FixedScenario


def paid_lot(office, caisse, tmp_path, count: int = 2) -> tuple[list[int], Virement]:
    ids = office.invoices(count)
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    sending.send_lots(caisse.settings, user="anne", now=T0)
    receiving.receive(caisse.settings, user="anne", now=T0)
    lot = Lot.get_by_id(built.id)
    content = TuibillLotCodec().read(bytes(lot.file_bytes))
    path = tmp_path / "retour.noe"
    path.write_bytes(
        write_return(build_return(content, "paiement", received=T0.date(), file_id="R00001"))
    )
    (report,) = returns.import_files([path], caisse.settings, user="anne", now=T0)
    assert report.status == "importé" and invoice_states(ids) == ["PAYEE"] * count
    return ids, Virement.get()


def credit_the_virement(caisse, tmp_path, virement: Virement, cents: int) -> None:
    day = virement.accounting_date + timedelta(days=2)
    lines = (
        BankLine(day, day, cents, "VIR SEPA CPAM 281", details=(("LIB", virement.label),)),
    )
    statement = BankStatement(
        format="cfonb120", currency="EUR", lines=lines, bank_code="30004",
        branch_code="00823", account_number="00012345678", opening_date=day - timedelta(days=5),
        opening_balance_cents=0, closing_date=day, closing_balance_cents=cents,
    )  # fmt: skip
    path = tmp_path / "releve.cfonb"
    path.write_bytes(write_cfonb([statement]))
    (report,) = bank.import_files([path], caisse.settings, user="anne", now=T0)
    assert report.new_lines == 1


def test_an_invoice_knows_its_way_to_the_bank(office, start_caisse, tmp_path) -> None:
    caisse = start_caisse(FixedScenario((Answer("positive"),)))
    ids, virement = paid_lot(office, caisse, tmp_path)
    assert virement.label.startswith("VIR CPAM 281 LOT") and virement.paying_body == "CPAM 281"

    before = bank_matching.invoice_chain(ids[0])
    assert before.transmitted_at is not None and before.payments[0].bank_date is None
    assert "pas encore retrouvé sur un relevé" in "\n".join(before.lines())

    credit_the_virement(caisse, tmp_path, virement, virement.total_cents)
    report = bank_matching.run_matching(user="anne", now=T0)
    assert [p.rule.name for p in report.proposals] == ["Libellé annoncé, montant exact"]

    chain = bank_matching.invoice_chain(ids[0])
    invoice = Invoice.get_by_id(ids[0])
    assert chain.state == "PAYEE" and chain.number == f"{invoice.number:09d}"
    (step,) = chain.returns
    assert step.outcome == "payee" and step.amo_paid_cents == invoice.amo_paid_cents > 0
    assert step.virement_id == virement.id
    (payment,) = chain.payments
    assert payment.receipt.id == virement.id and payment.paid_cents == invoice.amo_paid_cents
    assert payment.bank_date == virement.accounting_date + timedelta(days=2)
    assert payment.bank_amount_cents == virement.total_cents and payment.difference_cents == 0
    text = "\n".join(chain.lines())
    assert "Transmise le" in text and "crédité en banque le" in text
    data = chain.as_dict()
    assert data["paiements"][0]["credite_le"] == payment.bank_date
    # The match lists the invoices the virement paid.
    shares = bank_matching.invoices_of_match(report.match_ids[0])
    assert sorted(s.invoice_id for s in shares) == sorted(ids)
    assert sum(s.paid_cents for s in shares) == virement.total_cents


def test_the_fec_names_the_caisse_alike_on_the_sale_and_the_bank(
    office, start_caisse, tmp_path
) -> None:
    caisse = start_caisse(FixedScenario((Answer("positive"),)))
    ids, virement = paid_lot(office, caisse, tmp_path)
    credit_the_virement(caisse, tmp_path, virement, virement.total_cents - 100)
    bank_matching.run_matching(user="anne", now=T0)

    entries = accounting.fec_entries(
        AccountingSettings(cash_basis=False), date(2000, 1, 1), date(2099, 12, 31)
    )

    sales = [e for e in entries if e.journal_code == "VT"]
    banked = [e for e in entries if e.journal_code == "BQ"]
    assert len(sales) == len(ids) and len(banked) == 1
    caisse_lines = {line.aux_account for e in sales for line in e.lines
                    if line.account == "411100"}  # fmt: skip
    assert caisse_lines == {"C012810000"}
    (credit,) = [line for line in banked[0].lines if line.credit_cents]
    assert (credit.account, credit.aux_account, credit.aux_label) == (
        "411100", "C012810000", "CPAM CHARTRES",
    )  # fmt: skip
    assert credit.credit_cents == virement.total_cents - 100
