"""Entry point: ``tuibill [--config FILE] [--db PATH-or-URL] NOUN VERB …``; no noun → the TUI.

Exit status: 0 success, 1 refused operation (reason on stderr), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import tuibill.cli as cli_package
from tuibill import __version__
from tuibill.domain.errors import ConfigError, RefusedOperation

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

_SKIP = {"main", "context", "output"}


class FrenchArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with a French usage line, no traceback
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"tuibill : erreur d'utilisation : {message}\n")


def _global_options(*, suppress: bool) -> argparse.ArgumentParser:
    # Sub-commands repeat the global options with SUPPRESS defaults, so that
    # « tuibill --db X invoice list » and « tuibill invoice list --db X » both work.
    default = argparse.SUPPRESS if suppress else None
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FICHIER", default=default, help="fichier de configuration TOML")
    common.add_argument("--db", metavar="CHEMIN-OU-URL", default=default, help="base SQLite ou URL PostgreSQL")
    common.add_argument("--user", metavar="NOM", default=default, help="utilisateur inscrit dans l'historique")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _global_options(suppress=True)
    parser = FrenchArgumentParser(
        prog="tuibill",
        description="Facturation au clavier pour cabinets paramédicaux. "
        "Sans commande : ouvre l'application.",
        parents=[_global_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"tuibill {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=FrenchArgumentParser)
    for info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if info.name in _SKIP or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"tuibill.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers, common)
    parser.set_defaults(handler=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from tuibill.cli.context import from_args
    from tuibill.cli.output import error

    try:
        ctx = from_args(args)
        if args.handler is None:
            from tuibill.cli.tui import run_tui

            return run_tui(ctx, demo=False)
        result = args.handler(args, ctx)
        return EXIT_OK if result is None else int(result)
    except ConfigError as exc:
        error(str(exc))
        return EXIT_USAGE
    except RefusedOperation as exc:
        error(str(exc))
        return EXIT_REFUSED
    except KeyboardInterrupt:
        error("interrompu.")
        return 130
    except BrokenPipeError:
        # « tuibill journal | head »: the reader left; stop quietly, like other Unix tools.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
