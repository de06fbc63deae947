"""The status line: a text shown again is not drawn again (a journal says « Recherche… » and
« Compte… » at every search)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region

from tuibill.widgets.status_line import StatusLine


class StatusApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusLine("Recherche…", id="status")


def shown(line: StatusLine) -> str:
    return "".join(strip.text for strip in line.render_lines(Region(0, 0, *line.size))).rstrip()


async def test_a_text_shown_again_is_not_drawn_again(monkeypatch) -> None:
    app = StatusApp()
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        line = app.query_one(StatusLine)
        made: list[str] = []
        real = line.render
        monkeypatch.setattr(line, "render", lambda: made.append(line.text) or real())
        for text in ("Compte…", "12 factures", "Recherche…", "Compte…", "8 factures"):
            line.show(text)
            await pilot.pause()
            assert shown(line) == text
        assert made == ["Compte…", "12 factures", "8 factures"]  # « Recherche… » was kept
        updated: list[object] = []
        monkeypatch.setattr(line, "update", lambda *a, **k: updated.append(a))
        line.show("8 factures")  # the same text: nothing to draw
        assert updated == []
