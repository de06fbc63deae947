"""The month-end of a home-care service (seed 004) with 2,000 clients: its invoices and its
bordereaux to the tiers-payeurs, made by the real commands (wall time, peak memory).

The database (made once, kept in the work folder, one per month billed): the demo practice
(``tuibill init --demo``: its home-care service, three tiers-payeurs and a payer that pays the
client directly), four more tiers-payeurs (a second département's APA and the MDPH's PCH, both
« Globale » and public; the MSA and a mutuelle, « Individuelle »), and 2,000 clients made through
the services: a contract each, plans d'aide validated (APA on the aide à domicile, a caisse de
retraite on the ménage, two payers for some; a plan still « Saisi » for one client in fifty,
none at all for one in ten), and last month's planning imported as a CSV file (``homecare.import_interventions``):
one to seven days a week, one or two visits a day, Saturdays, Sundays and public holidays too.
The demo's staff accounts are added: the commands log in as « secretariat » with
TUIBILL_PASSWORD, as a desk would.

Each run takes a fresh copy and runs, in the order a user does, ``billing create``, ``billing
validate``, ``slip create`` and ``slip validate`` for that month; each step is one figure. The
issue's goal — the bordereaux of a month for 2,000 clients in 2 s — is held by every step. The
last line is what logging in costs a command (argon2): the same light command on a database
without accounts and with.

    python bench/slips.py --runs 3
"""

from __future__ import annotations

import argparse
import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

from harness import (
    Result,
    arguments,
    child_env,
    copy_db,
    demo_db,
    measure,
    median,
    mib,
    ms,
    number,
    remove_db,
    report,
    tuibill_argv,
    workdir,
)

CLIENTS = 2_000
GOAL = 2.0  # seconds (issue 12: the bordereaux of a month for 2,000 home-care clients)
LOGIN = "secretariat"  # a demo account (services.demo.DEMO_ACCOUNTS)
PASSWORD = "demo2026"  # services.demo.DEMO_PASSWORD: demo secrets only

LAST_NAMES = (
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU",
    "LAURENT", "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL",
    "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT",
    "MULLER", "LEFEVRE", "FAURE", "ANDRE", "MERCIER", "BLANC", "GUERIN", "BOYER", "GARNIER",
    "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN", "CLEMENT",
    "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON",
)  # fmt: skip
FIRST_NAMES = (
    "Marcelle", "Gaston", "Yvonne", "Émile", "Huguette", "Odile", "Jeanne", "Paul", "Simone",
    "René", "Germaine", "Marcel", "Paulette", "Lucien", "Raymonde", "André", "Suzanne", "Roger",
    "Madeleine", "Henri", "Denise", "Georges", "Colette", "Robert", "Ginette", "Jean",
)  # fmt: skip
CITIES = (("28000", "Chartres"), ("28300", "Lèves"), ("28110", "Lucé"), ("45000", "Orléans"),
          ("28630", "Le Coudray"), ("45100", "Orléans"), ("28200", "Châteaudun"))  # fmt: skip
STAFF = ("Léa M.", "Sami B.", "Inès R.", "Paul D.", "Nadia K.", "Hugo T.", "Chloé V.")


def period_of(today: date) -> tuple[int, int]:
    """Last month: the one a service bills at the start of this one."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.year, last.month


# --- the database --------------------------------------------------------------------------------


def _payers() -> dict[str, int]:
    """The demo's payers and four more, with their default plan values; ids by short name."""
    from tuibill.domain.aid_plans import BillingMode, HourlyRates
    from tuibill.models import Payer
    from tuibill.services import payers
    from tuibill.services.payers import PayerInput, PlanValues

    plan_rates, prestation_rates = BillingMode.PLAN_RATES.value, BillingMode.PRESTATION_RATES.value
    found = {p.name: p.id for p in Payer.select()}
    ids = {
        "apa28": found["Conseil départemental d'Eure-et-Loir (APA)"],
        "carsat": found["CARSAT Centre-Val de Loire"],
        "harmonie": found["Harmonie Services à la personne"],
    }
    made = (
        ("apa45", PayerInput("Conseil départemental du Loiret (APA)", "45 rue Dupanloup",
                             "45000", "Orléans", "apa@loiret.example", "", "22450001710004",
                             "4111APA45", public=True, service_code="APA-45",
                             slip_kind="GLOBALE"),
         {"AD": PlanValues(1500, HourlyRates(2350, 2550, 2850), 8500, plan_rates, 9000, 300),
          "MEN": PlanValues(240, HourlyRates(2200, 2200, 2200), 6000, prestation_rates)}),
        ("pch", PayerInput("MDPH d'Eure-et-Loir (PCH)", "57 rue du Docteur Maunoury", "28000",
                           "Chartres", "pch@mdph28.example", "", "22280002110007", "4111PCH",
                           public=True, service_code="PCH-DOM", slip_kind="GLOBALE"),
         {"AD": PlanValues(3000, HourlyRates(2200, 2400, 2700), 10000, plan_rates)}),
        ("msa", PayerInput("MSA Beauce Cœur de Loire", "11 avenue Jehan de Beauce", "28000",
                           "Chartres", "action.sociale@msa.example", "", "77567213210004",
                           "4111MSA", slip_kind="INDIVIDUELLE"),
         {"AD": PlanValues(600, HourlyRates(2400, 2400, 2400), 5000, prestation_rates),
          "MEN": PlanValues(480, HourlyRates(2200, 2200, 2200), 6000, prestation_rates, None, 0)}),
        ("mg", PayerInput("Mutuelle Générale de la Beauce", "3 rue Noël Ballay", "28000",
                          "Chartres", "prestations@mgb.example", "", "42345678910000",
                          "4111MGB", slip_kind="INDIVIDUELLE"),
         {"AD": PlanValues(300, HourlyRates(2400, 2400, 2400), 5000, prestation_rates)}),
    )  # fmt: skip
    for short, data, defaults in made:
        payer = payers.create_payer(data)
        for prestation, values in defaults.items():
            payers.set_default(payer.id, prestation, values)
        ids[short] = payer.id
    payers.set_default(ids["apa28"], "MEN", PlanValues(240, HourlyRates(2200, 2200, 2200), 6000))
    return ids


# Who finances a client: (cumulative share of clients, plans as (payer, prestation), whether
# they are validated).
PROFILES = (
    (0.30, (("apa28", "AD"),), True),
    (0.40, (("apa45", "AD"),), True),
    (0.45, (("apa45", "AD"), ("apa45", "MEN")), True),
    (0.55, (("apa28", "AD"), ("carsat", "MEN")), True),
    (0.63, (("carsat", "MEN"),), True),
    (0.68, (("msa", "AD"),), True),
    (0.71, (("msa", "AD"), ("msa", "MEN")), True),
    (0.77, (("pch", "AD"),), True),
    (0.83, (("harmonie", "AD"),), True),
    (0.88, (("mg", "AD"), ("apa28", "ACC")), True),
    (0.90, (("harmonie", "AD"),), False),  # still « Saisi »: finances nothing yet
    (1.00, (), True),  # no plan: the client pays everything
)


def build(path: Path, year: int, month: int, *, seed: int = 2026) -> dict[str, int]:
    """Add the clients, their plans and the month's planning to the demo database at *path*,
    through the services (not timed)."""
    from tuibill.formats.homecare_csv import InterventionRow, write_interventions
    from tuibill.models import database
    from tuibill.services import aid_plans, homecare, homecare_billing
    from tuibill.services.database import open_database
    from tuibill.services.demo import build_demo_accounts

    rng = random.Random(seed)
    open_database(str(path))
    start, end = homecare_billing.month_bounds(year, month)
    rows: list[InterventionRow] = []
    plans = 0
    with database.db.atomic():
        payer_ids = _payers()
        for index in range(CLIENTS):
            postcode, city = rng.choice(CITIES)
            client = homecare.create_client(
                homecare.ClientInput(
                    rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES),
                    f"{rng.randint(1, 120)} rue {rng.choice(LAST_NAMES).title()}", postcode,
                    city, email=f"client{index}@example.org" if rng.random() < 0.3 else "",
                )
            )  # fmt: skip
            draw = rng.random()
            _, profile, validated = next(entry for entry in PROFILES if draw < entry[0])
            base = rng.choice((2300, 2400, 2500, 2650))
            homecare.set_contract_line(client.id, "AD", base, base + 200, base + 550)
            prestations = {prestation for _, prestation in profile} | {"AD"}
            if "MEN" in prestations or rng.random() < 0.3:
                prestations.add("MEN")
                homecare.set_contract_line(client.id, "MEN", 2300, 2500, 2900)
            if "ACC" in prestations:
                homecare.set_contract_line(client.id, "ACC", 2500, 2700, 3100)
            for payer, prestation in profile:
                # Most plans began months ago; a few start in the middle of the month.
                valid_from = start - timedelta(days=90) if rng.random() < 0.95 else start + timedelta(days=14)
                plan = aid_plans.create_plan(
                    client.id, payer_ids[payer], prestation, valid_from,
                    reference=f"PA-{year}-{index + 1:05d}-{prestation}",
                )  # fmt: skip
                if validated:
                    aid_plans.validate_plan(plan.id)
                plans += 1
            rows += _planning(rng, client.id, sorted(prestations), start, end)
        homecare.import_interventions(write_interventions(rows))
        build_demo_accounts()
    database.db.close()
    return {"clients": CLIENTS, "plans": plans, "interventions": len(rows)}


def _planning(rng: random.Random, client_id: int, prestations: list[str], start: date,
              end: date) -> list:  # fmt: skip
    """A client's month: the aide à domicile one to seven days a week (one or two visits a day),
    the ménage once a week, the accompagnement now and then."""
    from tuibill.formats.homecare_csv import InterventionRow

    days_a_week = rng.choices((1, 2, 3, 5, 7), weights=(10, 20, 30, 25, 15))[0]
    weekdays = set(rng.sample(range(7), days_a_week))
    twice = days_a_week >= 5 and rng.random() < 0.35
    staff = rng.choice(STAFF)
    rows = []
    day = start
    while day <= end:
        if day.weekday() in weekdays:
            visits = ((8 * 60, rng.choice((60, 90, 120))),)
            if twice:
                visits += ((17 * 60 + 30, rng.choice((30, 60))),)
            for begin, length in visits:
                rows.append(InterventionRow(0, client_id, day, begin, begin + length, "AD", staff))
        if "MEN" in prestations and day.weekday() == 1:
            rows.append(InterventionRow(0, client_id, day, 14 * 60, 16 * 60, "MEN", "Paul D."))
        if "ACC" in prestations and day.day in (5, 19):
            rows.append(InterventionRow(0, client_id, day, 10 * 60, 12 * 60, "ACC", staff))
        day += timedelta(days=1)
    return rows


def prepared(folder: Path, year: int, month: int) -> Path:
    path = folder / f"slips-{CLIENTS}-{year}-{month:02d}.sqlite"
    if path.exists():
        try:
            with sqlite3.connect(path) as conn:
                clients = conn.execute("SELECT COUNT(*) FROM client").fetchone()[0]
                users = conn.execute("SELECT COUNT(*) FROM user").fetchone()[0]
            if clients >= CLIENTS and users:
                return path
        except sqlite3.Error:
            pass
    copy_db(demo_db(folder), path)
    try:
        made = build(path, year, month)
    except BaseException:
        remove_db(path)
        raise
    print(f"{path} : {made}", flush=True)
    return path


# --- the figures ---------------------------------------------------------------------------------


def counted(db: Path) -> tuple[int, ...]:
    """What the commands did: invoices made, validated, bordereaux made, validated."""
    with sqlite3.connect(db) as conn:
        return tuple(
            conn.execute(sql, (LOGIN,)).fetchone()[0]
            for sql in (
                "SELECT COUNT(*) FROM homecare_invoice_transition WHERE user = ? AND from_state IS NULL",
                "SELECT COUNT(*) FROM homecare_invoice_transition WHERE user = ? AND to_state = 'VALIDEE'",
                "SELECT COUNT(*) FROM slip_transition WHERE user = ? AND from_state IS NULL",
                "SELECT COUNT(*) FROM slip_transition WHERE user = ? AND to_state = 'VALIDE'",
            )
        )  # fmt: skip


STEPS = (
    ("billing create", "factures du mois créées"),
    ("billing validate", "factures validées (numérotées)"),
    ("slip create", "bordereaux créés"),
    ("slip validate", "bordereaux validés"),
)


def run_figures(args: argparse.Namespace) -> list[Result]:
    folder = workdir(args.workdir)
    year, month = period_of(date.today())
    period = f"{year}-{month:02d}"
    source = args.db or prepared(folder, year, month)
    env = child_env(TUIBILL_PASSWORD=PASSWORD)
    times: dict[str, list[float]] = {step: [] for step, _ in STEPS}
    peaks: dict[str, list[int]] = {step: [] for step, _ in STEPS}
    made = (0, 0, 0, 0)
    for _ in range(args.runs):
        db = copy_db(source, folder / "slips-run.sqlite")
        for step, _ in STEPS:
            noun, verb = step.split()
            done = measure(
                tuibill_argv("--db", str(db), "--user", LOGIN, noun, verb, "--period", period),
                env=env,
            )
            if done.returncode:
                raise SystemExit(f"{step} : {done.stderr}")
            times[step].append(done.seconds)
            peaks[step].append(done.peak_rss_kib)
        made = counted(db)
    with sqlite3.connect(source) as conn:
        interventions = conn.execute(
            "SELECT COUNT(*) FROM intervention WHERE invoice_id IS NULL AND day >= ?",
            (f"{period}-01",),
        ).fetchone()[0]
    results = []
    for (step, what), count in zip(STEPS, made, strict=True):
        seconds = median(times[step])
        results.append(
            Result(
                f"{step} {period}, {number(CLIENTS)} clients", ms(seconds), f"≤ {GOAL:g} s",
                seconds <= GOAL,
                f"médiane de {len(times[step])} ; {number(count)} {what} ; pic RSS "
                f"{mib(median(peaks[step]))}"
                + (f" ; {number(interventions)} interventions" if step == "billing create" else ""),
            )
        )  # fmt: skip
    total = sum(median(times[step]) for step, _ in STEPS)
    results.append(Result(f"fin de mois {period} entière (4 commandes)", ms(total), "", None,
                          "somme des médianes"))  # fmt: skip
    results.append(login_cost(folder, source, args.runs))
    return results


def login_cost(folder: Path, staffed: Path, runs: int) -> Result:
    """A light command (``client prestations``) on the demo database (no account: the
    bootstrap administrator) and on the staffed one (--user and TUIBILL_PASSWORD: argon2)."""
    bare, logged, bare_peaks, logged_peaks = [], [], [], []
    for _ in range(max(runs, 3)):
        plain = measure(tuibill_argv("--db", str(demo_db(folder)), "client", "prestations"))
        staff = measure(
            tuibill_argv("--db", str(staffed), "--user", LOGIN, "client", "prestations"),
            env=child_env(TUIBILL_PASSWORD=PASSWORD),
        )
        if plain.returncode or staff.returncode:
            raise SystemExit(plain.stderr + staff.stderr)
        bare.append(plain.seconds)
        logged.append(staff.seconds)
        bare_peaks.append(plain.peak_rss_kib)
        logged_peaks.append(staff.peak_rss_kib)
    extra = median(logged) - median(bare)
    return Result(
        "connexion d'une commande (--user, argon2)", f"+{ms(extra)}", "", None,
        f"client prestations : {ms(median(bare))} sans comptes, {ms(median(logged))} connecté ; "
        f"pic RSS {mib(median(bare_peaks))} → {mib(median(logged_peaks))}",
    )  # fmt: skip


if __name__ == "__main__":
    parser = arguments(f"Fin de mois de l'aide à domicile ({number(CLIENTS)} clients)")
    parser.set_defaults(runs=3)
    args = parser.parse_args()
    report(run_figures(args), args, f"Fin de mois de l'aide à domicile ({number(CLIENTS)} clients)")
