"""Sending one mail per lot through the practice's SMTP server (stdlib ``smtplib``).

What matters for the lot life cycle is *what we know* when something goes wrong:

* :class:`SmtpUnavailable` — no connection, TLS or login failed: nothing was sent;
* :class:`SmtpRefused` — the server answered « no » to this message (sender, recipient or
  content): it was not accepted, certainly;
* :class:`SmtpUncertain` — the connection broke while the server was taking the message, before
  its answer: it may or may not have been accepted. The lot stays « En cours » for a person to
  decide; it is never silently re-sent.

That is why :meth:`SmtpSession.send` does MAIL, RCPT and DATA itself instead of
``send_message``: a failure before DATA is certain, a lost answer to DATA is not.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from tuibill.config import SmtpSettings
from tuibill.domain.errors import ConfigError, RefusedOperation

DEFAULT_TIMEOUT = 30.0


class SmtpError(RefusedOperation):
    """A sending failure; the subclass says whether the message may have gone out."""


class SmtpUnavailable(SmtpError):
    """Connection, TLS or authentication failed: nothing was sent."""


class SmtpRefused(SmtpError):
    """The server refused this message: it was not sent."""


class SmtpUncertain(SmtpError):
    """The connection broke while the server was accepting the message: outcome unknown."""


def mail_password(user: str, password_env: str, key: str) -> str | None:
    """The password named by *password_env* (never stored in the settings file).

    *key* is the settings prefix (``transmission.smtp`` or ``transmission.mailbox``) for the
    French error.
    """
    if not user:
        return None
    if not password_env:
        raise ConfigError(
            f"un utilisateur est donné ({user}) mais pas la variable d'environnement qui tient "
            "son mot de passe.",
            key=f"{key}.password_env",
        )
    password = os.environ.get(password_env)
    if password is None:
        raise ConfigError(
            f"la variable d'environnement « {password_env} » (mot de passe de {user}) n'est pas "
            "définie.",
            key=f"{key}.password_env",
        )
    return password


def _where(settings: SmtpSettings) -> str:
    return f"{settings.host}:{settings.port}"


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {message}".strip()


class SmtpSession:
    """One connection to the SMTP server, open for a batch of lots (``with`` closes it)."""

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.password = password
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def open(self) -> SmtpSession:
        """Connect, STARTTLS or SSL as configured, log in; :class:`SmtpUnavailable` else."""
        settings = self.settings
        where = _where(settings)
        context = ssl.create_default_context()
        try:
            if settings.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=self.timeout, context=context
                )
            else:
                conn = smtplib.SMTP(settings.host, settings.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as error:
            raise SmtpUnavailable(
                f"Serveur d'envoi {where} injoignable ({_os_reason(error)}) : rien n'a été "
                "envoyé, réessayez plus tard ou vérifiez transmission.smtp."
            ) from None
        try:
            code, text = conn.ehlo()
            if not 200 <= code < 300:
                raise SmtpUnavailable(
                    f"Le serveur d'envoi {where} refuse la présentation (EHLO : "
                    f"{_reply(code, text)}) : rien n'a été envoyé."
                )
            if settings.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise SmtpUnavailable(
                        f"Le serveur d'envoi {where} ne propose pas STARTTLS : rien n'a été "
                        "envoyé (transmission.smtp.security)."
                    )
                conn.starttls(context=context)
                conn.ehlo()
            if settings.user:
                conn.login(settings.user, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            conn.close()
            raise SmtpUnavailable(
                f"Le serveur d'envoi {where} refuse l'identification de {settings.user} "
                f"({_reply(error.smtp_code, error.smtp_error)}) : rien n'a été envoyé."
            ) from None
        except SmtpUnavailable:
            conn.close()
            raise
        except (OSError, smtplib.SMTPException) as error:
            conn.close()
            raise SmtpUnavailable(
                f"Échec de la connexion au serveur d'envoi {where} ({_os_reason(error)}) : rien "
                "n'a été envoyé."
            ) from None
        self._conn = conn
        return self

    def send(self, message: EmailMessage) -> None:
        """Send *message*; see the module doc for what each failure means."""
        conn = self._conn
        if conn is None:
            raise SmtpUnavailable("Connexion SMTP fermée : rien n'a été envoyé.")
        sender = parseaddr(str(message.get("From", "")))[1]
        recipients = [address for _, address in getaddresses(message.get_all("To", [])) if address]
        if not sender or not recipients:
            raise SmtpRefused("Message sans expéditeur ou sans destinataire : rien n'a été envoyé.")
        data = message.as_bytes(policy=policy.SMTP)
        try:
            code, text = conn.mail(sender)
            if code != 250:
                conn.rset()
                raise SmtpRefused(
                    f"Le serveur refuse l'expéditeur {sender} ({_reply(code, text)})."
                )
            for recipient in recipients:
                code, text = conn.rcpt(recipient)
                if code not in (250, 251):
                    conn.rset()
                    raise SmtpRefused(
                        f"Le serveur refuse le destinataire {recipient} ({_reply(code, text)})."
                    )
        except (OSError, smtplib.SMTPServerDisconnected) as error:
            self._drop()
            raise SmtpUnavailable(
                f"Connexion au serveur d'envoi perdue avant l'envoi ({_os_reason(error)}) : rien "
                "n'a été envoyé."
            ) from None
        try:
            # smtplib raises when DATA itself is refused, but returns the server's final answer
            # on the message: a 4xx/5xx there is a refusal too, never « sent ».
            code, text = conn.data(data)
        except smtplib.SMTPDataError as error:
            # The server answered with an error code: it did not take the message.
            raise SmtpRefused(
                f"Le serveur refuse le message ({_reply(error.smtp_code, error.smtp_error)})."
            ) from None
        except (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException) as error:
            self._drop()
            raise SmtpUncertain(
                f"Connexion au serveur d'envoi perdue pendant la transmission du message "
                f"({_os_reason(error)}) : impossible de savoir s'il a été accepté."
            ) from None
        if not 200 <= code < 300:
            raise SmtpRefused(f"Le serveur refuse le message ({_reply(code, text)}).")

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def close(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.quit()
        except (OSError, smtplib.SMTPException):
            pass  # everything sent was already answered; a failing QUIT changes nothing
        finally:
            self._drop()

    def __enter__(self) -> SmtpSession:
        if self._conn is None:
            self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _os_reason(error: BaseException) -> str:
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
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply(error.smtp_code, error.smtp_error)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
