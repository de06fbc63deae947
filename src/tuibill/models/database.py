"""Opening a database from a path or URL, and its settings for concurrent desks."""

from __future__ import annotations

from pathlib import Path

import peewee

from tuibill.domain.errors import ConfigError
from tuibill.models.base import db

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never block the desk that validates
    "busy_timeout": 10_000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -4_000,  # KiB, per connection (the UI thread and each worker have their own)
}


# The URL the models are bound to (what devices emulated for this database key on).
bound_url: str | None = None


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def sqlite_path(url: str) -> str:
    """The file of a SQLite *url* (a path, or ``sqlite:///PATH``); ConfigError otherwise."""
    text = url.strip()
    if "://" in text and not text.startswith("sqlite:///"):
        scheme = text.split("://", 1)[0]
        raise ConfigError(
            f"« {scheme}:// » n'est pas une base prise en charge : un chemin de fichier SQLite "
            "ou une URL postgresql://utilisateur@hôte/base est attendu.",
            key="database.url",
        )
    path = text.removeprefix("sqlite:///")
    if not path:
        raise ConfigError("chemin de la base SQLite vide.", key="database.url")
    return path if path == ":memory:" else str(Path(path).expanduser())


def make_database(url: str, *, create: bool = True) -> peewee.Database:
    """The database at *url*. A SQLite file is created (with its folder) only when *create*:
    otherwise a missing file is refused before anything is written."""
    if is_postgres(url):
        from playhouse.db_url import parse

        if not parse(url).get("database"):
            raise ConfigError(
                f"URL PostgreSQL sans nom de base : « {url} » (postgresql://utilisateur@hôte/base).",
                key="database.url",
            )
        from playhouse.db_url import connect

        try:
            return connect(url)
        except ImportError as error:  # psycopg2 missing
            raise ConfigError(
                "PostgreSQL demandé mais le pilote psycopg2 n'est pas installé "
                "(pip install 'tuibill[postgres]').",
                key="database.url",
            ) from error
    path = sqlite_path(url)
    if path != ":memory:":
        target = Path(path)
        if target.is_dir():
            raise ConfigError(f"« {path} » est un dossier, pas un fichier de base.", key="database.url")
        if not target.exists():
            if not create:
                raise ConfigError(
                    f"la base « {path} » n'existe pas : créez-la avec « tuibill init --db {path} » "
                    "(ou vérifiez le chemin).",
                    key="database.url",
                )
            target.parent.mkdir(parents=True, exist_ok=True)
    return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, returning_clause=True)


def bind(url: str, *, create: bool = True) -> peewee.Database:
    """Point the model proxy at *url* and connect; a database that cannot be opened (not a
    SQLite file, a server that does not answer…) is a ConfigError with the reason in French."""
    global bound_url
    database = make_database(url, create=create)
    if db.obj is not None and not db.is_closed():
        db.close()
    db.initialize(database)
    bound_url = url
    try:
        db.connect(reuse_if_open=True)
        # Reading the schema proves the file is a database (SQLite opens anything lazily).
        database.get_tables()
    except peewee.DatabaseError as error:
        db.close()
        raise ConfigError(
            f"impossible d'ouvrir la base « {url} » : {_reason(error)}", key="database.url"
        ) from error
    return database


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    known = {
        "file is not a database": "ce fichier n'est pas une base SQLite",
        "unable to open database file": "fichier inaccessible (droits, dossier ?)",
        "database disk image is malformed": "fichier de base endommagé",
    }
    for english, french in known.items():
        if english in text:
            return french
    if "could not connect" in text or "Connection refused" in text or "could not translate" in text:
        return f"serveur PostgreSQL injoignable ({text})"
    return text


def immediate(database: peewee.Database | None = None):
    """A write transaction that takes the write lock at once (SQLite ``BEGIN IMMEDIATE``).

    Deferred transactions that read then write dead-lock each other under several desks; an
    immediate one waits its turn within ``busy_timeout`` instead.
    """
    target = database or db.obj
    if isinstance(target, peewee.SqliteDatabase):
        return target.atomic("IMMEDIATE")
    return target.atomic()


_PLAIN = (
    peewee.IntegerField,
    peewee.CharField,
    peewee.TextField,
    peewee.BooleanField,
    peewee.ForeignKeyField,
)


def insert_rows(model: type[peewee.Model], rows: list[dict]) -> None:
    """Many rows in one prepared statement (peewee builds each row's SQL otherwise: most of the
    time of a big batch). Every row has the same keys, the fields' names."""
    if not rows:
        return
    # Peewee applies a field's default in Python (the table has none): so does this.
    missing = {
        name: field.default
        for name, field in model._meta.fields.items()
        if field.default is not None and name not in rows[0] and not field.primary_key
    }
    if missing:
        rows = [
            {**row, **{k: (v() if callable(v) else v) for k, v in missing.items()}} for row in rows
        ]
    fields = [model._meta.fields[name] for name in rows[0]]
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    marks = ", ".join([model._meta.database.param] * len(fields))
    names = [field.name for field in fields]
    # Plain values (numbers, text, flags, ids) go to the driver as they are, as peewee's own
    # conversions would leave them; dates and the rest through the field.
    convert = [
        (i, field.db_value) for i, field in enumerate(fields) if not isinstance(field, _PLAIN)
    ]
    values = []
    for row in rows:
        value = [row[name] for name in names]
        for i, to_db in convert:
            value[i] = to_db(value[i])
        values.append(tuple(value))
    cursor = model._meta.database.cursor()
    cursor.executemany(
        f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})', values
    )


def update_rows(model: type[peewee.Model], names: tuple[str, ...], rows: list[tuple]) -> None:
    """``UPDATE … SET names… WHERE id = ?`` for many rows in one prepared statement; each row is
    the new values in *names* order, then the id."""
    if not rows:
        return
    fields = [model._meta.fields[name] for name in names]
    param = model._meta.database.param
    sets = ", ".join(f'"{field.column_name}" = {param}' for field in fields)
    cursor = model._meta.database.cursor()
    cursor.executemany(
        f'UPDATE "{model._meta.table_name}" SET {sets} WHERE "id" = {param}',
        [
            tuple(field.db_value(value) for field, value in zip(fields, row[:-1], strict=True))
            + (row[-1],)
            for row in rows
        ],
    )
