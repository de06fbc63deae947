"""Typed settings read from TOML (stdlib ``tomllib``), with a French error naming file and key.

Lookup order: ``--config FILE``, then ``$TUIBILL_CONFIG``, then ``config.toml`` in the user's
config dir; none found → defaults. Every key is documented in ``config.example.toml``.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tuibill import formats
from tuibill.domain.errors import ConfigError

APP_NAME = "tuibill"


def user_config_file() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME)) / "config.toml"


def default_database_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME)) / "tuibill.sqlite"


@dataclass
class DatabaseSettings:
    """[database]: where the data is (empty: the SQLite file of the user's data folder)."""

    url: str = ""  # empty: SQLite file in the user's data dir


@dataclass
class PractitionerSettings:
    """A practitioner of [[practice.practitioners]], as `tuibill init` creates it."""

    last_name: str = ""
    first_name: str = ""
    am_number: str = ""
    rpps: str = ""
    specialty: str = "24"
    zone: str = "01"
    invoice_number_start: int = 1


@dataclass
class PracticeSettings:
    """[practice]: the practice `tuibill init` creates."""

    name: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    practitioners: list[PractitionerSettings] = field(default_factory=list)


@dataclass
class UserSettings:
    """[user]: the login proposed, and recorded on a database without accounts."""

    # The login the command line uses without --user and the login screen proposes; on a
    # database without accounts, the name recorded in the history (empty: « admin »).
    name: str = ""


@dataclass
class DeviceSettings:
    """[devices]: the card reader and the portable reader (TLA)."""

    card_reader: str = "emulated"  # emulated / pcsc
    card_reader_name: str = ""  # pcsc: the readers whose name starts with this; empty: all
    tla_url: str = "emulated"  # emulated, /dev/ttyUSB0, rfc2217://host:port, socket://host:port
    tla_baudrate: int = 9600
    tla_timeout: float = 2.0
    tla_retries: int = 3


@dataclass
class SmtpSettings:
    """[transmission.smtp]: the server lots are sent through."""

    host: str = "localhost"
    port: int = 25
    security: str = "starttls"  # none / starttls / ssl
    user: str = ""
    password_env: str = ""  # name of the environment variable holding the password
    sender: str = ""


@dataclass
class MailboxSettings:
    """[transmission.mailbox]: where the caisses' answers (ARL, NOEMIE returns) are fetched."""

    protocol: str = "inbox"  # pop3 / imap / inbox
    host: str = "localhost"
    port: int = 0
    security: str = "none"  # none / starttls / ssl
    user: str = ""
    password_env: str = ""
    folder: str = ""  # inbox: the folder to pick files from; imap: the mailbox name


@dataclass
class TransmissionSettings:
    """[transmission]: lots, their numbers, the ARL's time-out, the codecs."""

    lot_max_invoices: int = 500
    lot_number_first: int = 1
    lot_number_last: int = 999
    arl_timeout_hours: int = 48
    # Seed 002: an FSE sent less than this many days ago must be recycled at the concentrator
    # before it is re-sent (the figure is the seed's only: a setting).
    recycling_days: int = 90
    # « FSE en attente de retours »: sent less than this many days ago.
    awaiting_return_days: int = 21
    archive_dir: str = ""  # empty: beside the database, in the user's data dir
    # The codecs that write and read the lot files and the ARLs, by name (tuibill.formats).
    lot_codec: str = formats.DEFAULT_CODEC
    arl_codec: str = formats.DEFAULT_CODEC
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    mailbox: MailboxSettings = field(default_factory=MailboxSettings)
    caisses: dict[str, str] = field(default_factory=dict)  # "01281" → lot address


@dataclass
class ReturnSettings:
    """[returns]: the caisses' returns and the payment delays watched."""

    # The 7 working days of the AMO payment (décret 2016-1069) run from: the lot's positive ARL
    # ("arl": the caisse has the FSE) or the day the lot was sent ("envoi"). The texts do not say
    # (docs/rules/delays.md): the practice chooses.
    payment_start: str = "arl"
    late_payment_window_days: int = 120  # unpaid invoices older than this leave the late list


@dataclass
class UiSettings:
    """[ui]: the desk — theme, kiosk, ASCII frames, keymap."""

    theme: str = "textual-dark"
    ascii_borders: bool = False
    keymap: dict[str, str] = field(default_factory=dict)  # binding id → key(s)
    kiosk: bool = False  # never leave to a shell: quitting keys lock the screen (docs/kiosk.md)
    lock_after_minutes: int = 10  # lock an idle desk (when the database has accounts); 0: never


@dataclass
class AccountingSettings:
    """The FEC's journals and accounts (plan comptable général: 3 digits first)."""

    siren: str = ""  # the practice's SIREN (9 digits), when « --siren » is not given
    cash_basis: bool = True  # BNC « recettes-dépenses »: DateRglt, ModeRglt, NatOp; no sales
    bank_journal: str = "BQ"
    bank_journal_label: str = "Banque"
    sales_journal: str = "VT"  # accrual books only: the invoices
    sales_journal_label: str = "Ventes"
    bank_account: str = "512000"
    revenue_account: str = "706000"  # honoraires / prestations
    caisse_account: str = "411100"  # the caisses' (AMO) share; accrual books
    mutuelle_account: str = "411200"  # the mutuelles' (AMC) share; accrual books
    patient_account: str = "411300"  # the patient's (client's) share; accrual books
    payer_account: str = "411400"  # a tiers-payeur's share, unless it has its own below
    suspense_account: str = "471000"  # bank credits nobody announced
    # A financeur's own account, by its name as its règlements give it: its share lands there,
    # apart from the client's (seed 004's FAQ).
    payer_accounts: dict[str, str] = field(default_factory=dict)


@dataclass
class Settings:
    """The whole configuration file, checked (``load``, ``parse``)."""

    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    practice: PracticeSettings = field(default_factory=PracticeSettings)
    user: UserSettings = field(default_factory=UserSettings)
    devices: DeviceSettings = field(default_factory=DeviceSettings)
    transmission: TransmissionSettings = field(default_factory=TransmissionSettings)
    returns: ReturnSettings = field(default_factory=ReturnSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    accounting: AccountingSettings = field(default_factory=AccountingSettings)
    source: str | None = None  # the file read, if any

    def database_url(self, override: str | None = None) -> str:
        return override or self.database.url or str(default_database_path())

    def user_name(self) -> str:
        """The login to propose (never the operating system's: the desk's accounts sign)."""
        return self.user.name or "admin"


_CHOICES: dict[str, tuple[str, ...]] = {
    "devices.card_reader": ("emulated", "pcsc"),
    "transmission.smtp.security": ("none", "starttls", "ssl"),
    "transmission.mailbox.protocol": ("pop3", "imap", "inbox"),
    "transmission.mailbox.security": ("none", "starttls", "ssl"),
    "returns.payment_start": ("arl", "envoi"),
}

# Every number a setting takes, within what the program can use (a port, hours before a time-out…):
# a value beyond is refused at load, with its key, never an OverflowError later. Keys without
# an index ("practice.practitioners.invoice_number_start" for every practitioner).
_BOUNDS: dict[str, tuple[float, float]] = {
    "practice.practitioners.invoice_number_start": (1, 999_999_999),
    "devices.tla_baudrate": (50, 4_000_000),
    "devices.tla_timeout": (0.1, 600),
    "devices.tla_retries": (0, 20),
    "transmission.smtp.port": (1, 65_535),
    "transmission.mailbox.port": (0, 65_535),
    "transmission.lot_max_invoices": (1, 9_999),
    "transmission.lot_number_first": (1, 999),
    "transmission.lot_number_last": (1, 999),
    "transmission.arl_timeout_hours": (1, 24 * 366),
    "transmission.recycling_days": (0, 3 * 366),
    "transmission.awaiting_return_days": (1, 366),
    "returns.late_payment_window_days": (8, 3_660),
    "ui.lock_after_minutes": (0, 24 * 60),
}
_DEFAULT_BOUNDS = (0, 1_000_000_000)

_TYPE_NAMES = {str: "un texte", int: "un entier", float: "un nombre", bool: "true ou false"}


def _build(cls: type, data: Any, prefix: str, file: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError("une table TOML est attendue.", file, prefix)
    known = {f.name: f for f in fields(cls) if f.name != "source"}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in known:
            raise ConfigError("clé inconnue.", file, dotted)
        kwargs[key] = _convert(known[key], value, dotted, file)
    return cls(**kwargs)


def _convert(spec: Any, value: Any, dotted: str, file: str) -> Any:
    annotation = spec.type if isinstance(spec.type, str) else spec.type.__name__
    simple = {"str": str, "int": int, "float": float, "bool": bool}
    if annotation in simple:
        expected = simple[annotation]
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{_TYPE_NAMES[expected]} est attendu.", file, dotted)
        if dotted in _CHOICES and value not in _CHOICES[dotted]:
            raise ConfigError(
                f"valeur « {value} » invalide (possibles : {', '.join(_CHOICES[dotted])}).",
                file,
                dotted,
            )
        if expected in (int, float):
            low, high = _BOUNDS.get(re.sub(r"\[\d+\]", "", dotted), _DEFAULT_BOUNDS)
            if value < 0 and low >= 0:
                raise ConfigError("une valeur positive est attendue.", file, dotted)
            if not (math.isfinite(value) and low <= value <= high):
                raise ConfigError(
                    f"{value} hors des valeurs possibles ({low:g} à {high:g}).", file, dotted
                )
        return value
    if annotation == "dict[str, str]":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError("une table de textes est attendue.", file, dotted)
        return dict(value)
    if annotation == "list[PractitionerSettings]":
        if not isinstance(value, list):
            raise ConfigError("une liste de tables [[…]] est attendue.", file, dotted)
        return [
            _build(PractitionerSettings, item, f"{dotted}[{i}]", file)
            for i, item in enumerate(value)
        ]
    nested = {
        "DatabaseSettings": DatabaseSettings,
        "PracticeSettings": PracticeSettings,
        "UserSettings": UserSettings,
        "DeviceSettings": DeviceSettings,
        "SmtpSettings": SmtpSettings,
        "MailboxSettings": MailboxSettings,
        "TransmissionSettings": TransmissionSettings,
        "ReturnSettings": ReturnSettings,
        "UiSettings": UiSettings,
        "AccountingSettings": AccountingSettings,
    }
    return _build(nested[annotation], value, dotted, file)


def _check(settings: Settings, file: str) -> None:
    t = settings.transmission
    if not 1 <= t.lot_number_first < t.lot_number_last <= 999:
        raise ConfigError(
            "les numéros de lot vont de 1 à 999, le premier avant le dernier.",
            file,
            "transmission.lot_number_first",
        )
    if t.lot_max_invoices < 1:
        raise ConfigError("au moins 1 facture par lot.", file, "transmission.lot_max_invoices")
    for key, registry, name in (
        ("transmission.lot_codec", formats.LOT_CODECS, t.lot_codec),
        ("transmission.arl_codec", formats.ARL_CODECS, t.arl_codec),
    ):
        if not registry.knows(name):
            raise ConfigError(registry.unknown(name), file, key)
    for code in t.caisses:
        if not (len(code) == 5 and code.isdigit()):
            raise ConfigError(
                f"« {code} » : régime (2 chiffres) + caisse (3 chiffres) attendus, ex. « 01281 ».",
                file,
                "transmission.caisses",
            )
    _check_accounting(settings.accounting, file)
    for i, ps in enumerate(settings.practice.practitioners):
        if not (len(ps.am_number) == 9 and ps.am_number.isdigit()):
            raise ConfigError(
                "le numéro AM doit compter 9 chiffres.",
                file,
                f"practice.practitioners[{i}].am_number",
            )


_ACCOUNT_NUMBER = re.compile(r"[0-9]{3}[0-9A-Za-z]{0,17}")
_JOURNAL_CODE = re.compile(r"[0-9A-Za-z]{1,8}")


def _check_accounting(accounting: AccountingSettings, file: str) -> None:
    if accounting.siren:
        from stdnum.fr import siren

        if not siren.is_valid(accounting.siren):
            raise ConfigError(
                f"SIREN « {accounting.siren} » invalide (9 chiffres, clé de Luhn).",
                file,
                "accounting.siren",
            )
    for name in ("bank_journal", "sales_journal"):
        if not _JOURNAL_CODE.fullmatch(getattr(accounting, name)):
            raise ConfigError(
                "code journal de 1 à 8 lettres ou chiffres attendu.", file, f"accounting.{name}"
            )
    for name in ("bank_journal_label", "sales_journal_label"):
        value = getattr(accounting, name)
        if not value.strip() or re.search(r"[\t\r\n]", value):
            raise ConfigError(
                "libellé de journal non vide, sans tabulation, attendu.",
                file,
                f"accounting.{name}",
            )
    accounts = [
        (f"accounting.{name}", getattr(accounting, name))
        for name in (
            "bank_account", "revenue_account", "caisse_account", "mutuelle_account",
            "patient_account", "payer_account", "suspense_account",
        )
    ]  # fmt: skip
    accounts += [
        (f"accounting.payer_accounts.{payer}", number)
        for payer, number in accounting.payer_accounts.items()
    ]
    for key, number in accounts:
        if not _ACCOUNT_NUMBER.fullmatch(number):
            raise ConfigError(
                f"« {number} » : numéro de compte du plan comptable attendu (3 chiffres, puis "
                "20 caractères au plus, lettres ou chiffres).",
                file,
                key,
            )
    for payer in accounting.payer_accounts:
        if not payer.strip() or re.search(r"[\t\r\n]", payer):
            raise ConfigError(
                "nom de payeur vide ou avec une tabulation.", file, "accounting.payer_accounts"
            )


def parse(text: str, file: str = "<texte>") -> Settings:
    import tomllib  # only when there is a file to read: a desk without one starts sooner

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"fichier TOML illisible ({error}).", file) from None
    settings = _build(Settings, data, "", file)
    _check(settings, file)
    settings.source = file
    return settings


def find_config_file(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("TUIBILL_CONFIG")
    if env:
        return Path(env)
    candidate = user_config_file()
    return candidate if candidate.exists() else None


def load(explicit: str | None = None) -> Settings:
    path = find_config_file(explicit)
    if path is None:
        return Settings()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("fichier de configuration introuvable.", str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"fichier de configuration illisible ({error}).", str(path)) from None
    return parse(text, str(path))
