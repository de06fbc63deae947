"""Helpers of the lot tests: a small practice, settings for the simulated caisse."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from tuibill.config import MailboxSettings, SmtpSettings, TransmissionSettings
from tuibill.domain.acts import Act
from tuibill.domain.invoices import InvoiceAction
from tuibill.domain.patients import nir_key
from tuibill.models import Invoice, InvoicePiece, Organism, Patient, Practitioner
from tuibill.models.database import immediate
from tuibill.services import invoices as invoice_service
from tuibill.services import lifecycle, patients, practice
from tuibill.simulator.caisse import CaisseSimulator, SmtpCaisse

TODAY = date.today()
T0 = datetime(2026, 3, 2, 18, 0, 0)  # the injected clock of the sending tests
PRACTICE_ADDRESS = "cabinet@tilleuls.example"
CAISSE_ADDRESSES = {"01281": "lots@cpam-chartres.example", "01595": "lots@cpam-lille.example"}


def make_nir(sex: int, birth: date, dept: str, serial: int) -> str:
    first13 = f"{sex}{birth:%y%m}{dept}{serial:06d}"
    return first13 + nir_key(first13)


@dataclass
class Office:
    nurse: Practitioner
    kine: Practitioner
    cpam: Organism  # 01 281
    lille: Organism  # 01 595
    patients: dict[int, Patient] = field(default_factory=dict)  # organism id → a patient

    def invoices(
        self,
        count: int,
        *,
        practitioner: Practitioner | None = None,
        organism: Organism | None = None,
        mode: str = "degrade",
        validate: bool = True,
        home_visit: bool = False,
    ) -> list[int]:
        """*count* invoices of one AMI each (+ IFD: two lines), Validée by default."""
        practitioner = practitioner or self.nurse
        patient = self.patients[(organism or self.cpam).id]
        ids = []
        for _ in range(count):
            code = "AMK" if practitioner.specialty == "26" else "AMI"
            act = Act(
                act_date=TODAY - timedelta(days=2),
                code=code,
                act_time=time(9),
                home_visit=home_visit,
            )
            invoice = invoice_service.create_invoice(practitioner.id, patient.id, [act], user="anne")
            if validate and mode == "degrade":
                invoice_service.validate(invoice.id, user="anne")
            elif validate:
                with immediate():
                    lifecycle.move_invoice(
                        invoice,
                        InvoiceAction.VALIDATE,
                        user="anne",
                        securing={"mode": mode, "secured_with_vitale": True},
                    )
            ids.append(invoice.id)
        return ids

    def add_piece(self, invoice_id: int, content: bytes, kind: str = "prescription") -> None:
        import hashlib

        InvoicePiece.create(
            invoice=invoice_id,
            kind=kind,
            file_name=f"scan-{invoice_id}.pdf",
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            added_at=datetime(2026, 3, 1, 9, 0, 0),
            added_by="anne",
        )


def make_office() -> Office:
    practice.save_practice("Cabinet infirmier des Tilleuls", email=PRACTICE_ADDRESS)
    nurse = practice.create_practitioner("GAUTIER", "Anne", "281234567", invoice_number_start=7401)
    kine = practice.create_practitioner(
        "NOËL", "Marc", "281234570", specialty="26", invoice_number_start=9001
    )
    cpam = patients.create_organism("01", "281", "0000", "CPAM CHARTRES")
    lille = patients.create_organism("01", "595", "0000", "CPAM LILLE-DOUAI")
    office = Office(nurse=nurse, kine=kine, cpam=cpam, lille=lille)
    for serial, (organism, last, first) in enumerate(
        [(cpam, "Dupuis", "Alain"), (lille, "Œuvray", "Chloë")], 1
    ):
        patient = patients.create_patient(
            patients.PatientInput(
                last_name=last,
                first_name=first,
                birth_date=date(1950, 5, 1),
                nir=make_nir(1, date(1950, 5, 1), "28", serial),
                organism_id=organism.id,
            )
        )
        office.patients[organism.id] = patient
    return office


def transmission(tmp_path: Path, smtp_port: int = 1, **overrides: object) -> TransmissionSettings:
    """Settings for the simulated caisse on *smtp_port*, its maildir as the inbox."""
    values: dict = {
        "lot_max_invoices": 500,
        "archive_dir": str(tmp_path / "archive"),
        "smtp": SmtpSettings(
            host="127.0.0.1", port=smtp_port, security="none", sender=PRACTICE_ADDRESS
        ),
        "mailbox": MailboxSettings(protocol="inbox", folder=str(tmp_path / "Maildir")),
        "caisses": dict(CAISSE_ADDRESSES),
    }
    values.update(overrides)
    return TransmissionSettings(**values)


@dataclass
class Caisse:
    server: SmtpCaisse
    simulator: CaisseSimulator
    outbox: Path
    settings: TransmissionSettings


def invoice_states(ids: list[int]) -> list[str]:
    found = {i.id: i.state for i in Invoice.select().where(Invoice.id.in_(ids))}
    return [found[i] for i in ids]
