"""Entry point: ``tuibill [--config FILE] [--db PATH-or-URL] NOUN VERB …``; no noun → the TUI.

Exit status: 0 success, 1 refused operation (reason on stderr), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from tuibill import __version__
from tuibill.cli import french
from tuibill.domain.errors import ConfigError, RefusedOperation

if TYPE_CHECKING:
    from tuibill.cli.context import CliContext

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

# Every command: the module that registers it, and its one-line help. Only the module of the
# command asked for is imported and its parsers built (tests/integration/test_cli_arguments.py
# keeps this table equal to what the modules register).
COMMANDS: dict[str, tuple[str, str]] = {
    "accounting": ("accounting", "comptabilité : FEC et journal des recettes"),
    "aid-plan": ("payers", "plans d'aide des tiers-payeurs"),
    "audit": ("audit", "historique inviolable"),
    "bank": ("bank", "banque : relevés et rapprochement des recettes"),
    "billing": ("homecare", "facturation des clients (aide à domicile)"),
    "card": ("card", "lecteurs de cartes (Vitale, CPS)"),
    "client": ("homecare", "clients de l'aide à domicile"),
    "db": ("setup", "schéma de la base"),
    "demo": ("setup", "ouvrir l'application sur la démonstration (créée au besoin)"),
    "dre": ("dre", "DRE : part mutuelle en tiers payant"),
    "emulate": ("emulate", "émulateurs de périphériques"),
    "facturer": ("practice", "listes de travail de Facturer"),
    "intervention": ("homecare", "interventions (planning des clients)"),
    "init": ("setup", "créer une base (vide, ou avec le cabinet de démonstration)"),
    "invoice": ("invoice", "factures (FSE)"),
    "journal": ("journal", "Journal des factures (2 derniers mois par défaut)"),
    "kiosk": ("kiosk", "poste en mode kiosque : jamais de shell, relancé s'il s'arrête"),
    "lots": ("lots", "lots de FSE et SCOR : préparer, transmettre, ARL"),
    "patient": ("patient", "patients (assurés et bénéficiaires)"),
    "payer": ("payers", "tiers-payeurs (APA, caisses, mutuelles)"),
    "payment": ("slips", "règlements des tiers-payeurs et clients"),
    "practitioner": ("practice", "praticiens (PS) du cabinet"),
    "prescriber": ("patient", "prescripteurs (Données › Prescripteurs)"),
    "prescription": ("practice", "prescriptions"),
    "reminder": ("slips", "relances des tiers-payeurs"),
    "rejection": ("rejection", "rejets des caisses : motif, traitement, « Annuler facture transmise »"),
    "report": ("report", "rapports de suivi des retours (FSE, lots, rejets, retards)"),
    "returns": ("returns", "retours NOEMIE des caisses : paiements, rejets, virements"),
    "seed": ("setup", "ajouter des données réalistes en masse (volumétrie)"),
    "serve": ("serve", "ouvrir le poste dans un navigateur (textual-serve)"),
    "sesam": ("sesam", "mode SESAM-Vitale : cartes Vitale et CPS, pièces SCOR"),
    "simulate": ("simulate", "simulateurs pour la démonstration et les tests"),
    "slip": ("slips", "bordereaux des tiers-payeurs"),
    "tla": ("tla", "lecteur portable (TLA)"),
    "user": ("user", "comptes utilisateurs et rôles"),
}
_GLOBAL_WITH_VALUE = ("--config", "--db", "--user")


class FrenchArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with a French usage line, no traceback
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"tuibill : erreur d'utilisation : {message}\n")

    def add_argument(self, *args, **kwargs):  # type: ignore[override]
        # argparse names a value after its English dest (« --state STATE »): name it in French.
        takes_value = kwargs.get("action") in (None, "store", "append", "extend")
        if takes_value and "metavar" not in kwargs:
            dest = kwargs.get("dest") or args[-1].lstrip("-").replace("-", "_")
            kwargs["metavar"] = french.METAVARS.get(dest, "VALEUR")
        return super().add_argument(*args, **kwargs)


def _global_options(*, suppress: bool) -> argparse.ArgumentParser:
    # Sub-commands repeat the global options with SUPPRESS defaults, so that
    # « tuibill --db X invoice list » and « tuibill invoice list --db X » both work.
    default = argparse.SUPPRESS if suppress else None
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FICHIER", default=default, help="fichier de configuration TOML")
    common.add_argument("--db", metavar="CHEMIN-OU-URL", default=default, help="base SQLite ou URL PostgreSQL")
    common.add_argument(
        "--user", metavar="IDENTIFIANT", default=default,
        help="compte utilisateur (mot de passe : variable TUIBILL_PASSWORD, ou saisi)",
    )  # fmt: skip
    return common


def command_of(argv: list[str]) -> str | None:
    """The command named in *argv* (its first word that is not a global option or its value)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word in _GLOBAL_WITH_VALUE:
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for *argv*: the asked command's module builds its parsers, the others are
    named with their help only (``tuibill --help`` lists them all)."""
    french.install()
    common = _global_options(suppress=True)
    parser = FrenchArgumentParser(
        prog="tuibill",
        description="Facturation au clavier pour cabinets paramédicaux. "
        "Sans commande : ouvre l'application.",
        parents=[_global_options(suppress=False)],
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"tuibill {__version__}",
        help="afficher la version et quitter",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=FrenchArgumentParser)
    asked = COMMANDS.get(command_of(argv or []) or "")
    loaded = asked[0] if asked else None
    for name, (module_name, text) in COMMANDS.items():
        if module_name != loaded:
            subparsers.add_parser(name, help=text, add_help=False)
    if loaded is not None:
        importlib.import_module(f"tuibill.cli.{loaded}").register(subparsers, common)
    # Keep the commands in alphabetical order in the help, whatever was built first.
    subparsers._choices_actions.sort(key=lambda action: action.dest)
    parser.set_defaults(handler=None)
    return parser


def _error(message: str) -> None:
    # Imported on an error only: the output module (json…) is not part of starting the desk.
    from tuibill.cli.output import error

    error(message)


def _drivers_for(args: argparse.Namespace, ctx: CliContext) -> AbstractContextManager:
    """A command on a SQLite file runs with the server drivers hidden from peewee's first import
    (psycopg2 alone is ~12 ms of a command's start-up), unless it opens a second database."""
    from tuibill.cli.context import opens_second_database, server_drivers_hidden

    if opens_second_database(args):
        return nullcontext()
    return server_drivers_hidden(ctx.database_url)


_ending_quickly = False


def _end_quickly() -> None:
    """At the end of the process, close the database, then keep every object out of the
    interpreter's last garbage collection.

    That collection walks every object still alive (some 86,000 after a lots build of 10,000
    invoices, ~60 ms) to free the few cycles among them; the process is ending: its memory goes
    back whole. The database is closed first, as that collection would have closed it (SQLite
    then copies its WAL back into the file and removes it). Left to the interpreter when a
    transaction is open or another thread still runs (its connection is its own)."""
    global _ending_quickly
    if not _ending_quickly:
        _ending_quickly = True
        atexit.register(_close_and_freeze)


def _close_and_freeze() -> None:
    import threading

    if threading.active_count() > 1:
        return
    base = sys.modules.get("tuibill.models.base")
    database = getattr(base, "db", None)
    if database is not None and database.obj is not None and not database.is_closed():
        if database.in_transaction():
            return
        database.close()
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    from tuibill.cli.context import from_args, opens_second_database

    try:
        ctx = from_args(args)
        if args.handler is None:
            if ctx.settings.ui.kiosk:  # [ui] kiosk = true: as « tuibill kiosk »
                from tuibill.cli.kiosk import child_command, supervise

                ctx.open_db(authenticate=False)
                return supervise(child_command(args))
            from tuibill.cli.tui import run_tui

            return run_tui(ctx, demo=False)
        if not opens_second_database(args):
            _end_quickly()
        with _drivers_for(args, ctx):
            result = args.handler(args, ctx)
        return EXIT_OK if result is None else int(result)
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except RefusedOperation as exc:
        _error(str(exc))
        return EXIT_REFUSED
    except KeyboardInterrupt:
        _error("interrompu.")
        return 130
    except BrokenPipeError:
        # « tuibill journal | head »: the reader left; stop quietly, like other Unix tools.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
