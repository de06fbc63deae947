"""Building lots: per practitioner and caisse, size limit, 3-digit numbers wrapping 999 → 001,
the file written once (bytes + SHA-256 kept), deletion before sending, SCOR lots."""

from __future__ import annotations

import hashlib

import pytest
from lots_support import T0, transmission

from tuibill.domain.errors import IllegalTransition, RefusedOperation
from tuibill.domain.lots import LotState
from tuibill.formats import get_lot_codec
from tuibill.formats.scor_lot import ScorLotCodec
from tuibill.models import (
    Counter,
    Invoice,
    InvoicePiece,
    InvoiceTransition,
    Lot,
    LotTransition,
    db,
)
from tuibill.models.database import immediate
from tuibill.services import audit, lot_views, lots
from tuibill.services.numbering import allocate_lot_number

PDF = b"%PDF-1.4\n% scan\n"


def lot_numbers(report) -> list[tuple[str, str, int, int]]:
    return [(s.practitioner_am, s.destination, s.number, s.invoice_count) for s in report.lots]


def test_one_lot_per_practitioner_and_caisse_within_the_size_limit(office, tmp_path):
    chartres = office.invoices(5)
    lille = office.invoices(2, organism=office.lille)
    kine = office.invoices(1, practitioner=office.kine)
    settings = transmission(tmp_path, lot_max_invoices=2)

    report = lots.build_lots(settings, user="anne", now=T0)

    assert report.skipped == ()
    assert lot_numbers(report) == [
        ("281234567", "01281", 1, 2),
        ("281234567", "01281", 2, 2),
        ("281234567", "01281", 3, 1),
        ("281234567", "01595", 4, 2),
        ("281234570", "01281", 1, 1),  # numbers are per practitioner
    ]
    # Every invoice is À transmettre, its lot and lot number in step, the move recorded.
    for invoice in Invoice.select().where(Invoice.id.in_(chartres + lille + kine)):
        lot = Lot.get_by_id(invoice.lot_id)
        assert invoice.state == "A_TRANSMETTRE"
        assert invoice.lot_number == lot.number
        move = InvoiceTransition.get(
            (InvoiceTransition.invoice == invoice.id) & (InvoiceTransition.action == "put_in_lot")
        )
        assert (move.from_state, move.to_state, move.user) == ("VALIDEE", "A_TRANSMETTRE", "anne")
    # The file is written once: its bytes and SHA-256 are on the lot, and it is readable.
    first = Lot.get((Lot.number == 1) & (Lot.practitioner == office.nurse.id))
    data = bytes(first.file_bytes)
    assert first.file_sha256 == hashlib.sha256(data).hexdigest()
    assert first.file_name == "LOT_281234567_001.b2t"
    content = get_lot_codec().read(data)
    assert content.header.lot_number == 1 and content.header.created_at == T0
    assert [fse.invoice_number for fse in content.fses] == [7401, 7402]
    history = LotTransition.get(LotTransition.lot == first.id)
    assert (history.from_state, history.to_state, history.action) == (
        None,
        "A_TRANSMETTRE",
        "build",
    )
    assert (history.user, history.at, history.reason) == ("anne", T0, "2 facture(s)")
    # The lots' and the invoices' history rows in one unbroken chain.
    assert audit.verify().ok
    # Nothing left to lot.
    assert lots.build_lots(settings, user="anne").lots == ()


def test_lot_numbers_wrap_from_999_to_001(office, tmp_path):
    office.invoices(3)
    Counter.update(next_value=998).where(
        (Counter.practitioner == office.nurse.id) & (Counter.kind == "lot")
    ).execute()
    report = lots.build_lots(transmission(tmp_path, lot_max_invoices=1), user="anne")
    assert [s.number_text for s in report.lots] == ["998", "999", "001"]
    assert Invoice.select().where(Invoice.lot_number == 1).count() == 1


def test_configured_range_and_out_of_range_counter(office):
    with immediate():
        assert [allocate_lot_number(office.nurse, first=5, last=7) for _ in range(4)] == [5, 6, 7, 5]
    # Narrowing the range below the counter restarts at its first number.
    with immediate():
        assert allocate_lot_number(office.nurse, first=1, last=3) == 1
    # A rolled-back transaction gives its number back.
    with pytest.raises(RuntimeError):
        with immediate():
            allocate_lot_number(office.nurse, first=1, last=3)
            raise RuntimeError("rollback")
    with immediate():
        assert allocate_lot_number(office.nurse, first=1, last=3) == 2
    # A practitioner without lot counter (older data) starts at the first number.
    Counter.delete().where(Counter.practitioner == office.kine.id).execute()
    with immediate():
        assert allocate_lot_number(office.kine, first=1, last=999) == 1
        assert allocate_lot_number(office.kine, first=1, last=999) == 2


def test_names_outside_latin1_are_transliterated(office, tmp_path):
    office.invoices(1, organism=office.lille)  # patient « Œuvray Chloë »
    report = lots.build_lots(transmission(tmp_path), user="anne")
    data = bytes(Lot.get_by_id(report.lots[0].id).file_bytes)
    fse = get_lot_codec().read(data).fses[0]
    assert (fse.patient_last_name, fse.patient_first_name) == ("OEUVRAY", "Chloë")


def test_invoices_the_file_cannot_carry_are_left_validee(office, tmp_path):
    good = office.invoices(1)
    unsigned = office.invoices(1, mode="sesam_vitale")
    orphan = office.invoices(1)
    Invoice.update(organism=None).where(Invoice.id == orphan[0]).execute()
    draft = office.invoices(1, validate=False)

    report = lots.build_lots(
        transmission(tmp_path), user="anne", invoice_ids=good + unsigned + orphan + draft
    )

    assert [s.invoice_count for s in report.lots] == [1]
    reasons = {item.invoice_id: item.reason for item in report.skipped}
    assert "SESAM-Vitale non signée" in reasons[unsigned[0]]
    assert "pas de caisse AMO" in reasons[orphan[0]]
    assert "seules les factures validées" in reasons[draft[0]]
    assert Invoice.get_by_id(unsigned[0]).state == "VALIDEE"


def test_a_signed_sesam_vitale_invoice_goes_in_with_its_signature(office, tmp_path):
    (invoice_id,) = office.invoices(1, mode="sesam_vitale")
    signature = bytes(range(256))
    import base64

    Invoice.update(
        signature=base64.b64encode(signature).decode(),
        signature_algorithm="sha256WithRSAEncryption",
        signer="GAUTIER Anne 281234567",
        signing_card="CPS 0001",
    ).where(Invoice.id == invoice_id).execute()
    report = lots.build_lots(transmission(tmp_path), user="anne")
    fse = get_lot_codec().read(bytes(Lot.get_by_id(report.lots[0].id).file_bytes)).fses[0]
    assert (fse.signature.algorithm, fse.signature.signer) == ("RSA-SHA256", "281234567")
    assert fse.signature.value == signature


def test_delete_before_sending_puts_invoices_back_to_validee(office, tmp_path):
    ids = office.invoices(2)
    office.add_piece(ids[0], PDF)
    report = lots.build_lots(transmission(tmp_path), user="anne")
    fse_lot, scor_lot = report.lots
    assert scor_lot.kind == "SCOR" and scor_lot.parent_id == fse_lot.id

    with pytest.raises(RefusedOperation, match="suit le lot de FSE 001"):
        lots.delete_lot(scor_lot.id, user="anne")
    deleted = lots.delete_lot(fse_lot.id, user="anne", reason="erreur de date")

    assert deleted.state is LotState.SUPPRIME
    assert Lot.get_by_id(scor_lot.id).state == "SUPPRIME"
    assert InvoicePiece.get().lot_id is None
    for invoice in Invoice.select().where(Invoice.id.in_(ids)):
        assert (invoice.state, invoice.lot_id, invoice.lot_number) == ("VALIDEE", None, None)
    last = (
        LotTransition.select()
        .where(LotTransition.lot == fse_lot.id)
        .order_by(LotTransition.id.desc())
        .first()
    )
    assert (last.action, last.reason) == ("delete", "erreur de date")
    # Re-lotted: a new number (the deleted lot keeps its own, with its history).
    again = lots.build_lots(transmission(tmp_path), user="anne")
    assert [s.number for s in again.lots] == [3, 4]
    # A lot that was sent cannot be deleted.
    Lot.update(state="TRANSMIS").where(Lot.id == again.lots[0].id).execute()
    with pytest.raises(IllegalTransition, match="impossible sur un lot à l'état « Transmis »"):
        lots.delete_lot(again.lots[0].id, user="anne")


def test_scor_lot_carries_the_pieces_of_degraded_invoices(office, tmp_path):
    first, second, third = office.invoices(3)
    office.add_piece(first, PDF + b"1")
    office.add_piece(first, PDF + b"2", kind="feuille")
    office.add_piece(third, PDF + b"3")
    report = lots.build_lots(transmission(tmp_path), user="anne")

    fse_lot, scor_lot = report.lots
    assert (scor_lot.kind, scor_lot.number, scor_lot.invoice_count, scor_lot.piece_count) == (
        "SCOR",
        2,
        2,
        3,
    )
    assert scor_lot.file_name == "SCOR_281234567_002.zip"
    content = ScorLotCodec().read(bytes(Lot.get_by_id(scor_lot.id).file_bytes))
    assert content.header.fse_lot_number == 1
    assert content.entry_names() == ["000007401_01.pdf", "000007401_02.pdf", "000007403_01.pdf"]
    assert [p.data for p in content.pieces] == [PDF + b"1", PDF + b"2", PDF + b"3"]
    assert {p.lot_id for p in InvoicePiece.select()} == {scor_lot.id}
    detail = lot_views.lot_detail(scor_lot.id)
    assert [p.entry_name for p in detail.pieces] == content.entry_names()


def test_a_piece_that_is_not_a_pdf_keeps_its_invoice_out(office, tmp_path):
    good, bad = office.invoices(2)
    office.add_piece(bad, b"GIF89a")
    report = lots.build_lots(transmission(tmp_path), user="anne")
    assert [s.invoice_count for s in report.lots] == [1]
    assert "n'est pas un PDF" in report.skipped[0].reason
    assert Invoice.get_by_id(good).state == "A_TRANSMETTRE"


def test_preview_and_counts(office, tmp_path):
    office.invoices(3)
    office.invoices(1, organism=office.lille)
    previews, skipped = lots.preview_build(transmission(tmp_path, lot_max_invoices=2))
    assert [(p.destination, len(p.invoice_ids), p.lot_count) for p in previews] == [
        ("01281", 3, 2),
        ("01595", 1, 1),
    ]
    assert skipped == [] and Lot.select().count() == 0
    lots.build_lots(transmission(tmp_path, lot_max_invoices=2), user="anne")
    assert lot_views.lot_counts()[LotState.A_TRANSMETTRE] == 3
    assert [s.number for s in lot_views.lots_to_send()] == [1, 2, 3]
    assert db.is_closed() is False


def _pragma_at_each_lot(monkeypatch, pragma: str) -> list:
    """What ``PRAGMA pragma`` reads as each lot of the next build is made."""
    seen = []
    build_one = lots._build_one

    def watched(*args, **kwargs):
        seen.append(db.execute_sql(f"PRAGMA {pragma}").fetchone()[0])
        return build_one(*args, **kwargs)

    monkeypatch.setattr(lots, "_build_one", watched)
    return seen


def test_the_build_reads_with_a_bigger_page_cache_then_gives_it_back(office, tmp_path, monkeypatch):
    office.invoices(2)
    usual = db.execute_sql("PRAGMA cache_size").fetchone()[0]
    seen = _pragma_at_each_lot(monkeypatch, "cache_size")
    report = lots.build_lots(transmission(tmp_path), user="amelie", now=T0)
    assert len(report.lots) == 1
    assert seen == [-lots.BUILD_PAGE_CACHE_KIB] and usual > -lots.BUILD_PAGE_CACHE_KIB
    assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == usual
    # Already as big (or given in pages): left as it is.
    db.execute_sql("PRAGMA cache_size = -20000")
    with lots._page_cache(lots.BUILD_PAGE_CACHE_KIB):
        assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == -20000
    db.execute_sql(f"PRAGMA cache_size = {usual}")


def test_the_build_checkpoints_the_wal_beside_its_lots(office, tmp_path, monkeypatch):
    office.invoices(3)
    seen = _pragma_at_each_lot(monkeypatch, "wal_autocheckpoint")
    report = lots.build_lots(transmission(tmp_path, lot_max_invoices=2), user="amelie", now=T0)
    assert len(report.lots) == 2
    assert seen == [0, 0]  # the lots' commits checkpoint nothing: the checkpointer does
    assert db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    busy, wal_pages, copied = db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and wal_pages == copied  # every page of the lots back in the file


def test_the_build_pauses_the_cycle_collector_then_starts_it_again(office, tmp_path, monkeypatch):
    import gc

    office.invoices(2)
    seen = []
    build_one = lots._build_one

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return build_one(*args, **kwargs)

    monkeypatch.setattr(lots, "_build_one", watched)
    assert gc.isenabled()
    # A heap frozen before (another test's desk) would keep what the build made, by design:
    # start from none, as a command does.
    gc.unfreeze()
    assert len(lots.build_lots(transmission(tmp_path), user="amelie", now=T0).lots) == 1
    assert seen == [False] and gc.isenabled() and gc.get_freeze_count() == 0
    # Given back on a failure too, and left off when it was off.
    monkeypatch.setattr(lots, "_build_one", lambda *args, **kwargs: 1 / 0)
    office.invoices(1)
    with pytest.raises(ZeroDivisionError):
        lots.build_lots(transmission(tmp_path), user="amelie", now=T0)
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(ZeroDivisionError):
            lots.build_lots(transmission(tmp_path), user="amelie", now=T0)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("head", [b"%PDF", b"%PDX-1.7 rest", b" %PDF-1.7"])
def test_a_piece_must_begin_with_the_pdf_magic(office, tmp_path, head):
    # The build reads a piece's first bytes only: a prefix of the magic, or the magic further
    # in, is no PDF.
    good, bad = office.invoices(2)
    office.add_piece(bad, head)
    report = lots.build_lots(transmission(tmp_path), user="anne")
    assert [s.invoice_count for s in report.lots] == [1]
    assert "n'est pas un PDF" in report.skipped[0].reason


_BUILD_CHILD = """
import sys
from tuibill.cli.main import main

print("exit", main(sys.argv[1:]))
print("modules", " ".join(sorted(sys.modules)))
"""


def test_a_build_without_scor_pieces_imports_neither_the_scor_format_nor_the_returns(
    office, db_url
):
    # Issue 12: each is read only by the paths that need it (a SCOR lot to write, a resending).
    import os
    import subprocess
    import sys

    office.invoices(2)
    db.close()
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_CHILD, "--db", db_url, "lots", "build", "--json"],
        capture_output=True, text=True, env={**os.environ, "TUIBILL_CONFIG": ""}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert shown["exit"] == "0"
    modules = set(shown["modules"].split())
    assert "tuibill.services.lots" in modules and Lot.select().count() == 1
    assert "tuibill.formats.scor_lot" not in modules
    assert "tuibill.domain.returns" not in modules
