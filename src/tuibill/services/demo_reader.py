"""The demo's portable reader (TLA): invoices loaded into the database's emulated reader, one
semi-secured at the patient's home with a CPE and unloaded (« À sécuriser »), the others still
« Chargée dans le TLA » — through the same services as a real reader."""

from __future__ import annotations

from tuibill.config import DeviceSettings
from tuibill.domain.cards import CardType
from tuibill.models import Invoice
from tuibill.services import tla_transfer
from tuibill.services.database import current_url
from tuibill.services.devices import emulated_tla_state, open_portable_reader

DEMO_USER = "demo"


def load_demo_reader(practitioner_id: int) -> dict[str, int]:
    """Load the practitioner's « À charger » invoices; semi-secure the first one and unload."""
    from tuibill.hardware.tla.emulator import TlaDevice

    url = current_url()
    if url is None:
        return {}
    reader = open_portable_reader(DeviceSettings(), database_url=url)
    with reader:
        loaded = tla_transfer.load_prepared(reader, DEMO_USER, practitioner_id=practitioner_id)
        keys = sorted(loaded.loaded)
        if keys:
            TlaDevice(emulated_tla_state(url)).secure([keys[0]], CardType.CPE)
            tla_transfer.unload(reader, DEMO_USER)
    return {"tla": Invoice.select().where(Invoice.state == "CHARGEE_TLA").count()}
