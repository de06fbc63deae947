"""The main menu: the F-key menus as a list, and today's work at a glance."""

from __future__ import annotations

from datetime import date
from time import monotonic
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tuibill.services.database import DatabaseError, close_thread_connection
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.screen_frames import DrawnOnce

if TYPE_CHECKING:
    from tuibill.config import ReturnSettings
    from tuibill.services.dashboard import MenuFacts

# (binding id, key, mode, footer label, menu label) — the menus of the seeds, in F-key order.
# The application binds the F-keys from these entries; this screen lists them. Footer labels
# are short so that the F-keys fit the footer of a small terminal.
MENU: list[tuple[str, str, str, str, str]] = [
    ("facturer", "f2", "facturer", "Facturer", "Facturer"),
    ("transmettre", "f3", "transmettre", "Transmettre", "Transmettre"),
    ("lecteur", "f4", "lecteur", "Lecteur", "Lecteur"),
    ("journal_factures", "f5", "journal", "Factures", "Journal des factures"),
    ("journal_lots", "f6", "lots", "Lots", "Journal des lots"),
    ("retours", "f7", "retours", "Retours", "Retours et rejets"),
    ("tiers_payeurs", "f8", "tiers", "Tiers", "Tiers-payeurs"),
    ("patients", "f9", "patients", "Patients", "Patients"),
]


# Menus without a global F-key (F2–F9 are the seeds' menus, F10–F12 the screens' own keys):
# a letter on this screen, and an entry of the list.
MORE: list[tuple[str, str, str]] = [("banque", "b", "Banque et comptabilité")]
# Who is at the desk, and the data only an administrateur manages (app methods by id).
DESK_OPTIONS: list[tuple[str, str]] = [
    ("utilisateurs", "Données › Utilisateurs"),
    ("changer_utilisateur", "Changer d'utilisateur"),
    ("verrouiller", "Verrouiller le poste"),
]


ALERT_WIDTH = 38  # two alerts side by side at 80 columns: the five fit under the menu at 80×24


def alerts_text(alerts: list[str]) -> str:
    """« À faire : » and the alerts two by two, in columns."""
    if not alerts:
        return ""
    rows = [
        "  " + "".join(f"{alert:<{ALERT_WIDTH - 1}} " for alert in alerts[i : i + 2]).rstrip()
        for i in range(0, len(alerts), 2)
    ]
    return "\n".join(["À faire :", *rows])


class MenuScreen(DrawnOnce):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "open_bank", "Banque", id="menu_banque"),
    ]
    _counted_at = -1.0  # monotonic time of the last count
    _alerts_shown = False  # the first display's alerts came read ahead

    def compose(self) -> ComposeResult:
        # The counts and the warning are read here, so that the first layout already holds them:
        # filled in after the mount, each would lay the screen out and draw it again before the
        # first frame is complete (issue 12, start-up).
        facts = self._facts_read_ahead()
        warning = self._audit_warning(facts)
        counts = self._counts(facts)
        alerts = facts.alerts if facts is not None else None
        self._alerts_shown = alerts is not None
        yield AppHeader()
        yield Static("Menu principal", classes="title")
        if warning:
            yield Static(warning, id="audit-warning", classes="error")
        # The menu and the month's counts side by side; what is to do below, full width.
        with Horizontal(id="menu-row"):
            yield OptionList(
                *[Option(f"{key.upper():>3}  {label}", id=mode) for _, key, mode, _, label in MENU],
                *[Option(f"{key.upper():>3}  {label}", id=entry) for entry, key, label in MORE],
                Option("     Données › Praticiens", id="praticiens"),
                Option("     Données › Prescripteurs", id="prescripteurs"),
                *[Option(f"     {label}", id=option_id) for option_id, label in DESK_OPTIONS],
                Option(" F1  Aide (toutes les touches)", id="aide"),
                id="menu",
            )
            counted = Static(counts, id="counts")
            counted.border_title = "Factures, 2 derniers mois"
            yield counted
        yield Static(alerts_text(alerts or []), id="alerts")
        yield AppFooter()

    def on_screen_resume(self) -> None:
        # Also the first display (counted by compose): Textual may send it twice then.
        if monotonic() - self._counted_at > 0.2:
            self.refresh_counts()
        elif not self._alerts_shown:
            self._alerts_after_refresh()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def _compositor_refresh(self) -> None:
        # The desk's first screen lays out while the app still mounts (a batch): Textual would
        # render the whole screen and throw it away (~9 ms of the start, issue 12). Left dirty,
        # it is drawn once the batch ends.
        if self.app._batch_count:
            return
        super()._compositor_refresh()

    def _facts_read_ahead(self) -> MenuFacts | None:
        """What the start read ahead for the first display (services.dashboard.MenuFacts), once
        and only today's."""
        facts, self.app.menu_facts = getattr(self.app, "menu_facts", None), None
        if facts is None or facts.today != date.today():
            return None
        return facts

    @staticmethod
    def _audit_warning(facts: MenuFacts | None = None) -> str:
        """The last check of the history found it edited: say so until a check passes."""
        from tuibill.services.audit import last_check

        check = facts.check if facts is not None and facts.check_read else last_check()
        if check is None or check.ok:
            return ""
        return (
            f"⚠ Historique retouché (vérification du {check.at:%d/%m/%Y %H:%M}) : "
            f"{check.message} — « tuibill audit verify »."
        )

    def _counts(self, facts: MenuFacts | None = None) -> str:
        from tuibill.services.dashboard import counts_since, state_counts

        self._counted_at = monotonic()
        if facts is not None and facts.counts is not None:
            counts = facts.counts
        else:
            counts = state_counts(counts_since(date.today()))
        return "\n".join(f"{label[:21]:<21}{count:>6}" for label, count in counts if count)

    def refresh_audit_warning(self) -> None:
        """The warning under the title while the last check failed; no widget otherwise (one
        node less to style at every start, issue 12)."""
        warning = self._audit_warning()
        shown = self.query("#audit-warning")
        if not warning:
            shown.remove()
        elif shown:
            shown.first(Static).update(warning)
        else:
            self.mount(Static(warning, id="audit-warning", classes="error"), after=".title")

    def refresh_counts(self) -> None:
        self.refresh_audit_warning()
        self.query_one("#counts", Static).update(self._counts())
        self._alerts_after_refresh()

    def _alerts_after_refresh(self) -> None:
        # Once the menu is on the terminal: the worker's imports and reads would otherwise hold
        # the interpreter while the screen is drawn (issue 12, start-up).
        self.call_after_refresh(self._read_alerts, self.app.settings.returns, date.today())

    @work(thread=True, exclusive=True, group="menu-alerts")
    def _read_alerts(self, settings: ReturnSettings, today: date) -> None:
        # Off the UI thread: a few counts over the whole history (~15 ms at a million invoices,
        # more on a busy server); the menu is drawn and answers keys meanwhile.
        from tuibill.services.dashboard import return_alerts

        try:
            alerts = return_alerts(settings, today)
        except DatabaseError:
            return  # the menu's « À faire » is a courtesy: the lists themselves say it
        finally:
            close_thread_connection()
        self.app.call_from_thread(self._show_alerts, alerts)

    def _show_alerts(self, alerts: list[str]) -> None:
        self.query_one("#alerts", Static).update(alerts_text(alerts))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "aide":
            self.app.action_help()
        elif event.option.id == "banque":
            self.action_open_bank()
        elif event.option.id == "utilisateurs":
            self.app.open_users()
        elif event.option.id == "changer_utilisateur":
            self.app.switch_user()
        elif event.option.id == "verrouiller":
            self.app.lock()
        elif event.option.id == "praticiens":
            self.app.open_practitioners()
        elif event.option.id == "prescripteurs":
            self.app.open_prescribers()
        else:
            self.app.action_open_menu(event.option.id)

    def action_open_bank(self) -> None:
        """« Banque » over the menu (Échap comes back here)."""
        from tuibill.screens.bank import BankScreen

        self.app.push_screen(BankScreen())
