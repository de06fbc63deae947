"""Clients › Facturation and bordereaux, amounts checked by hand (see conftest for the month)."""

from __future__ import annotations

from datetime import date

import pytest

from conftest import november_interventions
from tuibill.domain.errors import IllegalTransition, RefusedOperation
from tuibill.formats.errors import FormatError
from tuibill.formats.homecare_csv import InterventionRow, write_interventions
from tuibill.models import Funding, HomecareInvoice, HomecareInvoiceLine, Intervention, Slip
from tuibill.services import audit, homecare, homecare_billing, slips

D = date
NOV = (2026, 11)
TODAY = D(2026, 12, 3)


def test_simulation_equals_creation_line_for_line(office) -> None:
    november_interventions(office)
    simulated = [p.as_dict() for p in homecare_billing.simulate(*NOV)]
    assert Intervention.select().where(Intervention.invoice_id.is_null(False)).count() == 0
    created, previews = homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    assert [p.as_dict() for p in previews] == simulated
    assert len(created) == 2
    for preview in simulated:
        invoice = HomecareInvoice.get(HomecareInvoice.client == preview["client"])
        assert invoice.state == "CREEE" and invoice.number is None
        assert (invoice.total_cents, invoice.client_cents, invoice.payer_cents) == (
            preview["montant_total"], preview["montant_du_client"], preview["montant_du_organismes"],
        )  # fmt: skip
        stored = [
            (line.day, line.amount_cents, line.payer_cents, line.client_cents, line.explanation)
            for line in invoice.lines.order_by(HomecareInvoiceLine.position)
        ]
        assert stored == [
            (line["date"], line["montant"], line["part_organisme"], line["part_client"], line["detail"])
            for line in preview["lignes"]
        ]


def test_the_whole_month_at_once_equals_client_by_client(office) -> None:
    """The month's billing reads every client's interventions, plans and contract in a few
    batched queries: it must bill each client as that client billed alone would be, lines and
    explanations included. Holidays (Sun 1 Toussaint, Wed 11 Armistice), a night into the next
    day, hours granted running out mid-intervention, two payers, a plan still « Saisi » and a
    client without any plan."""
    from tuibill.services import aid_plans

    november_interventions(office)
    add = homecare.add_intervention
    for day in (1, 9, 11, 16, 23, 29, 30):  # APA AD: 10 h a month, 3 h a visit
        add(office.jeanne.id, D(2026, 11, day), 1260, 1440 + 60 if day == 30 else 1440, "AD", "Léa")
    add(office.paul.id, D(2026, 11, 11), 480, 600, "MEN", "Sami")
    add(office.paul.id, D(2026, 11, 14), 480, 600, "AD", "Sami")
    waiting = homecare.create_client(homecare.ClientInput("BERNARD", "Odile"))
    alone = homecare.create_client(homecare.ClientInput("ROBERT", "Henri"))
    for client in (waiting, alone):
        homecare.set_contract_line(client.id, "AD", 2400, 2600, 3000)
        add(client.id, D(2026, 11, 1), 540, 600, "AD", "Inès")
        add(client.id, D(2026, 11, 7), 540, 630, "AD", "Inès")
    aid_plans.create_plan(waiting.id, office.apa.id, "AD", D(2026, 11, 1))  # stays « Saisi »

    whole = [p.as_dict() for p in homecare_billing.simulate(*NOV)]
    one_by_one = {
        client_id: homecare_billing.simulate(*NOV, [client_id])[0].as_dict()
        for client_id in (office.jeanne.id, office.paul.id, waiting.id, alone.id)
    }
    assert {p["client"]: p for p in whole} == one_by_one
    kinds = {line["financement"] for p in whole for line in p["lignes"]}
    assert {"FINANCE", "SANS_PLAN", "HEURES_EPUISEES"} <= kinds
    assert {line["type_jour"] for p in whole for line in p["lignes"]} == {
        "SEMAINE", "SAMEDI", "DIMANCHE_FERIE",
    }  # fmt: skip
    assert not one_by_one[waiting.id]["par_organisme"]  # a plan « Saisi » finances nothing

    created, previews = homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    assert [p.as_dict() for p in previews] == whole and len(created) == 4
    for preview in whole:
        invoice = HomecareInvoice.get(HomecareInvoice.client == preview["client"])
        stored = [
            (line.day, line.start_minute, line.funding, line.amount_cents, line.payer_cents,
             line.client_cents, line.explanation)
            for line in invoice.lines.order_by(HomecareInvoiceLine.position)
        ]  # fmt: skip
        assert stored == [
            (line["date"], int(line["debut"][:2]) * 60 + int(line["debut"][3:]),
             line["financement"], line["montant"], line["part_organisme"], line["part_client"],
             line["detail"])
            for line in preview["lignes"]
        ]  # fmt: skip
        billed = Intervention.select().where(Intervention.invoice_id == invoice.id).count()
        assert billed == Intervention.select().where(
            Intervention.client == preview["client"]
        ).count()
    assert audit.verify().ok


def test_interventions_marked_billed_are_those_read_or_nothing_is_billed(
    office, monkeypatch
) -> None:
    """The interventions get their invoice by one statement a client, by the condition they were
    read with: should the two ever differ, the whole month is refused, nothing written."""
    november_interventions(office)
    read = homecare_billing._month_of

    def one_missed(clients, start, end):
        work, billed = read(clients, start, end)
        work[office.jeanne.id] = work[office.jeanne.id][1:]
        return work, billed

    monkeypatch.setattr(homecare_billing, "_month_of", one_missed)
    with pytest.raises(RefusedOperation, match="ont changé pendant la facturation"):
        homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    assert HomecareInvoice.select().count() == 0
    assert Intervention.select().where(Intervention.invoice_id.is_null(False)).count() == 0


def test_validating_the_month_at_once_numbers_and_records_as_one_by_one(office) -> None:
    """``validate_invoices`` moves the month in one batch (``homecare_lifecycle.move_invoices``):
    the numbers follow the invoices' order after those already given, each invoice gets its
    « Valider » history row, chained, and the counter moves on by as many."""
    from datetime import datetime

    from tuibill.models import HomecareCounter, HomecareInvoiceTransition
    from tuibill.services import homecare_lifecycle

    november_interventions(office)
    homecare_billing.create_invoices(*NOV, [office.paul.id], user="anne", today=TODAY)
    first = HomecareInvoice.get(HomecareInvoice.client == office.paul.id)
    homecare_billing.validate_invoice(first.id, user="anne")  # F-000001, one by one
    homecare_billing.credit_invoice(first.id, user="anne", reason="erreur", today=TODAY)  # AV-2
    homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    at = datetime(2026, 12, 4, 10, 30)
    done = homecare_billing.validate_invoices(*NOV, user="bea", at=at)
    moved = list(
        HomecareInvoice.select().where(HomecareInvoice.id.in_(done)).order_by(HomecareInvoice.id)
    )
    assert done == sorted(done) and len(done) == 2
    assert [(i.state, i.number) for i in moved] == [("VALIDEE", 3), ("VALIDEE", 4)]
    counter = HomecareCounter.get(HomecareCounter.kind == homecare_lifecycle.INVOICE_COUNTER)
    assert counter.next_value == 5
    history = [
        (row.invoice_id, row.at, row.user, row.from_state, row.to_state, row.action)
        for row in HomecareInvoiceTransition.select()
        .where(HomecareInvoiceTransition.user == "bea")
        .order_by(HomecareInvoiceTransition.seq)
    ]
    assert history == [(i.id, at, "bea", "CREEE", "VALIDEE", "validate") for i in moved]
    assert audit.verify().ok


def test_a_batch_validation_is_refused_whole_when_another_desk_moved_an_invoice(office) -> None:
    from tuibill.domain.homecare_invoices import HomecareInvoiceAction
    from tuibill.models import HomecareCounter
    from tuibill.models.database import immediate
    from tuibill.services import homecare_lifecycle

    november_interventions(office)
    homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    read = list(HomecareInvoice.select().order_by(HomecareInvoice.id))
    homecare_billing.delete_invoice(read[1].id, user="other")  # meanwhile, on another desk
    with pytest.raises(RefusedOperation, match="modifiées par un autre poste"), immediate():
        homecare_lifecycle.move_invoices(read, HomecareInvoiceAction.VALIDATE, user="anne")
    states = [i.state for i in HomecareInvoice.select().order_by(HomecareInvoice.id)]
    assert states == ["CREEE", "SUPPRIMEE"]
    assert not HomecareCounter.select().where(HomecareCounter.next_value > 1).exists()
    assert audit.verify().ok


def test_the_month_leaves_the_garbage_collector_as_it_found_it(office, monkeypatch) -> None:
    """The month is computed with the cyclic collector paused (its objects hold no cycle): it
    runs again afterwards, even after a refusal, or stays off when the caller had turned it
    off."""
    import gc

    november_interventions(office)
    assert gc.isenabled()
    homecare_billing.simulate(*NOV)
    assert gc.isenabled()
    gc.disable()
    try:
        created, _ = homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
        assert not gc.isenabled() and len(created) == 2
    finally:
        gc.enable()

    def refused(*args):
        raise RefusedOperation("non")

    monkeypatch.setattr(homecare_billing, "_month_of", refused)
    with pytest.raises(RefusedOperation):
        homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    assert gc.isenabled()


def test_the_month_checked_by_hand(office) -> None:
    november_interventions(office)
    homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    homecare_billing.validate_invoices(*NOV, user="anne")
    rows = {row.client: row for row in homecare_billing.list_invoices(year=2026, month=11)}
    jeanne, paul = rows["DUPONT Jeanne"], rows["MARTIN Paul"]
    # 44,00 + 46,00 + 46,00; APA 35,20 + CARSAT 21,00; client 8,80 + 46,00 + 25,00
    assert (jeanne.total_cents, jeanne.payer_cents, jeanne.client_cents) == (13_600, 5_620, 7_980)
    # 72,00 + 40,00; mutuelle 36,00 + APA 40,00; client 36,00
    assert (paul.total_cents, paul.payer_cents, paul.client_cents) == (11_200, 7_600, 3_600)
    shares = {
        (f.invoice.client.last_name, f.payer.name): f.cents
        for f in Funding.select().join(HomecareInvoice)
    }
    assert shares == {
        ("DUPONT", "APA Eure-et-Loir"): 3_520,
        ("DUPONT", "CARSAT Centre"): 2_100,
        ("MARTIN", "Mutuelle du Parc"): 3_600,
        ("MARTIN", "APA Eure-et-Loir"): 4_000,
    }
    # Numbered in validation order, no gap.
    assert sorted(r.number for r in rows.values()) == ["F-000001", "F-000002"]


def test_a_month_is_billed_once_until_an_avoir(office) -> None:
    november_interventions(office)
    homecare_billing.create_invoices(*NOV, [office.jeanne.id], user="anne", today=TODAY)
    homecare_billing.validate_invoices(*NOV, user="anne")
    homecare.add_intervention(office.jeanne.id, D(2026, 11, 24), 540, 600, "AD")  # late entry
    (preview,) = homecare_billing.simulate(*NOV, [office.jeanne.id])
    assert preview.billing is None and "avoir" in preview.refusal
    (invoice,) = homecare_billing.list_invoices(client_id=office.jeanne.id)
    credit = homecare_billing.credit_invoice(invoice.id, user="anne", reason="oubli du 24", today=TODAY)
    assert credit.kind == "AVOIR" and credit.number == 2 and credit.total_cents == -13_600
    assert HomecareInvoice.get_by_id(invoice.id).state == "ANNULEE"
    with pytest.raises(IllegalTransition):
        homecare_billing.credit_invoice(invoice.id, user="anne", reason="encore")
    created, _ = homecare_billing.create_invoices(*NOV, [office.jeanne.id], user="anne", today=TODAY)
    again = HomecareInvoice.get_by_id(created[0])
    assert again.total_cents == 13_600 + 2_200  # the hour of the 24th at the plan rate 22,00
    assert homecare_billing.balance_of(office.jeanne.id).net_to_pay_cents == 7_980 - 7_980


def test_bordereaux_carry_the_financed_shares_and_the_avoir_is_deducted_next(office) -> None:
    november_interventions(office)
    homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    homecare_billing.validate_invoices(*NOV, user="anne")
    start, end = homecare_billing.month_bounds(*NOV)
    simulated = slips.simulate_slips(start, end)
    created, plans = slips.create_slips(start, end, user="anne", slip_date=TODAY)
    assert [p.as_dict() for p in plans] == [p.as_dict() for p in simulated]
    by_payer = {(row.payer, row.beneficiary): row.total_cents for row in slips.list_slips()}
    assert by_payer == {
        ("APA Eure-et-Loir", "(tous)"): 3_520 + 4_000,  # Globale: both beneficiaries
        ("CARSAT Centre", "DUPONT Jeanne"): 2_100,
        ("Mutuelle du Parc", "MARTIN Paul"): 3_600,
    }
    for slip in Slip.select():
        assert slip.total_cents == sum(f.cents for f in slip.fundings)
    # Nothing left to put on a bordereau for November.
    assert slips.simulate_slips(start, end) == []
    slips.validate_slips(start, end, user="anne", today=TODAY)
    # An avoir on Paul's invoice: the APA's 40,00 and the mutuelle's 36,00 wait for their next
    # bordereau, deducted from December's.
    paul = homecare_billing.list_invoices(client_id=office.paul.id)[0]
    homecare_billing.credit_invoice(paul.id, user="anne", reason="erreur de prestation", today=TODAY)
    homecare.add_intervention(office.paul.id, D(2026, 12, 2), 600, 720, "MEN", "Sami")  # APA 40,00
    homecare.add_intervention(office.paul.id, D(2026, 12, 3), 540, 600, "AD", "Sami")  # mut. 12,00
    homecare_billing.create_invoices(2026, 12, user="anne", today=D(2026, 12, 31))
    homecare_billing.validate_invoices(2026, 12, user="anne")
    dec_start, dec_end = homecare_billing.month_bounds(2026, 12)
    plans = {p.payer: p for p in slips.simulate_slips(dec_start, dec_end)}
    # APA: December's 40,00 less the avoir's 40,00.
    assert (plans["APA Eure-et-Loir"].deductions_cents, plans["APA Eure-et-Loir"].total_cents) == (
        -4_000, 0,
    )  # fmt: skip
    # Mutuelle: 12,00 − 36,00 would be negative: the deduction waits for a later bordereau.
    assert (plans["Mutuelle du Parc"].deductions_cents, plans["Mutuelle du Parc"].total_cents) == (
        0, 1_200,
    )  # fmt: skip
    slips.create_slips(dec_start, dec_end, user="anne", slip_date=D(2026, 12, 31))
    waiting = Funding.select().where((Funding.cents < 0) & Funding.slip.is_null())
    assert [(f.payer.name, f.cents) for f in waiting] == [("Mutuelle du Parc", -3_600)]
    for slip in Slip.select():
        assert slip.total_cents == sum(f.cents for f in slip.fundings) >= 0


def test_a_payer_paying_the_client_directly_gets_no_bordereau(office) -> None:
    from tuibill.services.payers import payer_input, update_payer

    november_interventions(office)
    homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    homecare_billing.validate_invoices(*NOV, user="anne")
    data = payer_input(office.carsat)
    update_payer(office.carsat.id, data.__class__(**{**data.__dict__, "aid_paid_to_client": True}))
    start, end = homecare_billing.month_bounds(*NOV)
    created, plans = slips.create_slips(start, end, user="anne", slip_date=TODAY)
    refused = [p for p in plans if p.refusal]
    assert [p.payer for p in refused] == ["CARSAT Centre"]
    assert "Aide versée directement au client" in refused[0].refusal
    assert "CARSAT Centre" not in {row.payer for row in slips.list_slips()}


def test_bulk_validation_takes_only_bordereaux_dated_today_or_earlier(office) -> None:
    november_interventions(office)
    homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    homecare_billing.validate_invoices(*NOV, user="anne")
    start, end = homecare_billing.month_bounds(*NOV)
    slips.create_slips(start, end, [office.apa.id], user="anne", slip_date=D(2026, 12, 10))
    slips.create_slips(start, end, [office.carsat.id], user="anne", slip_date=D(2026, 12, 1))
    result = slips.validate_slips(start, end, user="anne", today=TODAY)
    states = {row.payer: row.state for row in slips.list_slips()}
    assert states == {"APA Eure-et-Loir": "CREE", "CARSAT Centre": "VALIDE"}
    assert len(result.done) == 1 and "10/12/2026" in result.skipped[0][1]
    with pytest.raises(RefusedOperation, match="après aujourd'hui"):
        slips.validate_slip(result.skipped[0][0], user="anne", today=TODAY)


def test_deleting_a_created_bordereau_frees_its_shares(office) -> None:
    november_interventions(office)
    homecare_billing.create_invoices(*NOV, user="anne", today=TODAY)
    homecare_billing.validate_invoices(*NOV, user="anne")
    start, end = homecare_billing.month_bounds(*NOV)
    (slip_id,), _ = slips.create_slips(start, end, [office.carsat.id], user="anne", slip_date=TODAY)
    slips.delete_slip(slip_id, user="anne", reason="mauvaise date")
    assert Slip.get_by_id(slip_id).state == "SUPPRIME"
    assert Funding.select().where(Funding.slip == slip_id).count() == 0
    assert [p.total_cents for p in slips.simulate_slips(start, end, [office.carsat.id])] == [2_100]
    assert audit.verify().ok


def test_a_planning_file_with_one_bad_line_is_refused_whole(office) -> None:
    rows = [
        InterventionRow(2, office.jeanne.id, D(2026, 11, 2), 540, 660, "AD", "Léa"),
        InterventionRow(3, office.jeanne.id, D(2026, 11, 28), 1320, 1560, "AD", "Léa"),
    ]
    good = write_interventions(rows)
    assert homecare.import_interventions(good) == 2
    night = homecare.list_interventions(client_id=office.jeanne.id)[-1]
    assert (night.start_minute, night.end_minute) == (1320, 1560)  # ends the next day
    bad = good + f"{office.paul.id};03/11/2026;09:00;10:00;JARDIN;Sami\r\n".encode()
    with pytest.raises(FormatError, match="Ligne 4 : la prestation « JARDIN »"):
        homecare.import_interventions(bad)
    unknown = good.replace(f"{office.jeanne.id};02/11".encode(), b"999;02/11")
    with pytest.raises(FormatError, match="Ligne 2 : client 999 inconnu"):
        homecare.import_interventions(unknown)
    assert len(homecare.list_interventions()) == 2  # nothing from the refused files


def test_a_heap_frozen_by_the_desk_stays_frozen_after_a_month() -> None:
    """The desk freezes its heap out of the collector's scans (start-up, journals): a month
    billed there must not hand it back (``unfreeze``); a command, which froze nothing, ends with
    nothing frozen. In a child process: freezing is for the whole interpreter."""
    import subprocess
    import sys

    script = (
        "import gc\n"
        "from tuibill.services.collector import no_cycle_collection\n"
        "with no_cycle_collection():\n"
        "    kept = [[n] for n in range(1000)]\n"
        "print(gc.get_freeze_count())\n"
        "gc.freeze()\n"
        "before = gc.get_freeze_count()\n"
        "with no_cycle_collection():\n"
        "    more = [[n] for n in range(1000)]\n"
        "print(gc.get_freeze_count() >= before + 1000, gc.isenabled())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "0" and out[1] == "True True"
