"""The few things a person does to one lot, from Transmettre (F3) or from the lot's detail.

Each flow asks (dialogs), then calls the service, then says what happened in a notification
and calls *on_done* so that the screen reads the lot again. Whether an action applies to a lot
in its state is the domain's rule (``domain.lots.can``).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from tuibill.dialogs.confirm import ConfirmDialog
from tuibill.dialogs.lot_sent import ResolveDialog
from tuibill.dialogs.paper_list import PaperListDialog
from tuibill.dialogs.reason import ReasonDialog
from tuibill.domain.errors import TuibillError
from tuibill.domain.lots import FSE, LotAction, can
from tuibill.services.lot_views import LotSummary
from tuibill.widgets.lot_reports import lot_line


def user_of(screen: Screen) -> str:
    return getattr(screen.app, "user", "") or "inconnu"


def ask_resolution(screen: Screen, lot: LotSummary, on_done: Callable[[], None]) -> None:
    """« Envoyé » / « Pas envoyé » for a lot « En cours », with what the decision rests on."""
    from tuibill.services.lots import resolve_uncertain

    app = screen.app

    def decided(sent: bool | None) -> None:
        if sent is None:
            return

        def reasoned(reason: str | None) -> None:
            if reason is None:
                return  # Échap: nothing decided
            try:
                after = resolve_uncertain(lot.id, sent=sent, user=user_of(screen), reason=reason)
            except TuibillError as error:
                app.notify(str(error), title="Décision", severity="error", timeout=10)
            else:
                if sent:
                    text = (
                        f"Lot {after.number_text} : envoyé, « {after.state_label} » (ARL attendu)."
                    )
                else:
                    text = (
                        f"Lot {after.number_text} : pas envoyé, « {after.state_label} » : il "
                        "repartira au prochain envoi."
                    )
                app.notify(text, title="Décision enregistrée")
            on_done()

        app.push_screen(
            ReasonDialog(
                "Sur quoi repose cette décision ? (facultatif, gardé dans l'historique)",
                required=False,
            ),
            reasoned,
        )

    app.push_screen(ResolveDialog(lot), decided)


def ask_delete(screen: Screen, lot: LotSummary, on_done: Callable[[], None]) -> None:
    """« Suppression du lot » (not sent yet): its invoices go back to « Validée »."""
    from tuibill.services.lots import delete_lot

    app = screen.app
    if not can(lot.state, LotAction.DELETE):
        app.notify(
            f"Le lot {lot.number_text} est « {lot.state_label} » : seul un lot pas encore "
            "envoyé (« À transmettre ») se supprime.",
            severity="warning",
        )
        return

    def confirmed(answer: bool | None) -> None:
        if not answer:
            return
        try:
            deleted = delete_lot(lot.id, user=user_of(screen))
        except TuibillError as error:
            app.notify(str(error), title="Suppression refusée", severity="error", timeout=10)
            return
        app.notify(
            f"Lot {deleted.number_text} supprimé : ses {deleted.invoice_count} facture(s) sont "
            "de nouveau « Validée ».",
            title="Suppression du lot",
        )
        on_done()

    what = (
        f"Ses {lot.invoice_count} facture(s) redeviennent « Validée » (et ses pièces SCOR sont "
        "détachées) ; le lot reste au journal, « Supprimé »."
        if lot.kind == FSE
        else "Le lot reste au journal, « Supprimé »."
    )
    app.push_screen(
        ConfirmDialog(f"Supprimer le lot {lot.number_text} ?", f"{lot_line(lot)}\n{what}"),
        confirmed,
    )


def show_paper_list(screen: Screen, lot: LotSummary) -> None:
    """The lot's paper list, to save or print (« Traitement manuel »)."""
    from tuibill.services.paper_lists import paper_list

    try:
        text = paper_list(lot.id).text()
    except TuibillError as error:
        screen.app.notify(str(error), severity="error")
        return
    screen.app.push_screen(PaperListDialog(lot, text))
