"""Every command's arguments, hostile ones included: French help, French errors, exit 2 for a bad
value, never a traceback; the lazy parser's table matches what the modules register."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuibill.cli.main import COMMANDS, build_parser, main

# What argparse or a careless message would say in English.
ENGLISH = (
    "usage:",
    "positional arguments",
    "show this help",
    "show program's version",
    "unrecognized arguments",
    "the following arguments are required",
    "invalid choice",
    "expected one argument",
    "invalid int value",
    "error:",
    "Traceback",
)
# Verbs that start servers or the application: their arguments are parsed, never run here.
NOT_RUN = {("demo",), ("simulate", "caisse"), ("emulate", "tla", "serve")}


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...]):
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield path, parser
        return
    for name, child in subparsers[0].choices.items():
        yield from _walk(child, (*path, name))


def every_verb() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    verbs = []
    for noun in COMMANDS:
        parser = build_parser([noun])
        root = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        verbs.extend(_walk(root.choices[noun], (noun,)))
    return verbs


VERBS = every_verb()


def run_main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as leaving:
            code = leaving.code if isinstance(leaving.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def test_the_lazy_table_names_what_each_module_registers() -> None:
    registered: dict[str, str] = {}
    for module_name in sorted({module for module, _ in COMMANDS.values()}):
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(f"tuibill.cli.{module_name}").register(
            sub, argparse.ArgumentParser(add_help=False)
        )
        for name in sub.choices:
            registered[name] = module_name
    assert registered == {name: module for name, (module, _) in COMMANDS.items()}


def test_help_is_french_everywhere(capsys) -> None:
    code, out, _ = run_main(["--help"])
    assert code == 0 and "utilisation : tuibill" in out
    assert [name for name in COMMANDS if name not in out] == []
    for path, _parser in VERBS:
        code, out, err = run_main([*path, "--help"])
        assert code == 0, path
        assert "utilisation :" in out and "afficher cette aide" in out, path
        assert not [word for word in ENGLISH if word in out + err], (path, out)


@pytest.mark.parametrize("path", [p for p, _ in VERBS], ids=" ".join)
def test_unknown_option_is_a_french_usage_error(path) -> None:
    code, out, err = run_main([*path, "--nimporte-quoi"])
    assert code == 2
    assert "erreur d'utilisation" in err  # unknown option, or a required one missing first
    assert not [word for word in ENGLISH if word in err], err


def _value_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.option_strings and a.nargs != 0 and a.dest not in ("config", "db", "user", "help")
    ]


HOSTILE = ["", " ", "-1", "0", str(2**63), "9" * 40, "1e3", "١٢", "x", "01/13/2026", "\x00", "ω"]


@pytest.mark.parametrize("path", [p for p, _ in VERBS], ids=" ".join)
def test_hostile_values_never_raise_past_argparse(path) -> None:
    """Each option and positional, given values a script or a fat finger could send: parsing
    either accepts the value or stops with exit status 2 — nothing else escapes."""
    parser = dict(VERBS)[path]
    for action in [*_value_options(parser), *(a for a in parser._actions if not a.option_strings)]:
        for value in HOSTILE:
            argv = [value] if not action.option_strings else [action.option_strings[0], value]
            with contextlib.redirect_stderr(io.StringIO()):
                try:
                    parser.parse_args(argv)
                except SystemExit as leaving:
                    assert leaving.code == 2, (path, action.dest, value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(st.text(min_size=0, max_size=12), max_size=5))
def test_any_words_after_a_command_are_parsed_or_refused(words) -> None:
    for path, parser in VERBS[::7]:  # a spread of verbs per example keeps the run short
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            try:
                parser.parse_args(words)
            except SystemExit as leaving:
                assert leaving.code in (0, 2), (path, words)


# --- end to end, on a real database, in real processes ----------------------------------------


def tuibill(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tuibill", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TUIBILL_CONFIG": "", "HOME": "/tmp",
             **{k: v for k, v in __import__("os").environ.items() if k.startswith(("PYTHON", "XDG"))}},
        timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("cli-args") / "demo.sqlite")
    assert tuibill("init", "--db", path, "--demo").returncode == 0
    return path


ID_VERBS = [
    ("invoice", "show"), ("invoice", "edit"), ("invoice", "delete"), ("invoice", "validate"),
    ("patient", "show"), ("rejection", "record"), ("lots", "show"), ("sesam", "pieces"),
]  # fmt: skip


@pytest.mark.parametrize("verb", ID_VERBS, ids=" ".join)
@pytest.mark.parametrize("value", [str(2**63), "99999999999999999999999", "0"])
def test_ids_beyond_what_the_database_stores_are_usage_errors(demo, verb, value) -> None:
    done = tuibill("--db", demo, *verb, value, "--act", "x", "--reason", "x")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "erreur d'utilisation" in done.stderr


def test_an_empty_date_is_refused_in_french(demo) -> None:
    done = tuibill("--db", demo, "patient", "create", "--last-name", "X", "--first-name", "Y",
                   "--birth-date", "", "--nir", "1500528123456")  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Date absente : JJ/MM/AAAA attendu" in done.stderr


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("notes.txt", "n'est pas une base SQLite"),
        ("dossier", "est un dossier"),
        ("sqlite:///", "chemin de la base SQLite vide"),
        ("mysql://x", "n'est pas une base prise en charge"),
        ("absente.sqlite", "n'existe pas"),
        ("postgresql://", "sans nom de base"),
        ("postgresql://127.0.0.1:1/base", "injoignable"),
    ],
)
def test_a_database_that_cannot_be_opened_is_refused_without_a_trace(tmp_path, target, says) -> None:
    (tmp_path / "notes.txt").write_text("pas une base")
    (tmp_path / "dossier").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    url = target if "://" in target else str(tmp_path / target)
    done = tuibill("--db", url, "invoice", "list")
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no stray file created


def test_invoice_show_takes_the_9_digit_number(demo) -> None:
    listed = json.loads(tuibill("--db", demo, "invoice", "list", "--all", "--json").stdout)
    numbered = next(row for row in listed if row["numero"])
    by_number = tuibill("--db", demo, "invoice", "show", numbered["numero"], "--json")
    assert by_number.returncode == 0, by_number.stderr
    assert json.loads(by_number.stdout)["id"] == numbered["id"]
    missing = tuibill("--db", demo, "invoice", "show", "999999998")
    assert missing.returncode == 1 and "Aucune facture n° 999999998" in missing.stderr


def test_a_bad_state_is_a_usage_error(demo) -> None:
    done = tuibill("--db", demo, "invoice", "list", "--state", "bof")
    assert done.returncode == 2 and "état « bof » inconnu" in done.stderr


def test_validate_run_again_after_an_interruption_is_done_not_refused(demo) -> None:
    drafts = json.loads(
        tuibill("--db", demo, "invoice", "list", "--all", "--state", "SAISIE", "--json").stdout
    )
    ids = [str(row["id"]) for row in drafts if not row["numero"]][:2]
    first = tuibill("--db", demo, "invoice", "validate", ids[0])
    assert first.returncode == 0, first.stderr
    again = tuibill("--db", demo, "invoice", "validate", *ids, "--json")
    assert again.returncode == 0, again.stderr
    assert {row["id"] for row in json.loads(again.stdout)["faites"]} == {int(i) for i in ids}


def test_a_deleted_draft_is_kept_supprimee_and_its_id_never_given_again(demo) -> None:
    made = tuibill("--db", demo, "invoice", "create", "--practitioner", "281234567",
                   "--patient", "1", "--act", "01/12/2026 AMI", "--billing-date", "02/12/2026",
                   "--json")  # fmt: skip
    assert made.returncode == 0, made.stderr
    deleted = json.loads(made.stdout)["id"]
    assert tuibill("--db", demo, "invoice", "delete", str(deleted)).returncode == 0
    again = tuibill("--db", demo, "invoice", "create", "--practitioner", "281234567",
                    "--patient", "1", "--act", "01/12/2026 AMI", "--billing-date", "02/12/2026",
                    "--json")  # fmt: skip
    assert json.loads(again.stdout)["id"] > deleted
    shown = json.loads(tuibill("--db", demo, "invoice", "show", str(deleted), "--json").stdout)
    assert shown["etat_code"] == "SUPPRIMEE"  # kept, with its history


def test_emulate_secure_takes_several_keys_after_one_key_option(tmp_path) -> None:
    state = Path(tmp_path) / "tla.json"
    done = tuibill("emulate", "tla", "secure", "--state", str(state), "--key", "K1", "K2")
    assert "arguments non reconnus" not in done.stderr, done.stderr
