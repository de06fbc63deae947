"""``tuibill serve [--host 127.0.0.1] [--port 8000]``: the desk in a browser (textual-serve).

Each browser connection starts its own application process (the same as ``tuibill``, behind
the same login screen); bound to this machine only unless ``--host`` says otherwise. textual-
serve has no authentication or TLS of its own: to reach it from another machine put it behind
a reverse proxy with TLS (docs/cli.md). The page never gets a password from the server's
environment (TUIBILL_PASSWORD is removed before any session starts).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from tuibill.cli import arguments
from tuibill.cli.context import PASSWORD_ENV, CliContext
from tuibill.domain.errors import ConfigError

DEFAULT_PORT = 8000


def register(subparsers, common) -> None:
    serve = subparsers.add_parser(
        "serve", parents=[common], help="ouvrir le poste dans un navigateur (textual-serve)"
    )
    serve.add_argument("--host", default="127.0.0.1",
                       help="adresse d'écoute (défaut : 127.0.0.1, ce poste seulement)")  # fmt: skip
    serve.add_argument("--port", type=arguments.bounded(1, 65535, "port"), default=DEFAULT_PORT,
                       metavar="PORT", help=f"port (défaut : {DEFAULT_PORT})")  # fmt: skip
    serve.set_defaults(handler=cmd_serve)


def session_command(args: argparse.Namespace, ctx: CliContext) -> str:
    """The command each browser session runs: this Python, the same config and database."""
    words = [sys.executable, "-m", "tuibill"]
    if args.config:
        words += ["--config", args.config]
    words += ["--db", ctx.database_url]
    if args.user:
        words += ["--user", args.user]
    if ctx.settings.ui.kiosk:
        words += ["kiosk", "--no-restart"]  # one run; the browser's « Restart » starts again
    return shlex.join(words)


def _local_templates() -> str:
    """textual-serve's page without its web font from a third-party site: the desk's page
    asks nothing of another server (a practice's browser tells Google nothing)."""
    import re
    import tempfile
    from pathlib import Path

    import textual_serve

    original = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
    text = re.sub(r'<link[^>]*fonts\.googleapis\.com[^>]*>', "", original.read_text("utf-8"))
    folder = Path(tempfile.mkdtemp(prefix="tuibill-serve-"))
    (folder / "app_index.html").write_text(text, encoding="utf-8")
    return str(folder)


def make_server(command: str, host: str, port: int, title: str):
    import logging

    from textual_serve.server import Server

    from tuibill.cli.logs import masked_handler

    class DeskServer(Server):
        def initialize_logging(self) -> None:  # no tracebacks with locals, NIRs masked
            logging.basicConfig(level=logging.INFO, handlers=[masked_handler()], force=True)

    return DeskServer(command, host=host, port=port, title=title, templates_path=_local_templates())


def cmd_serve(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.open_db(authenticate=False)  # a wrong path or schema is said here, once
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"Attention : le poste est servi sur {args.host}, sans chiffrement ni authentification "
            "du serveur web (seul l'écran de connexion protège) : placez-le derrière un proxy "
            "TLS.",
            file=sys.stderr,
        )
    os.environ.pop(PASSWORD_ENV, None)
    try:
        server = make_server(session_command(args, ctx), args.host, args.port, "tuibill")
    except ImportError as error:
        raise ConfigError(f"textual-serve n'est pas installé ({error}).") from None
    print(f"tuibill servi sur http://{args.host}:{args.port}/ (ctrl+c pour arrêter)", file=sys.stderr)
    server.serve()
    return 0
