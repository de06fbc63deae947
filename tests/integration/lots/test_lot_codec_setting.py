"""[transmission] lot_codec / arl_codec: a codec installed by entry point is used everywhere.

The stand-in « certified » codecs write tuibill's records behind a marker that tuibill's own
readers refuse, and sign other bytes: any place still using tuibill's own codec shows.
"""

from __future__ import annotations

import importlib.metadata
import mailbox
from dataclasses import replace

import pytest
from lots_support import T0

from tuibill import config, formats
from tuibill.formats.arl import TuibillArlCodec
from tuibill.formats.codec import Arl, ArlStatus, CaisseCode, FseRecord, LotFile, file_checksum
from tuibill.formats.errors import FormatError
from tuibill.formats.lot_file import TuibillLotCodec
from tuibill.models import Invoice, Lot
from tuibill.services import lot_views, lots, receiving, securing, sending
from tuibill.simulator.scenarios import Answer, FixedScenario
from tuibill.transport.envelopes import build_arl_message

MARK = b"CERTIFIE\n"


def _unmark(data: bytes) -> bytes:
    if not bytes(data).startswith(MARK):
        raise FormatError("Format certifié : marque absente.")
    return bytes(data)[len(MARK) :]


class CertifiedLotCodec(TuibillLotCodec):
    name = "certifie"

    def write(self, lot: LotFile) -> bytes:
        return MARK + super().write(lot)

    def read(self, data: bytes) -> LotFile:
        return super().read(_unmark(data))

    def signing_payload(self, fse: FseRecord) -> bytes:
        return MARK + super().signing_payload(fse)


class CertifiedArlCodec(TuibillArlCodec):
    name = "certifie"

    def write(self, arl: Arl) -> bytes:
        return MARK + super().write(arl)

    def read(self, data: bytes) -> Arl:
        return super().read(_unmark(data))


@pytest.fixture(autouse=True)
def installed(monkeypatch):
    """Both codecs declared as an installed package would: entry points, nothing registered."""
    points = {
        group: [importlib.metadata.EntryPoint("certifie", f"{__name__}:{cls.__name__}", group)]
        for group, cls in (
            (formats.LOT_CODEC_ENTRY_POINTS, CertifiedLotCodec),
            (formats.ARL_CODEC_ENTRY_POINTS, CertifiedArlCodec),
        )
    }
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda *, group: points.get(group, []))


def test_the_settings_accept_an_installed_codec_and_refuse_an_unknown_one():
    settings = config.parse('[transmission]\nlot_codec = "certifie"\narl_codec = "certifie"\n')
    assert isinstance(formats.get_lot_codec(settings.transmission.lot_codec), CertifiedLotCodec)
    assert isinstance(formats.get_arl_codec(settings.transmission.arl_codec), CertifiedArlCodec)
    with pytest.raises(config.ConfigError, match="disponibles : certifie, tuibill"):
        config.parse('[transmission]\nlot_codec = "b2"\n', "cabinet.toml")


def test_building_sending_and_reading_back_use_the_configured_lot_codec(office, start_caisse):
    ids = office.invoices(2)
    caisse = start_caisse(lot_codec=CertifiedLotCodec())  # the caisse reads certified lots
    settings = replace(caisse.settings, lot_codec="certifie")

    (built,) = lots.build_lots(settings, user="anne", now=T0).lots
    stored = bytes(Lot.get_by_id(built.id).file_bytes)
    assert stored.startswith(MARK)  # written by the configured codec

    # Sent as stored, addressed from the lot's row: nothing reads the file back to send it.
    (outcome,) = sending.send_lots(settings, user="anne", now=T0).outcomes
    assert outcome.status == sending.SENT, outcome.message
    (reception,) = caisse.simulator.state.receptions
    assert reception == (office.nurse.am_number, built.number)

    detail = lot_views.lot_detail(built.id)  # read with the codec that wrote it
    assert detail.file_error == ""
    assert sorted(item.invoice_id for item in detail.invoices) == sorted(ids)
    # The lot keeps the codec that wrote it: read back with it even once the setting changes
    # (tuibill's own reader could not read these bytes).
    assert Lot.get_by_id(built.id).codec == "certifie"
    assert lot_views.lot_detail(built.id).file_error == ""


def test_signing_uses_the_configured_lot_codec(office):
    (invoice_id,) = office.invoices(1)
    invoice = Invoice.get_by_id(invoice_id)
    record = securing.fse_record(invoice, mode=securing.SESAM_VITALE)
    payload = securing.signing_payload(invoice, mode=securing.SESAM_VITALE, lot_codec="certifie")
    assert payload == CertifiedLotCodec().signing_payload(record)
    assert payload == MARK + securing.signing_payload(invoice, mode=securing.SESAM_VITALE)


def test_an_arl_is_read_with_the_configured_arl_codec(office, start_caisse):
    office.invoices(1)
    caisse = start_caisse(FixedScenario((Answer("silent"),)), arl_codec="certifie")
    (built,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    sending.send_lots(caisse.settings, user="anne", now=T0)
    lot = Lot.get_by_id(built.id)
    arl = Arl(
        emitter=CaisseCode("01", "281", "0000"),
        created_at=T0,
        sender_id=office.nurse.am_number,
        practitioner_am=office.nurse.am_number,
        lot_number=lot.number,
        lot_checksum=file_checksum(bytes(lot.file_bytes)),
        status=ArlStatus.POSITIVE,
    )
    data = CertifiedArlCodec().write(arl)
    mailbox.Maildir(caisse.outbox, create=True).add(
        build_arl_message(
            data, arl, sender="caisse@example.org", recipient="cabinet@example.org", sent_at=T0
        )
    )
    (outcome,) = receiving.receive(caisse.settings, user="anne", now=T0).processed
    assert outcome.file.status == receiving.APPLIED, outcome.message
    assert Lot.get_by_id(built.id).state == "ARL_POSITIF"
    # The same file read with tuibill's own codec is refused: the setting made the difference.
    with pytest.raises(FormatError):
        TuibillArlCodec().read(data)
