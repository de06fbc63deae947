"""Starting the Textual application (the TUI is one client of the services)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from tuibill.cli.context import PASSWORD_ENV, CliContext, server_drivers_hidden


def tui_session(ctx: CliContext, *, demo: bool):
    """Who the application starts as: the demo's own account (it logs in by itself), the
    account of ``--user`` with TUIBILL_PASSWORD, or None — the login screen asks."""
    from tuibill.services import users

    if demo:
        from tuibill.services.demo import DEMO_USER

        return users.session_for(DEMO_USER)
    if ctx.user and os.environ.get(PASSWORD_ENV) is not None:
        return ctx.login()
    return None


@contextmanager
def imports_kept() -> Iterator[None]:
    """Inside, no cyclic garbage collection; what was made meanwhile (modules, classes, peewee's
    models, Textual's widgets: all kept until the end) is then set aside from the collector's
    scans. The full collections that importing Textual and peewee set off went over every object
    they made (a ~16 ms pause in the desk's start, issue 12), and would again at every later one.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def run_tui(ctx: CliContext, *, demo: bool, kiosk: bool | None = None) -> int:
    with imports_kept():
        with server_drivers_hidden(ctx.database_url):
            ctx.open_db(authenticate=False)
        from tuibill.services.dashboard import MenuFacts

        # Read on another thread while Textual is imported (services.dashboard.MenuFacts).
        facts = MenuFacts(ctx.settings.returns, date.today()).start()
        from tuibill.app import TuibillApp

        app = TuibillApp(
            settings=ctx.settings, session=tui_session(ctx, demo=demo), demo=demo, kiosk=kiosk,
            login_hint=ctx.user, menu_facts=facts,
        )  # fmt: skip
    app.run()
    return app.return_code or 0
