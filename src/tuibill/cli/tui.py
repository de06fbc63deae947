"""Starting the Textual application (the TUI is one client of the services)."""

from __future__ import annotations

import os

from tuibill.cli.context import PASSWORD_ENV, CliContext


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


def run_tui(ctx: CliContext, *, demo: bool, kiosk: bool | None = None) -> int:
    ctx.open_db(authenticate=False)
    from tuibill.app import TuibillApp

    app = TuibillApp(
        settings=ctx.settings, session=tui_session(ctx, demo=demo), demo=demo, kiosk=kiosk,
        login_hint=ctx.user,
    )  # fmt: skip
    app.run()
    return app.return_code or 0
