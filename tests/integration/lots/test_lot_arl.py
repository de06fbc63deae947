"""ARL and time-outs, with the simulated caisse answering per script and the clock moved by
``now=`` (never sleeping 48 h): positive, negative then re-sent, time-out then re-sent, and the
second failure → Traitement manuel with its paper list; a corrupt ARL changes nothing."""

from __future__ import annotations

import mailbox
from datetime import timedelta

from lots_support import T0, invoice_states

from tuibill.formats.arl import TuibillArlCodec
from tuibill.formats.codec import Arl, ArlStatus, CaisseCode
from tuibill.models import Lot, LotTransition, ReceivedFile
from tuibill.services import lot_check, lot_views, lots, paper_lists, receiving, sending
from tuibill.simulator.scenarios import parse_script
from tuibill.transport.envelopes import build_arl_message

HOURS_49 = timedelta(hours=49)


def script(*answers: str) -> object:
    steps = ", ".join(f'"{a}"' for a in answers)
    return parse_script(f"[[lot]]\nnumber = 1\nanswers = [{steps}]\n")


def sent_mails(caisse) -> int:
    return sum(caisse.simulator.state.receptions.values())


def actions(lot_id: int) -> list[str]:
    return [
        t.action
        for t in LotTransition.select()
        .where(LotTransition.lot == lot_id)
        .order_by(LotTransition.id)
    ]


def test_negative_arl_then_identical_resend_gets_positive(office, start_caisse):
    office.invoices(2)
    caisse = start_caisse(script("negative:003", "positive"))
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    sending.send_lots(caisse.settings, user="anne", now=T0)

    report = receiving.receive(caisse.settings, user="anne", now=T0)

    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.arl_code) == ("ARL_NEGATIF", "003")
    assert lot.arl_reason == "003 Émetteur inconnu"
    assert "il sera renvoyé à l'identique une fois" in report.processed[0].message
    assert [s.id for s in lot_views.lots_to_send()] == [built.id]

    resend = sending.send_lots(caisse.settings, user="anne", now=T0 + timedelta(hours=1))
    assert resend.all_sent
    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.send_count) == ("TRANSMIS", 2)
    assert lot.file_sha256 == built.file_sha256  # the identical file
    receiving.receive(caisse.settings, user="anne", now=T0 + timedelta(hours=1))
    assert Lot.get_by_id(built.id).state == "ARL_POSITIF"
    assert actions(built.id) == [
        "build", "start_sending", "confirm_sent", "arl_negative",
        "start_sending", "confirm_sent", "arl_positive",
    ]  # fmt: skip
    assert sent_mails(caisse) == 2


def test_negative_again_after_the_resend_means_manual_treatment(office, start_caisse, tmp_path):
    ids = office.invoices(2)
    caisse = start_caisse(script("negative:002", "negative:002"))
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    sending.send_lots(caisse.settings, user="anne", now=T0)
    receiving.receive(caisse.settings, user="anne", now=T0)
    # lots check re-sends it (once) by itself.
    report = lot_check.check(caisse.settings, user="cron", now=T0 + timedelta(minutes=5))
    assert report.resent is not None and report.resent.all_sent
    report = lot_check.check(caisse.settings, user="cron", now=T0 + timedelta(minutes=10))

    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.send_count) == ("TRAITEMENT_MANUEL", 2)
    assert [s.id for s in report.manual] == [built.id] and report.resent is None
    assert sent_mails(caisse) == 2  # never a third time
    # The paper route: a printable list and a CSV of the lot's invoices.
    paper = paper_lists.paper_list(built.id)
    text = paper.text()
    assert text.startswith("TRAITEMENT MANUEL - envoi papier du lot 001 (FSE)")
    assert "CPAM CHARTRES" in text and "000007401" in text and "000007402" in text
    assert "002 Checksum faux" in text
    rows = paper.csv().splitlines()
    assert rows[0].startswith("lot;facture;date;patient;nir")
    assert [r.split(";")[1] for r in rows[1:]] == ["000007401", "000007402"]
    assert invoice_states(ids) == ["TRANSMISE", "TRANSMISE"]


def test_one_timeout_then_positive_after_the_resend(office, start_caisse):
    office.invoices(1)
    caisse = start_caisse(script("silent", "positive"))
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    sending.send_lots(caisse.settings, user="anne", now=T0)

    # 47 h later: still waiting, nothing happens.
    early = lot_check.check(caisse.settings, user="cron", now=T0 + timedelta(hours=47))
    assert early.timed_out == () and Lot.get_by_id(built.id).state == "TRANSMIS"
    assert lot_views.lot_summary(built.id).arl_deadline(48) == T0 + timedelta(hours=48)

    report = lot_check.check(caisse.settings, user="cron", now=T0 + HOURS_49)

    assert [s.id for s in report.timed_out] == [built.id]
    assert (
        "Pas d'ARL 48 h après l'envoi du 02/03/2026 à 18:00 (time-out)"
        in report.timed_out[0].arl_reason
    )
    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.send_count, lot.sent_at) == ("TRANSMIS", 2, T0 + HOURS_49)
    receiving.receive(caisse.settings, user="anne", now=T0 + HOURS_49)
    assert Lot.get_by_id(built.id).state == "ARL_POSITIF"
    assert actions(built.id)[3:] == ["timeout", "start_sending", "confirm_sent", "arl_positive"]


def test_two_timeouts_mean_manual_treatment(office, start_caisse):
    office.invoices(1)
    caisse = start_caisse(script("silent"))
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    sending.send_lots(caisse.settings, user="anne", now=T0)
    lot_check.check(caisse.settings, user="cron", now=T0 + HOURS_49)
    assert Lot.get_by_id(built.id).send_count == 2

    report = lot_check.check(caisse.settings, user="cron", now=T0 + 2 * HOURS_49)

    assert Lot.get_by_id(built.id).state == "TRAITEMENT_MANUEL"
    assert [s.id for s in report.manual] == [built.id]
    assert sent_mails(caisse) == 2
    # A late positive ARL still counts: the paper route is called off.
    arl = Arl(
        emitter=CaisseCode("01", "281", "0000"),
        created_at=T0,
        sender_id="281234567",
        practitioner_am="281234567",
        lot_number=1,
        lot_checksum=built.file_sha256,
        status=ArlStatus.POSITIVE,
    )
    deliver(caisse.outbox, arl)
    late = receiving.receive(caisse.settings, user="anne", now=T0 + 3 * HOURS_49)
    assert "ne l'envoyez pas (plus) sur papier" in late.processed[0].message
    assert Lot.get_by_id(built.id).state == "ARL_POSITIF"


def deliver(outbox, arl: Arl, data: bytes | None = None) -> None:
    data = TuibillArlCodec().write(arl) if data is None else data
    message = build_arl_message(
        data, arl, sender="caisse@example.org", recipient="cabinet@example.org", sent_at=T0
    )
    mailbox.Maildir(outbox, create=True).add(message)


def test_a_corrupt_arl_is_archived_refused_and_changes_nothing(office, start_caisse):
    office.invoices(1)
    caisse = start_caisse(script("silent"))
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    sending.send_lots(caisse.settings, user="anne", now=T0)
    arl = Arl(
        emitter=CaisseCode("01", "281", "0000"),
        created_at=T0,
        sender_id="281234567",
        practitioner_am="281234567",
        lot_number=1,
        lot_checksum=built.file_sha256,
        status=ArlStatus.POSITIVE,
    )
    good = TuibillArlCodec().write(arl)
    corrupt = good.replace(b"20P", b"20X", 1)
    deliver(caisse.outbox, arl, corrupt)

    report = receiving.receive(caisse.settings, user="anne", now=T0)

    (outcome,) = report.processed
    assert outcome.file.status == "refuse" and outcome.file.flagged
    assert outcome.message.startswith("ARL illisible, mis de côté (rien n'a changé) :")
    assert "Enregistrement 4 (type 90" in outcome.message or "empreinte" in outcome.message
    row = ReceivedFile.get()
    assert (row.kind, row.status, row.lot_id) == ("arl", "refuse", None)
    assert open(row.archive_path, "rb").read() == corrupt  # kept, exactly
    assert Lot.get_by_id(built.id).state == "TRANSMIS"
    assert actions(built.id) == ["build", "start_sending", "confirm_sent"]
    assert [f.id for f in lot_views.received_files(("refuse", "ignore"))] == [row.id]
    assert list(mailbox.Maildir(caisse.outbox, create=False).keys()) == []


def test_an_arl_for_no_lot_of_ours_is_recorded_without_effect(office, start_caisse):
    caisse = start_caisse()
    arl = Arl(
        emitter=CaisseCode("01", "281", "0000"),
        created_at=T0,
        sender_id="281234567",
        practitioner_am="281234567",
        lot_number=42,
        lot_checksum="0" * 64,
        status=ArlStatus.NEGATIVE,
        reason_code="001",
        reason_label="Fichier illisible",
    )
    deliver(caisse.outbox, arl)
    report = receiving.receive(caisse.settings, user="anne", now=T0)
    (outcome,) = report.processed
    assert outcome.file.status == "ignore" and outcome.lot is None
    assert "aucun lot envoyé ne correspond" in outcome.message


def test_mails_not_from_a_caisse_stay_in_the_mailbox(office, start_caisse):
    caisse = start_caisse()
    box = mailbox.Maildir(caisse.outbox, create=True)
    from email.message import EmailMessage

    personal = EmailMessage()
    personal["Subject"] = "Réunion de cabinet"
    personal.set_content("Jeudi 14 h.")
    box.add(personal)
    report = receiving.receive(caisse.settings, user="anne", now=T0)
    assert (report.fetched, report.left, report.deleted) == (1, 1, 0)
    assert len(box.keys()) == 1 and ReceivedFile.select().count() == 0


def test_a_damaged_lot_gets_a_negative_arl_with_another_checksum(office, start_caisse):
    office.invoices(1)
    caisse = start_caisse(script("silent"))
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    sending.send_lots(caisse.settings, user="anne", now=T0)
    arl = Arl(
        emitter=CaisseCode("01", "281", "0000"),
        created_at=T0,
        sender_id=None,
        practitioner_am="281234567",
        lot_number=1,
        lot_checksum="f" * 64,  # the caisse's checksum of what it got
        status=ArlStatus.NEGATIVE,
        reason_code="002",
        reason_label="Checksum faux",
    )
    deliver(caisse.outbox, arl)
    receiving.receive(caisse.settings, user="anne", now=T0)
    lot = Lot.get_by_id(built.id)
    assert (lot.state, lot.arl_code) == ("ARL_NEGATIF", "002")


def test_check_applies_no_timeout_when_the_mailbox_cannot_be_read(office, start_caisse, tmp_path):
    from tuibill.config import MailboxSettings

    office.invoices(1)
    caisse = start_caisse(script("silent"))
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    sending.send_lots(caisse.settings, user="anne", now=T0)
    caisse.settings.mailbox = MailboxSettings(protocol="inbox", folder=str(tmp_path / "absent"))

    report = lot_check.check(caisse.settings, user="cron", now=T0 + HOURS_49)

    assert report.timed_out == () and report.failed and report.needs_attention
    assert "Délais non vérifiés" in report.errors[0] and "absent" in report.errors[0]
    assert Lot.get_by_id(built.id).state == "TRANSMIS"
    # With the mailbox back, the time-out applies.
    caisse.settings.mailbox = MailboxSettings(protocol="inbox", folder=str(caisse.outbox))
    report = lot_check.check(caisse.settings, user="cron", now=T0 + HOURS_49)
    assert [s.id for s in report.timed_out] == [built.id] and not report.failed


def test_duplicate_after_an_identical_resend_means_the_caisse_has_the_lot(office, start_caisse):
    """Issue 13 #3: the positive ARL of the first sending was lost; after the time-out the
    identical lot is re-sent and the caisse answers « 004 Lot en double — déjà reçu un ARL
    positif »: it has the lot. That is an ARL positif, never Traitement manuel (paper)."""
    office.invoices(1)
    caisse = start_caisse(script("positive", "positive"))
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    sending.send_lots(caisse.settings, user="anne", now=T0)
    lost = mailbox.Maildir(caisse.outbox, create=False)
    assert len(lost) == 1
    lost.clear()  # the positive ARL never reaches the practice

    lot_check.check(caisse.settings, user="cron", now=T0 + HOURS_49)  # time-out, re-sent
    assert (Lot.get_by_id(built.id).state, Lot.get_by_id(built.id).send_count) == ("TRANSMIS", 2)
    report = receiving.receive(caisse.settings, user="anne", now=T0 + HOURS_49)

    lot = Lot.get_by_id(built.id)
    assert lot.state == "ARL_POSITIF"
    assert "déjà reçu" in report.processed[0].message
    assert actions(built.id)[-1] == "arl_positive"
