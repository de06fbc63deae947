"""A command on a SQLite file starts without the server drivers (issue 12: psycopg2 loads libpq
and OpenSSL, ~12 ms of every command); ``db copy``, which may open a PostgreSQL target in the
same process, keeps them for peewee."""

from __future__ import annotations

from tests.support.child_command import run_child
from tuibill.cli.context import opens_second_database
from tuibill.cli.main import build_parser

_CHILD = """
import sys
from tuibill.cli.main import main

code = main(sys.argv[1:])
import peewee
print("exit", code)
print("peewee_psycopg2", peewee.psycopg2 is not None)
print("loaded", "psycopg2" in sys.modules and sys.modules["psycopg2"] is not None)
import psycopg2  # hidden from peewee's first import only, not from the process
print("importable", psycopg2 is not None)
"""


def _run(*argv: str) -> dict[str, str]:
    return run_child(_CHILD, *argv)


def test_a_command_on_a_sqlite_file_runs_without_server_drivers(demo_url) -> None:
    shown = _run("--db", demo_url, "lots", "list", "--json")
    assert shown["exit"] == "0"
    assert shown["loaded"] == "False"
    assert shown["peewee_psycopg2"] == "False"
    assert shown["importable"] == "True"


def test_db_copy_keeps_the_drivers_for_its_target(demo_url, tmp_path) -> None:
    target = tmp_path / "copy.sqlite"
    shown = _run("--db", demo_url, "db", "copy", "--to", str(target))
    assert shown["exit"] == "0"
    assert shown["peewee_psycopg2"] == "True"  # a postgresql:// target would have found it
    assert target.exists()


def test_only_db_copy_opens_a_second_database() -> None:
    def args(*argv: str):
        return build_parser(list(argv)).parse_args(list(argv))

    assert opens_second_database(args("db", "copy", "--to", "postgresql://u@h/b"))
    assert not opens_second_database(args("db", "version"))
    assert not opens_second_database(args("lots", "build"))
    assert not opens_second_database(args("returns", "import", "retour.noe"))
