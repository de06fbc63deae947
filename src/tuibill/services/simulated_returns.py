"""The NOEMIE return the simulated caisse would send for one of the desk's lots, on demand (for
training and the demo: ``tuibill simulate return``); never used on real data flows."""

from __future__ import annotations

from datetime import date

from tuibill.domain.errors import NotFound, RefusedOperation
from tuibill.formats import get_lot_codec
from tuibill.formats.noemie import NoemieReturn, write_return
from tuibill.models import Lot
from tuibill.simulator.returns import build_return
from tuibill.transport.envelopes import return_attachment_name


def return_content(lot: Lot, kind: str, *, argument: str = "", received: date,
                   file_id: str) -> NoemieReturn:  # fmt: skip
    """What the caisse answers for *lot* (its file as stored, read back by its own codec)."""
    if lot.kind not in ("FSE", "DRE") or not lot.file_bytes:
        raise RefusedOperation(
            f"Le lot {lot.number:03d} n'est pas un lot de FSE ou de DRE avec son fichier : "
            "pas de retour."
        )
    content = get_lot_codec(lot.codec).read(bytes(lot.file_bytes))
    return build_return(content, kind, argument=argument, received=received, file_id=file_id)


def simulated_return(
    lot_id: int, kind: str, *, argument: str = "", received: date, file_id: str = "S00001"
) -> tuple[str, bytes]:
    """The file name and bytes of the return for lot *lot_id*."""
    lot = Lot.get_or_none(Lot.id == lot_id)
    if lot is None:
        raise NotFound(f"Lot {lot_id} introuvable.")
    content = return_content(lot, kind, argument=argument, received=received, file_id=file_id)
    name = return_attachment_name(lot.practitioner.am_number, file_id)
    return name, write_return(content)
