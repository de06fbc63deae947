"""`tuibill serve` in a real headless Chromium: the same login screen, then the main menu and
F5's journal read in the page; bound to this machine by default."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import urllib.request

import pytest

from tests.support.chromium import chromium_page, chromium_path, free_port, wait_http

pytestmark = pytest.mark.skipif(
    chromium_path() is None and not os.environ.get("CI"), reason="Chromium absent"
)


def tuibill(*args: str, env: dict | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "tuibill", *args], check=True, capture_output=True, timeout=120,
        env={**os.environ, "TUIBILL_CONFIG": "", **(env or {})},
    )  # fmt: skip


@pytest.fixture
def served(tmp_path):
    db = str(tmp_path / "cabinet.sqlite")
    tuibill("init", "--db", db, "--demo")
    tuibill("--db", db, "user", "add", "accueil", "--role", "administrateur",
            env={"TUIBILL_NEW_PASSWORD": "accueil 2026"})  # fmt: skip
    port = free_port()
    # A password in the server's environment must never log a browser in.
    server = subprocess.Popen(
        [sys.executable, "-m", "tuibill", "--db", db, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "TUIBILL_CONFIG": "", "TUIBILL_PASSWORD": "accueil 2026",
             "HOME": str(tmp_path)},
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        yield port
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


async def test_the_desk_in_a_browser_behind_the_same_login(served) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{served}/", timeout=10) as reply:
        page_html = reply.read()
        assert reply.status == 200 and b"/ws" in page_html
        assert b"googleapis" not in page_html  # the page asks nothing of another site
    async with chromium_page() as page:
        await page.goto(f"http://127.0.0.1:{served}/")
        await page.wait_for("connexion")
        await page.focus_terminal()
        # One step at a time, each seen in the page before the next (a busy machine may
        # deliver a burst of keys as one paste).
        await page.type("accueil")
        await page.wait_for("accueil ")
        await page.press("enter")
        await asyncio.sleep(0.5)
        await page.type("accueil 2026")
        await page.wait_for("•" * 12)
        await page.press("enter")
        screen = await page.wait_for("Menu principal")
        assert "accueil (administrateur)" in screen and "Journal des factures" in screen
        await page.press("f5")
        screen = await page.wait_for("Numéro")
        assert "État" in screen and "factures" in screen
        assert "DUPUIS" in screen  # the demo's invoices, in the page


def test_serve_listens_on_this_machine_only_by_default() -> None:
    from tuibill.cli.main import build_parser

    args = build_parser(["serve"]).parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.port == 8000
