"""The core (domain, models, services, formats, hardware, CLI) never imports Textual."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "tuibill.domain.invoices",
    "tuibill.domain.pricing",
    "tuibill.domain.patients",
    "tuibill.domain.act_notation",
    "tuibill.domain.invoice_rules",
    "tuibill.domain.numbering",
    "tuibill.models",
    "tuibill.models.schema",
    "tuibill.services.invoices",
    "tuibill.services.journal",
    "tuibill.services.patients",
    "tuibill.services.worklists",
    "tuibill.services.demo",
    "tuibill.services.seed",
    "tuibill.cli.main",
    "tuibill.config",
]


def test_core_modules_do_not_import_textual() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {CORE!r}:\n"
        "    importlib.import_module(name)\n"
        "import tuibill.domain, tuibill.services\n"
        "for pkg in (tuibill.domain, tuibill.services):\n"
        "    for info in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(f'{pkg.__name__}.{info.name}')\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_cli_help_does_not_load_textual_or_pyscard() -> None:
    code = (
        "import sys\n"
        "from tuibill.cli.main import build_parser\n"
        "build_parser()\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in ('textual', 'smartcard', 'serial', 'peewee')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_domain_imports_neither_peewee_nor_hardware() -> None:
    code = (
        "import importlib, pkgutil, sys, tuibill.domain\n"
        "for info in pkgutil.iter_modules(tuibill.domain.__path__):\n"
        "    importlib.import_module(f'tuibill.domain.{info.name}')\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in ('peewee', 'smartcard', 'serial', 'textual')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
