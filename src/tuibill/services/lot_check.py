"""``tuibill lots check``: the time-out work, headless (cron), in a safe order.

1. Receive: fetch and act on the ARLs waiting in the mailbox — a lot whose ARL sits in the box
   must not be timed out. If the mailbox cannot be read, the time-outs are *not* applied this
   time (they would be guesses); the files already recorded are still acted on.
2. Time-outs: lots « Transmis » without ARL for ``arl_timeout_hours`` → ARL négatif (first
   sending) or Traitement manuel (after the re-sending).
3. Re-send, once and identical, the lots in ARL négatif (after a time-out or a negative ARL).
   New lots « À transmettre » are not sent: that stays a person's decision (Transmettre).
4. Report what needs a person: lots « En cours » (uncertain sending), « Traitement manuel »,
   received files refused or without effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tuibill.config import TransmissionSettings
from tuibill.domain.errors import ConfigError, RefusedOperation
from tuibill.domain.lots import MAX_SENDINGS, LotState
from tuibill.models import Lot
from tuibill.services import lifecycle, lot_views, receiving, sending
from tuibill.services import lots as lot_service
from tuibill.services.lot_views import LotSummary, ReceivedSummary


@dataclass(frozen=True)
class CheckReport:
    received: receiving.ReceiveReport | None
    processed: tuple[receiving.ReceivedOutcome, ...]  # pending files acted on when receiving failed
    timed_out: tuple[LotSummary, ...]
    resent: sending.SendReport | None
    uncertain: tuple[LotSummary, ...]
    manual: tuple[LotSummary, ...]
    flagged_files: tuple[ReceivedSummary, ...]  # refused or without effect, this time
    errors: tuple[str, ...]

    @property
    def failed(self) -> bool:
        """The mailbox or the mail server could not do its part (retry at the next run)."""
        return bool(self.errors) or (self.resent is not None and not self.resent.all_sent)

    @property
    def needs_attention(self) -> bool:
        return bool(self.uncertain or self.manual or self.flagged_files or self.failed)

    def as_dict(self) -> dict:
        return {
            "reception": self.received.as_dict() if self.received else None,
            "traitements": [item.as_dict() for item in self.processed],
            "delais_depasses": [lot.as_dict() for lot in self.timed_out],
            "renvois": self.resent.as_dict() if self.resent else None,
            "en_cours": [lot.as_dict() for lot in self.uncertain],
            "traitement_manuel": [lot.as_dict() for lot in self.manual],
            "fichiers_signales": [item.as_dict() for item in self.flagged_files],
            "erreurs": list(self.errors),
        }


def check(
    settings: TransmissionSettings,
    *,
    user: str,
    now: datetime | None = None,
    receive: bool = True,
    resend: bool = True,
) -> CheckReport:
    at = lifecycle.current_time(now)
    errors: list[str] = []
    received = None
    processed: tuple[receiving.ReceivedOutcome, ...] = ()
    timeouts_safe = True
    if receive:
        try:
            received = receiving.receive(settings, user=user, now=at)
        except (RefusedOperation, ConfigError) as error:
            timeouts_safe = False
            errors.append(
                f"Relevé des ARL impossible : {error} Délais non vérifiés cette fois-ci (un ARL "
                "peut attendre dans la boîte)."
            )
            processed = tuple(receiving.process_pending(settings, user=user, now=at))
    timed_out: tuple[LotSummary, ...] = ()
    if timeouts_safe:
        timed_out = tuple(lot_service.apply_timeouts(settings, user=user, now=at))
    resent = None
    if resend:
        due = [
            lot_id
            for (lot_id,) in Lot.select(Lot.id)
            .where((Lot.state == LotState.ARL_NEGATIF.value) & (Lot.send_count < MAX_SENDINGS))
            .order_by(Lot.created_at, Lot.id)
            .tuples()
        ]
        if due:
            try:
                resent = sending.send_lots(settings, user=user, lot_ids=due, now=at)
            except (RefusedOperation, ConfigError) as error:
                errors.append(f"Renvoi impossible : {error}")
    return CheckReport(
        received=received,
        processed=processed,
        timed_out=timed_out,
        resent=resent,
        uncertain=tuple(lot_views.list_lots([LotState.EN_COURS])),
        manual=tuple(lot_views.list_lots([LotState.TRAITEMENT_MANUEL])),
        flagged_files=tuple(
            outcome.file
            for outcome in (received.processed if received else processed)
            if outcome.file.flagged
        ),
        errors=tuple(errors),
    )
