"""F7 › Rapports: the follow-up reports of the returns (seed 002's list), paged by key, exported
as CSV or a printable PDF, and the chart of what the caisses owe by age and of their payment
delays (block characters; ASCII on the Linux console). Opened by ``app.open_reports``.

Keys: ↑/↓ choose a report in the list, Entrée opens it (or the row's invoice / lot in the
table); Ctrl+N / Ctrl+B the next / previous page; Ctrl+E CSV; Ctrl+P PDF; Ctrl+G the charts;
Ctrl+T « pointage » of a lot without a return. In the table the list steps aside (the key facts fit
at 80 columns, the rest scrolls sideways); Échap brings it back, a second Échap leaves.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.screen_frames import DrawnOnce

PAGE_ROWS = 100


def _screen_cell(column, value) -> str:
    """A cell as the screen shows it: an invoice's state by its short label (13 characters, the
    lists' « État » at 80 columns); the exports keep the whole label."""
    from tuibill.services.reports.pdf import cell_text

    if column.key == "etat":
        value = _short_states().get(value, value)
    return cell_text(column, value)


@cache
def _short_states() -> dict[str, str]:
    from tuibill.domain.invoices import InvoiceState

    return {state.label: state.short_label for state in InvoiceState}


class ReportsScreen(DrawnOnce):
    TITLE = "Retours et rejets › Rapports"
    CSS = """
    ReportsScreen #reports-list { width: 24; height: 1fr; }
    ReportsScreen #reports-main { width: 1fr; }
    ReportsScreen #reports-filters { height: 1; }
    ReportsScreen #reports-filters Input {
        width: 14; height: 1; border: none !important; padding: 0 1; background: $boost;
    }
    ReportsScreen #reports-filters Static { width: auto; padding: 0 1; }
    ReportsScreen #reports-table { height: 1fr; }
    ReportsScreen.wide #reports-list { display: none; }
    ReportsScreen #reports-chart { height: auto; max-height: 14; display: none; }
    ReportsScreen.charts #reports-chart { display: block; }
    ReportsScreen.charts #reports-table { display: none; }
    """
    AUTO_FOCUS = "#reports-list"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Retour", id="rapports_retour"),
        Binding("ctrl+n", "next_page", "Page suiv.", id="rapports_suivante"),
        Binding("ctrl+b", "previous_page", "Page préc.", id="rapports_precedente"),
        Binding("ctrl+e", "export_csv", "CSV", id="rapports_csv"),
        Binding("ctrl+p", "export_pdf", "PDF", id="rapports_pdf"),
        Binding("ctrl+g", "charts", "Graphiques", id="rapports_graphiques"),
        Binding("ctrl+t", "point", "Pointer le lot", id="rapports_pointer"),
    ]

    def __init__(self, name: str | None = None, *, today: date | None = None) -> None:
        super().__init__()
        from tuibill.services import reports

        self.report_name = name or reports.NAMES[0]
        self.today = today
        self.starts: list[tuple | None] = [None]  # the key each page read so far starts after
        self.page_rows: list = []

    def compose(self) -> ComposeResult:
        from tuibill.services import reports

        yield AppHeader()
        with Horizontal():
            yield OptionList(
                *(Option(r.title, id=r.name) for r in reports.REPORTS.values()), id="reports-list"
            )
            with Vertical(id="reports-main"):
                yield Static("", id="reports-title", classes="title")
                with Horizontal(id="reports-filters"):
                    yield Static("Du")
                    yield Input(placeholder="JJ/MM/AAAA", id="reports-since")
                    yield Static("au")
                    yield Input(placeholder="JJ/MM/AAAA", id="reports-until")
                yield DataTable(id="reports-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="reports-chart", markup=False)
                yield Static("", id="reports-status", classes="hint")
        yield AppFooter()

    def on_mount(self) -> None:
        from tuibill.services import reports

        options = self.query_one(OptionList)
        options.highlighted = list(reports.REPORTS).index(self.report_name)
        self.show_report(self.report_name)

    # --- reading ---------------------------------------------------------------------------

    def _filters(self):
        from tuibill.domain.act_notation import parse_date
        from tuibill.services.reports import Filters

        values = []
        for field in ("#reports-since", "#reports-until"):
            text = self.query_one(field, Input).value.strip()
            values.append(parse_date(text) if text else None)
        return Filters(
            since=values[0], until=values[1], today=self.today,
            awaiting_days=self.app.settings.transmission.awaiting_return_days,
        )  # fmt: skip

    def show_report(self, name: str) -> None:
        self.report_name = name
        self.starts = [None]
        self.remove_class("charts")
        self._read_page()

    def _read_page(self) -> None:
        from tuibill.domain.errors import TuibillError
        from tuibill.services import reports

        report = reports.get(self.report_name)
        self.query_one("#reports-title", Static).update(f"{report.title} — {report.description}")
        table = self.query_one("#reports-table", DataTable)
        table.clear(columns=True)
        columns = report.screen_columns()
        for column in columns:
            table.add_column(column.label, key=column.key, width=column.width)
        status = self.query_one("#reports-status", Static)
        try:
            self.page_rows = report.page(self._filters(), self.starts[-1], PAGE_ROWS)
        except TuibillError as problem:
            status.update(str(problem))
            return
        for row in self.page_rows:
            table.add_row(*(_screen_cell(c, row.values.get(c.key)) for c in columns))
        more = " — Ctrl+N : page suivante" if len(self.page_rows) == PAGE_ROWS else ""
        status.update(
            f"Page {len(self.starts)} : {len(self.page_rows)} ligne(s){more} — "
            "Ctrl+E CSV · Ctrl+P PDF · Ctrl+G graphiques"
        )
        self.refresh_bindings()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.show_report(str(event.option.id))
        self.query_one("#reports-table", DataTable).focus()

    def on_descendant_focus(self, event) -> None:
        # The table takes the whole width (its key facts fit at 80 columns); the list comes
        # back with Échap or a click on the filters.
        self.set_class(self.query_one("#reports-table", DataTable).has_focus, "wide")

    def action_back(self) -> None:
        if self.has_class("wide"):
            self.query_one("#reports-list", OptionList).focus()
        else:
            self.app.action_back()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if str(event.option.id) != self.report_name:
            self.show_report(str(event.option.id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from tuibill.domain.errors import TuibillError

        event.stop()
        try:
            self._filters()
        except TuibillError as problem:
            self.query_one("#reports-status", Static).update(str(problem))
            return
        self.show_report(self.report_name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_page":
            return len(self.page_rows) == PAGE_ROWS
        if action == "previous_page":
            return len(self.starts) > 1
        if action == "point":
            return self.report_name == "lots-sans-retour"
        return True

    def action_next_page(self) -> None:
        if len(self.page_rows) == PAGE_ROWS:
            self.starts.append(self.page_rows[-1].key)
            self._read_page()

    def action_previous_page(self) -> None:
        if len(self.starts) > 1:
            self.starts.pop()
            self._read_page()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Entrée on a row: the rejected invoice's treatment, the invoice, or the lot."""
        event.stop()
        if not 0 <= event.cursor_row < len(self.page_rows):
            return
        values = self.page_rows[event.cursor_row].values
        if self.report_name.startswith("lots-"):
            self.app.open_lot(values["id"])
        elif self.report_name in ("fse-rejetees", "rejets-amc"):
            self.app.open_rejection(values["id"])
        else:
            self.app.open_invoice(values["id"])

    # --- exports ---------------------------------------------------------------------------

    def _save(self, suffix: str, write) -> None:
        from tuibill.dialogs.file_name import PathDialog

        default = f"{self.report_name}-{date.today():%Y%m%d}.{suffix}"

        def chosen(path: str | None) -> None:
            if not path:
                return
            from pathlib import Path

            from tuibill.domain.errors import TuibillError

            try:
                target = Path(path).expanduser()
                write(target)
            except (OSError, TuibillError) as problem:
                self.notify(str(problem), title="Rapports", severity="error", markup=False)
                return
            self.notify(f"Rapport écrit dans {target}.", title="Rapports")

        self.app.push_screen(PathDialog("Enregistrer le rapport sous", default), chosen)

    def action_export_csv(self) -> None:
        from tuibill.services import reports

        report, filters = reports.get(self.report_name), self._filters()

        def write(path) -> None:
            with open(path, "w", encoding="utf-8", newline="") as out:
                for line in reports.csv_lines(report, report.rows(filters)):
                    out.write(line)

        self._save("csv", write)

    def action_export_pdf(self) -> None:
        from tuibill.services import reports

        report, filters = reports.get(self.report_name), self._filters()
        self._save("pdf", lambda path: path.write_bytes(reports.pdf_bytes(report, filters)))

    # --- charts ----------------------------------------------------------------------------

    def chart_text(self) -> str:
        from datetime import timedelta

        from tuibill.services.reports import charts

        today = self.today or date.today()
        plain = bool(getattr(self.app, "ascii_borders", False))
        owed = charts.draw_owed(charts.owed_by_caisse(today), width=20, ascii=plain)
        months, delays = charts.payment_delays(today - timedelta(days=365), today)
        lines = ["Dû par les caisses, par ancienneté", *owed, "",
                 "Délai de paiement par caisse et par mois",
                 *charts.draw_delays(months, delays, ascii=plain)]  # fmt: skip
        return "\n".join(lines)

    def action_charts(self) -> None:
        if self.has_class("charts"):
            self.remove_class("charts")
            return
        self.query_one("#reports-chart", Static).update(self.chart_text())
        self.add_class("charts")

    def action_point(self) -> None:
        from tuibill.dialogs.reason import ReasonDialog

        table = self.query_one("#reports-table", DataTable)
        if self.report_name != "lots-sans-retour" or not self.page_rows:
            return
        values = self.page_rows[table.cursor_row].values

        def pointed(note: str | None) -> None:
            if note is None:
                return
            from tuibill.services.reports import point_lot

            point_lot(values["id"], user=self.app.user, note=note)
            self.notify(f"Lot {values['lot']} pointé « traité ».", title="Rapports")
            self._read_page()

        self.app.push_screen(
            ReasonDialog(f"Lot {values['lot']} : ce qui a été fait (appel, papier…)", required=False),
            pointed,
        )
