"""The demo's lots and returns, made through the real chain: lots built, sent by SMTP to the
simulated caisse (in-process, on a free port), ARLs and NOEMIE returns fetched from the demo's
mailbox and posted — at past dates, so that the delays, late payments and history read true.

What it leaves, for each practitioner with enough invoices: lots ARL positif and paid (in full,
in part, late), one re-sent after a negative ARL, one in Traitement manuel, one Annulé after a
rejection, one ARL négatif to re-send, one Transmis still waiting for its ARL, lots ARL positif
waiting for their return, lots À transmettre; invoices
Payée, Payée partiellement, Rejetée, Transmise; one return line « non rapprochée »; and, in the
demo folder's ``retours-a-importer/``, the returns of the lots still unpaid, for a newcomer to
import (F7 or ``tuibill returns import``) and watch it happen.

While the demo runs (``tuibill demo``), :func:`start_demo_caisse` serves the same simulated
caisse, so that Transmettre sends and « Relever » receives for real.
"""

from __future__ import annotations

import mailbox
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from tuibill.config import MailboxSettings, SmtpSettings, TransmissionSettings
from tuibill.domain.invoices import InvoiceState
from tuibill.formats.codec import CaisseCode
from tuibill.formats.noemie import write_return
from tuibill.models import Dre, Invoice, Lot, Organism
from tuibill.services import lot_check, lots, receiving, rejections, returns, sending
from tuibill.services.archives import archive_directory
from tuibill.services.simulated_returns import return_content
from tuibill.simulator.caisse import CaisseSimulator, SmtpCaisse, caisse_address
from tuibill.simulator.scenarios import Answer, Reception
from tuibill.transport.envelopes import build_return_message, return_attachment_name

DEMO_USER = "demo"
FOLDER_NAME = "demo-caisse"
TO_IMPORT = "retours-a-importer"


def demo_folder() -> Path:
    """Beside the demo database (or in the user's data dir for PostgreSQL)."""
    return archive_directory(TransmissionSettings()).parent / FOLDER_NAME


def demo_settings(
    port: int, folder: Path | None = None, base: TransmissionSettings | None = None
) -> TransmissionSettings:
    """Transmission settings that send to the simulated caisse on *port* and read its answers
    from the demo's maildir."""
    folder = folder or demo_folder()
    codes = {
        f"{regime}{caisse}": caisse_address(CaisseCode(regime, caisse, centre))
        for regime, caisse, centre in Organism.select(
            Organism.regime, Organism.caisse, Organism.centre
        ).tuples()
    }
    values = dict(
        smtp=SmtpSettings(host="127.0.0.1", port=port, security="none"),
        mailbox=MailboxSettings(protocol="inbox", folder=str(folder / "boite")),
        caisses=codes,
    )
    if base is None:
        return TransmissionSettings(**values)
    return replace(base, **values)


@dataclass
class _Script:
    """The caisse's answers per lot (set once the lot's number is known), per sending."""

    steps: dict[tuple[str, int], list[tuple[Answer, ...]]] = field(default_factory=dict)
    default: tuple[Answer, ...] = (Answer("positive"),)

    def answers_for(self, reception: Reception) -> tuple[Answer, ...]:
        key = (reception.practitioner_am or "", reception.lot_number or 0)
        steps = self.steps.get(key)
        if not steps:
            return self.default
        return steps[min(max(reception.sequence, 1), len(steps)) - 1]

    def all_answers(self) -> tuple[Answer, ...]:
        return (Answer("positive"), Answer("negative", "003"), Answer("silent"))


def _answers(*texts: str) -> tuple[Answer, ...]:
    return tuple(Answer.parse(text) for text in texts)


def start_demo_caisse(folder: Path | None = None) -> SmtpCaisse:
    """The simulated caisse of ``tuibill demo``: ARL positif, then a return paying, rejecting,
    refusing a line or deferring, in turn (« mixte »)."""
    from tuibill.simulator.scenarios import FixedScenario

    folder = folder or demo_folder()
    simulator = CaisseSimulator(folder / "boite", FixedScenario(_answers("positive", "mixte")))
    server = SmtpCaisse(simulator, port=0)
    server.start()
    return server


class _Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _validated(before: date) -> list[int]:
    return [
        invoice_id
        for (invoice_id,) in Invoice.select(Invoice.id)
        .where(
            (Invoice.state == InvoiceState.VALIDEE.value)
            & (Invoice.billing_date < before)
            & Invoice.number.is_null(False)
        )
        .order_by(Invoice.id)
        .tuples()
    ]


def _deliver_return(
    box: mailbox.Maildir, lot: Lot, kind: str, argument: str, day: date, file_id: str
) -> bytes:
    data = write_return(
        return_content(lot, kind, argument=argument, received=day, file_id=file_id)
    )
    box.add(
        build_return_message(
            data,
            payee=lot.practitioner.am_number,
            lot_number=lot.number,
            destination=lot.destination,
            file_id=file_id,
            sender=f"retours-{lot.destination}@simulateur.tuibill.invalid",
            recipient="cabinet.tilleuls@example.org",
            sent_at=datetime.combine(day, time(7, 30)),
        )
    )
    return data


def build_demo_transmissions(today: date, *, folder: Path | None = None) -> dict[str, int]:
    """Lots, ARLs and returns for the demo (see the module); returns counts."""
    folder = folder or demo_folder()
    box_path = folder / "boite"
    clock = _Clock(datetime.combine(today - timedelta(days=45), time(9)))
    script = _Script()
    simulator = CaisseSimulator(box_path, script, clock=clock)
    server = SmtpCaisse(simulator, port=0)
    server.start()
    try:
        settings = demo_settings(server.port, folder)
        return _play(today, settings, script, clock, simulator.maildir, folder)
    finally:
        server.stop()


def _play(
    today: date,
    settings: TransmissionSettings,
    script: _Script,
    clock: _Clock,
    box: mailbox.Maildir,
    folder: Path,
) -> dict[str, int]:
    counts = {"lots": 0, "returns": 0}
    file_ids = iter(range(1, 10_000))

    def at(days_ago: int, hour: int = 9, minute: int = 0) -> datetime:
        clock.at = datetime.combine(today - timedelta(days=days_ago), time(hour, minute))
        return clock.at

    def receive(when: datetime) -> None:
        receiving.receive(settings, user=DEMO_USER, now=when)

    # --- six weeks ago: lots sent, answered every way a caisse answers ---------------------
    first = at(45)
    built = lots.build_lots(
        settings, user=DEMO_USER, invoice_ids=_validated(first.date()), now=first
    ).lots
    counts["lots"] += len(built)
    plans: list[tuple[Lot, str, str, int]] = []  # lot, return kind, argument, days after
    ways: list[tuple[list[tuple[Answer, ...]], tuple[str, str, int] | None]] = [
        ([_answers("positive")], ("mixte", "", 6)),
        ([_answers("positive")], ("rejet", "2900", 5)),  # « déjà payée »: marked treated
        ([_answers("positive")], ("paiement", "", 16)),  # paid late: a penalty is owed
        ([_answers("negative:003"), _answers("positive")], ("paiement", "", 6)),
        ([_answers("negative:002"), _answers("negative:002")], None),  # Traitement manuel
        ([_answers("positive")], ("refus-ligne", "0470", 7)),
        ([_answers("positive")], ("rejet", "0460", 8)),  # then cancelled: Annulé
    ]
    for index, summary in enumerate(built):
        lot = Lot.get_by_id(summary.id)
        steps, plan = ways[index % len(ways)]
        if index >= len(ways) and plan is not None and plan[1] == "2900":
            plan = ("paiement", "", 5)  # one lot « déjà payée » is enough
        am = lot.practitioner.am_number
        script.steps[(am, lot.number)] = steps
        if plan is not None:
            plans.append((lot, *plan))
    sending.send_lots(settings, user=DEMO_USER, now=first)
    receive(at(45, 9, 20))
    # An hour later, lots check re-sends the lots refused once; their second answer comes.
    lot_check.check(settings, user=DEMO_USER, now=at(45, 10, 30))
    lot_check.check(settings, user=DEMO_USER, now=at(45, 11, 0))

    # --- the returns, days later ------------------------------------------------------------
    rejected_lots: list[Lot] = []
    for lot, kind, argument, days in sorted(plans, key=lambda p: p[3]):
        lot = Lot.get_by_id(lot.id)
        if lot.state != "ARL_POSITIF":
            continue
        day = today - timedelta(days=45 - days)
        _deliver_return(box, lot, kind, argument, day, f"R{next(file_ids):05d}")
        receive(at(45 - days, 8, 5))
        counts["returns"] += 1
        if kind == "rejet" and argument == "0460":  # a prescripteur to correct: redone
            rejected_lots.append(lot)
    # The caisse's typo: an invoice of a return that matches none of ours (non rapprochée).
    paid = [p for p in plans if p[1] == "paiement" and p[3] < 8]
    if paid:
        lot = Lot.get_by_id(paid[0][0].id)
        day = today - timedelta(days=30)
        noemie = return_content(lot, "paiement", received=day, file_id="R09999")
        stranger = replace(noemie.invoices[0], number="000000042")
        data = write_return(replace(noemie, items=(stranger,)))
        returns.import_data(
            data, "RET_erreur_caisse.noe", settings, user=DEMO_USER, now=at(30, 8, 40)
        )
        counts["returns"] += 1
    # The rejected lot's invoices cancelled (« Annuler facture transmise »): the lot is Annulé.
    for lot in rejected_lots:
        for (invoice_id,) in (
            Invoice.select(Invoice.id)
            .where((Invoice.lot == lot.id) & (Invoice.state == InvoiceState.REJETEE.value))
            .tuples()
        ):
            rejections.cancel_transmitted(
                invoice_id,
                user=DEMO_USER,
                reason="Rejet 0460 : prescripteur à corriger, facture à refaire",
                now=at(35, 14),
            )

    _treat_rejections(today, settings, box, at, file_ids, counts)

    # --- three weeks ago: lots acknowledged, no return yet (one still without its ARL) ------
    second = at(20)
    built = lots.build_lots(
        settings, user=DEMO_USER, invoice_ids=_validated(second.date()), now=second
    ).lots
    counts["lots"] += len(built)
    waiting = [Lot.get_by_id(summary.id) for summary in built]
    if len(waiting) >= 2:
        silent, refused = waiting[-1], waiting[-2]
        script.steps[(silent.practitioner.am_number, silent.number)] = [_answers("silent")]
        # Refused, its identical re-sending not done yet: « ARL négatif », to send again.
        script.steps[(refused.practitioner.am_number, refused.number)] = [_answers("negative:001")]
    sending.send_lots(settings, user=DEMO_USER, now=second)
    receive(at(20, 9, 15))
    to_import = folder / TO_IMPORT
    to_import.mkdir(parents=True, exist_ok=True)
    for lot in waiting:
        lot = Lot.get_by_id(lot.id)
        if lot.state != "ARL_POSITIF":
            continue
        file_id = f"R{next(file_ids):05d}"
        data = write_return(
            return_content(lot, "mixte", received=today - timedelta(days=1), file_id=file_id)
        )
        name = return_attachment_name(lot.practitioner.am_number, file_id)
        (to_import / name).write_bytes(data)

    # --- ten days ago: one practitioner's lots built, not sent yet (the others' invoices stay
    # Validée) ----------------------------------------------------------------------------
    third = at(10)
    ready = _validated(third.date())
    first_practitioner = (
        Invoice.select(Invoice.practitioner).where(Invoice.id.in_(ready)).scalar() if ready else None
    )
    mine = [
        i for (i,) in Invoice.select(Invoice.id)
        .where(Invoice.id.in_(ready) & (Invoice.practitioner == first_practitioner))
        .tuples()
    ]  # fmt: skip
    built = lots.build_lots(settings, user=DEMO_USER, invoice_ids=mine, now=third).lots
    counts["lots"] += len(built)
    return counts


def _treat_rejections(
    today: date,
    settings: TransmissionSettings,
    box: mailbox.Maildir,
    at,
    file_ids,
    counts: dict[str, int],
) -> None:
    """A month ago, the clerk treats what the returns said (issue 9, seeds 000–003): the DREs
    of the paid invoices sent and answered by the mutuelles (one rejected: on paper, the other
    billed to the patient), « déjà payée » marked treated, an avoir and its new invoice, an
    unanswered FSE recycled at the concentrator. One rejected invoice is left to treat."""
    from tuibill.services import dre
    from tuibill.services.dre_lots import build_dre_lots

    def invoices(*states: InvoiceState, dre_only: bool = False) -> list[int]:
        query = Invoice.select(Invoice.id).where(Invoice.state.in_([s.value for s in states]))
        if dre_only:
            query = query.join(Dre, on=(Dre.invoice == Invoice.id))
        return [invoice_id for (invoice_id,) in query.order_by(Invoice.id).tuples()]

    # The DREs of the paid invoices, validated, in their own lots, answered as the mutuelles do.
    paid = (InvoiceState.PAYEE, InvoiceState.PAYEE_PARTIELLEMENT)
    for invoice_id in invoices(*paid, dre_only=True):
        dre.validate(invoice_id, user=DEMO_USER)
    built = build_dre_lots(settings, user=DEMO_USER, now=at(31)).lots
    counts["lots"] += len(built)
    sending.send_lots(settings, user=DEMO_USER, now=at(31, 9, 5))
    receiving.receive(settings, user=DEMO_USER, now=at(31, 9, 25))
    for index, summary in enumerate(built):
        lot = Lot.get_by_id(summary.id)
        if lot.state != "ARL_POSITIF":
            continue
        kind = "rejet" if index == len(built) - 1 else "paiement"  # the last one rejected
        _deliver_return(box, lot, kind, "", today - timedelta(days=28), f"R{next(file_ids):05d}")
        receiving.receive(settings, user=DEMO_USER, now=at(28, 8, 5))
        counts["returns"] += 1
    amc_rejected = [
        invoice_id
        for (invoice_id,) in Invoice.select(Invoice.id)
        .join(Dre, on=(Dre.invoice == Invoice.id))
        .where((Dre.state == "REJETEE") & Invoice.state.in_([s.value for s in paid]))
        .order_by(Invoice.id)
        .tuples()
    ]
    if amc_rejected:
        rejections.amc_paper(amc_rejected[0], user=DEMO_USER, now=at(27, 10))
    if len(amc_rejected) > 1:
        rejections.bill_patient(amc_rejected[1], user=DEMO_USER, now=at(27, 10, 10))

    rejected = invoices(InvoiceState.REJETEE)
    for invoice_id in rejected:
        view = rejections.rejection_view(invoice_id)
        if view.motif.value == "deja_payee":
            rejections.mark_treated(invoice_id, user=DEMO_USER, now=at(27, 11))
    rejected = invoices(InvoiceState.REJETEE)
    if len(rejected) > 1:  # one left to treat, to try the guided treatment on
        rejections.create_credit_note(
            rejected[-1], user=DEMO_USER, reason="Rejet 0460 : prescripteur inconnu",
            now=at(27, 11, 30),
        )  # fmt: skip
        rejections.new_invoice_from(rejected[-1], user=DEMO_USER)
    # An FSE of the lot left to paper whose payment never came: recycled at the concentrator.
    unanswered = (
        Invoice.select(Invoice.id)
        .join(Lot, on=(Invoice.lot == Lot.id))
        .where((Lot.state == "TRAITEMENT_MANUEL") & (Invoice.state == "TRANSMISE"))
        .order_by(Invoice.id)
        .scalar()
    )
    if unanswered is not None:
        rejections.recycle(
            unanswered, user=DEMO_USER, reason="sans retour : recyclée au concentrateur",
            now=at(27, 14),
        )  # fmt: skip


def demo_reset(folder: Path | None = None) -> None:
    """Empty the demo's mailbox and files to import (``tuibill demo --reset``)."""
    import shutil

    folder = folder or demo_folder()
    if folder.exists():
        shutil.rmtree(folder)
