"""Starting the Textual application (the TUI is one client of the services)."""

from __future__ import annotations

from tuibill.cli.context import CliContext


def run_tui(ctx: CliContext, *, demo: bool) -> int:
    ctx.open_db()
    from tuibill.app import TuibillApp

    app = TuibillApp(settings=ctx.settings, user=ctx.user, demo=demo)
    app.run()
    return app.return_code or 0
