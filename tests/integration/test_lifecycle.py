"""Walk the domain's tables: every move of an invoice or a lot, and every effect its row names.

Each row is applied by ``services.lifecycle`` to a real row in a real SQLite file, set in the
row's source state; the test then checks the target and each effect the row names (and that the
effects it does not name left the columns alone), and the history row.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from tuibill.domain.acts import Act
from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.domain.invoices import MOVES, InvoiceState, LotLink, Move, Securing, TlaKey
from tuibill.domain.lots import MOVES as LOT_MOVES
from tuibill.domain.lots import ArlFields, LotAction, LotMove, LotState, is_resending
from tuibill.models import (
    Counter,
    CreditNote,
    Invoice,
    InvoicePiece,
    InvoiceTransition,
    IsolatedAct,
    Lot,
    LotTransition,
    Patient,
)
from tuibill.models.database import immediate
from tuibill.services import invoices as invoice_service
from tuibill.services import lifecycle, patients, practice

TODAY = date.today()
AT = datetime(2026, 3, 2, 18, 0, 0)
SIGNED = {
    "mode": "sesam_vitale",
    "secured_with_vitale": True,
    "signature": "c2ln",
    "signature_algorithm": "RSA-SHA256",
    "signer": "GAUTIER Anne 281234567",
    "signing_card": "CPS 42",
    "signer_certificate": "Y2VydA==",
    "secured_at": AT,
}


@pytest.fixture
def office(db_url):
    from tuibill.domain.patients import nir_key

    nurse = practice.create_practitioner("GAUTIER", "Anne", "281234567", invoice_number_start=100)
    organism = patients.create_organism("01", "281", "0000", "CPAM CHARTRES")
    first13 = "1500528123456"
    patient = patients.create_patient(
        patients.PatientInput(
            last_name="Dupuis", first_name="Alain", birth_date=date(1950, 5, 1),
            nir=first13 + nir_key(first13), organism_id=organism.id,
        )
    )  # fmt: skip
    return nurse, organism, patient


def new_lot(office, state: LotState, *, send_count: int = 0, invoice_count: int = 1, **kw) -> Lot:
    nurse, organism, _ = office
    return Lot.create(
        practitioner=nurse.id, organism=organism.id, number=7, state=state.value,
        created_at=AT, destination="01281", file_bytes=b"x", invoice_count=invoice_count,
        send_count=send_count, **kw,
    )  # fmt: skip


def invoice_in(office, state: InvoiceState, **columns) -> Invoice:
    nurse, _, patient = office
    act = Act(act_date=TODAY - timedelta(days=2), code="AMI", act_time=time(10))
    invoice = invoice_service.create_invoice(nurse.id, patient.id, [act], user="anne")
    Invoice.update(state=state.value, **columns).where(Invoice.id == invoice.id).execute()
    return Invoice.get_by_id(invoice.id)


def invoice_data(move: Move, lot: Lot | None) -> dict:
    """What the row's effects need from the caller."""
    data: dict = {}
    if move.effects.securing is Securing.SIGNED:
        data["securing"] = SIGNED
    if move.effects.lot is LotLink.JOIN:
        data["lot"] = lot
    if move.effects.tla_key is TlaKey.SET:
        data["tla_key"] = "281234567-000000100"
    if move.effects.resend_guard:
        data["recycling_days"] = 90  # never transmitted in its history: nothing to wait for
    return data


@pytest.mark.parametrize("move", MOVES, ids=lambda m: f"{m.source}-{m.action}")
def test_every_invoice_move_and_its_effects(office, move: Move) -> None:
    effects = move.effects
    lot = None
    before_columns: dict = {"tla_key": "OLD-KEY", **SIGNED, "signer": "avant"}
    if effects.lot is LotLink.JOIN:
        lot = new_lot(office, LotState.A_TRANSMETTRE)
    elif move.source in (
        InvoiceState.A_TRANSMETTRE, InvoiceState.TRANSMISE, InvoiceState.REJETEE,
        InvoiceState.RECYCLEE,
    ):  # fmt: skip
        sent = move.source is not InvoiceState.A_TRANSMETTRE
        lot = new_lot(office, LotState.TRANSMIS if sent else LotState.A_TRANSMETTRE)
        before_columns.update(lot=lot.id, lot_number=lot.number)
    if not (effects.allocates_number or effects.unnumbered_only):
        before_columns["number"] = 150
    if effects.amc_to_patient:  # the mutuelle paid 1 € of its 5 €
        before_columns.update(amc_cents=500, amc_paid_cents=100)
    if effects.degraded_only:  # refused for an invoice made in mode SESAM-Vitale
        signed = invoice_in(office, move.source, **{**before_columns, "number": 152})
        with pytest.raises(RefusedOperation, match="SESAM-Vitale"), immediate():
            lifecycle.move(signed, move.action, user="anne", reason="x", **invoice_data(move, lot))
        before_columns["mode"] = "degrade"
    invoice = invoice_in(office, move.source, **before_columns)
    if effects.unnumbered_only:  # refused once numbered: it would leave a gap
        numbered = invoice_in(office, move.source, number=151)
        with pytest.raises(RefusedOperation, match="jamais numérotée"), immediate():
            lifecycle.move(numbered, move.action, user="anne", reason="x")
    nurse, _, patient = office
    isolated = IsolatedAct.create(
        patient=patient.id, practitioner=nurse.id, act_date=TODAY, code="AMI", invoice=invoice.id
    )
    counter = Counter.get(kind="invoice").next_value
    reason = "motif de test"

    if effects.needs_reason:
        with pytest.raises(ValidationError, match="motif"), immediate():
            lifecycle.move(invoice, move.action, user="anne", **invoice_data(move, lot))
        assert Invoice.get_by_id(invoice.id).state == move.source.value  # nothing changed

    with immediate():
        target = lifecycle.move(
            invoice, move.action, user="anne", reason=reason, at=AT, **invoice_data(move, lot)
        )
    after = Invoice.get_by_id(invoice.id)
    assert target is move.target and after.state == move.target.value

    # The number: taken once, then kept for the invoice's life.
    if effects.allocates_number:
        assert after.number == counter and Counter.get(kind="invoice").next_value == counter + 1
    elif effects.unnumbered_only:
        assert after.number is None and Counter.get(kind="invoice").next_value == counter
    else:
        assert after.number == 150 and Counter.get(kind="invoice").next_value == counter
    if effects.releases_acts:  # what the draft consumed is free again
        assert IsolatedAct.get_by_id(isolated.id).invoice_id is None

    # Issue 9's effects: recycling recorded, the avoir made, the AMC share to the patient.
    assert (after.recycled_at, after.recycled_by) == (
        (AT, "anne") if effects.marks_recycled else (None, None)
    )
    notes = list(CreditNote.select().where(CreditNote.invoice == invoice.id))
    if effects.credit_note:
        (note,) = notes
        assert (note.number, note.total_cents, note.created_by) == (1, after.total_cents, "anne")
    else:
        assert notes == []
    assert after.amc_to_patient_cents == (400 if effects.amc_to_patient else None)

    secured = {key: getattr(after, key) for key in SIGNED}
    if effects.securing is Securing.CLEAR:
        assert secured == lifecycle.CLEARED_SECURING
    elif effects.securing is Securing.SIGNED:
        assert secured == SIGNED
    elif effects.securing is Securing.SIGNED_OR_DEGRADED:
        assert secured == lifecycle.CLEARED_SECURING  # no card given: mode dégradé
    elif effects.degraded_only:
        assert secured == {**SIGNED, "signer": "avant", "mode": "degrade"}
    else:
        assert secured == {**SIGNED, "signer": "avant"}

    if effects.tla_key is TlaKey.SET:
        assert after.tla_key == "281234567-000000100"
    elif effects.tla_key is TlaKey.CLEAR:
        assert after.tla_key is None
    else:
        assert after.tla_key == "OLD-KEY"

    if effects.lot is LotLink.JOIN:
        assert (after.lot_id, after.lot_number) == (lot.id, lot.number)
    elif effects.lot in (LotLink.LEAVE, LotLink.CANCEL):
        assert (after.lot_id, after.lot_number) == (None, None)
        left = Lot.get_by_id(lot.id)
        if effects.lot is LotLink.CANCEL:  # the only invoice of a sent lot: the lot is Annulé
            assert (left.cancelled_count, left.state) == (1, "ANNULE")
        else:
            assert (left.cancelled_count, left.state) == (0, lot.state)
    elif lot is not None:
        assert after.lot_id == lot.id

    history = InvoiceTransition.select().order_by(InvoiceTransition.id.desc()).first()
    assert (history.from_state, history.to_state, history.action, history.user) == (
        move.source.value, move.target.value, move.action.value, "anne",
    )  # fmt: skip
    assert history.reason == reason and history.at == AT


def test_rules_are_checked_before_a_number_is_taken(office) -> None:
    invoice = invoice_in(office, InvoiceState.SAISIE)
    Patient.update(death_date=TODAY - timedelta(days=5)).execute()
    counter = Counter.get(kind="invoice").next_value
    with pytest.raises(ValidationError, match="décès"), immediate():
        lifecycle.move(invoice, "validate", user="anne")
    assert Counter.get(kind="invoice").next_value == counter
    assert Invoice.get_by_id(invoice.id).number is None


def test_data_a_row_does_not_name_is_a_programming_error(office) -> None:
    invoice = invoice_in(office, InvoiceState.VALIDEE, number=150)
    with pytest.raises(TypeError), immediate():
        lifecycle.move(invoice, "unvalidate", user="anne", tla_key="K")
    with pytest.raises(TypeError), immediate():
        lifecycle.move(invoice, "put_in_lot", user="anne")  # which lot?


def lot_data(move: LotMove) -> dict:
    data: dict = {}
    if move.effects.starts_sending:
        data.update(message_id="<1@tuibill>", recipient="lots@cpam.example")
    if move.effects.counts_sending:
        data["sent_at"] = AT - timedelta(minutes=5)
    if move.effects.arl is ArlFields.SET:
        data["arl_code"] = "004"
    return data


def _send_count(move: LotMove, resending: bool) -> int:
    """The send count that makes the move's source count as the first sending or the re-sending."""
    return next(n for n in range(3) if is_resending(move.source, n) == resending)


# A third sending is refused by the table itself (tests/unit/test_lot_states.py): not a move.
LOT_CASES = [
    pytest.param(move, resending, id=f"{move.source}-{move.action}-{'re' if resending else ''}send")
    for move in LOT_MOVES
    for resending in (False, True)
    if not (move.action is LotAction.START_SENDING and _send_count(move, resending) >= 2)
]


@pytest.mark.parametrize(("move", "resending"), LOT_CASES)
def test_every_lot_move_and_its_effects(office, move: LotMove, resending: bool) -> None:
    effects = move.effects
    count = _send_count(move, resending)
    lot = new_lot(office, move.source, send_count=count, last_error="avant", arl_code="999")
    invoice = invoice_in(office, InvoiceState.A_TRANSMETTRE, lot=lot.id, lot_number=7, number=150)
    child = new_lot(office, LotState.A_TRANSMETTRE, kind="SCOR", parent=lot.id)
    piece = InvoicePiece.create(
        invoice=invoice.id, file_name="o.pdf", content=b"%PDF-", sha256="0", added_at=AT, lot=lot.id
    )

    with immediate():
        target = lifecycle.move(lot, move.action, user="anne", reason="motif", at=AT, **lot_data(move))
    after = Lot.get_by_id(lot.id)
    expected = move.target_resending if resending else move.target
    assert target is expected and after.state == expected.value

    if effects.starts_sending:
        assert (after.send_started_at, after.message_id, after.recipient) == (
            AT, "<1@tuibill>", "lots@cpam.example",
        )  # fmt: skip
    if effects.counts_sending:
        assert (after.send_count, after.sent_at) == (count + 1, AT - timedelta(minutes=5))
    else:
        assert after.send_count == count
    if effects.records_error:
        assert (after.last_error, after.last_error_at) == ("motif", AT)
    elif effects.clears_error:
        assert (after.last_error, after.last_error_at) == ("", None)
    else:
        assert after.last_error == "avant"
    if effects.arl is ArlFields.SET:
        assert (after.arl_at, after.arl_code, after.arl_reason) == (AT, "004", "motif")
    elif effects.arl is ArlFields.CLEAR:
        assert (after.arl_at, after.arl_code, after.arl_reason) == (AT, "", "")
    else:
        assert after.arl_code == "999"

    carried = Invoice.get_by_id(invoice.id)
    if effects.invoices is not None:
        from tuibill.domain.invoices import next_state

        assert carried.state == next_state(InvoiceState.A_TRANSMETTRE, effects.invoices).value
    else:
        assert carried.state == "A_TRANSMETTRE"
    child_after = Lot.get_by_id(child.id)
    if effects.children is not None:
        assert child_after.state != "A_TRANSMETTRE"
    else:
        assert child_after.state == "A_TRANSMETTRE"
    assert (InvoicePiece.get_by_id(piece.id).lot_id is None) == effects.releases_pieces

    history = (
        LotTransition.select().where(LotTransition.lot == lot.id).order_by(LotTransition.id).first()
    )
    assert (history.from_state, history.to_state, history.action, history.at) == (
        move.source.value, expected.value, move.action.value, AT,
    )  # fmt: skip


def test_a_resending_is_refused_within_the_recycling_delay(office) -> None:
    """Seed 002: an FSE transmitted 10 days ago, neither rejected nor recycled, cannot be
    re-sent (the concentrator's « DOUBLON DE FSE »); recycled, it can."""
    invoice = invoice_in(office, InvoiceState.TRANSMISE, number=160)
    sent = datetime.combine(TODAY - timedelta(days=10), time(9))
    with immediate():
        lifecycle.record_invoice(invoice, "A_TRANSMETTRE", "TRANSMISE", "transmit", "anne", at=sent)
    with pytest.raises(RefusedOperation, match="moins de 90 jours"), immediate():
        lifecycle.move(invoice, "reactivate", user="anne", reason="renvoi", recycling_days=90)
    with immediate():  # a shorter delay (setting): allowed
        lifecycle.move(invoice, "reactivate", user="anne", reason="renvoi", recycling_days=7)
    assert Invoice.get_by_id(invoice.id).state == "VALIDEE"
    assert Invoice.get_by_id(invoice.id).number == 160  # the same number
    with pytest.raises(TypeError), immediate():  # the delay is the caller's to give
        lifecycle.move(invoice_in(office, InvoiceState.TRANSMISE, number=161), "reactivate",
                       user="anne", reason="renvoi")  # fmt: skip
