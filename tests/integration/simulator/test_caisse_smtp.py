"""The simulated caisse over real SMTP: lots in, ARL mails out into the maildir."""

from __future__ import annotations

import time
from email.message import EmailMessage

from caisse_helpers import (
    AM,
    PRACTICE,
    answers,
    arl_of,
    lot_bytes,
    lot_mail,
    make_lot,
    reseal,
    send,
    wait_for_answers,
)

from tuibill.formats.codec import ArlStatus, file_checksum
from tuibill.formats.lot_file import TuibillLotCodec
from tuibill.simulator.scenarios import Answer, FixedScenario, LotRule, ScriptScenario


def test_positive_arl_round_trip(start_caisse, tmp_path, logs):
    server = start_caisse()
    data = lot_bytes()
    mail = lot_mail(data)
    send(server.port, mail)

    (answer,) = wait_for_answers(tmp_path / "Maildir", 1)
    assert answer["Subject"] == "TUIBILL ARL 123456789 042 01281 POSITIF"
    assert answer["X-Tuibill-Arl"] == "POSITIF"
    assert answer["X-Tuibill-Lot"] == "123456789 042 01281"
    assert answer["To"] == PRACTICE
    assert answer["In-Reply-To"] == mail["Message-ID"]
    arl = arl_of(answer)
    assert arl.status is ArlStatus.POSITIVE
    assert (arl.practitioner_am, arl.lot_number, arl.sender_id) == (AM, 42, AM)
    assert arl.lot_checksum == file_checksum(data)
    assert str(arl.emitter) == "01 281 0000"
    assert any("Reçu : lot 042 du PS 123456789, 1 FSE." in line for line in logs)


def test_negative_mode_with_reason(start_caisse, tmp_path):
    server = start_caisse(FixedScenario((Answer("negative", "003"),)))
    send(server.port, lot_mail(lot_bytes()))
    (answer,) = wait_for_answers(tmp_path / "Maildir", 1)
    assert answer["Subject"] == "TUIBILL ARL 123456789 042 01281 NEGATIF 003"
    arl = arl_of(answer)
    assert arl.status is ArlStatus.NEGATIVE
    assert (arl.reason_code, arl.reason_label) == ("003", "Émetteur inconnu")


def test_negative_mode_default_reason(start_caisse, tmp_path):
    server = start_caisse(FixedScenario((Answer("negative"),)), negative_reason="008")
    send(server.port, lot_mail(lot_bytes()))
    (answer,) = wait_for_answers(tmp_path / "Maildir", 1)
    assert arl_of(answer).reason_code == "008"


def test_silent_mode_answers_nothing(start_caisse, tmp_path, logs):
    server = start_caisse(FixedScenario((Answer("silent"),)))
    send(server.port, lot_mail(lot_bytes()))
    # Delivery happens before the SMTP reply: nothing now means nothing at all.
    assert answers(tmp_path / "Maildir") == []
    assert any("silence" in line for line in logs)


def test_altered_lot_gets_negative_checksum_arl(start_caisse, tmp_path):
    server = start_caisse()
    data = lot_bytes()
    altered = data[:150] + b"Z" + data[151:]
    send(server.port, lot_mail(altered))
    (answer,) = wait_for_answers(tmp_path / "Maildir", 1)
    arl = arl_of(answer)
    assert arl.status is ArlStatus.NEGATIVE
    assert (arl.reason_code, arl.reason_label) == ("002", "Checksum faux")
    assert "empreinte SHA-256" in (arl.detail or "")
    assert arl.lot_checksum == file_checksum(altered)
    assert arl.sender_id is None  # unreadable: identified by the mail only
    assert (arl.practitioner_am, arl.lot_number) == (AM, 42)


def test_malformed_lot_gets_negative_arl_with_the_reader_message(start_caisse, tmp_path):
    server = start_caisse()
    data = bytearray(lot_bytes())
    # Record 4 is the act line: put a letter in its total (positions 44-52), keep the checksum right.
    start = 3 * 129 + 43
    data[start : start + 9] = b"00000A315"
    send(server.port, lot_mail(reseal(bytes(data))))
    (answer,) = wait_for_answers(tmp_path / "Maildir", 1)
    arl = arl_of(answer)
    assert (arl.status, arl.reason_code) == (ArlStatus.NEGATIVE, "001")
    assert arl.detail is not None
    assert "Enregistrement 4 (type 20, ligne d'acte), champ « montant total »" in arl.detail
    assert "Fichier illisible" in answer.get_body(("plain",)).get_content()


def test_mail_without_attachment_gets_007(start_caisse, tmp_path):
    server = start_caisse()
    mail = lot_mail(lot_bytes())
    bare = EmailMessage()
    for name in ("From", "To", "Subject", "X-Tuibill-Lot"):
        bare[name] = mail[name]
    bare.set_content("oubli de la pièce jointe")
    send(server.port, bare)
    (answer,) = wait_for_answers(tmp_path / "Maildir", 1)
    assert arl_of(answer).reason_code == "007"


def test_unidentifiable_mail_gets_no_answer(start_caisse, tmp_path, logs):
    server = start_caisse()
    mail = EmailMessage()
    mail["From"] = PRACTICE
    mail["To"] = "lots@example.org"
    mail["Subject"] = "bonjour"
    mail.set_content("rien")
    mail.add_attachment(
        b"garbage", maintype="application", subtype="octet-stream", filename="x.bin"
    )
    send(server.port, mail)
    assert answers(tmp_path / "Maildir") == []
    assert any("non identifiable" in line for line in logs)


def test_identical_lot_after_positive_is_a_duplicate(start_caisse, tmp_path):
    server = start_caisse()
    data = lot_bytes()
    send(server.port, lot_mail(data))
    send(server.port, lot_mail(data))
    found = wait_for_answers(tmp_path / "Maildir", 2)
    statuses = sorted(str(message["X-Tuibill-Arl"]) for message in found)
    assert statuses == ["NEGATIF 004", "POSITIF"]
    # Another lot reusing the number (after the 999 → 001 wrap) is new content: accepted.
    other = TuibillLotCodec().write(make_lot(42, invoice_number=2002))
    send(server.port, lot_mail(other))
    found = wait_for_answers(tmp_path / "Maildir", 3)
    assert sorted(str(message["X-Tuibill-Arl"]) for message in found) == [
        "NEGATIF 004",
        "POSITIF",
        "POSITIF",
    ]


def test_script_silent_then_positive_on_resend(start_caisse, tmp_path):
    scenario = ScriptScenario(
        rules=(LotRule(steps=((Answer("silent"),), (Answer("positive"),)), lot_number=42),),
        default=(Answer("negative", "003"),),
    )
    server = start_caisse(scenario)
    data = lot_bytes()
    send(server.port, lot_mail(data))
    assert answers(tmp_path / "Maildir") == []
    send(server.port, lot_mail(data))  # the identical lot, re-sent after the time-out
    (answer,) = wait_for_answers(tmp_path / "Maildir", 1)
    assert arl_of(answer).status is ArlStatus.POSITIVE
    send(server.port, lot_mail(lot_bytes(7), 7))  # not in the script: the default
    found = wait_for_answers(tmp_path / "Maildir", 2)
    assert sorted(str(message["X-Tuibill-Arl"]) for message in found) == ["NEGATIF 003", "POSITIF"]


def test_delay_postpones_delivery(start_caisse, tmp_path):
    server = start_caisse(delay=0.6)
    started = time.monotonic()
    send(server.port, lot_mail(lot_bytes()))
    if time.monotonic() - started < 0.5:  # only meaningful if sending was quick
        assert answers(tmp_path / "Maildir") == []
    assert len(wait_for_answers(tmp_path / "Maildir", 1)) == 1


def test_any_login_is_accepted(start_caisse, tmp_path):
    server = start_caisse()
    send(server.port, lot_mail(lot_bytes()), login=("secretariat", "n'importe quoi"))
    assert len(wait_for_answers(tmp_path / "Maildir", 1)) == 1


def test_an_existing_folder_that_is_not_a_maildir_yet_gets_every_answer(start_caisse, tmp_path):
    """Issue 13 #2: the outbox exists but is a plain folder: the simulator makes it a maildir
    at start, and the ARLs of every lot arrive (none lost to a broken SMTP session)."""
    outbox = tmp_path / "plain"
    outbox.mkdir()
    server = start_caisse(outbox=outbox)
    send(server.port, lot_mail(lot_bytes()))
    send(server.port, lot_mail(lot_bytes(43)))
    assert len(wait_for_answers(outbox, 2)) == 2


def test_an_outbox_that_fails_is_answered_451_and_the_next_lot_still_works(
    start_caisse, tmp_path, logs
):
    import shutil

    server = start_caisse()
    shutil.rmtree(tmp_path / "Maildir" / "tmp")  # the disk trouble of the issue
    import smtplib
    from email import policy

    with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
        client.ehlo()
        client.mail(PRACTICE)
        client.rcpt("lots@caisse.example")
        code, _ = client.data(lot_mail(lot_bytes()).as_bytes(policy=policy.SMTP))
    assert code == 451
    (tmp_path / "Maildir" / "tmp").mkdir()
    send(server.port, lot_mail(lot_bytes(43)))
    assert len(wait_for_answers(tmp_path / "Maildir", 1)) == 1
    assert any("dépôt des réponses" in line for line in logs)
