"""Helpers shared by the TLA tests: invoices to load, and a desk that unloads in two phases."""

from __future__ import annotations

import base64

from tuibill.hardware.tla.interface import PortableReader
from tuibill.hardware.tla.protocol import (
    SIGNING_PAYLOAD,
    DeviceInvoiceState,
    InvoiceToLoad,
    StoredInvoice,
    invoice_key,
)

AM = "591234567"


def to_sign(number: int) -> bytes:
    """The bytes a test invoice gives the device to sign (protocol version 2)."""
    return f"FSE {number:09d} MARTIN Louise AMI 1 2026-11-23\n".encode("latin-1")


def make_invoices(count: int, first: int = 1, *, signed: bool = False) -> list[InvoiceToLoad]:
    """*count* invoices; with *signed*, each content carries a signing payload (version 2)."""
    invoices = []
    for number in range(first, first + count):
        content: dict = {"acts": [{"code": "AMI", "coefficient": "1", "date": "2026-11-23"}]}
        if signed:
            content[SIGNING_PAYLOAD] = base64.b64encode(to_sign(number)).decode("ascii")
        invoices.append(
            InvoiceToLoad(
                key=invoice_key(AM, number),
                number=f"{number:09d}",
                patient=f"MARTIN Louise n°{number}",
                amount_cents=2000 + number,
                content=content,
            )
        )
    return invoices


class FakeDesk:
    """The desk's side of docs/formats/tla-protocol.md, with dicts for a database.

    ``states`` holds each invoice's desk state; ``journal`` every transition recorded, so that a
    duplicate commit would show as two lines for one key.
    """

    def __init__(self, invoices: list[InvoiceToLoad]) -> None:
        self.invoices = {invoice.key: invoice for invoice in invoices}
        self.states = {key: "A_CHARGER" for key in self.invoices}
        self.securing: dict[str, StoredInvoice] = {}
        self.journal: list[tuple[str, str]] = []

    def _move(self, key: str, state: str) -> None:
        self.states[key] = state
        self.journal.append((key, state))

    def load(self, reader: PortableReader) -> None:
        marked = [self.invoices[k] for k, state in self.states.items() if state == "A_CHARGER"]
        for key in reader.load(marked):  # idempotent: a re-run stores nothing twice
            self._move(key, "CHARGEE_TLA")  # recorded only after the device acknowledged

    def unload(self, reader: PortableReader) -> list[str]:
        fetched = reader.fetch_all()  # phase 1: read everything, change nothing
        committed = []
        for invoice in fetched:  # phase 2: "one transaction"
            if invoice.state is DeviceInvoiceState.LOADED:
                continue  # not secured at the patient's home: stays on the device
            if self.states.get(invoice.key) == "CHARGEE_TLA":
                secured = invoice.state is DeviceInvoiceState.SECURED
                self._move(invoice.key, "VALIDEE" if secured else "A_SECURISER")
                self.securing[invoice.key] = invoice
            elif invoice.key not in self.securing:
                continue  # unknown to the desk: left on the device for a person to look at
            committed.append(invoice.key)  # committed now or by an earlier, interrupted run
        return reader.erase(committed)  # phase 3: only after the commit
