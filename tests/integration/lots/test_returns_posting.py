"""Posting the caisses' NOEMIE returns: paid, paid in part, rejected, deferred, back payments,
non rapprochées matched by hand, the same file twice, a double payment, a dry run, a crash, a
malformed file — on lots really built, sent to the simulated caisse and acknowledged."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from lots_support import T0, invoice_states

from tuibill.formats.lot_file import TuibillLotCodec
from tuibill.formats.noemie import read_return, write_return
from tuibill.models import (
    Invoice,
    InvoiceLine,
    InvoiceTransition,
    Lot,
    ReceivedFile,
    ReturnEntry,
    ReturnLine,
    ReturnRejection,
    Virement,
)
from tuibill.services import lots, receiving, returns, sending
from tuibill.simulator.returns import build_return
from tuibill.simulator.scenarios import Answer, FixedScenario

POSITIVE = FixedScenario((Answer("positive"),))


def sent_lot(office, caisse, count: int = 2, **kwargs) -> tuple[Lot, list[int]]:
    """*count* invoices in a lot, sent and acknowledged (ARL positif)."""
    ids = office.invoices(count, **kwargs)
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    assert sending.send_lots(caisse.settings, user="anne", now=T0).all_sent
    receiving.receive(caisse.settings, user="anne", now=T0)
    lot = Lot.get_by_id(built.id)
    assert lot.state == "ARL_POSITIF"
    assert invoice_states(ids) == ["TRANSMISE"] * count
    return lot, ids


def return_file(lot: Lot, kind: str, argument: str = "", file_id: str = "R00001") -> bytes:
    content = TuibillLotCodec().read(bytes(lot.file_bytes))
    return write_return(
        build_return(content, kind, argument=argument, received=T0.date(), file_id=file_id)
    )


def amo_asked(invoice_id: int) -> int:
    return Invoice.get_by_id(invoice_id).amo_cents


def test_full_payment_through_the_mailbox(office, start_caisse):
    caisse = start_caisse(FixedScenario((Answer("positive"), Answer("paiement"))))
    ids = office.invoices(3)
    lots.build_lots(caisse.settings, user="anne", now=T0)
    sending.send_lots(caisse.settings, user="anne", now=T0)

    report = receiving.receive(caisse.settings, user="anne", now=T0)

    assert invoice_states(ids) == ["PAYEE"] * 3
    kinds = sorted(row.kind for row in ReceivedFile.select())
    assert kinds == ["arl", "retour"]
    row = ReceivedFile.get(ReceivedFile.kind == "retour")
    assert row.status == "applique"
    message = [o.message for o in report.processed if o.file.kind == "retour"][0]
    assert "3 payée(s)" in message
    for invoice_id in ids:
        invoice = Invoice.get_by_id(invoice_id)
        assert invoice.amo_paid_cents == invoice.amo_cents > 0
    (virement,) = Virement.select()
    assert virement.total_cents == sum(amo_asked(i) for i in ids)
    assert virement.invoice_count == 3
    assert virement.practitioner_id == office.nurse.id
    last = (
        InvoiceTransition.select()
        .where(InvoiceTransition.invoice == ids[0])
        .order_by(InvoiceTransition.id.desc())
        .first()
    )
    assert last.to_state == "PAYEE" and last.reason.startswith("Retour NOEMIE RET_")
    # Each act line of the return is tied to the invoice line of the same rank.
    for entry in ReturnEntry.select():
        lines = list(ReturnLine.select().where(ReturnLine.entry == entry.id))
        ours = InvoiceLine.select().where(InvoiceLine.invoice == entry.invoice_id).count()
        assert len(lines) == ours and all(line.invoice_line_id for line in lines)


def test_mixed_return_pays_rejects_refuses_a_line_and_defers(office, start_caisse, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 4, home_visit=True)  # AMI + IFD: two lines each
    path = tmp_path / "retour.noe"
    path.write_bytes(return_file(lot, "mixte"))

    (report,) = returns.import_files([path], caisse.settings, user="anne")

    assert report.status == "importé"
    assert (report.paid, report.rejected, report.partial, report.deferred) == (1, 1, 1, 1)
    assert invoice_states(ids) == ["PAYEE", "REJETEE", "PAYEE_PARTIELLEMENT", "TRANSMISE"]
    rejection = ReturnRejection.get(ReturnRejection.invoice == ids[1])
    assert (rejection.code, rejection.level) == ("0460", "F")
    assert rejection.label == "ETABLISSEMENT PRESCRIPTEUR INCONNU"
    partial = Invoice.get_by_id(ids[2])
    refused = ReturnLine.select().where(ReturnLine.refused).get()
    assert refused.entry.invoice_id == ids[2]
    assert partial.amo_paid_cents == partial.amo_cents - refused.base_cents * 60 // 100
    line_rejection = ReturnRejection.get(ReturnRejection.invoice == ids[2])
    assert line_rejection.invoice_line_id == refused.invoice_line_id
    deferred = ReturnEntry.get(ReturnEntry.invoice == ids[3])
    assert deferred.outcome == "differee" and "plus tard" in deferred.note
    reason = (
        InvoiceTransition.select()
        .where((InvoiceTransition.invoice == ids[1]) & (InvoiceTransition.to_state == "REJETEE"))
        .get()
        .reason
    )
    assert "0460 ETABLISSEMENT PRESCRIPTEUR INCONNU" in reason


def test_deferred_then_paid_by_the_next_return(office, start_caisse, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 2)
    first, second = tmp_path / "a.noe", tmp_path / "b.noe"
    first.write_bytes(return_file(lot, "differe", file_id="R00001"))
    second.write_bytes(return_file(lot, "paiement", "9", file_id="R00002"))

    returns.import_files([first], caisse.settings, user="anne")
    assert invoice_states(ids) == ["TRANSMISE"] * 2
    returns.import_files([second], caisse.settings, user="anne")

    assert invoice_states(ids) == ["PAYEE"] * 2
    assert [v.accounting_date for v in Virement.select().order_by(Virement.id)] == [
        T0.date(),
        T0.date() + timedelta(days=9),
    ]


def test_the_same_file_twice_changes_nothing(office, start_caisse, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 2)
    path = tmp_path / "retour.noe"
    path.write_bytes(return_file(lot, "paiement"))
    returns.import_files([path], caisse.settings, user="anne")
    paid = [Invoice.get_by_id(i).amo_paid_cents for i in ids]

    (again,) = returns.import_files([path], caisse.settings, user="anne")

    assert again.status == "déjà importé" and "rien n'a changé" in again.reason
    assert [Invoice.get_by_id(i).amo_paid_cents for i in ids] == paid
    assert ReturnEntry.select().count() == 2
    assert ReceivedFile.select().where(ReceivedFile.kind == "retour").count() == 1


def test_the_same_payment_in_another_file_is_a_double_not_counted(office, start_caisse, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 1)
    first, second = tmp_path / "a.noe", tmp_path / "b.noe"
    first.write_bytes(return_file(lot, "paiement", file_id="R00001"))
    second.write_bytes(return_file(lot, "paiement", file_id="R00002"))  # other bytes
    returns.import_files([first], caisse.settings, user="anne")

    (report,) = returns.import_files([second], caisse.settings, user="anne")

    assert report.doubles == 1 and report.paid == 0 and report.paid_cents == 0
    invoice = Invoice.get_by_id(ids[0])
    assert invoice.amo_paid_cents == invoice.amo_cents  # not twice
    double = ReturnEntry.get(ReturnEntry.outcome == "doublon")
    assert not double.posted and "pas compté deux fois" in double.note


def test_partial_then_back_payment_completes_it(office, start_caisse, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 1, home_visit=True)
    partial = tmp_path / "a.noe"
    partial.write_bytes(return_file(lot, "refus-ligne", file_id="R00001"))
    returns.import_files([partial], caisse.settings, user="anne")
    invoice = Invoice.get_by_id(ids[0])
    assert invoice.state == "PAYEE_PARTIELLEMENT"
    missing = invoice.amo_cents - invoice.amo_paid_cents
    assert missing > 0

    # The caisse pays the refused line later: a « rappel » (081 type 04) of the missing amount.
    content = read_return(partial.read_bytes())
    (item,) = content.invoices
    amo = replace(item.amo, state="P", paid_cents=missing)
    back = replace(
        item,
        return_type="04",
        entities=tuple(amo if e is item.amo else e for e in item.entities if e not in item.rejections),
    )
    header = replace(content.header, file_id="R00002")
    rappel = tmp_path / "b.noe"
    rappel.write_bytes(write_return(replace(content, header=header, items=(back,))))
    (report,) = returns.import_files([rappel], caisse.settings, user="anne")

    assert report.paid == 1, report.as_dict()
    invoice = Invoice.get_by_id(ids[0])
    assert invoice.state == "PAYEE" and invoice.amo_paid_cents == invoice.amo_cents


def test_unknown_invoice_is_kept_non_rapprochee_then_matched_by_hand(
    office, start_caisse, tmp_path
):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 1)
    content = read_return(return_file(lot, "paiement"))
    (item,) = content.invoices
    stranger = replace(item, number="000000042")  # the caisse's typo
    path = tmp_path / "retour.noe"
    path.write_bytes(write_return(replace(content, items=(stranger,))))

    (report,) = returns.import_files([path], caisse.settings, user="anne")

    assert report.not_matched == 1 and invoice_states(ids) == ["TRANSMISE"]
    entry = ReturnEntry.get()
    assert entry.outcome == "non_rapprochee" and entry.invoice_id is None
    assert "aucune facture n° 000000042" in entry.note
    assert entry.content  # kept whole, to be matched

    matched = returns.match_entry(entry.id, ids[0], user="bea", now=T0 + timedelta(days=1))

    assert matched.outcome == "payee"
    assert invoice_states(ids) == ["PAYEE"]
    entry = ReturnEntry.get_by_id(entry.id)
    assert (entry.invoice_id, entry.matched_by) == (ids[0], "bea")
    with pytest.raises(Exception, match="déjà rapprochée"):
        returns.match_entry(entry.id, ids[0], user="bea")


def test_a_number_in_another_lot_is_not_matched(office, start_caisse, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 1)
    content = read_return(return_file(lot, "paiement"))
    (item,) = content.invoices
    other_lot = replace(item, lot=replace(item.lot, number=item.lot.number + 7))
    path = tmp_path / "retour.noe"
    path.write_bytes(write_return(replace(content, items=(other_lot,))))

    (report,) = returns.import_files([path], caisse.settings, user="anne")

    assert report.not_matched == 1 and invoice_states(ids) == ["TRANSMISE"]
    assert "à vérifier" in ReturnEntry.get().note


def test_dry_run_reports_and_writes_nothing(office, start_caisse, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 4, home_visit=True)
    path = tmp_path / "retour.noe"
    path.write_bytes(return_file(lot, "mixte"))
    files_before = ReceivedFile.select().count()

    (simulated,) = returns.import_files([path], caisse.settings, user="anne", dry_run=True)

    assert simulated.dry_run and (simulated.paid, simulated.rejected) == (1, 1)
    assert [e.state for e in simulated.entries] == [
        "PAYEE", "REJETEE", "PAYEE_PARTIELLEMENT", "TRANSMISE",
    ]  # fmt: skip
    assert invoice_states(ids) == ["TRANSMISE"] * 4
    assert ReturnEntry.select().count() == Virement.select().count() == 0
    assert ReceivedFile.select().count() == files_before
    assert not list((tmp_path / "archive").rglob("*")) or all(
        p.is_dir() or p.read_bytes() != path.read_bytes()
        for p in (tmp_path / "archive").rglob("*")
    )
    (real,) = returns.import_files([path], caisse.settings, user="anne")
    assert real.as_dict()["factures"] == [
        {**e, "facture": e["facture"]} for e in simulated.as_dict()["factures"]
    ]


def test_a_crash_while_posting_leaves_the_file_received_then_finishes(
    office, start_caisse, tmp_path, monkeypatch
):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 2)
    path = tmp_path / "retour.noe"
    path.write_bytes(return_file(lot, "paiement"))
    real_moves = returns._apply_moves

    def crash_after_the_writes(*args, **kwargs):
        # Entries, lines and paid amounts are written by now: the power goes.
        raise RuntimeError("coupure de courant")

    monkeypatch.setattr(returns, "_apply_moves", crash_after_the_writes)
    with pytest.raises(RuntimeError):
        returns.import_files([path], caisse.settings, user="anne")

    row = ReceivedFile.get(ReceivedFile.kind == "retour")
    assert row.status == "recu"  # archived and recorded, nothing posted
    assert invoice_states(ids) == ["TRANSMISE"] * 2
    assert ReturnEntry.select().count() == ReturnLine.select().count() == 0
    assert {Invoice.get_by_id(i).amo_paid_cents for i in ids} == {0}
    monkeypatch.setattr(returns, "_apply_moves", real_moves)

    outcomes = receiving.process_pending(caisse.settings, user="anne", now=T0)

    assert [o.file.kind for o in outcomes] == ["retour"]
    assert invoice_states(ids) == ["PAYEE"] * 2
    assert ReceivedFile.get_by_id(row.id).status == "applique"


def test_a_malformed_file_is_refused_whole_and_kept(office, start_caisse, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 2)
    data = return_file(lot, "paiement")[:-128]  # cut in transit: no 999
    path = tmp_path / "retour.noe"
    path.write_bytes(bytes(data))

    (report,) = returns.import_files([path], caisse.settings, user="anne")

    assert report.status == "refusé" and report.reason
    assert invoice_states(ids) == ["TRANSMISE"] * 2
    row = ReceivedFile.get(ReceivedFile.kind == "retour")
    assert row.status == "refuse" and "mis de côté" in row.error
    from pathlib import Path

    assert Path(row.archive_path).read_bytes() == bytes(data)
    assert ReturnEntry.select().count() == 0


def test_a_return_for_a_practitioner_we_do_not_know(office, start_caisse, tmp_path):
    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 1)
    content = read_return(return_file(lot, "paiement"))
    virement = replace(content.virements[0], payee="999999999")
    path = tmp_path / "retour.noe"
    path.write_bytes(write_return(replace(content, virements=(virement,))))

    (report,) = returns.import_files([path], caisse.settings, user="anne")

    assert report.not_matched == 1
    assert "PS 999999999 inconnu" in ReturnEntry.get().note
    assert Virement.get().practitioner_id is None
    assert date.today()  # the file is still kept: nothing dropped


def test_a_killed_import_leaves_nothing_posted_and_the_next_run_finishes(
    office, start_caisse, tmp_path, db_url
):
    """The process dies (os._exit: no rollback code runs) in the middle of the posting
    transaction; SQLite's journal undoes it; `returns import` again finishes the job."""
    import subprocess
    import sys

    caisse = start_caisse(POSITIVE)
    lot, ids = sent_lot(office, caisse, 2)
    path = tmp_path / "retour.noe"
    path.write_bytes(return_file(lot, "paiement"))
    script = f"""
import os
from tuibill.models import database
from tuibill.services import returns
from tuibill.config import TransmissionSettings
database.bind({db_url!r})
returns._apply_moves = lambda *a, **k: os._exit(137)
returns.import_files([{str(path)!r}], TransmissionSettings(archive_dir={caisse.settings.archive_dir!r}), user="anne")
"""
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert killed.returncode == 137, killed.stderr

    assert invoice_states(ids) == ["TRANSMISE"] * 2
    assert ReturnEntry.select().count() == 0
    assert ReceivedFile.get(ReceivedFile.kind == "retour").status == "recu"

    (report,) = returns.import_files([path], caisse.settings, user="anne")

    assert report.status == "importé" and report.paid == 2
    assert invoice_states(ids) == ["PAYEE"] * 2
