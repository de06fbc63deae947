"""What Transmettre (F3) and Banque share: numbered tabs of lists in a ContentSwitcher, a
status line telling the last operation's outcome (or what the tab is for), and a hint line
naming every key of the tab (the footer is cut at 80 columns).

A screen names its widgets and bindings in its class statement (``SWITCHER_ID``, ``HINT_ID``,
``BINDING_PREFIX``, ``TAB_FOCUS``: tab → the list it focuses) and writes ``reload``,
``_show_tabs`` and ``_show_status``; this class does the rest.
"""

from __future__ import annotations

from typing import ClassVar

from textual.widgets import ContentSwitcher, DataTable, Static

from tuibill.widgets.keys import key_hint
from tuibill.widgets.screen_frames import DrawnOnce


class TabbedListsScreen(DrawnOnce):
    SWITCHER_ID: ClassVar[str]
    HINT_ID: ClassVar[str]
    BINDING_PREFIX: ClassVar[str]  # the bindings' ids: « banque_ », « transmettre_ »
    TAB_FOCUS: ClassVar[dict[str, str]]
    SPAN_DIGITS: ClassVar[bool] = False  # the hint shows « 1–4 Onglets » as one span

    def __init__(self, first_tab: str) -> None:
        super().__init__()
        self.tab = first_tab
        self.notice = ""  # the last operation's outcome, on the status line
        self.notice_error = False

    def table(self, selector: str) -> DataTable:
        return self.query_one(selector, DataTable)

    def _set_notice(self, text: str, *, error: bool = False) -> None:
        self.notice, self.notice_error = text, error
        self._show_status()

    def _update_hint(self) -> None:
        """Every key of this tab."""
        hint = key_hint(
            self, self.BINDING_PREFIX, groups={"show_tab": "Onglets"}, span_digits=self.SPAN_DIGITS
        )
        self.query_one(self.HINT_ID, Static).update(hint)

    def action_show_tab(self, tab: str) -> None:
        self.tab = tab
        self.query_one(self.SWITCHER_ID, ContentSwitcher).current = tab
        self.table(self.TAB_FOCUS[tab]).focus()
        self.notice, self.notice_error = "", False
        self._show_tabs()
        self._show_status()
        self.refresh_bindings()
        self._update_hint()

    def action_reload(self) -> None:
        self.notice = ""
        self.reload()
