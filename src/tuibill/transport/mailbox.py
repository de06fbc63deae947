"""Fetching the caisses' answers: POP3 (``poplib``), IMAP (``imaplib``) or an inbox folder.

A source lists mails with their headers only (so that a mail that is not from a caisse is
never downloaded), hands out a mail's raw bytes when asked, and deletes a mail only when told
to — the receiving service tells it once the mail's files are archived and recorded. Deletions take
effect at :meth:`MailSource.commit` (POP3 QUIT, IMAP EXPUNGE); if anything goes wrong before,
:meth:`MailSource.abort` drops the connection and the server keeps every mail, to be fetched
again (the receiving service recognises files it already has).
"""

from __future__ import annotations

import imaplib
import poplib
import re
import socket
import ssl
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tuibill.config import MailboxSettings
from tuibill.domain.errors import ConfigError, RefusedOperation

DEFAULT_TIMEOUT = 30.0
DEFAULT_PORTS = {
    ("pop3", False): 110,
    ("pop3", True): 995,
    ("imap", False): 143,
    ("imap", True): 993,
}
MAIL_SUFFIXES = (".eml",)


class MailboxError(RefusedOperation):
    """The mailbox cannot be read (connection, TLS, login, folder): nothing was deleted."""


@dataclass(frozen=True)
class MailRef:
    """A mail on the server, known by its headers (a bare file: by its name)."""

    key: str  # how the source names it: POP3 number, IMAP UID, file path
    headers: bytes  # the header section (empty for a bare file)
    bare_name: str | None = None  # inbox folder: a file dropped as is, not a mail

    @property
    def is_mail(self) -> bool:
        return self.bare_name is None


@dataclass(frozen=True)
class FetchedMail:
    key: str
    raw: bytes  # the whole RFC 5322 message, or a bare file's bytes
    bare_name: str | None = None

    @property
    def is_mail(self) -> bool:
        return self.bare_name is None


class MailSource(ABC):
    protocol: str

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def mails(self) -> Iterator[MailRef]:
        """The mails on the server, headers only."""

    @abstractmethod
    def fetch(self, ref: MailRef) -> FetchedMail:
        """The whole mail (or bare file)."""

    @abstractmethod
    def delete(self, mail: MailRef | FetchedMail) -> None:
        """Mark *mail* for deletion (effective at :meth:`commit`)."""

    @abstractmethod
    def commit(self) -> None:
        """Apply the deletions and close."""

    @abstractmethod
    def abort(self) -> None:
        """Close without applying anything."""

    def __enter__(self) -> MailSource:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def _reason(error: BaseException) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return "délai dépassé"
    if isinstance(error, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(error, socket.gaierror):
        return "nom de serveur inconnu"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificat refusé : {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"échec TLS : {error.reason or error}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = error.args[0] if error.args else error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text) or type(error).__name__


class _NetworkSource(MailSource):
    def __init__(
        self, settings: MailboxSettings, password: str | None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.settings = settings
        self.password = password or ""
        self.timeout = timeout
        self.context = ssl.create_default_context()
        secure = settings.security == "ssl"
        self.port = settings.port or DEFAULT_PORTS[(self.protocol, secure)]
        self.where = f"{self.protocol.upper()} {settings.host}:{self.port}"

    def _fail(self, what: str, error: BaseException) -> MailboxError:
        return MailboxError(
            f"Boîte aux lettres {self.where} : {what} ({_reason(error)}) ; rien n'a été supprimé, "
            "réessayez plus tard ou vérifiez transmission.mailbox."
        )


class Pop3Source(_NetworkSource):
    """POP3: deletions (DELE) only happen at QUIT; a dropped connection keeps every mail."""

    protocol = "pop3"

    def open(self) -> None:
        settings = self.settings
        try:
            if settings.security == "ssl":
                self.conn: poplib.POP3 = poplib.POP3_SSL(
                    settings.host, self.port, timeout=self.timeout, context=self.context
                )
            else:
                self.conn = poplib.POP3(settings.host, self.port, timeout=self.timeout)
        except (OSError, poplib.error_proto) as error:
            raise self._fail("connexion impossible", error) from None
        try:
            if settings.security == "starttls":
                self.conn.stls(context=self.context)
            self.conn.user(settings.user)
            self.conn.pass_(self.password)
        except poplib.error_proto as error:
            self.abort()
            raise self._fail(f"identification de {settings.user} refusée", error) from None
        except OSError as error:
            self.abort()
            raise self._fail("échec de la connexion", error) from None

    def mails(self) -> Iterator[MailRef]:
        try:
            _, listing, _ = self.conn.uidl()
        except (OSError, poplib.error_proto) as error:
            raise self._fail("liste des messages illisible", error) from None
        for line in listing:
            number = line.split()[0].decode("ascii")
            try:
                _, lines, _ = self.conn.top(int(number), 0)
            except poplib.error_proto:
                lines = []  # TOP is optional in POP3: the whole mail will be read instead
            except OSError as error:
                raise self._fail(f"message {number} illisible", error) from None
            yield MailRef(key=number, headers=b"\r\n".join(lines) + b"\r\n" if lines else b"")

    def fetch(self, ref: MailRef) -> FetchedMail:
        try:
            _, lines, _ = self.conn.retr(int(ref.key))
        except (OSError, poplib.error_proto) as error:
            raise self._fail(f"message {ref.key} illisible", error) from None
        return FetchedMail(key=ref.key, raw=b"\r\n".join(lines) + b"\r\n")

    def delete(self, mail: MailRef | FetchedMail) -> None:
        try:
            self.conn.dele(int(mail.key))
        except (OSError, poplib.error_proto) as error:
            raise self._fail(f"suppression du message {mail.key} refusée", error) from None

    def commit(self) -> None:
        try:
            self.conn.quit()
        except (OSError, poplib.error_proto) as error:
            self.abort()
            raise self._fail("fin de session refusée (messages non supprimés)", error) from None

    def abort(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass  # already gone: the server keeps the mails, which is what we want


class ImapSource(_NetworkSource):
    """IMAP: mails are flagged \\Deleted once recorded, expunged by UID at the end."""

    protocol = "imap"

    def open(self) -> None:
        settings = self.settings
        self.deleted: list[str] = []
        try:
            if settings.security == "ssl":
                self.conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    settings.host, self.port, ssl_context=self.context, timeout=self.timeout
                )
            else:
                self.conn = imaplib.IMAP4(settings.host, self.port, timeout=self.timeout)
        except (OSError, imaplib.IMAP4.error) as error:
            raise self._fail("connexion impossible", error) from None
        try:
            if settings.security == "starttls":
                self.conn.starttls(ssl_context=self.context)
            self.conn.login(settings.user, self.password)
            folder = settings.folder or "INBOX"
            status, data = self.conn.select(_quote(folder))
            if status != "OK":
                raise MailboxError(
                    f"Boîte aux lettres {self.where} : dossier « {folder} » introuvable "
                    f"({_text(data)}) : vérifiez transmission.mailbox.folder."
                )
        except MailboxError:
            self.abort()
            raise
        except imaplib.IMAP4.error as error:
            self.abort()
            raise self._fail(f"identification de {settings.user} refusée", error) from None
        except OSError as error:
            self.abort()
            raise self._fail("échec de la connexion", error) from None

    def mails(self) -> Iterator[MailRef]:
        try:
            status, data = self.conn.uid("SEARCH", None, "ALL")
            if status != "OK":
                raise imaplib.IMAP4.error(_text(data))
            uids = b" ".join(part for part in data if part).split()
            headers: dict[str, bytes] = {}
            if uids:
                # One command for the headers that tell a caisse's mail; bodies only for those.
                status, parts = self.conn.uid("FETCH", "1:*", f"(UID BODY.PEEK[{_HEADERS}])")
                if status != "OK":
                    raise imaplib.IMAP4.error(_text(parts))
                for part in parts:
                    if isinstance(part, tuple) and len(part) > 1:
                        found = _UID.search(part[0])
                        if found:
                            headers[found.group(1).decode("ascii")] = bytes(part[1])
        except (OSError, imaplib.IMAP4.error) as error:
            raise self._fail("liste des messages illisible", error) from None
        for uid in (value.decode("ascii") for value in uids):
            if uid in headers:  # a mail expunged meanwhile by another client is skipped
                yield MailRef(key=uid, headers=headers[uid])

    def fetch(self, ref: MailRef) -> FetchedMail:
        try:
            status, parts = self.conn.uid("FETCH", ref.key, "(BODY.PEEK[])")
            raw = next(
                (part[1] for part in parts if isinstance(part, tuple) and len(part) > 1), None
            )
            if status != "OK" or raw is None:
                raise imaplib.IMAP4.error(_text(parts))
        except (OSError, imaplib.IMAP4.error) as error:
            raise self._fail(f"message {ref.key} illisible", error) from None
        return FetchedMail(key=ref.key, raw=bytes(raw))

    def delete(self, mail: MailRef | FetchedMail) -> None:
        try:
            status, data = self.conn.uid("STORE", mail.key, "+FLAGS.SILENT", r"(\Deleted)")
            if status != "OK":
                raise imaplib.IMAP4.error(_text(data))
        except (OSError, imaplib.IMAP4.error) as error:
            raise self._fail(f"suppression du message {mail.key} refusée", error) from None
        self.deleted.append(mail.key)

    def commit(self) -> None:
        try:
            if self.deleted:
                if "UIDPLUS" in self.conn.capabilities:
                    # Expunge only what we recorded, not what another client flagged.
                    self.conn.uid("EXPUNGE", ",".join(self.deleted))
                else:
                    self.conn.expunge()
            self.conn.logout()
        except (OSError, imaplib.IMAP4.error) as error:
            self.abort()
            raise self._fail("suppression des messages relevés refusée", error) from None

    def abort(self) -> None:
        try:
            self.conn.shutdown()
        except (OSError, imaplib.IMAP4.error, AttributeError):
            pass  # already gone: the server keeps the mails


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: object) -> str:
    if isinstance(data, list | tuple):
        return " ".join(_text(item) for item in data if item)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data)


_UID = re.compile(rb"UID (\d+)")
_HEADERS = "HEADER.FIELDS (SUBJECT X-TUIBILL-ARL X-TUIBILL-LOT X-TUIBILL-KIND)"
_MAILDIR_PARTS = ("cur", "new", "tmp")
_HIDDEN = re.compile(r"^\.")


class InboxSource(MailSource):
    """A local folder: a maildir (``cur``/``new``/``tmp``, e.g. the simulator's outbox), or a
    plain folder where mails (``*.eml``) or bare files (``*.arl``…) are dropped."""

    protocol = "inbox"

    def __init__(self, settings: MailboxSettings) -> None:
        if not settings.folder:
            raise ConfigError(
                "le protocole « inbox » demande le dossier où les fichiers arrivent.",
                key="transmission.mailbox.folder",
            )
        self.folder = Path(settings.folder).expanduser()
        self.to_delete: list[Path] = []
        self._cache: dict[str, bytes] = {}

    def open(self) -> None:
        if not self.folder.is_dir():
            raise MailboxError(
                f"Dossier de réception « {self.folder} » introuvable : vérifiez "
                "transmission.mailbox.folder."
            )

    @property
    def is_maildir(self) -> bool:
        return all((self.folder / part).is_dir() for part in _MAILDIR_PARTS)

    def _files(self) -> list[Path]:
        folders = [self.folder / "new", self.folder / "cur"] if self.is_maildir else [self.folder]
        found: list[Path] = []
        for folder in folders:
            try:
                entries = sorted(folder.iterdir())
            except OSError as error:
                raise MailboxError(
                    f"Dossier de réception « {folder} » illisible ({_reason(error)})."
                ) from None
            found.extend(p for p in entries if p.is_file() and not _HIDDEN.match(p.name))
        return found

    def mails(self) -> Iterator[MailRef]:
        maildir = self.is_maildir
        for path in self._files():
            if maildir or path.suffix.lower() in MAIL_SUFFIXES:
                try:
                    raw = path.read_bytes()
                except FileNotFoundError:
                    continue  # taken meanwhile by another reader of the folder
                except OSError as error:
                    raise MailboxError(
                        f"Fichier « {path} » illisible ({_reason(error)})."
                    ) from None
                self._cache[str(path)] = raw  # a local file: read once
                yield MailRef(key=str(path), headers=raw)
            else:
                yield MailRef(key=str(path), headers=b"", bare_name=path.name)

    def fetch(self, ref: MailRef) -> FetchedMail:
        raw = self._cache.pop(ref.key, None)
        if raw is None:
            try:
                raw = Path(ref.key).read_bytes()
            except OSError as error:
                raise MailboxError(f"Fichier « {ref.key} » illisible ({_reason(error)}).") from None
        return FetchedMail(key=ref.key, raw=raw, bare_name=ref.bare_name)

    def delete(self, mail: MailRef | FetchedMail) -> None:
        self.to_delete.append(Path(mail.key))

    def commit(self) -> None:
        for path in self.to_delete:
            try:
                path.unlink(missing_ok=True)
            except OSError as error:
                raise MailboxError(
                    f"Fichier relevé « {path} » impossible à supprimer ({_reason(error)}) : il "
                    "sera reconnu au prochain relevé."
                ) from None
        self.to_delete = []

    def abort(self) -> None:
        self.to_delete = []


def open_mailbox(settings: MailboxSettings, *, password: str | None = None) -> MailSource:
    """The source for ``transmission.mailbox`` (not connected yet: use it in a ``with``)."""
    if settings.protocol == "pop3":
        return Pop3Source(settings, password)
    if settings.protocol == "imap":
        return ImapSource(settings, password)
    if settings.protocol == "inbox":
        return InboxSource(settings)
    raise ConfigError(
        f"protocole « {settings.protocol} » inconnu (pop3, imap ou inbox).",
        key="transmission.mailbox.protocol",
    )
