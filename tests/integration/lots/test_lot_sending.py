"""Sending lots by SMTP to the simulated caisse: recorded before and after, a crash in between
leaves « En cours » for a decision, a server down leaves the lot as it was."""

from __future__ import annotations

import mailbox
import socket
from email import policy
from email.parser import BytesParser

import pytest
from lots_support import CAISSE_ADDRESSES, PRACTICE_ADDRESS, T0, invoice_states, transmission

from tuibill.config import SmtpSettings
from tuibill.domain.errors import ConfigError, RefusedOperation
from tuibill.domain.lots import LotState
from tuibill.formats import get_arl_codec
from tuibill.models import Lot, LotTransition
from tuibill.services import lot_views, lots, receiving, sending
from tuibill.transport.envelopes import find_arl_attachment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def history(lot_id: int) -> list[tuple[str | None, str, str]]:
    return [
        (t.from_state, t.to_state, t.action)
        for t in LotTransition.select()
        .where(LotTransition.lot == lot_id)
        .order_by(LotTransition.id)
    ]


def arls(outbox) -> list:
    box = mailbox.Maildir(outbox, create=False)
    parser = BytesParser(policy=policy.default)
    found = []
    for key in box.keys():
        message = parser.parsebytes(box.get_bytes(key))
        found.append((message, get_arl_codec().read(find_arl_attachment(message)[1])))
    return found


def test_smtp_round_trip_then_positive_arl(office, start_caisse):
    ids = office.invoices(2)
    caisse = start_caisse()
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    stored = bytes(Lot.get_by_id(built.id).file_bytes)

    report = sending.send_lots(caisse.settings, user="anne", now=T0)

    (outcome,) = report.outcomes
    assert outcome.status == sending.SENT, outcome.message
    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.send_count, lot.sent_at, lot.send_started_at) == ("TRANSMIS", 1, T0, T0)
    assert lot.recipient == CAISSE_ADDRESSES["01281"] and lot.message_id.startswith("<")
    assert invoice_states(ids) == ["TRANSMISE", "TRANSMISE"]
    assert history(built.id) == [
        (None, "A_TRANSMETTRE", "build"),
        ("A_TRANSMETTRE", "EN_COURS", "start_sending"),
        ("EN_COURS", "TRANSMIS", "confirm_sent"),
    ]
    # The caisse read exactly the stored bytes and answered to our address, in reply to our mail.
    ((message, arl),) = arls(caisse.outbox)
    assert arl.positive and arl.lot_checksum == lot.file_sha256 == built.file_sha256
    assert str(message["To"]) == PRACTICE_ADDRESS
    assert str(message["In-Reply-To"]) == lot.message_id
    assert bytes(lot.file_bytes) == stored

    received = receiving.receive(caisse.settings, user="anne", now=T0)

    assert (received.fetched, received.deleted, len(received.recorded)) == (1, 1, 1)
    assert received.processed[0].message == "Lot 001 : ARL positif, reçu par la caisse."
    assert Lot.get_by_id(built.id).state == "ARL_POSITIF"
    (row,) = received.recorded
    archived = caisse.settings.archive_dir + f"/{row.sha256[:2]}/{row.sha256}"
    assert row.archive_path == archived and open(archived, "rb").read()[:7] == b"00TBARL"
    assert list(mailbox.Maildir(caisse.outbox, create=False).keys()) == []  # picked up
    # Nothing more to send or receive.
    assert sending.send_lots(caisse.settings, user="anne").outcomes == ()
    assert receiving.receive(caisse.settings, user="anne").fetched == 0


def test_smtp_login_uses_the_password_from_the_environment(office, start_caisse, monkeypatch):
    office.invoices(1)
    caisse = start_caisse()
    settings = caisse.settings
    settings.smtp.user, settings.smtp.password_env = "cabinet", "TUIBILL_TEST_SMTP_PASSWORD"
    lots.build_lots(settings, user="anne")
    with pytest.raises(ConfigError, match="transmission.smtp.password_env.*TUIBILL_TEST_SMTP"):
        sending.send_lots(settings, user="anne")
    assert Lot.get().state == "A_TRANSMETTRE"
    monkeypatch.setenv("TUIBILL_TEST_SMTP_PASSWORD", "secret")
    assert sending.send_lots(settings, user="anne").all_sent


def test_missing_caisse_address_names_the_setting_and_the_code(office, start_caisse):
    office.invoices(1)
    office.invoices(1, organism=office.lille)
    caisse = start_caisse(caisses={"01281": CAISSE_ADDRESSES["01281"]})
    lots.build_lots(caisse.settings, user="anne")

    report = sending.send_lots(caisse.settings, user="anne", now=T0)

    by_destination = {o.lot.destination: o for o in report.outcomes}
    assert by_destination["01281"].status == sending.SENT
    missing = by_destination["01595"]
    assert missing.status == sending.NOT_CONFIGURED
    assert "transmission.caisses" in missing.message and "« 01595 »" in missing.message
    lot = Lot.get(Lot.destination == "01595")
    assert lot.state == "A_TRANSMETTRE" and "transmission.caisses" in lot.last_error


def test_mail_server_down_leaves_the_lot_as_it_was(office, tmp_path, start_caisse):
    ids = office.invoices(1)
    settings = transmission(tmp_path, free_port())  # nobody listens there
    (built,) = lots.build_lots(settings, user="anne", now=T0).lots

    report = sending.send_lots(settings, user="anne", now=T0)

    (outcome,) = report.outcomes
    assert outcome.status == sending.FAILED
    assert "injoignable" in outcome.message and "rien n'a été envoyé" in outcome.message
    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.send_count, lot.send_started_at) == ("A_TRANSMETTRE", 0, None)
    assert "injoignable" in lot.last_error and lot.last_error_at == T0
    assert history(built.id) == [(None, "A_TRANSMETTRE", "build")]
    assert invoice_states(ids) == ["A_TRANSMETTRE"]
    # Later, with the server up, the same lot goes (and the error is cleared).
    caisse = start_caisse()
    assert sending.send_lots(caisse.settings, user="anne").all_sent
    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.last_error) == ("TRANSMIS", "")


def test_crash_between_acceptance_and_record_leaves_en_cours(office, start_caisse):
    ids = office.invoices(2)
    caisse = start_caisse()
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots

    def crash(lot):
        raise SystemExit("coupure de courant")

    with pytest.raises(SystemExit):
        sending.send_lots(caisse.settings, user="anne", now=T0, on_accepted=crash)

    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.send_started_at, lot.sent_at, lot.send_count) == (
        "EN_COURS",
        T0,
        None,
        0,
    )
    assert invoice_states(ids) == ["A_TRANSMETTRE", "A_TRANSMETTRE"]
    assert len(arls(caisse.outbox)) == 1  # the caisse did get it
    # Never re-sent silently: listed as uncertain instead.
    report = sending.send_lots(caisse.settings, user="anne")
    assert report.outcomes == () and [s.id for s in report.uncertain] == [built.id]
    assert [s.id for s in lot_views.list_lots([LotState.EN_COURS])] == [built.id]
    with pytest.raises(RefusedOperation, match="En cours"):
        sending.send_lots(caisse.settings, user="anne", lot_ids=[built.id])
    assert len(arls(caisse.outbox)) == 1

    summary = lots.resolve_uncertain(
        built.id, sent=True, user="paul", reason="vu dans le journal SMTP"
    )

    assert (summary.state, summary.sent_at, summary.send_count) == (LotState.TRANSMIS, T0, 1)
    assert invoice_states(ids) == ["TRANSMISE", "TRANSMISE"]
    last = LotTransition.select().order_by(LotTransition.id.desc()).first()
    assert (last.action, last.user, last.reason) == (
        "resolve_sent",
        "paul",
        "vu dans le journal SMTP",
    )
    with pytest.raises(RefusedOperation, match="seul un lot « En cours »"):
        lots.resolve_uncertain(built.id, sent=False, user="paul")


def test_uncertain_lot_resolved_as_not_sent_goes_again(office, start_caisse):
    office.invoices(1)
    caisse = start_caisse()
    (built,) = lots.build_lots(caisse.settings, user="anne").lots
    with pytest.raises(RuntimeError):
        sending.send_lots(
            caisse.settings,
            user="anne",
            on_accepted=lambda lot: (_ for _ in ()).throw(RuntimeError()),
        )
    assert lots.resolve_uncertain(built.id, sent=False, user="anne").state is LotState.A_TRANSMETTRE
    assert sending.send_lots(caisse.settings, user="anne").all_sent
    assert Lot.get_by_id(built.id).send_count == 1


def test_an_arl_settles_an_uncertain_sending(office, start_caisse):
    ids = office.invoices(1)
    caisse = start_caisse()
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    with pytest.raises(RuntimeError):
        sending.send_lots(
            caisse.settings, user="anne", now=T0,
            on_accepted=lambda lot: (_ for _ in ()).throw(RuntimeError()),
        )  # fmt: skip

    receiving.receive(caisse.settings, user="anne", now=T0)

    assert Lot.get_by_id(built.id).state == "ARL_POSITIF"
    assert invoice_states(ids) == ["TRANSMISE"]
    assert history(built.id)[-2:] == [
        ("EN_COURS", "TRANSMIS", "resolve_sent"),
        ("TRANSMIS", "ARL_POSITIF", "arl_positive"),
    ]


class _Refuse:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 Destinataire inconnu"


class _HangUp:
    async def handle_DATA(self, server, session, envelope):
        server.transport.close()  # the message was received, the answer never comes
        return "250 OK"


def _smtp(handler) -> tuple[object, int]:
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


def test_a_refused_message_puts_the_lot_back(office, tmp_path):
    office.invoices(1)
    controller, port = _smtp(_Refuse())
    try:
        settings = transmission(tmp_path, port)
        (built,) = lots.build_lots(settings, user="anne", now=T0).lots
        (outcome,) = sending.send_lots(settings, user="anne", now=T0).outcomes
    finally:
        controller.stop()
    assert outcome.status == sending.FAILED and "550" in outcome.message
    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.send_count) == ("A_TRANSMETTRE", 0) and "550" in lot.last_error
    assert history(built.id)[-1] == ("EN_COURS", "A_TRANSMETTRE", "send_failed")


def test_connection_lost_during_data_is_uncertain(office, tmp_path):
    office.invoices(1)
    office.invoices(1, organism=office.lille)
    controller, port = _smtp(_HangUp())
    try:
        settings = transmission(tmp_path, port)
        first, second = lots.build_lots(settings, user="anne", now=T0).lots
        report = sending.send_lots(settings, user="anne", now=T0)
    finally:
        controller.stop()
    statuses = {o.lot.id: o.status for o in report.outcomes}
    assert statuses == {first.id: sending.UNCERTAIN, second.id: sending.FAILED}
    assert Lot.get_by_id(first.id).state == "EN_COURS"
    assert "lots resolve" in Lot.get_by_id(first.id).last_error
    # The next lot was not tried on a dead connection: unchanged, to retry.
    assert Lot.get_by_id(second.id).state == "A_TRANSMETTRE"
    assert [s.id for s in report.uncertain] == [first.id]


def test_missing_sender_is_a_configuration_error(office, tmp_path):
    from tuibill.models import Practice

    office.invoices(1)
    Practice.update(email="").execute()
    settings = transmission(tmp_path, free_port(), smtp=SmtpSettings(host="127.0.0.1", port=1))
    lots.build_lots(settings, user="anne")
    with pytest.raises(ConfigError, match="transmission.smtp.sender"):
        sending.send_lots(settings, user="anne")


def test_a_scor_lot_travels_by_mail_like_a_lot(office, start_caisse):
    (invoice_id,) = office.invoices(1)
    office.add_piece(invoice_id, b"%PDF-1.4\nordonnance\n")
    caisse = start_caisse()  # the simulator reads SCOR lots (ZIP) as well as FSE lots
    fse_lot, scor_lot = lots.build_lots(caisse.settings, user="anne", now=T0).lots

    report = sending.send_lots(caisse.settings, user="anne", now=T0)

    assert [(o.lot.id, o.status) for o in report.outcomes] == [
        (fse_lot.id, sending.SENT),
        (scor_lot.id, sending.SENT),
    ]
    subjects = sorted(str(m["Subject"]) for m, _ in arls(caisse.outbox))
    assert subjects == [
        "TUIBILL ARL 281234567 001 01281 POSITIF",
        "TUIBILL ARL 281234567 002 01281 POSITIF",
    ]
    receiving.receive(caisse.settings, user="anne", now=T0)
    assert {Lot.get_by_id(i).state for i in (fse_lot.id, scor_lot.id)} == {"ARL_POSITIF"}


class _Collect:
    def __init__(self) -> None:
        self.mails: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append(envelope.content)
        return "250 OK"


def _login(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == b"cabinet" and auth_data.password == b"secret"
    return AuthResult(success=ok)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_smtp_over_tls_with_login(office, tmp_path, monkeypatch, security):
    import ssl

    from aiosmtpd.controller import Controller

    from tests.support.dovecot import make_certificates

    ca_file, cert_file, key_file = make_certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    handler, port = _Collect(), free_port()
    options = {"tls_context": context, "require_starttls": True}
    if security == "ssl":
        # aiosmtpd does not count implicit TLS as TLS for AUTH: the socket is TLS anyway.
        options = {"ssl_context": context, "auth_require_tls": False}
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, authenticator=_login, **options
    )
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        monkeypatch.setenv("TUIBILL_TEST_SMTP_PASSWORD", "secret")
        smtp = SmtpSettings(
            host="127.0.0.1", port=port, security=security, user="cabinet",
            password_env="TUIBILL_TEST_SMTP_PASSWORD", sender=PRACTICE_ADDRESS,
        )  # fmt: skip
        settings = transmission(tmp_path, smtp=smtp)
        office.invoices(1)
        lots.build_lots(settings, user="anne")
        assert sending.send_lots(settings, user="anne").all_sent
        assert b"TUIBILL LOT 281234567 001 01281" in handler.mails[0]
        office.invoices(1)
        lots.build_lots(settings, user="anne")
        # An untrusted certificate: refused.
        monkeypatch.delenv("SSL_CERT_FILE")
        (outcome,) = sending.send_lots(settings, user="anne").outcomes
        assert outcome.status == sending.FAILED and "certificat refusé" in outcome.message
        assert outcome.lot.state is LotState.A_TRANSMETTRE
    finally:
        controller.stop()
    assert len(handler.mails) == 1


def test_a_lot_changed_by_another_desk_meanwhile_is_skipped(office, start_caisse):
    office.invoices(1)
    office.invoices(1, organism=office.lille)
    caisse = start_caisse()
    first, second = lots.build_lots(caisse.settings, user="anne").lots

    def other_desk(lot):
        if lot.id == first.id:
            lots.delete_lot(second.id, user="paul", reason="poste 2")

    report = sending.send_lots(caisse.settings, user="anne", on_accepted=other_desk)

    statuses = [(o.lot.id, o.status) for o in report.outcomes]
    assert statuses == [(first.id, sending.SENT), (second.id, sending.FAILED)]
    assert "impossible sur un lot à l'état « Supprimé »" in report.outcomes[1].message
    assert sum(caisse.simulator.state.receptions.values()) == 1


class _RefuseAtTheEnd:
    """A real server's « no » after the message was transmitted: smtplib does not raise on it."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_DATA(self, server, session, envelope):
        return self.reply


@pytest.mark.parametrize(
    "reply", ["554 5.7.1 Message refusé (contenu)", "452 4.3.1 Espace insuffisant"]
)
def test_a_final_refusal_of_the_message_is_not_transmis(office, tmp_path, reply):
    """Issue 13 #1: the server refused the message after DATA: the lot is not « Transmis », the
    server's reply is shown, nothing is counted as sent."""
    ids = office.invoices(1)
    controller, port = _smtp(_RefuseAtTheEnd(reply))
    try:
        settings = transmission(tmp_path, port)
        (built,) = lots.build_lots(settings, user="anne", now=T0).lots
        (outcome,) = sending.send_lots(settings, user="anne", now=T0).outcomes
    finally:
        controller.stop()
    code = reply.split()[0]
    assert outcome.status == sending.FAILED and code in outcome.message
    assert "refuse le message" in outcome.message
    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.send_count, lot.sent_at) == ("A_TRANSMETTRE", 0, None)
    assert code in lot.last_error
    assert invoice_states(ids) == ["A_TRANSMETTRE"]
