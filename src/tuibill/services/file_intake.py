"""What every file brought in by hand goes through (a NOEMIE return, a bank statement): read
from its path, recognised when it came before (same SHA-256), archived and recorded « reçu »
before anything reads it, rehearsed in a transaction rolled back (the dry run), and marked
done or refused with why. The kind of file (``ReceivedFile.kind``) is the caller's; what the
file *means* is the caller's too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from tuibill.config import TransmissionSettings
from tuibill.models import ReceivedFile, db
from tuibill.models.database import immediate
from tuibill.services.archives import archive_directory
from tuibill.transport import archive

RECEIVED, APPLIED, REFUSED = "recu", "applique", "refuse"

T = TypeVar("T")


class _Rehearsal(Exception):
    """Raised at the end of a dry run's transaction so that nothing it wrote stays."""


def read_paths(paths: list[str | Path]) -> Iterator[tuple[str, bytes | None, str]]:
    """Each path's name and bytes, or None and why it could not be read (in French)."""
    for path in paths:
        name = Path(path).name
        try:
            yield name, Path(path).expanduser().read_bytes(), ""
        except OSError as error:
            yield name, None, f"fichier illisible ({error.strerror or error})"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def known_file(kind: str, digest: str) -> ReceivedFile | None:
    """The first record of these very bytes as a file of *kind*, if any."""
    return (
        ReceivedFile.select()
        .where((ReceivedFile.sha256 == digest) & (ReceivedFile.kind == kind))
        .order_by(ReceivedFile.id)
        .first()
    )


def earlier_outcome(known: ReceivedFile | None) -> tuple[str, str] | None:
    """(status, French reason) when the same file was already done or refused; None when it
    is new or still to finish (a run that crashed: take it up again)."""
    if known is None:
        return None
    when = f"{known.processed_at:%d/%m/%Y à %H:%M}" if known.processed_at else "déjà"
    if known.status == APPLIED:
        return APPLIED, (
            f"déjà importé le {when} (fichier {known.file_name}) : rien n'a changé."
        )
    if known.status == REFUSED:
        return REFUSED, (
            f"déjà refusé le {when} (fichier {known.file_name}), gardé de côté : {known.error}"
        )
    return None


def record_file(
    kind: str,
    data: bytes,
    name: str,
    settings: TransmissionSettings,
    at: datetime,
    source: str,
) -> ReceivedFile:
    """Archive (durably), then record the file « reçu »: it is never lost, whatever follows."""
    stored = archive.store(archive_directory(settings), data)
    with immediate():
        return ReceivedFile.create(
            kind=kind,
            source=source[:12],
            message_id=f"fichier:{name}"[:255],
            file_name=name[:255],
            sha256=stored.sha256,
            archive_path=str(stored.path),
            received_at=at,
            status=RECEIVED,
        )


def rehearse(kind: str, data: bytes, name: str, at: datetime, post: Callable[[ReceivedFile], T]) -> T:
    """Run *post* on a record of its own, in a transaction rolled back at the end: the dry
    run writes nothing, and its report is the one the import will give."""
    result: list[T] = []
    try:
        with db.atomic():
            row = ReceivedFile.create(
                kind=kind, source="simulation", message_id=f"simulation:{sha256(data)}",
                file_name=name[:255], sha256=sha256(data), archive_path="", received_at=at,
                status=RECEIVED,
            )  # fmt: skip
            result.append(post(row))
            raise _Rehearsal()
    except _Rehearsal:
        pass
    return result[0]


def finish(row: ReceivedFile, status: str, message: str, at: datetime) -> None:
    row.status = status
    row.error = message
    row.processed_at = at
    row.save()
