"""The demo practice: a realistic nursing practice with patients, prescriptions and invoices,
built through the real services (so its history is real): every pre-transmission state, then
(``story``) the lots, ARLs and NOEMIE returns of the last weeks (``services.demo_transmissions``)
and the portable reader's invoices (``services.demo_reader``)."""

from __future__ import annotations

import random
from datetime import date, time, timedelta

from tuibill.domain.acts import Act
from tuibill.domain.invoices import InvoiceAction
from tuibill.domain.patients import nir_key
from tuibill.services import acts as act_service
from tuibill.services import bank_demo, patients, practice, prescriptions
from tuibill.services import invoices as invoice_service
from tuibill.services.demo_reader import load_demo_reader
from tuibill.services.demo_transmissions import build_demo_transmissions
from tuibill.services.homecare_demo import build_homecare_demo
from tuibill.services.prescriptions import PrescribedAct

DEMO_USER = "demo"

ORGANISMS = [
    ("01", "281", "0000", "CPAM CHARTRES"),
    ("01", "594", "0000", "CPAM FLANDRES"),
    ("01", "595", "0000", "CPAM LILLE-DOUAI"),
    ("02", "028", "0000", "MSA BEAUCE CŒUR DE LOIRE"),
]
MUTUELLES = [
    ("75000001", "HARMONIE MUTUELLE"),
    ("77100002", "MGEN"),
    ("44000003", "MUTUELLE GÉNÉRALE"),
]
PRESCRIBERS = [
    ("591030325", "MARTIN", "Claire"),
    ("591003900", "LEROY", "Philippe"),
    ("591029061", "FONTAINE", "Hélène"),
    ("591950753", "ROUSSEL", "Marc"),
    ("591159447", "GARNIER", "Sophie"),
]
FAMILIES = [
    ("DUPUIS", ["Alain", "Martine", "Lucas"]),
    ("SIMON", ["Pascale"]),
    ("DESMAUX", ["Nathalie", "Paul"]),
    ("LEFEBVRE", ["Jacques", "Odette"]),
    ("MOREAU", ["Henri"]),
    ("BERNARD", ["Yvette", "Louis"]),
    ("PETIT", ["Germaine"]),
    ("ROBERT", ["Marcel", "Suzanne", "Léa"]),
    ("RICHARD", ["Denise"]),
    ("DURAND", ["René", "Monique"]),
    ("GIRARD", ["Lucienne"]),
    ("BONNET", ["Raymond", "Colette"]),
    ("FRANÇOIS", ["Gisèle"]),
    ("LAMBERT", ["André", "Josiane"]),
    ("ROUX", ["Thérèse"]),
    ("VINCENT", ["Michel", "Nicole", "Emma"]),
    ("FOURNIER", ["Jeanne"]),
    ("MOREL", ["Roger", "Paulette"]),
    ("GAUTHIER", ["Simone"]),
    ("CHEVALIER", ["Pierre", "Arlette"]),
]
SECTORS = ["EST", "OUEST", "CENTRE", "NORD"]


def make_nir(rng: random.Random, sex: int, birth: date, dept: str = "28") -> str:
    first13 = f"{sex}{birth:%y}{birth:%m}{dept}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    return first13 + nir_key(first13)


def build_demo(
    *, today: date | None = None, seed: int = 2026, story: bool = True
) -> dict[str, int]:
    """Fill an empty, initialised database with the demo practice. Returns counts.

    *story*: also the lots, ARLs and returns of the last weeks, the portable reader's invoices
    and a deleted draft (the whole life cycle); without it, the desk before any transmission.
    """
    rng = random.Random(seed)
    today = today or date.today()
    practice.save_practice(
        "Cabinet infirmier des Tilleuls",
        "12 rue des Tilleuls, 28000 Chartres",
        "02 37 00 00 00",
        "cabinet.tilleuls@example.org",
    )
    nurses = [
        practice.create_practitioner(
            "GAUTIER", "Anne", "281234567", rpps="10101234567", invoice_number_start=7401
        ),
        practice.create_practitioner(
            "BRUNET", "Karim", "281234568", rpps="10101234568", invoice_number_start=5120
        ),
    ]
    kine = practice.create_practitioner(
        "LEMAIRE", "Julie", "281234569", specialty="26", invoice_number_start=1
    )
    # A replacement nurse whose numbering is not set up yet: validation is refused for her.
    practice.create_practitioner(
        "NOËL", "Camille", "281234570", rpps="10101234570", invoice_number_start=None
    )
    organisms = [patients.create_organism(*o) for o in ORGANISMS]
    mutuelles = [patients.create_mutuelle(n, name) for n, name in MUTUELLES]
    prescribers = [patients.create_prescriber(*p) for p in PRESCRIBERS]

    all_patients = []
    for last, firsts in FAMILIES:
        organism = rng.choice(organisms[:3] if rng.random() < 0.85 else organisms)
        mutuelle = rng.choice(mutuelles) if rng.random() < 0.7 else None
        sector = rng.choice(SECTORS)
        insured = None
        for rank, first in enumerate(firsts, start=1):
            is_child = rank >= 3
            birth = (
                date(rng.randint(2012, 2020), rng.randint(1, 12), rng.randint(1, 28))
                if is_child
                else date(rng.randint(1930, 1965), rng.randint(1, 12), rng.randint(1, 28))
            )
            sex = 1 if first in {"Alain", "Lucas", "Paul", "Jacques", "Henri", "Louis", "Marcel",
                                 "René", "Raymond", "André", "Michel", "Roger", "Pierre"} else 2
            data = patients.PatientInput(
                last_name=last,
                first_name=first,
                birth_date=birth,
                nir=make_nir(rng, sex, birth),
                rank=1 if rank == 1 else (rank - 1 if is_child else 1),
                quality="00" if insured is None else ("06" if is_child else "02"),
                insured_id=insured.id if insured else None,
                organism_id=organism.id,
                mutuelle_id=mutuelle.id if mutuelle else None,
                amc_member_number=f"{rng.randint(10**7, 10**8 - 1)}" if mutuelle else "",
                amc_tiers_payant=mutuelle is not None and rng.random() < 0.6,
                ald=rng.random() < 0.3,
                sector=sector,
                address=f"{rng.randint(1, 80)} rue {rng.choice(['de la Gare', 'Pasteur', 'Victor Hugo', 'des Lilas', 'du Moulin'])}, 28000 Chartres",
                phone=f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            )
            patient = patients.create_patient(data, today=today)
            insured = insured or patient
            all_patients.append(patient)

    # A deceased patient, to show the act-after-death check.
    deceased = all_patients[7]
    patients.update_patient(
        deceased.id,
        patients.PatientInput(
            **{**patients.patient_input(deceased).__dict__, "death_date": today - timedelta(days=20)}
        ),
        today=today,
    )

    counts = {"invoices": 0, "prescriptions": 0, "isolated_acts": 0}
    nurse_acts = [("AMI", 100), ("AMI", 200), ("AIS", 300), ("AMI", 150), ("AIS", 200)]
    for index, patient in enumerate(all_patients):
        practitioner = kine if index % 9 == 4 else nurses[index % 2]
        acts = [("AMK", 800)] if practitioner is kine else [rng.choice(nurse_acts)]
        start = today - timedelta(days=rng.randint(20, 80))
        if patient.id == deceased.id:
            start = today - timedelta(days=40)
        prescription = prescriptions.create_prescription(
            patient.id,
            rng.choice(prescribers).id,
            practitioner.id,
            start,
            [PrescribedAct(code, rng.choice([10, 15, 20, 30]), coef) for code, coef in acts],
            today=today,
        )
        counts["prescriptions"] += 1
        # Bill the prescription in weekly invoices, leaving the latest week(s) to bill.
        day = start
        weeks = rng.randint(1, 4)
        for week in range(weeks):
            items = act_service.acts_from_prescription(prescription.id, day)
            if not items:
                break
            chosen = []
            for offset in range(min(rng.randint(2, 5), act_service.remaining_of(items[0]))):
                act_day = day + timedelta(days=offset)
                if act_day > today or (patient.death_date and act_day > patient.death_date):
                    break
                hour = rng.choice([7, 8, 9, 11, 18, 21])
                chosen.append(
                    Act(
                        act_date=act_day,
                        code=items[0].code,
                        coefficient_x100=items[0].coefficient_x100,
                        act_time=time(hour, rng.choice([0, 15, 30, 45])),
                        home_visit=practitioner is not kine,
                        mileage_km=rng.choice([0, 0, 3, 6]),
                        majorations=("MCI",) if rng.random() < 0.1 else (),
                        prescription_item_id=items[0].prescription_item_id,
                    )
                )
            if not chosen:
                break
            billing_day = min(today, chosen[-1].act_date + timedelta(days=1))
            invoice = invoice_service.create_invoice(
                practitioner.id,
                patient.id,
                chosen,
                user=rng.choice(["secretariat", "a.gautier", "k.brunet"]),
                billing_date=billing_day,
                prescription_id=prescription.id,
            )
            counts["invoices"] += 1
            fate = rng.random()
            is_last = week == weeks - 1
            if is_last and fate < 0.35:
                pass  # stays in Saisie
            elif is_last and fate < 0.5:
                invoice_service.prepare(invoice.id, user=DEMO_USER)
            else:
                invoice_service.validate(invoice.id, user=DEMO_USER)
                if is_last and fate > 0.9:
                    invoice_service.unvalidate(invoice.id, user=DEMO_USER, reason="Erreur de cotation")
            day += timedelta(days=7)
    # Isolated acts waiting to be billed.
    for patient in rng.sample(all_patients, 6):
        if patient.death_date:
            continue
        act_service.record_isolated_act(
            patient.id,
            nurses[0].id,
            today - timedelta(days=rng.randint(0, 5)),
            "AMI",
            rng.choice([100, 150]),
            act_time=f"{rng.choice([8, 9, 10])}:00",
            majorations=("MAU",),
            home_visit=True,
        )
        counts["isolated_acts"] += 1
    # One invoice made non transmissible, to show the state.
    candidates = [
        inv
        for inv in invoice_service.Invoice.select().where(invoice_service.Invoice.state == "VALIDEE").limit(1)
    ]
    for inv in candidates:
        invoice_service.apply_action(
            inv.id,
            InvoiceAction.MAKE_NON_TRANSMISSIBLE,
            user=DEMO_USER,
            reason="Transfert de dette au patient",
        )
    counts["patients"] = len(all_patients)
    if not story:
        return counts
    counts.update(build_demo_transmissions(today))
    counts.update(load_demo_reader(nurses[1].id))
    # A draft deleted: kept, « Supprimée », with its history.
    draft = (
        invoice_service.Invoice.select()
        .where(invoice_service.Invoice.state == "SAISIE")
        .order_by(invoice_service.Invoice.id.desc())
        .first()
    )
    if draft is not None:
        invoice_service.delete_draft(draft.id, user=DEMO_USER)
    counts.update(build_homecare_demo(today=today, seed=seed))
    # The bank statement of the caisses' virements and the payers' règlements, matched.
    counts.update(bank_demo.build_bank_demo(today=today))
    return counts


# The demo's staff (docs/cli.md): the demo logs in by itself as DEMO_USER and says so; the others
# are there to try « Changer d'utilisateur » and the roles. Demo secrets only: never a real one.
DEMO_PASSWORD = "demo2026"
DEMO_PIN = "1234"
DEMO_ACCOUNTS: list[tuple[str, str, str, str | None]] = [
    (DEMO_USER, "Démonstration", "administrateur", None),
    ("secretariat", "Secrétariat", "secretariat", None),
    ("a.gautier", "Anne Gautier", "praticien", "281234567"),
    ("k.brunet", "Karim Brunet", "praticien", "281234568"),
]


def build_demo_accounts() -> int:
    """The demo's user accounts (password DEMO_PASSWORD, PIN DEMO_PIN); how many were made."""
    from tuibill.models import Practitioner
    from tuibill.services import users

    made = 0
    for login, name, role, am_number in DEMO_ACCOUNTS:
        if any(row.login == login for row in users.list_users()):
            continue
        practitioner = Practitioner.get_or_none(Practitioner.am_number == am_number) if am_number else None
        users.create_user(
            login, name, role, DEMO_PASSWORD, by=DEMO_USER, pin=DEMO_PIN,
            practitioner_id=practitioner.id if practitioner else None,
        )  # fmt: skip
        made += 1
    return made
