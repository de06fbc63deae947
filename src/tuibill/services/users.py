"""Staff accounts: who is at the desk, what their role lets them do, and their history.

Passwords and PINs are stored only as argon2id hashes (``argon2-cffi``: a memory-hard function,
salted, its parameters kept in the hash so they can be raised later). A PIN is never written
anywhere else: not in the history (the row says « PIN changé »), not in a log, not in an error.

**Bootstrap.** A database with no account yet (a new practice, the test suites, scripts written
before accounts existed) runs without a login, as the default administrator: the recorded name is
the one given (``--user``, ``[user] name``) or :data:`DEFAULT_ADMIN`. The first account created
must be an administrateur; from then on every desk and every command logs in.

:func:`require` is the one permission check: the services call it before they write, with the
login they are given, and it applies ``domain.permissions``' table to that account's role.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from tuibill.domain.errors import AuthenticationFailed, Forbidden, NotFound, ValidationError
from tuibill.domain.permissions import Family, Role, check, valid_pin
from tuibill.models import Practitioner, User, UserTransition
from tuibill.models import database as db_module
from tuibill.models.database import immediate
from tuibill.services import audit

DEFAULT_ADMIN = "admin"
INACTIVE = "inactif"  # the history's state of a disabled account
MIN_PASSWORD = 8
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
# How long a role read for require() is trusted before it is read again (another desk may have
# disabled the account meanwhile); writes made here forget it at once.
_CACHE_SECONDS = 5.0


# argon2id with OWASP's first recommended setting (Password Storage Cheat Sheet: 19 MiB, 2
# passes, 1 lane), which it rates as strong as argon2-cffi's default (64 MiB, 3 passes, 4 lanes):
# a desk's command logs in with 19 MiB instead of 64, on the practices' modest servers. Hashes
# made with other settings still verify (the settings are in the hash) and are remade with these
# at the next good login.
_ARGON2 = {"time_cost": 2, "memory_cost": 19_456, "parallelism": 1}


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(**_ARGON2)


def hash_secret(secret: str) -> str:
    """The argon2id hash of a password or a PIN (salted: two hashes of one secret differ)."""
    return _hasher().hash(secret)


def _matches(stored: str, secret: str) -> bool:
    if not stored or not secret:
        return False
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Session:
    """Who is logged in at a desk or runs a command."""

    login: str
    name: str
    role: Role
    practitioner_id: int | None = None
    bootstrap: bool = False  # no account in the database: the default administrator
    has_pin: bool = False

    @property
    def label(self) -> str:
        """« a.gautier (praticien) », as the header shows it."""
        return f"{self.login} ({self.role.label})"

    def may(self, family: Family) -> bool:
        from tuibill.domain.permissions import refusal

        return refusal(self.role, family) is None


@dataclass(frozen=True)
class UserRow:
    """An account as the list screen and ``tuibill user list`` show it (no secret)."""

    id: int
    login: str
    name: str
    role: Role
    active: bool
    has_pin: bool
    practitioner_id: int | None
    practitioner: str
    created_at: datetime

    def as_dict(self) -> dict:
        return {
            "identifiant": self.login,
            "nom": self.name,
            "role": self.role.value,
            "actif": self.active,
            "pin": self.has_pin,
            "praticien": self.practitioner_id,
            "cree_le": self.created_at.isoformat(sep=" "),
        }


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


# --- who is there ------------------------------------------------------------------------------


def has_accounts() -> bool:
    """Whether the database has any account (otherwise: the bootstrap administrator)."""
    return User.select(User.id).exists()


def accounts_in_use() -> bool:
    """:func:`has_accounts`, and False on a database older than the accounts (its schema is
    refused or upgraded by the caller; ``tuibill db upgrade`` runs as the bootstrap admin)."""
    return User.table_exists() and has_accounts()


def bootstrap_session(name: str = "") -> Session:
    """The session of a database without accounts: the default administrator."""
    return Session(name or DEFAULT_ADMIN, "", Role.ADMINISTRATEUR, bootstrap=True)


def _session(account: User) -> Session:
    return Session(
        account.login,
        account.name,
        Role(account.role),
        account.practitioner_id,
        has_pin=bool(account.pin_hash),
    )


def authenticate(login: str, password: str) -> Session:
    """The session of *login* when *password* is theirs and the account is active."""
    account = User.get_or_none(User.login == login.strip().lower())
    if account is None:
        _matches(_decoy_hash(), password)  # as slow as a wrong password: no login is revealed
        raise AuthenticationFailed("Identifiant ou mot de passe incorrect.")
    _refuse_if_blocked(account)
    if not _matches(account.password_hash, password):
        _record_failure(account)
        raise AuthenticationFailed("Identifiant ou mot de passe incorrect.")
    if not account.active:
        raise AuthenticationFailed(f"Le compte « {account.login} » est désactivé.")
    _rehash_if_older(account, password)
    return _session(account)


_decoy: list[str] = []


def _decoy_hash() -> str:
    if not _decoy:
        _decoy.append(hash_secret("tuibill-compte-inconnu"))
    return _decoy[0]


def _rehash_if_older(account: User, password: str) -> None:
    """A password hash made with older settings is remade with today's (only if it did not
    change meanwhile): the account's history is untouched, the password is the same."""
    if not _hasher().check_needs_rehash(account.password_hash):
        return
    fresh = hash_secret(password)
    with immediate():
        User.update(password_hash=fresh).where(
            (User.id == account.id) & (User.password_hash == account.password_hash)
        ).execute()
    account.password_hash = fresh


def unlock(session: Session, secret: str, *, pin_allowed: bool = True) -> bool:
    """Whether *secret* is *session*'s password, or (when allowed) their PIN."""
    if session.bootstrap:
        return True
    account = User.get_or_none(User.login == session.login)
    if account is None or not account.active:
        return False
    _refuse_if_blocked(account)
    if pin_allowed and valid_pin(secret) and _matches(account.pin_hash, secret):
        return True
    if _matches(account.password_hash, secret):
        return True
    _record_failure(account)
    return False


# Wrong passwords or PINs in a row before an account waits (argon2 makes each try slow; this bounds them).
BLOCK_TRIES = 5
BLOCK_MINUTES = 15
FAILED = "login_failed"  # the history's action of a wrong password or PIN


def _refuse_if_blocked(account: User) -> None:
    """After :data:`BLOCK_TRIES` wrong secrets within :data:`BLOCK_MINUTES` minutes (and since the
    password was last set), the account waits until the last of them is that old."""
    since = _now() - timedelta(minutes=BLOCK_MINUTES)
    recent = (
        UserTransition.select(UserTransition.at, UserTransition.action)
        .where(
            (UserTransition.account == account.id)
            & (UserTransition.at >= since)
            & UserTransition.action.in_((FAILED, "password", "enable"))
        )
        .order_by(UserTransition.id.desc())
        .limit(BLOCK_TRIES)
        .tuples()
    )
    failures = []
    for at, action in recent:
        if action != FAILED:
            break  # a new password (or the account enabled again) starts the count again
        failures.append(at)
    if len(failures) < BLOCK_TRIES:
        return
    wait = failures[0] + timedelta(minutes=BLOCK_MINUTES) - _now()
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    raise AuthenticationFailed(
        f"Compte « {account.login} » bloqué après {BLOCK_TRIES} essais faux : réessayez "
        f"dans {minutes} min, ou un administrateur lui donne un nouveau mot de passe."
    )


def _record_failure(account: User) -> None:
    """A wrong password or PIN, in the account's chained history (who tried is the account's
    login: the desk is not logged in)."""
    with immediate():
        _record(account, _state(account), _state(account), FAILED, account.login)


def session_for(login: str) -> Session:
    """The session of an account already authenticated elsewhere (the demo logs in by itself);
    without accounts, the bootstrap administrator named *login*."""
    if not has_accounts():
        return bootstrap_session(login)
    account = User.get_or_none(User.login == login)
    if account is None:
        raise AuthenticationFailed(f"Utilisateur « {login} » inconnu.")
    if not account.active:
        raise AuthenticationFailed(f"Le compte « {account.login} » est désactivé.")
    return _session(account)


# --- the permission check ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Access:
    """What the login may do: its role, whether active, its practitioner."""

    role: Role | None  # None: unknown login
    active: bool
    practitioner_id: int | None
    bootstrap: bool


_cache: dict[tuple[str | None, str], tuple[float, _Access]] = {}


def forget_cached_roles() -> None:
    _cache.clear()


def _access(login: str) -> _Access:
    key = (db_module.bound_url, login)
    cached = _cache.get(key)
    clock = time.monotonic()
    if cached is not None and clock - cached[0] < _CACHE_SECONDS:
        return cached[1]
    # A database older than the accounts (before « tuibill db upgrade ») has none.
    row = (
        User.select(User.role, User.active, User.practitioner)
        .where(User.login == login)
        .tuples()
        .first()
        if User.table_exists()
        else None
    )
    if row is not None:
        access = _Access(Role(row[0]), bool(row[1]), row[2], False)
    elif not accounts_in_use():
        access = _Access(Role.ADMINISTRATEUR, True, None, True)
    else:
        access = _Access(None, False, None, False)
    _cache[key] = (clock, access)
    return access


def require(login: str, family: Family, *, practitioner_id: int | None = None) -> None:
    """Refuse (:class:`Forbidden`, in French, naming the role that may) unless *login*'s role
    may act in *family*; *practitioner_id*: the invoice's, for the families a praticien may use
    only on their own invoices."""
    access = _access(login)
    if access.role is None:
        raise Forbidden(f"Utilisateur « {login} » inconnu : connectez-vous avec un compte du cabinet.")
    if not access.active:
        raise Forbidden(f"Le compte « {login} » est désactivé.")
    own = None if practitioner_id is None else practitioner_id == access.practitioner_id
    check(access.role, family, login="" if access.bootstrap else login, own=own)


# --- managing accounts ------------------------------------------------------------------------


def _row(account: User, practitioners: dict[int, str]) -> UserRow:
    return UserRow(
        account.id,
        account.login,
        account.name,
        Role(account.role),
        bool(account.active),
        bool(account.pin_hash),
        account.practitioner_id,
        practitioners.get(account.practitioner_id, "") if account.practitioner_id else "",
        account.created_at,
    )


def _practitioner_names() -> dict[int, str]:
    return {
        p.id: f"{p.last_name} {p.first_name}"
        for p in Practitioner.select(Practitioner.id, Practitioner.last_name, Practitioner.first_name)
    }


def list_users(*, include_inactive: bool = True) -> list[UserRow]:
    query = User.select().order_by(User.login)
    if not include_inactive:
        query = query.where(User.active)
    names = _practitioner_names()
    return [_row(account, names) for account in query]


def get_user(login: str) -> UserRow:
    account = User.get_or_none(User.login == login.strip().lower())
    if account is None:
        raise NotFound(f"Utilisateur « {login} » inconnu.")
    return _row(account, _practitioner_names())


def _state(account: User) -> str:
    return account.role if account.active else INACTIVE


def _record(account: User, source: str | None, target: str, action: str, by: str, reason: str = "") -> None:
    UserTransition.create(
        **audit.seal(
            UserTransition,
            {
                "account": account.id,
                "at": _now(),
                "user": by,
                "from_state": source,
                "to_state": target,
                "action": action,
                "reason": reason,
            },
        )
    )
    forget_cached_roles()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"Mot de passe trop court : {MIN_PASSWORD} caractères au moins.", field="password"
        )


def _check_pin(pin: str) -> None:
    if pin and not valid_pin(pin):
        raise ValidationError("Le PIN compte 4 à 8 chiffres.", field="pin")


def _active_admins(excluding: int | None = None) -> int:
    query = User.select(User.id).where(User.active & (User.role == Role.ADMINISTRATEUR.value))
    if excluding is not None:
        query = query.where(User.id != excluding)
    return query.count()


def create_user(
    login: str,
    name: str,
    role: Role | str,
    password: str,
    *,
    by: str,
    pin: str = "",
    practitioner_id: int | None = None,
) -> UserRow:
    """A new account. The first account of a database must be an administrateur."""
    login = login.strip().lower()
    if not _LOGIN.match(login):
        raise ValidationError(
            "Identifiant invalide : 2 à 32 caractères parmi a-z, 0-9, « . », « _ », « - » "
            "(commençant par une lettre ou un chiffre).",
            field="login",
        )
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(
            f"Rôle « {role} » inconnu (possibles : {', '.join(r.value for r in Role)}).",
            field="role",
        ) from None
    _check_password(password)
    _check_pin(pin)
    with immediate():
        require(by, Family.USERS)
        if not has_accounts() and role is not Role.ADMINISTRATEUR:
            raise ValidationError(
                "Le premier compte doit être un administrateur (il créera les autres).",
                field="role",
            )
        if User.select().where(User.login == login).exists():
            raise ValidationError(f"L'identifiant « {login} » existe déjà.", field="login")
        if practitioner_id is not None and Practitioner.get_or_none(Practitioner.id == practitioner_id) is None:
            raise ValidationError(f"Praticien n° {practitioner_id} inconnu.", field="practitioner")
        if role is Role.PRATICIEN and practitioner_id is None:
            raise ValidationError(
                "Un compte praticien est rattaché à son praticien (ses factures, sa CPS).",
                field="practitioner",
            )
        account = User.create(
            login=login,
            name=name.strip(),
            role=role.value,
            active=True,
            password_hash=hash_secret(password),
            pin_hash=hash_secret(pin) if pin else "",
            practitioner=practitioner_id,
            created_at=_now(),
        )
        _record(account, None, role.value, "create", by)
    return get_user(login)


def _account(login: str) -> User:
    account = User.get_or_none(User.login == login.strip().lower())
    if account is None:
        raise NotFound(f"Utilisateur « {login} » inconnu.")
    return account


def set_password(login: str, password: str, *, by: str) -> None:
    """A new password: one's own, or anyone's for an administrateur."""
    _check_password(password)
    with immediate():
        account = _account(login)
        if by != account.login:
            require(by, Family.USERS)
        account.password_hash = hash_secret(password)
        account.save()
        _record(account, _state(account), _state(account), "password", by)


def set_pin(login: str, pin: str, *, by: str) -> None:
    """A new PIN for quick unlocks (empty: none); one's own, or anyone's for an administrateur."""
    _check_pin(pin)
    with immediate():
        account = _account(login)
        if by != account.login:
            require(by, Family.USERS)
        account.pin_hash = hash_secret(pin) if pin else ""
        account.save()
        _record(account, _state(account), _state(account), "pin", by)


def set_active(login: str, active: bool, *, by: str, reason: str = "") -> UserRow:
    with immediate():
        require(by, Family.USERS)
        account = _account(login)
        if bool(account.active) == active:
            return get_user(login)
        if not active and account.role == Role.ADMINISTRATEUR.value and not _active_admins(account.id):
            raise ValidationError(
                "C'est le dernier administrateur actif : créez-en un autre avant de le désactiver."
            )
        source = _state(account)
        account.active = active
        account.save()
        _record(account, source, _state(account), "enable" if active else "disable", by, reason)
    return get_user(login)


def set_role(login: str, role: Role | str, *, by: str, practitioner_id: int | None = None) -> UserRow:
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(f"Rôle « {role} » inconnu.", field="role") from None
    with immediate():
        require(by, Family.USERS)
        account = _account(login)
        if practitioner_id is not None:
            account.practitioner = practitioner_id
        if role is Role.PRATICIEN and account.practitioner_id is None:
            raise ValidationError(
                "Un compte praticien est rattaché à son praticien (ses factures, sa CPS).",
                field="practitioner",
            )
        if account.role == role.value and practitioner_id is None:
            return get_user(login)
        if (
            account.role == Role.ADMINISTRATEUR.value
            and role is not Role.ADMINISTRATEUR
            and account.active
            and not _active_admins(account.id)
        ):
            raise ValidationError(
                "C'est le dernier administrateur actif : nommez-en un autre avant de changer son rôle."
            )
        source = _state(account)
        account.role = role.value
        account.save()
        _record(account, source, _state(account), "role", by)
    return get_user(login)


@dataclass(frozen=True)
class UserHistoryRow:
    """One move of an account's history, as the Utilisateurs screen lists it."""

    at: datetime
    user: str
    from_state: str | None
    to_state: str
    action: str
    reason: str


USER_ACTION_LABELS = {
    "create": "Compte créé",
    "disable": "Compte désactivé",
    "enable": "Compte réactivé",
    "role": "Rôle changé",
    "password": "Mot de passe changé",
    "pin": "PIN changé",
    FAILED: "Mot de passe faux",
}


def history(login: str) -> list[UserHistoryRow]:
    account = _account(login)
    return [
        UserHistoryRow(t.at, t.user, t.from_state, t.to_state, t.action, t.reason)
        for t in UserTransition.select()
        .where(UserTransition.account == account.id)
        .order_by(UserTransition.seq)
    ]



def practitioner_choices() -> list[tuple[int, str]]:
    """(id, « NOM Prénom ») of the practitioners an account may be tied to."""
    return sorted(_practitioner_names().items(), key=lambda item: item[1])
