"""What a NOEMIE return means for an invoice (domain.returns), case by case."""

from __future__ import annotations

import pytest

from tuibill.domain.invoices import InvoiceAction, InvoiceState
from tuibill.domain.returns import Outcome, Part, PartAnswer, PartState, invoice_outcome, move_for

P, R, D, U = PartState.PAID, PartState.REJECTED, PartState.DEFERRED, PartState.UNTREATED


def amo(asked: int, paid: int, state: PartState) -> PartAnswer:
    return PartAnswer(Part.AMO, asked, paid, state)


def amc(asked: int, paid: int, state: PartState) -> PartAnswer:
    return PartAnswer(Part.AMC, asked, paid, state)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        pytest.param([amo(189, 189, P)], Outcome.PAID, id="amo-paid-in-full"),
        pytest.param([amo(189, 189, P), amc(126, 126, P)], Outcome.PAID, id="both-paid"),
        pytest.param([amo(189, 120, P)], Outcome.PARTIAL, id="amo-less-than-asked"),
        pytest.param([amo(189, 189, P), amc(126, 0, R)], Outcome.PARTIAL, id="amc-rejected"),
        pytest.param([amo(189, 0, R)], Outcome.REJECTED, id="amo-rejected"),
        pytest.param([amo(189, 0, R), amc(126, 0, R)], Outcome.REJECTED, id="both-rejected"),
        pytest.param([amo(0, 0, U), amc(126, 0, R)], Outcome.REJECTED, id="only-amc-asked-rejected"),
        pytest.param([amo(189, 0, D)], Outcome.DEFERRED, id="amo-deferred"),
        pytest.param([amo(189, 189, P), amc(126, 0, U)], Outcome.PAID, id="amc-untreated-here"),
        pytest.param([amo(189, 189, P), amc(126, 0, D)], Outcome.PARTIAL, id="amc-deferred"),
        pytest.param([amo(189, 0, U)], Outcome.NONE, id="nothing-treated"),
        pytest.param([], Outcome.NONE, id="no-part"),
        # A back-payment (081 type 04): the sums over every return are what count.
        pytest.param([amo(189, 120 + 69, P)], Outcome.PAID, id="completed-by-back-payment"),
        pytest.param([amo(189, 189 - 189, P)], Outcome.NONE, id="paid-then-taken-back"),
    ],
)
def test_outcome_of_an_invoice(parts, expected) -> None:
    assert invoice_outcome(parts) is expected


@pytest.mark.parametrize(
    ("state", "outcome", "action"),
    [
        (InvoiceState.TRANSMISE, Outcome.PAID, InvoiceAction.PAY),
        (InvoiceState.TRANSMISE, Outcome.PARTIAL, InvoiceAction.PAY_PARTIALLY),
        (InvoiceState.TRANSMISE, Outcome.REJECTED, InvoiceAction.REJECT),
        (InvoiceState.TRANSMISE, Outcome.DEFERRED, None),  # stays Transmise, fact recorded
        (InvoiceState.PAYEE_PARTIELLEMENT, Outcome.PAID, InvoiceAction.PAY),
        (InvoiceState.PAYEE_PARTIELLEMENT, Outcome.PARTIAL, None),
        (InvoiceState.REJETEE, Outcome.PAID, InvoiceAction.PAY),
        (InvoiceState.REJETEE, Outcome.PARTIAL, InvoiceAction.PAY_PARTIALLY),
        (InvoiceState.PAYEE, Outcome.PAID, None),  # paid twice: flagged, never moved
    ],
    ids=lambda v: str(v),
)
def test_move_an_outcome_makes(state, outcome, action) -> None:
    assert move_for(state, outcome) is action
