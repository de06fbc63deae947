"""Roles allowed and refused for each action family (domain.permissions' table)."""

from __future__ import annotations

import pytest

from tuibill.domain.errors import Forbidden
from tuibill.domain.invoices import InvoiceAction
from tuibill.domain.permissions import (
    ALLOWED,
    Family,
    Role,
    check,
    invoice_family,
    may_roles,
    refusal,
    valid_pin,
)

EXPECTED = {
    Family.PATIENTS: {"secretariat", "praticien", "administrateur"},
    Family.BILLING: {"secretariat", "praticien", "administrateur"},
    Family.TRANSMIT: {"secretariat", "praticien", "administrateur"},
    Family.RETURNS: {"secretariat", "praticien", "administrateur"},
    Family.SIGN: {"praticien", "administrateur"},
    Family.CREDIT: {"praticien", "administrateur"},
    Family.PRACTICE: {"administrateur"},
    Family.USERS: {"administrateur"},
    Family.SETTINGS: {"administrateur"},
    Family.TARIFFS: {"administrateur"},
}


@pytest.mark.parametrize("family", list(Family))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_for_each_family(role: Role, family: Family) -> None:
    allowed = role.value in EXPECTED[family]
    assert (refusal(role, family) is None) == allowed
    if not allowed:
        with pytest.raises(Forbidden) as caught:
            check(role, family, login="k.brunet")
        message = str(caught.value)
        # The refusal names who may do it, in French.
        assert may_roles(family) in message
        assert "réservée au rôle" in message and "k.brunet" in message


def test_the_table_covers_every_family() -> None:
    assert set(ALLOWED) == set(Family)


def test_a_praticien_signs_and_credits_only_their_own_invoices() -> None:
    assert refusal(Role.PRATICIEN, Family.SIGN, own=True) is None
    assert "propres factures" in refusal(Role.PRATICIEN, Family.CREDIT, own=False)
    assert refusal(Role.ADMINISTRATEUR, Family.CREDIT, own=False) is None


def test_invoice_actions_fall_in_their_family() -> None:
    assert invoice_family(InvoiceAction.SECURE) is Family.SIGN
    assert invoice_family(InvoiceAction.CANCEL_TRANSMITTED) is Family.CREDIT
    assert invoice_family(InvoiceAction.PAY) is Family.RETURNS
    assert invoice_family(InvoiceAction.PUT_IN_LOT) is Family.TRANSMIT
    assert invoice_family(InvoiceAction.VALIDATE) is Family.BILLING
    assert invoice_family("create") is Family.BILLING


def test_may_roles_reads_as_french() -> None:
    assert may_roles(Family.SIGN) == "praticien ou administrateur"
    assert may_roles(Family.USERS) == "administrateur"


@pytest.mark.parametrize(("pin", "ok"), [("1234", True), ("12345678", True), ("123", False),
                                         ("123456789", False), ("12a4", False), ("", False)])
def test_pins_are_4_to_8_digits(pin: str, ok: bool) -> None:
    assert valid_pin(pin) is ok
