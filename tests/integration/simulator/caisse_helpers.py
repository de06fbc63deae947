"""A small lot, mail sending and maildir reading for the simulator tests."""

from __future__ import annotations

import hashlib
import mailbox
import smtplib
import time
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from tuibill.formats.arl import TuibillArlCodec
from tuibill.formats.codec import (
    Arl,
    CaisseCode,
    FseLine,
    FseMode,
    FseRecord,
    LotFile,
    LotHeader,
)
from tuibill.formats.lot_file import TRAILER, TuibillLotCodec
from tuibill.transport.envelopes import LotEnvelope, build_lot_message, find_arl_attachment

AM = "123456789"
PRACTICE = "cabinet@example.org"
CAISSE = "lots@cpam-chartres.example"


def make_lot(lot_number: int = 42, invoice_number: int = 1001) -> LotFile:
    line = FseLine(
        act_date=date(2025, 3, 3),
        code="AMI",
        coefficient_x100=100,
        quantity=1,
        unit_cents=315,
        total_cents=315,
        amo_cents=189,
        amc_cents=0,
        patient_cents=126,
    )
    first13 = "2610675056012"
    fse = FseRecord(
        invoice_number=invoice_number,
        mode=FseMode.DEGRADE,
        billing_date=date(2025, 3, 4),
        patient_last_name="SIMON",
        patient_first_name="Pascale",
        birth_date=date(1961, 6, 30),
        nir=f"{first13}{97 - int(first13) % 97:02d}",
        rank=1,
        quality="00",
        amo=CaisseCode("01", "281", "0001"),
        amo_tiers_payant=True,
        amc_tiers_payant=False,
        amo_rate=60,
        total_cents=315,
        amo_cents=189,
        amc_cents=0,
        patient_cents=126,
        lines=(line,),
    )
    header = LotHeader(
        sender_id=AM,
        sender_name="Cabinet infirmier",
        practitioner_am=AM,
        destination=CaisseCode("01", "281", "0000"),
        lot_number=lot_number,
        created_at=datetime(2025, 3, 5, 18, 0, 0),
        software_name="tuibill",
        software_version="0.1.0",
    )
    return LotFile(header=header, fses=(fse,))


def lot_bytes(lot_number: int = 42, invoice_number: int | None = None) -> bytes:
    """A lot of one FSE; each lot number its own FSE number (the concentrator refuses an FSE
    number already received in another lot as a duplicate)."""
    number = invoice_number or (1001 if lot_number == 42 else 1000 + lot_number)
    return TuibillLotCodec().write(make_lot(lot_number, number))


def lot_mail(data: bytes, lot_number: int = 42) -> EmailMessage:
    return build_lot_message(
        data,
        LotEnvelope(AM, lot_number, make_lot(lot_number).header.destination.destination),
        sender=PRACTICE,
        recipient=CAISSE,
        sent_at=datetime(2025, 3, 5, 18, 1, 0),
    )


def reseal(data: bytes) -> bytes:
    """Recompute the lot trailer's checksum after an edit, so only the edit is wrong."""
    offset = len(data) - 129 + TRAILER.starts["checksum"]
    digest = hashlib.sha256(data[:offset]).hexdigest().encode()
    return data[:offset] + digest + data[offset + 64 :]


def send(port: int, message: EmailMessage, *, login: tuple[str, str] | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        if login:
            smtp.login(*login)
        smtp.send_message(message)


def answers(outbox: Path) -> list[EmailMessage]:
    box = mailbox.Maildir(outbox, create=False)
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(box.get_bytes(key)) for key in box.keys()]  # type: ignore[misc]


def wait_for_answers(outbox: Path, count: int, timeout: float = 10.0) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while True:
        found = answers(outbox) if outbox.exists() else []
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def arl_of(message: EmailMessage) -> Arl:
    found = find_arl_attachment(message)
    assert found is not None, "no ARL attached"
    return TuibillArlCodec().read(found[1])
