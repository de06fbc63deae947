"""``tuibill init``, ``tuibill demo``, ``tuibill db upgrade|version``, ``tuibill seed``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json
from tuibill.domain.errors import RefusedOperation


def register(subparsers, common) -> None:
    init = subparsers.add_parser(
        "init", parents=[common], help="créer une base (vide, ou avec le cabinet de démonstration)"
    )
    init.add_argument("--demo", action="store_true", help="remplir avec le cabinet de démonstration")
    init.set_defaults(handler=cmd_init)

    demo = subparsers.add_parser(
        "demo", parents=[common], help="ouvrir l'application sur la démonstration (créée au besoin)"
    )
    demo.add_argument("--reset", action="store_true", help="recréer la démonstration")
    demo.set_defaults(handler=cmd_demo)

    dbp = subparsers.add_parser("db", parents=[common], help="schéma de la base")
    verbs = dbp.add_subparsers(dest="verb", metavar="ACTION", required=True)
    up = verbs.add_parser("upgrade", parents=[common], help="mettre le schéma à jour sur place")
    up.set_defaults(handler=cmd_upgrade)
    cp = verbs.add_parser(
        "copy", parents=[common], help="copier toute la base vers une base vide (PostgreSQL…)"
    )
    cp.add_argument("--to", required=True, metavar="URL",
                    help="base cible, vide : postgresql://utilisateur@hôte/base ou un fichier")  # fmt: skip
    cp.add_argument("--json", action="store_true")
    cp.set_defaults(handler=cmd_copy)
    ver = verbs.add_parser("version", parents=[common], help="version du schéma")
    ver.add_argument("--json", action="store_true")
    ver.set_defaults(handler=cmd_version)

    seed = subparsers.add_parser(
        "seed", parents=[common], help="ajouter des données réalistes en masse (volumétrie)"
    )
    seed.add_argument("--invoices", type=arguments.count, required=True, metavar="N")
    seed.add_argument("--years", type=arguments.bounded(1, 50, "nombre d'années"), default=5, help="période couverte (années)")
    seed.add_argument("--quiet", action="store_true")
    seed.set_defaults(handler=cmd_seed)


def initialise(ctx: CliContext, *, demo: bool) -> list[str]:
    from tuibill.domain.permissions import Family
    from tuibill.services import database, practice, tariffs
    from tuibill.services.invoices import has_invoices

    ctx.open_db(check=False, create=True)
    ctx.require(Family.SETTINGS)
    done = database.upgrade()
    added = tariffs.seed_default_tariffs()
    if added:
        done.append(f"{added} tarifs NGAP chargés")
    done += practice.apply_settings(ctx.settings.practice)
    if demo:
        if has_invoices() or practice.list_practitioners():
            raise RefusedOperation(
                "La base contient déjà des données : la démonstration demande une base vide."
            )
        from tuibill.services.demo import build_demo

        counts = build_demo()
        done.append(
            f"démonstration : {counts['patients']} patients, {counts['prescriptions']} "
            f"prescriptions, {counts['invoices']} factures, {counts['isolated_acts']} actes isolés"
        )
    return done


def cmd_init(args: argparse.Namespace, ctx: CliContext) -> int:
    for line in initialise(ctx, demo=args.demo) or ["base déjà à jour"]:
        print(line)
    print(f"Base : {ctx.database_url}")
    return 0


def demo_database_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("tuibill")) / "demo.sqlite"


def cmd_demo(args: argparse.Namespace, ctx: CliContext) -> int:
    if ctx.db_override is None:
        ctx.db_override = str(demo_database_path())
    from tuibill.services.database import is_postgres

    path = Path(ctx.db_override)
    if args.reset and not is_postgres(ctx.db_override):
        from tuibill.services.demo_transmissions import FOLDER_NAME, demo_reset

        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        for name in (f"{path.stem}.tla-emule.json", f"{path.stem}.tla-emule.json.lock"):
            path.with_name(name).unlink(missing_ok=True)
        demo_reset(path.parent / FOLDER_NAME)
    fresh = is_postgres(ctx.db_override) or not path.exists()
    # The demo never touches real devices: emulated card reader and portable reader.
    ctx.settings.devices.card_reader = "emulated"
    ctx.settings.devices.tla_url = "emulated"
    if fresh:
        print("Création de la démonstration…", file=sys.stderr)
        initialise(ctx, demo=True)
        # The interactive demo has staff accounts to try the roles and « Changer
        # d'utilisateur » (« init --demo » makes none: scripts on it run without a login).
        from tuibill.services.demo import DEMO_PASSWORD, DEMO_PIN, build_demo_accounts

        build_demo_accounts()
        print(
            f"Comptes de démonstration : demo, secretariat, a.gautier, k.brunet (mot de passe "
            f"« {DEMO_PASSWORD} », PIN {DEMO_PIN}).",
            file=sys.stderr,
        )
    from tuibill.cli.tui import run_tui
    from tuibill.services.demo_transmissions import demo_settings, start_demo_caisse

    # The simulated caisse answers the demo's lots (ARL, then a NOEMIE return) while it runs.
    ctx.open_db(authenticate=False)  # the demo logs in by itself (run_tui)
    caisse = start_demo_caisse()
    ctx.settings.transmission = demo_settings(caisse.port, base=ctx.settings.transmission)
    try:
        return run_tui(ctx, demo=True)
    finally:
        caisse.stop()


def cmd_upgrade(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.permissions import Family
    from tuibill.services import database

    ctx.open_db(check=False)
    ctx.require(Family.SETTINGS)
    before = database.schema_version()
    done = database.upgrade()
    if not done:
        print(f"Base déjà à jour (version {before}).")
    for line in done:
        print(f"Appliqué : {line}")
    return 0


def cmd_version(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import database

    ctx.open_db(check=False)
    version = database.schema_version()
    if ctx.json:
        print_json({"version": version, "attendue": database.LATEST_VERSION})
    else:
        print(f"Version du schéma : {version} (ce tuibill : {database.LATEST_VERSION})")
    return 0


def cmd_seed(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.seed import seed

    if args.invoices < 1:
        raise RefusedOperation("--invoices doit être au moins 1.")
    ctx.open_db()
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            print(f"\r{done:,}/{total:,} factures".replace(",", " "), end="", file=sys.stderr, flush=True)

    counts = seed(args.invoices, years=args.years, progress=progress)
    if not args.quiet:
        print(file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(
        f"{counts['invoices']} factures, {counts['lines']} lignes, {counts['patients']} patients "
        f"ajoutés en {elapsed:.1f} s."
    )
    return 0


def cmd_copy(args: argparse.Namespace, ctx: CliContext) -> int:
    """Exit 0: copied and every check equal; 1: refused, or a check differs (named)."""
    from tuibill.domain.permissions import Family
    from tuibill.services.database_copy import copy_database

    ctx.open_db()
    ctx.require(Family.SETTINGS)

    def progress(table: str, rows: int) -> None:
        if not ctx.json:
            print(f"  {table} : {rows} ligne(s)", file=sys.stderr)

    report = copy_database(args.to, progress=progress)
    if ctx.json:
        print_json(report.as_dict())
    else:
        for check in report.comparisons:
            mark = "ok" if check.ok else "DIFFÉRENT"
            print(f"{mark:>9}  {check.label} : {check.source} / {check.target}")
        print(f"Chaîne de l'historique sur la cible : {report.chain}")
    if not report.ok:
        wrong = [c.label for c in report.comparisons if not c.ok]
        raise RefusedOperation(
            f"Copie vers {report.target} non conforme : {', '.join(wrong)}."
        )
    if not ctx.json:
        print(f"Base copiée vers {report.target} : tout concorde.")
    return 0
