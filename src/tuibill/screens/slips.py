"""Tiers-payeurs › Bordereaux (seed 004) for a period: 1 Simuler, 2 Créer, 3 Validation (those
dated today or earlier), 4 Envoi par courriel (payers without e-mail flagged, skipped),
5 Édition d'un lot (one PDF), 6 Export (CSV), 7 Relances."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static

from tuibill.dialogs.confirm import ConfirmDialog
from tuibill.dialogs.file_name import PathDialog
from tuibill.dialogs.text_view import TextDialog
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.domain.formatting import format_cents
from tuibill.widgets.cells import mark, money
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.keys import number_bindings, selection_bindings
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.tiers_text import outcomes_text, slip_preview_text

ACTIONS = {
    "simulate": "Simuler",
    "create": "Créer",
    "validate": "Validation",
    "send": "Envoi par courriel",
    "print": "Édition d'un lot",
    "export": "Export",
    "remind": "Relances",
}

# The same actions, short enough for the hint line at 80 columns.
SHORT = {"simulate": "Simuler", "create": "Créer", "validate": "Valider", "send": "Courriel",
         "print": "Édition", "export": "Export", "remind": "Relances"}  # fmt: skip


def previous_month(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last:%Y-%m}"


def parse_period(text: str) -> tuple[int, int]:
    from tuibill.services.homecare_billing import parse_period as parse

    try:
        return parse(text)
    except TuibillError as error:
        raise ValidationError(str(error), field="period") from None


class SlipsScreen(DrawnOnce[None]):
    CSS_PATH = "../styles/tiers.tcss"
    AUTO_FOCUS = "#slips"

    BINDINGS: ClassVar[list[BindingType]] = [
        *number_bindings("run", ACTIONS, "bordereaux"),
        *selection_bindings("bordereaux"),
        Binding("ctrl+p", "focus_period", "Période", id="bordereaux_periode"),
    ]

    def __init__(self, payer_id: int | None = None, payer_name: str = "") -> None:
        """*payer_id*: the bordereaux of one payer (opened from its file), else all."""
        super().__init__()
        self.marked: set[int] = set()
        self.payer_id = payer_id
        self.payer_name = payer_name

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Horizontal(classes="tiers-bar"):
            yield Input(previous_month(date.today()), id="period", max_length=7)
            yield Static("Période (AAAA-MM) — Entrée : rechercher", markup=False)
        yield DataTable(id="slips", cursor_type="row", zebra_stripes=True)
        yield Static("", id="slips-hint", classes="hint")
        yield AppFooter()

    def on_mount(self) -> None:
        self.add_class("tiers")
        self.title = (
            f"Bordereaux — {self.payer_name}" if self.payer_id else "Tiers-payeurs — Bordereaux"
        )
        self.query_one("#period", Input).border_title = "Période"
        table = self.query_one("#slips", DataTable)
        # 80 columns: seven columns of padded cells fit; the date is in the payer's file.
        for label, width in (("Sél", 3), ("Numéro", 8), ("Tiers-payeur", 13), ("Bénéf.", 10),
                             ("État", 10), ("Montant", 9), ("Réglé", 9)):  # fmt: skip
            table.add_column(label, width=width)
        self.reload()

    @property
    def period(self) -> tuple[int, int]:
        return parse_period(self.query_one("#period", Input).value)

    @property
    def payers(self) -> list[int] | None:
        return [self.payer_id] if self.payer_id else None

    def _bounds(self) -> tuple[date, date]:
        from tuibill.services.homecare_billing import month_bounds

        return month_bounds(*self.period)

    def reload(self) -> None:
        from tuibill.services.slips import list_slips

        table = self.query_one("#slips", DataTable)
        table.clear()
        try:
            start, end = self._bounds()
        except TuibillError as error:
            self.query_one("#slips-hint", Static).update(Text(str(error), style="bold red"))
            return
        rows = list_slips(payer_id=self.payer_id, start=start, end=end)
        self.rows = {row.id: row for row in rows}
        self.marked &= set(self.rows)
        for row in rows:
            paid = Text(format_cents(row.paid_cents), justify="right",
                        style="bold red" if row.partly_paid else "")  # fmt: skip
            payer = Text(("⚠ " if not row.payer_email else "") + row.payer)
            table.add_row(
                mark(row.id in self.marked), row.number or "(créé)", payer, Text(row.beneficiary),
                row.state_label, money(row.total_cents), paid,
                key=str(row.id),
            )  # fmt: skip
        self._hint(len(rows))

    def _hint(self, count: int) -> None:
        hint = Text(f"{count} bordereau(x) — ⚠ : sans e-mail — rouge : réglé en partie")
        labels = "  ".join(f"{n} {label}" for n, label in enumerate(SHORT.values(), start=1))
        hint.append("\n" + labels)
        self.query_one("#slips-hint", Static).update(hint)

    @on(Input.Submitted, "#period")
    def _period_submitted(self) -> None:
        self.reload()
        self.query_one("#slips", DataTable).focus()

    def action_focus_period(self) -> None:
        self.query_one("#period", Input).focus()

    # --- selection ---

    def _cursor(self) -> int | None:
        table = self.query_one("#slips", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_toggle_mark(self) -> None:
        slip_id = self._cursor()
        if slip_id is None:
            return
        self.marked ^= {slip_id}
        table = self.query_one("#slips", DataTable)
        table.update_cell(str(slip_id), table.ordered_columns[0].key, mark(slip_id in self.marked))
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_mark_all(self) -> None:
        self.marked = set(self.rows)
        self.reload()

    def action_unmark_all(self) -> None:
        self.marked = set()
        self.reload()

    def _chosen(self, state: str) -> list[int]:
        """The marked bordereaux in *state*, else all of the period in it."""
        ids = [i for i in self.marked if self.rows[i].state == state] if self.marked else []
        return sorted(ids or [i for i, row in self.rows.items() if row.state == state])

    # --- actions ---

    def action_run(self, name: str) -> None:
        try:
            getattr(self, f"_do_{name}")()
        except TuibillError as error:
            self.app.push_screen(TextDialog("Refusé", str(error), error=True))

    def _do_simulate(self) -> None:
        from tuibill.services.slips import simulate_slips

        plans = simulate_slips(*self._bounds(), self.payers)
        self.app.push_screen(TextDialog(f"Simulation des bordereaux — {self.query_one('#period', Input).value}",
                                        slip_preview_text(plans)))  # fmt: skip

    def _do_create(self) -> None:
        from tuibill.services.slips import create_slips, simulate_slips

        plans = simulate_slips(*self._bounds(), self.payers)

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                created, _ = create_slips(*self._bounds(), self.payers, user=self.app.user)
            except TuibillError as error:
                self.app.push_screen(TextDialog("Refusé", str(error), error=True))
                return
            self.reload()
            self.notify(f"{len(created)} bordereau(x) créé(s).")

        self.app.push_screen(
            TextDialog("Créer ces bordereaux ?", slip_preview_text(plans), confirm=True), answered
        )

    def _do_validate(self) -> None:
        from tuibill.services.slips import validate_slips

        result = validate_slips(*self._bounds(), self.payers, user=self.app.user)
        self.reload()
        lines = [f"{len(result.done)} bordereau(x) validé(s)."]
        lines += [f"⚠ bordereau {slip} écarté : {why}" for slip, why in result.skipped]
        self.app.push_screen(TextDialog("Validation", "\n".join(lines)))

    def _do_send(self) -> None:
        from tuibill.services.payer_mail import send_slips

        ids = self._chosen("VALIDE")
        if not ids:
            raise ValidationError("Aucun bordereau validé à envoyer sur la période.")
        outcomes = send_slips(self.app.settings.transmission, ids, user=self.app.user)
        self.reload()
        failed = any(o.status != "envoye" for o in outcomes)
        pending = [o for o in outcomes if o.pending and o.slip_id is not None]
        self.app.push_screen(
            TextDialog("Envoi par courriel", outcomes_text(outcomes), error=failed),
            lambda _: self._resolve_pending(pending) if pending else None,
        )

    def _resolve_pending(self, pending: list) -> None:
        """A send not confirmed (a crash, the server's silence): the payer may have the mail.
        The clerk says whether it arrived (« Envoyé ») or sends it again; Échap decides later."""
        from tuibill.services.payer_mail import mark_sent, send_slips

        names = "\n".join(f"- {o.payer} — {o.what}" for o in pending)
        ids = [o.slip_id for o in pending]

        def resend(yes: bool | None) -> None:
            if not yes:
                return
            outcomes = send_slips(self.app.settings.transmission, ids, user=self.app.user,
                                  again=True)  # fmt: skip
            self.reload()
            failed = any(o.status != "envoye" for o in outcomes)
            self.app.push_screen(
                TextDialog("Envoi par courriel", outcomes_text(outcomes), error=failed)
            )

        def received(yes: bool | None) -> None:
            if not yes:
                self.app.push_screen(
                    ConfirmDialog("Les renvoyer maintenant ?", names), resend
                )
                return
            marked = 0
            try:
                for slip_id in ids:
                    mark_sent(slip_id, user=self.app.user)
                    marked += 1
            except TuibillError as error:
                self.app.push_screen(TextDialog("Refusé", str(error), error=True))
            self.reload()
            if marked:
                self.notify(f"{marked} bordereau(x) « Envoyé » (envoi confirmé).")

        self.app.push_screen(
            ConfirmDialog(
                "Le tiers-payeur a-t-il reçu ces bordereaux ?",
                f"{names}\nO : oui, les marquer envoyés — N : non (proposer de les renvoyer).",
            ),
            received,
        )

    def _do_print(self) -> None:
        from tuibill.services.slips import print_slips, write_file

        ids = self._chosen("VALIDE")
        if not ids:
            raise ValidationError("Aucun bordereau validé à éditer sur la période.")

        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                written = write_file(path, print_slips(ids, user=self.app.user))
            except TuibillError as error:
                self.app.push_screen(TextDialog("Refusé", str(error), error=True))
                return
            self.reload()
            self.notify(f"{len(ids)} bordereau(x) dans {written} : « Envoyé » (courrier).", markup=False)

        period = self.query_one("#period", Input).value
        self.app.push_screen(
            PathDialog("Édition d'un lot : fichier PDF", f"bordereaux-{period}.pdf"), chosen
        )

    def _do_export(self) -> None:
        from tuibill.services.slips import export_slips, write_file

        start, end = self._bounds()

        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                written = write_file(path, export_slips(start, end))
            except TuibillError as error:
                self.app.push_screen(TextDialog("Refusé", str(error), error=True))
                return
            self.notify(f"Export écrit dans {written}.", markup=False)

        period = self.query_one("#period", Input).value
        self.app.push_screen(PathDialog("Export des bordereaux (CSV)", f"bordereaux-{period}.csv"), chosen)

    def _do_remind(self) -> None:
        from tuibill.dialogs.reminders import RemindersDialog
        from tuibill.services.payers import reminder_levels

        levels = [(lv.number, lv.days, lv.title) for lv in reminder_levels()]
        if not levels:
            raise ValidationError("Aucun niveau de relance défini.")

        def chosen(answer: tuple[int, str, list[int]] | None) -> None:
            if answer is None:
                return
            level, method, payer_ids = answer
            if method == "courrier":
                period = self.query_one("#period", Input).value
                self.app.push_screen(
                    PathDialog("Relances par courrier : fichier PDF", f"relances-{period}.pdf"),
                    lambda path: self._remind(level, method, payer_ids, path),
                )
            else:
                self._remind(level, method, payer_ids, None)

        self.app.push_screen(RemindersDialog(levels), chosen)

    def _remind(self, level: int, method: str, payer_ids: list[int], path: str | None) -> None:
        from tuibill.services.payer_mail import send_reminders
        from tuibill.services.slips import write_file

        if method == "courrier" and not path:
            return
        try:
            outcomes, data = send_reminders(
                self.app.settings.transmission, level, payer_ids, method=method, user=self.app.user
            )
            text = outcomes_text(outcomes)
            if data is not None and path:
                text += f"\nLettres dans {write_file(path, data)}."
        except TuibillError as error:
            self.app.push_screen(TextDialog("Refusé", str(error), error=True))
            return
        self.reload()
        self.app.push_screen(
            TextDialog("Relances", text, error=any(o.status != "envoye" for o in outcomes))
        )
