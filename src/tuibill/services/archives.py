"""Where received files are archived (content-addressed, before anything acts on them)."""

from __future__ import annotations

from pathlib import Path

from tuibill.config import TransmissionSettings
from tuibill.models import db


def archive_directory(settings: TransmissionSettings) -> Path:
    """``transmission.archive_dir``, else ``archive/`` beside the SQLite file, else in the
    user's data dir."""
    if settings.archive_dir:
        return Path(settings.archive_dir).expanduser()
    database = db.obj
    name = getattr(database, "database", "")
    if (
        database is not None
        and type(database).__name__.startswith("Sqlite")
        and name
        not in (
            "",
            ":memory:",
        )
    ):
        return Path(name).expanduser().resolve().parent / "archive"
    from platformdirs import user_data_dir

    return Path(user_data_dir("tuibill")) / "archive"
