"""Fixtures of the tiers-payeurs tests: a home-care service with three payers and two clients
(November 2026: Sun 1 = Toussaint, Wed 11 = Armistice), and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from tuibill.config import SmtpSettings, TransmissionSettings
from tuibill.domain.aid_plans import BillingMode, HourlyRates
from tuibill.services import aid_plans, homecare, payers
from tuibill.services.payers import PayerInput, PlanValues

SERVICE_ADDRESS = "aad@service.example"
D = date


@pytest.fixture
def office(db_url) -> SimpleNamespace:
    """Clients DUPONT Jeanne (APA on AD, CARSAT on MEN from the 16th) and MARTIN Paul (the
    mutuelle on AD, APA on MEN); the APA is public and « Globale », the others « Individuelle »;
    the mutuelle has no e-mail address."""
    homecare.save_service(
        "Aide à domicile du Parc", address="3 rue du Parc", postcode="28000", city="Chartres",
        siret="73282932000074", email=SERVICE_ADDRESS,
    )  # fmt: skip
    homecare.save_prestation("AD", "Aide à domicile")
    homecare.save_prestation("MEN", "Ménage")
    apa = payers.create_payer(PayerInput(
        "APA Eure-et-Loir", "1 place Châtelet", "28000", "Chartres", "apa@cd28.example",
        siret="22280001300005", public=True, service_code="APA-DOM", slip_kind="GLOBALE",
    ))  # fmt: skip
    carsat = payers.create_payer(
        PayerInput("CARSAT Centre", email="carsat@carsat.example", slip_kind="INDIVIDUELLE")
    )
    mutuelle = payers.create_payer(PayerInput("Mutuelle du Parc", slip_kind="INDIVIDUELLE"))
    payers.set_default(apa.id, "AD", PlanValues(600, HourlyRates(2200, 2400, 2800), 8000,
                                                BillingMode.PLAN_RATES.value, 9000))  # fmt: skip
    payers.set_default(apa.id, "MEN", PlanValues(120, HourlyRates(2000, 2000, 2000), 10_000))
    payers.set_default(carsat.id, "MEN", PlanValues(240, HourlyRates(2100, 2100, 2100), 5000,
                                                    BillingMode.PRESTATION_RATES.value))  # fmt: skip
    payers.set_default(mutuelle.id, "AD", PlanValues(300, HourlyRates(2400, 2400, 2400), 5000,
                                                     BillingMode.PRESTATION_RATES.value))  # fmt: skip
    jeanne = homecare.create_client(homecare.ClientInput("DUPONT", "Jeanne"))
    paul = homecare.create_client(homecare.ClientInput("MARTIN", "Paul"))
    for client in (jeanne, paul):
        homecare.set_contract_line(client.id, "AD", 2400, 2600, 3000)
        homecare.set_contract_line(client.id, "MEN", 2300, 2500, 2900)
    for client, payer, prestation, start in (
        (jeanne, apa, "AD", D(2026, 11, 1)),
        (jeanne, carsat, "MEN", D(2026, 11, 16)),
        (paul, mutuelle, "AD", D(2026, 11, 1)),
        (paul, apa, "MEN", D(2026, 11, 1)),
    ):
        aid_plans.validate_plan(aid_plans.create_plan(client.id, payer.id, prestation, start).id)
    return SimpleNamespace(apa=apa, carsat=carsat, mutuelle=mutuelle, jeanne=jeanne, paul=paul)


def november_interventions(office: SimpleNamespace) -> None:
    """Jeanne: Mon 2 09–11 AD (44,00: APA 35,20, client 8,80); Tue 10 14–16 MEN before the
    CARSAT plan (46,00 client); Tue 17 14–16 MEN (46,00: CARSAT 21,00, client 25,00).
    Paul: Wed 4 09–12 AD (72,00: mutuelle 36,00, client 36,00); Thu 5 10–12 MEN at the APA's
    plan rate 20,00 (40,00: APA 40,00, client 0)."""
    add = homecare.add_intervention
    add(office.jeanne.id, D(2026, 11, 2), 540, 660, "AD", "Léa")
    add(office.jeanne.id, D(2026, 11, 10), 840, 960, "MEN", "Léa")
    add(office.jeanne.id, D(2026, 11, 17), 840, 960, "MEN", "Léa")
    add(office.paul.id, D(2026, 11, 4), 540, 720, "AD", "Sami")
    add(office.paul.id, D(2026, 11, 5), 600, 720, "MEN", "Sami")


@dataclass
class MailServer:
    """Messages the server accepted, and recipients it refuses (550)."""

    port: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    def settings(self) -> TransmissionSettings:
        return TransmissionSettings(
            smtp=SmtpSettings(host="127.0.0.1", port=self.port, security="none", sender=SERVICE_ADDRESS)
        )


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    from aiosmtpd.controller import Controller

    server = MailServer()

    class Handler:
        async def handle_RCPT(self, smtp, session, envelope, address, options):
            if address in server.refuse:
                return "550 5.1.1 Destinataire inconnu"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, smtp, session, envelope):
            server.received.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 2.0.0 Reçu"

    class _Controller(Controller):
        def _trigger_server(self) -> None:
            if self.server is not None and self.server.sockets:
                self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    controller = _Controller(Handler(), hostname="127.0.0.1", port=0)
    controller.start()
    server.port = controller.port
    yield server
    controller.stop()
