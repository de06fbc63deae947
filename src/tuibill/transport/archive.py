"""The archive of received files, content-addressed by SHA-256.

Every file fetched from the caisses is written here, durably (written to a temporary name,
fsync'ed, renamed, directory fsync'ed), **before** it is recorded and before anything acts on
it; the mail it came in is deleted from the server only after that. The same content always
lands at the same path (``<root>/<2 first hex digits>/<sha256>``), so fetching a mail twice
stores its files once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tuibill.domain.errors import ConfigError, RefusedOperation


class ArchiveError(RefusedOperation):
    """An archived file is missing or no longer matches its SHA-256."""


@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    path: Path
    size: int


def path_for(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some file systems do not open directories: the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def store(root: str | Path, data: bytes) -> ArchivedFile:
    """Write *data* under *root* (once per content) and return where it is."""
    root = Path(root).expanduser()
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(root, digest)
    try:
        if target.exists() and target.stat().st_size == len(data):
            return ArchivedFile(digest, target, len(data))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o444)  # archived files are never changed
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
    except OSError as error:
        raise ConfigError(
            f"archive des fichiers reçus « {root} » inutilisable ({error.strerror or error}) : "
            "rien n'a été relevé.",
            key="transmission.archive_dir",
        ) from None
    return ArchivedFile(digest, target, len(data))


def load(path: str | Path, sha256: str) -> bytes:
    """The archived bytes, checked against their SHA-256."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ArchiveError(
            f"Fichier archivé « {path} » illisible ({error.strerror or error})."
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ArchiveError(f"Fichier archivé « {path} » altéré : son empreinte ne correspond plus.")
    return data
