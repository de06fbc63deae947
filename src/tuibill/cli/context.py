"""What every command receives: settings, database, the logged-in user, output mode."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuibill.config import Settings
from tuibill.domain.errors import ConfigError

if TYPE_CHECKING:
    from tuibill.domain.permissions import Family
    from tuibill.services.users import Session

PASSWORD_ENV = "TUIBILL_PASSWORD"

# Commands that open a second database in the same process (« db copy --to URL »): peewee must
# find the server drivers when it is first imported, whatever the first database is.
SECOND_DATABASE = frozenset({("db", "copy")})


# The drivers peewee tries to import when it is first imported. A desk on a SQLite file uses
# none of them, and psycopg2 alone loads libpq and OpenSSL: ~10 MB resident and ~20 ms of the
# start-up (issue 12).
SERVER_DRIVERS = ("psycopg2cffi", "psycopg2", "psycopg", "pymysql", "MySQLdb")


@contextmanager
def server_drivers_hidden(url: str) -> Iterator[None]:
    """Inside, peewee's first import finds no server driver when *url* is a SQLite file; the
    drivers stay importable by whoever asks for them afterwards."""
    if ("://" in url and not url.startswith("sqlite:///")) or "peewee" in sys.modules:
        yield  # a server database, or peewee already imported with whatever it found
        return
    hidden = [name for name in SERVER_DRIVERS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # « import name » fails at once
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


def opens_second_database(args: argparse.Namespace) -> bool:
    """Whether the command of *args* may open another database than ``--db``'s."""
    return (getattr(args, "command", None), getattr(args, "verb", None)) in SECOND_DATABASE


@dataclass
class CliContext:
    """What every command receives: settings, database, the logged-in user, output mode."""

    settings: Settings
    db_override: str | None
    json: bool
    # The login asked for (--user, then [user] name); once the database is open, the login of
    # the account that authenticated — what every history row records, never the OS login.
    user: str
    session: Session | None = None

    @property
    def database_url(self) -> str:
        return self.settings.database_url(self.db_override)

    def open_db(self, *, check: bool = True, create: bool = False, authenticate: bool = True):
        """Bind the models to the configured database; refuse an outdated schema; log in. A
        missing SQLite file is created only with *create* (init, demo), never by another
        command."""
        from tuibill.services.database import open_database

        bound = open_database(self.database_url, check=check, create=create)
        if authenticate:
            self.login()
        return bound

    def login(self) -> Session:
        """The account this command runs as: ``--user`` and its password (the environment
        variable TUIBILL_PASSWORD, or asked on the terminal). A database without accounts runs
        as the default administrator (``services.users``' bootstrap)."""
        from tuibill.services import users

        if not users.accounts_in_use():
            self.session = users.bootstrap_session(self.user)
        else:
            if not self.user:
                raise ConfigError(
                    "cette base a des comptes utilisateurs : indiquez votre identifiant avec "
                    f"--user (le mot de passe dans la variable {PASSWORD_ENV}, ou saisi)."
                )
            self.session = users.authenticate(self.user, self._password())
        self.user = self.session.login
        return self.session

    def _password(self) -> str:
        password = os.environ.get(PASSWORD_ENV)
        if password is not None:
            return password
        if not sys.stdin.isatty():
            raise ConfigError(
                f"mot de passe de « {self.user} » absent : mettez-le dans la variable "
                f"{PASSWORD_ENV} (aucun terminal pour le saisir)."
            )
        import getpass

        return getpass.getpass(f"Mot de passe de {self.user} : ")

    def require(self, family: Family) -> None:
        """Refuse the command unless the logged-in user's role may act in *family*."""
        from tuibill.services import users

        users.require(self.user, family)


def from_args(args: argparse.Namespace) -> CliContext:
    from tuibill import config

    settings = config.load(args.config)
    return CliContext(
        settings=settings,
        db_override=args.db,
        json=getattr(args, "json", False),
        user=(args.user or settings.user.name).strip(),
    )
