"""The demo's home-care service (seed 004): three tiers-payeurs (the département's APA, a caisse
de retraite, a mutuelle), clients with their contract and plans d'aide, two months of
interventions, invoices (an avoir among them), bordereaux in every state, payments and a
relance — all made through the real services, so their histories are real.

The mail steps are done by post here (a demo has no mail server): the bordereaux of the first
month are « Édités » and the relance is printed; ``tuibill slip send`` sends them by e-mail.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from tuibill.domain.aid_plans import BillingMode, HourlyRates
from tuibill.domain.homecare_invoices import InvoiceKind
from tuibill.domain.slips import SlipState
from tuibill.services import aid_plans, homecare, homecare_billing, payer_mail, payers, payments
from tuibill.services import slips as slip_service
from tuibill.services.payers import PayerInput, PlanValues

USER = "demo"

PRESTATIONS = [("AD", "Aide à domicile"), ("MEN", "Ménage"), ("ACC", "Accompagnement")]
CLIENTS = [
    ("LEGRAND", "Marcelle", "4 rue des Écoles", "28000", "Chartres"),
    ("PERRIN", "Gaston", "17 avenue d'Aligre", "28000", "Chartres"),
    ("COLIN", "Yvonne", "2 place Drouaise", "28000", "Chartres"),
    ("BLANCHARD", "Émile", "9 rue du Bourg", "28300", "Lèves"),
    ("MARCHAND", "Huguette", "31 rue de la Paix", "28110", "Lucé"),
    ("BRUN", "Odile", "5 allée des Pins", "28630", "Le Coudray"),
]


def _previous_months(today: date) -> tuple[tuple[int, int], tuple[int, int]]:
    first = today.replace(day=1)
    last_month = first - timedelta(days=1)
    before = last_month.replace(day=1) - timedelta(days=1)
    return (before.year, before.month), (last_month.year, last_month.month)


def _moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0))


def build_homecare_demo(*, today: date | None = None, seed: int = 2026) -> dict[str, int]:
    """Add the home-care demo to an initialised database. Returns counts."""
    rng = random.Random(seed)
    today = today or date.today()
    (y1, m1), (y2, m2) = _previous_months(today)
    homecare.save_service(
        "Aide à domicile des Tilleuls", address="12 rue des Tilleuls", postcode="28000",
        city="Chartres", siret="73282932000074", email="aad.tilleuls@example.org",
        phone="02 37 00 00 01", iban="FR7630006000011234567890189",
    )  # fmt: skip
    for code, label in PRESTATIONS:
        homecare.save_prestation(code, label)
    apa = payers.create_payer(
        PayerInput(
            "Conseil départemental d'Eure-et-Loir (APA)", "1 place Châtelet", "28000",
            "Chartres", "apa@eure-et-loir.example", "02 37 20 10 10", "22280001300005",
            "4111APA", public=True, service_code="APA-DOM", slip_kind="GLOBALE",
        )  # fmt: skip
    )
    carsat = payers.create_payer(
        PayerInput(
            "CARSAT Centre-Val de Loire", "36 rue Xaintrailles", "45000", "Orléans",
            "action.sociale@carsat-centre.example", "", "18003502400009", "4111CARSAT",
            slip_kind="INDIVIDUELLE",
        )  # fmt: skip
    )
    # No e-mail address: « Envoi par courriel » and relances flag it (seed 004's yellow triangle).
    mutuelle = payers.create_payer(
        PayerInput(
            "Harmonie Services à la personne", "12 boulevard de la Gare", "28000", "Chartres",
            "", "", "51098765400009", "4111HARM", slip_kind="INDIVIDUELLE",
        )  # fmt: skip
    )
    # A payer that pays the client directly: no bordereau can be made for it.
    payers.create_payer(
        PayerInput("Caisse d'allocations familiales", aid_paid_to_client=True, slip_kind="GLOBALE")
    )
    rates = HourlyRates(2400, 2650, 3000)
    payers.set_default(apa.id, "AD", PlanValues(1200, HourlyRates(2300, 2500, 2800), 8000,
                                                 BillingMode.PLAN_RATES.value, 9000, 240))  # fmt: skip
    payers.set_default(apa.id, "ACC", PlanValues(240, HourlyRates(2300, 2300, 2300), 8000))
    payers.set_default(carsat.id, "MEN", PlanValues(480, HourlyRates(2200, 2200, 2200), 6000,
                                                    BillingMode.PRESTATION_RATES.value, None, 0))  # fmt: skip
    payers.set_default(mutuelle.id, "AD", PlanValues(600, HourlyRates(2400, 2400, 2400), 5000,
                                                     BillingMode.PRESTATION_RATES.value))  # fmt: skip
    start1 = date(y1, m1, 1)
    clients = []
    for index, (last, first, address, postcode, city) in enumerate(CLIENTS):
        client = homecare.create_client(
            homecare.ClientInput(last, first, address, postcode, city,
                                 email=f"{last.lower()}@example.org" if index % 2 else "")
        )  # fmt: skip
        homecare.set_contract_line(client.id, "AD", rates.base_cents, rates.saturday_cents,
                                   rates.sunday_holiday_cents)  # fmt: skip
        homecare.set_contract_line(client.id, "MEN", 2300, 2500, 2900)
        homecare.set_contract_line(client.id, "ACC", 2500, 2700, 3100)
        clients.append(client)
    plans = [
        (0, apa.id, "AD", start1, None, True),
        (1, apa.id, "AD", start1, None, True),
        (1, carsat.id, "MEN", start1, None, True),  # two payers on one client
        (2, carsat.id, "MEN", start1 + timedelta(days=14), None, True),  # starts mid-month
        (3, mutuelle.id, "AD", start1, None, True),
        (4, apa.id, "ACC", start1, None, True),
        (5, mutuelle.id, "AD", start1, None, False),  # « Saisi »: finances nothing yet
    ]
    for client_index, payer_id, prestation, valid_from, until, validated in plans:
        plan = aid_plans.create_plan(
            clients[client_index].id, payer_id, prestation, valid_from, valid_until=until,
            reference=f"PA-{valid_from:%Y}-{client_index + 1:04d}",
        )  # fmt: skip
        if validated:
            aid_plans.validate_plan(plan.id)
    interventions = 0
    for year, month in ((y1, m1), (y2, m2)):
        first, last = homecare_billing.month_bounds(year, month)
        day = first
        while day <= last:
            for index, client in enumerate(clients):
                weekday = day.weekday()
                if weekday in (0, 2, 4) or (index == 0 and weekday in (5, 6)):
                    hour = rng.choice([8, 9, 10, 14])
                    length = rng.choice([90, 120, 120, 180])
                    prestation = "ACC" if index == 4 else "AD"
                    homecare.add_intervention(client.id, day, hour * 60, hour * 60 + length,
                                              prestation, rng.choice(["Léa M.", "Sami B.", "Inès R."]))  # fmt: skip
                    interventions += 1
                if index in (1, 2) and weekday == 1:
                    homecare.add_intervention(client.id, day, 14 * 60, 16 * 60, "MEN", "Paul D.")
                    interventions += 1
            day += timedelta(days=1)
    # Month 1, billed on its last day: invoices validated, one corrected by an avoir and billed
    # again; its bordereaux validated and printed (sent by post) that evening, so that they are
    # a month old whatever day the demo is built (the relance below needs J+30).
    s1, e1 = homecare_billing.month_bounds(y1, m1)
    at1 = _moment(e1, 9)
    homecare_billing.create_invoices(y1, m1, user=USER, today=e1, at=at1)
    homecare_billing.validate_invoices(y1, m1, user=USER, at=at1)
    first_invoice = homecare_billing.list_invoices(client_id=clients[1].id, year=y1, month=m1)[0]
    homecare_billing.credit_invoice(
        first_invoice.id, user=USER, reason="Intervention du 1er saisie deux fois",
        today=e1, at=_moment(e1, 11),
    )  # fmt: skip
    homecare_billing.create_invoices(y1, m1, [clients[1].id], user=USER, today=e1, at=_moment(e1, 12))
    homecare_billing.validate_invoices(y1, m1, [clients[1].id], user=USER, at=_moment(e1, 12))
    created, _ = slip_service.create_slips(s1, e1, user=USER, slip_date=e1, at=_moment(e1, 16))
    slip_service.validate_slips(s1, e1, user=USER, today=e1)
    slip_service.print_slips(created, user=USER, at=_moment(e1, 18))
    # Month 2: invoices; bordereaux created, some validated, one deleted.
    homecare_billing.create_invoices(y2, m2, user=USER, today=min(today, date(y2, m2, 28)))
    homecare_billing.validate_invoices(y2, m2, user=USER)
    s2, e2 = homecare_billing.month_bounds(y2, m2)
    created2, _ = slip_service.create_slips(s2, e2, user=USER, slip_date=min(today, e2))
    rows2 = {row.id: row for row in slip_service.list_slips(start=s2, end=e2)}
    apa_slips = [i for i in created2 if rows2[i].payer_id == apa.id]
    carsat_slips = [i for i in created2 if rows2[i].payer_id == carsat.id]
    if apa_slips:
        slip_service.validate_slip(apa_slips[0], user=USER, today=today)
    if carsat_slips:
        slip_service.delete_slip(carsat_slips[-1], user=USER, reason="refait avec la bonne date")
    # Payments: the APA pays its bordereau of month 1 in full, the CARSAT part of one.
    month1 = [row for row in slip_service.list_slips(start=s1, end=e1)]
    pay_day = date(y2, m2, 20) if date(y2, m2, 20) <= today else today
    for row in month1:
        if row.payer_id == apa.id:
            payment = payments.record_payment(
                emitter="PAYEUR", payer_id=apa.id, amount_cents=row.total_cents, day=pay_day,
                mode="VIREMENT", reference=f"VIR APA {pay_day:%m%Y}", user=USER, today=today,
            )  # fmt: skip
            payments.auto_allocate(payment.id, user=USER)
    carsat_rows = [row for row in month1 if row.payer_id == carsat.id]
    if carsat_rows:
        payment = payments.record_payment(
            emitter="PAYEUR", payer_id=carsat.id, amount_cents=carsat_rows[0].total_cents // 2,
            day=pay_day, mode="CHEQUE", reference="CHQ 0048812", user=USER, today=today,
        )  # fmt: skip
        payments.auto_allocate(payment.id, user=USER)
    # Two clients pay their part of month 1.
    for client in clients[:2]:
        owed = [
            row for row in homecare_billing.list_invoices(client_id=client.id, year=y1, month=m1)
            if row.kind == InvoiceKind.FACTURE.value and row.state == "VALIDEE"
        ]  # fmt: skip
        if owed and owed[0].client_cents > 0:
            payment = payments.record_payment(
                emitter="CLIENT", client_id=client.id, amount_cents=owed[0].client_cents,
                day=pay_day, mode="CHEQUE", reference="", user=USER, today=today,
            )  # fmt: skip
            payments.auto_allocate(payment.id, user=USER)
    # A printed relance (level 1) to the payers with bordereaux still owed.
    candidates = payer_mail.reminder_candidates(1, today=today)
    if candidates:
        payer_mail.send_reminders(
            None, 1, [c.payer_id for c in candidates], method="courrier", user=USER, today=today
        )
    states = {row.state for row in slip_service.list_slips(states=[s.value for s in SlipState])}
    return {
        "homecare_clients": len(clients),
        "interventions": interventions,
        "slips": len(slip_service.list_slips()),
        "slip_states": len(states),
    }
