"""What every command receives: settings, database, user, output mode."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from tuibill.config import Settings


@dataclass
class CliContext:
    settings: Settings
    db_override: str | None
    json: bool
    user: str

    @property
    def database_url(self) -> str:
        return self.settings.database_url(self.db_override)

    def open_db(self, *, check: bool = True, create: bool = False):
        """Bind the models to the configured database; refuse an outdated schema. A missing
        SQLite file is created only with *create* (init, demo), never by another command."""
        from tuibill.services.database import open_database

        return open_database(self.database_url, check=check, create=create)


def from_args(args: argparse.Namespace) -> CliContext:
    from tuibill import config

    settings = config.load(args.config)
    return CliContext(
        settings=settings,
        db_override=args.db,
        json=getattr(args, "json", False),
        user=args.user or settings.user_name(),
    )
