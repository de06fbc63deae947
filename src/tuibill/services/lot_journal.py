"""Journal des lots: filtered, keyset-paged access to every lot ever built.

Same shape as the Journal des factures (``services.journal``): pages read by key on
(created_at DESC, id DESC) through the ``(created_at, id)`` and ``(state, created_at)`` indexes,
never the lot files' bytes; ``services.paging`` gives random access to row *i* for a virtual
list, reading only the pages looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import peewee

from tuibill.domain.formatting import format_lot_number
from tuibill.domain.lots import LotState
from tuibill.models import Lot, Organism, Practitioner
from tuibill.services.journal import DEFAULT_WINDOW_DAYS
from tuibill.services.paging import KeysetPager, KeysetQuery, open_pager


@dataclass(frozen=True)
class LotFilter:
    state: LotState | None = None
    states: tuple[LotState, ...] = ()  # several states at once (e.g. « à traiter »)
    kind: str | None = None  # FSE / SCOR
    practitioner_id: int | None = None
    destination: str | None = None  # « 01281 »
    number: int | None = None
    since: date | None = None  # created on or after
    until: date | None = None  # created on or before


@dataclass(frozen=True)
class LotRow:
    id: int
    kind: str
    number: int
    state: LotState
    created_at: datetime
    practitioner: str
    practitioner_am: str
    destination: str
    organism: str
    invoice_count: int
    piece_count: int
    total_cents: int
    send_count: int
    sent_at: datetime | None
    arl_at: datetime | None
    arl_code: str
    arl_reason: str
    last_error: str

    @property
    def key(self) -> tuple[datetime, int]:
        return (self.created_at, self.id)

    @property
    def number_text(self) -> str:
        return format_lot_number(self.number)

    @property
    def state_label(self) -> str:
        return self.state.label

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "type": self.kind,
            "numero": self.number_text,
            "etat": self.state_label,
            "etat_code": self.state.value,
            "cree_le": self.created_at,
            "praticien": self.practitioner,
            "praticien_am": self.practitioner_am,
            "caisse": self.destination,
            "caisse_nom": self.organism,
            "factures": self.invoice_count,
            "pieces": self.piece_count,
            "total_cents": self.total_cents,
            "envois": self.send_count,
            "envoye_le": self.sent_at,
            "arl_le": self.arl_at,
            "arl_motif_code": self.arl_code,
            "arl_motif": self.arl_reason,
            "derniere_erreur": self.last_error,
        }


_COLUMNS = (
    Lot.id,
    Lot.kind,
    Lot.number,
    Lot.state,
    Lot.created_at,
    Lot.practitioner,
    Lot.destination,
    Lot.organism,
    Lot.invoice_count,
    Lot.piece_count,
    Lot.total_cents,
    Lot.send_count,
    Lot.sent_at,
    Lot.arl_at,
    Lot.arl_code,
    Lot.arl_reason,
    Lot.last_error,
)


def _datetime(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


class LotJournalQuery(KeysetQuery[LotRow]):
    """The filtered Journal des lots, newest first (creation time, then id), read by key."""

    model = Lot
    columns = _COLUMNS
    sort_field = Lot.created_at

    def __init__(self, flt: LotFilter) -> None:
        self.filter = flt
        self._practitioners = {
            pid: (f"{last} {first}", am)
            for pid, last, first, am in Practitioner.select(
                Practitioner.id,
                Practitioner.last_name,
                Practitioner.first_name,
                Practitioner.am_number,
            ).tuples()
        }
        self._organisms = {
            oid: name for oid, name in Organism.select(Organism.id, Organism.name).tuples()
        }

    def where(self, query: peewee.ModelSelect) -> peewee.ModelSelect:
        f = self.filter
        states = [s.value for s in f.states] + ([f.state.value] if f.state else [])
        if states:
            query = query.where(Lot.state.in_(states))
        if f.kind:
            query = query.where(Lot.kind == f.kind)
        if f.practitioner_id is not None:
            query = query.where(Lot.practitioner == f.practitioner_id)
        if f.destination:
            query = query.where(Lot.destination == f.destination)
        if f.number is not None:
            query = query.where(Lot.number == f.number)
        if f.since is not None:
            query = query.where(Lot.created_at >= datetime.combine(f.since, time.min))
        if f.until is not None:
            query = query.where(
                Lot.created_at < datetime.combine(f.until + timedelta(days=1), time.min)
            )
        return query

    def rows(self, tuples: list[tuple]) -> list[LotRow]:
        rows = []
        for t in tuples:
            name, am = self._practitioners.get(t[5], ("", ""))
            rows.append(
                LotRow(
                    id=t[0],
                    kind=t[1],
                    number=t[2],
                    state=LotState(t[3]),
                    created_at=_datetime(t[4]) or datetime.min,
                    practitioner=name,
                    practitioner_am=am,
                    destination=t[6],
                    organism=self._organisms.get(t[7], ""),
                    invoice_count=t[8],
                    piece_count=t[9],
                    total_cents=t[10],
                    send_count=t[11],
                    sent_at=_datetime(t[12]),
                    arl_at=_datetime(t[13]),
                    arl_code=t[14],
                    arl_reason=t[15],
                    last_error=t[16],
                )
            )
        return rows


def open_lot_journal(
    flt: LotFilter, *, around: int = 0, count: bool = True
) -> KeysetPager[LotRow]:
    """Count the filtered lots and read the page holding row *around* (for a worker); without
    *count*, the first page only (see ``services.paging.open_pager``)."""
    return open_pager(LotJournalQuery(flt), around=around, count=count)


def journal_filter(
    *,
    number: int | None = None,
    state: LotState | None = None,
    practitioner_id: int | None = None,
    destination: str | None = None,
    kind: str | None = None,
    all_time: bool = False,
    today: date | None = None,
) -> LotFilter:
    """The Journal des lots' filter: the last 2 months by default, like the invoice journal.

    A lot number or *all_time* searches the whole history (numbers wrap after 999: the most
    recent lots come first).
    """
    today = today or date.today()
    since = None
    if not all_time and number is None:
        since = today - timedelta(days=DEFAULT_WINDOW_DAYS)
    return LotFilter(
        state=state,
        kind=kind,
        practitioner_id=practitioner_id,
        destination=destination,
        number=number,
        since=since,
    )


def destinations() -> list[tuple[str, str]]:
    """(« 01281 », « 01281 CPAM CHARTRES ») for every caisse, for the Journal's filter."""
    seen: dict[str, str] = {}
    for regime, caisse, name in (
        Organism.select(Organism.regime, Organism.caisse, Organism.name)
        .order_by(Organism.regime, Organism.caisse, Organism.centre)
        .tuples()
    ):
        seen.setdefault(f"{regime}{caisse}", f"{regime}{caisse} {name}")
    return list(seen.items())
