"""Fetching ARLs from a real POP3/IMAP server: a private dovecot, the simulated caisse
delivering into its maildir. A mail leaves the server only after its file is recorded."""

from __future__ import annotations

import imaplib
import mailbox
import os
import poplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from lots_support import T0, transmission

from tests.support.dovecot import Dovecot, dovecot_bin, dovecot_server
from tuibill.config import MailboxSettings
from tuibill.models import Lot, ReceivedFile
from tuibill.services import lots, receiving, sending
from tuibill.transport.mailbox import MailboxError

pytestmark = pytest.mark.skipif(
    dovecot_bin() is None and not os.environ.get("CI"),
    reason="dovecot absent (paquets Debian dovecot-pop3d dovecot-imapd)",
)

PASSWORD_ENV = "TUIBILL_TEST_MAILBOX_PASSWORD"


@pytest.fixture
def dovecot(monkeypatch) -> Iterator[Dovecot]:
    with dovecot_server() as server:
        monkeypatch.setenv(PASSWORD_ENV, server.password)
        yield server


def mailbox_settings(server: Dovecot, protocol: str, **changes: object) -> MailboxSettings:
    values: dict = {
        "protocol": protocol,
        "host": "127.0.0.1",
        "port": server.pop3_port if protocol == "pop3" else server.imap_port,
        "security": "none",
        "user": server.user,
        "password_env": PASSWORD_ENV,
    }
    values.update(changes)
    return MailboxSettings(**values)


def pop3_count(server: Dovecot) -> int:
    conn = poplib.POP3("127.0.0.1", server.pop3_port, timeout=5)
    try:
        conn.user(server.user)
        conn.pass_(server.password)
        return conn.stat()[0]
    finally:
        conn.quit()


def send_one_lot(office, start_caisse, server: Dovecot, tmp_path, protocol: str):
    office.invoices(1)
    caisse = start_caisse(outbox=server.maildir)  # the caisse answers into the dovecot box
    settings = caisse.settings
    settings.mailbox = mailbox_settings(server, protocol)
    (built,) = lots.build_lots(settings, user="anne", now=T0).lots
    assert sending.send_lots(settings, user="anne", now=T0).all_sent
    return settings, built


class Crash(Exception):
    pass


def crash(mail) -> None:
    raise Crash("coupure juste après l'enregistrement")


def test_pop3_mail_is_deleted_only_after_its_file_is_recorded(
    office, start_caisse, dovecot, tmp_path
):
    settings, built = send_one_lot(office, start_caisse, dovecot, tmp_path, "pop3")
    assert pop3_count(dovecot) == 1

    with pytest.raises(Crash):
        receiving.receive(settings, user="anne", now=T0, on_recorded=crash)

    # Recorded and archived, still on the server, not acted on yet.
    (row,) = ReceivedFile.select()
    assert (row.source, row.kind, row.status) == ("pop3", "arl", "recu")
    assert os.path.exists(row.archive_path)
    assert pop3_count(dovecot) == 1
    assert Lot.get_by_id(built.id).state == "TRANSMIS"

    report = receiving.receive(settings, user="anne", now=T0)

    # Fetched again: recognised (no second record), deleted now, applied once.
    assert (report.fetched, report.recorded, report.already_known, report.deleted) == (1, (), 1, 1)
    assert ReceivedFile.select().count() == 1
    assert ReceivedFile.get().status == "applique"
    assert pop3_count(dovecot) == 0
    assert Lot.get_by_id(built.id).state == "ARL_POSITIF"
    assert "+OK Logged in" in dovecot.log_text() or "Login: user=<cabinet>" in dovecot.log_text()


def test_imap_fetch_leaves_other_mails_and_expunges_what_it_recorded(
    office, start_caisse, dovecot, tmp_path
):
    personal = EmailMessage()
    personal["Subject"] = "Planning de la semaine"
    personal.set_content("Lundi : tournée EST.")
    mailbox.Maildir(dovecot.maildir, create=False).add(personal)
    settings, built = send_one_lot(office, start_caisse, dovecot, tmp_path, "imap")

    with pytest.raises(Crash):
        receiving.receive(settings, user="anne", now=T0, on_recorded=crash)
    assert ReceivedFile.select().count() == 1 and imap_subjects(dovecot) == [
        "Planning de la semaine",
        "TUIBILL ARL 281234567 001 01281 POSITIF",
    ]

    report = receiving.receive(settings, user="anne", now=T0)

    assert (report.fetched, report.left, report.deleted, report.already_known) == (2, 1, 1, 1)
    assert imap_subjects(dovecot) == ["Planning de la semaine"]
    assert Lot.get_by_id(built.id).state == "ARL_POSITIF"
    assert ReceivedFile.get().source == "imap"


def imap_subjects(server: Dovecot) -> list[str]:
    conn = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=5)
    try:
        conn.login(server.user, server.password)
        conn.select("INBOX")
        _, data = conn.uid("SEARCH", None, "ALL")
        subjects = []
        for uid in data[0].split():
            _, parts = conn.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            subjects.append(parts[0][1].decode().partition(":")[2].strip())
        return sorted(subjects)
    finally:
        conn.logout()


def test_wrong_password_or_server_down_deletes_nothing(office, dovecot, tmp_path, monkeypatch):
    settings = transmission(tmp_path)
    settings.mailbox = mailbox_settings(dovecot, "pop3")
    monkeypatch.setenv(PASSWORD_ENV, "faux")
    with pytest.raises(MailboxError, match="identification de cabinet refusée"):
        receiving.receive(settings, user="anne")
    settings.mailbox = mailbox_settings(dovecot, "imap", folder="Archives")
    monkeypatch.setenv(PASSWORD_ENV, dovecot.password)
    with pytest.raises(MailboxError, match="dossier « Archives » introuvable"):
        receiving.receive(settings, user="anne")
    settings.mailbox = mailbox_settings(dovecot, "pop3", port=1)
    with pytest.raises(MailboxError, match="connexion impossible"):
        receiving.receive(settings, user="anne")


def test_tls_pop3_starttls_and_imaps(office, start_caisse, tmp_path, monkeypatch):
    with dovecot_server(tls=True) as server:
        monkeypatch.setenv(PASSWORD_ENV, server.password)
        # The test CA, trusted the way a practice would trust its provider's CA.
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        settings, built = send_one_lot(office, start_caisse, server, tmp_path, "pop3")
        settings.mailbox = mailbox_settings(server, "pop3", security="starttls")
        with pytest.raises(Crash):
            receiving.receive(settings, user="anne", now=T0, on_recorded=crash)
        settings.mailbox = mailbox_settings(server, "imap", security="ssl", port=server.imaps_port)
        report = receiving.receive(settings, user="anne", now=T0)
        assert (report.deleted, report.already_known) == (1, 1)
        assert Lot.get_by_id(built.id).state == "ARL_POSITIF"
        # An untrusted certificate is refused, in French.
        monkeypatch.delenv("SSL_CERT_FILE")
        with pytest.raises(MailboxError, match="certificat refusé"):
            receiving.receive(settings, user="anne")


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_arl_and_noemie_return_over_the_mailbox(office, start_caisse, dovecot, protocol):
    """End to end: lots sent by SMTP to the simulated caisse, which answers an ARL and a NOEMIE
    return into the dovecot box; fetched over POP3/IMAP, the invoices are Payée, Rejetée, Payée
    partiellement or still Transmise (deferred)."""
    from lots_support import invoice_states

    from tuibill.simulator.scenarios import Answer, FixedScenario

    ids = office.invoices(4, home_visit=True)
    caisse = start_caisse(
        FixedScenario((Answer("positive"), Answer("mixte"))), outbox=dovecot.maildir
    )
    settings = caisse.settings
    settings.mailbox = mailbox_settings(dovecot, protocol)
    lots.build_lots(settings, user="anne", now=T0)
    assert sending.send_lots(settings, user="anne", now=T0).all_sent

    report = receiving.receive(settings, user="anne", now=T0)

    assert sorted(f.kind for f in report.recorded) == ["arl", "retour"]
    assert report.deleted == 2
    assert invoice_states(ids) == ["PAYEE", "REJETEE", "PAYEE_PARTIELLEMENT", "TRANSMISE"]
    assert Lot.get().state == "ARL_POSITIF"
    assert {row.status for row in ReceivedFile.select()} == {"applique"}
