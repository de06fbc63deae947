"""A private dovecot (Debian's ``dovecot-pop3d`` / ``dovecot-imapd``) for the mail-fetch tests.

Own config file, own ports on 127.0.0.1, own base/state dirs, one user in a ``passwd-file``,
mail in a maildir under a temporary directory: nothing of the system's dovecot is used or
touched. Started in the foreground (``dovecot -F``) as a child process, stopped with SIGTERM.

Dovecot refuses to serve mail as uid 0: when the tests run as root the mail belongs to
``nobody`` and the maildir is made world-writable (the simulated caisse, running as root in the
test process, delivers into it); otherwise everything runs as the current user.

With ``tls=True`` a throw-away CA and server certificate (for 127.0.0.1) are made with
``cryptography``; POP3S/IMAPS listen too, and STARTTLS is offered. Point ``SSL_CERT_FILE`` at
``ca_file`` so that ``ssl.create_default_context()`` trusts it.
"""

from __future__ import annotations

import datetime as dt
import grp
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USER = "cabinet"
PASSWORD = "secret-de-test"


def dovecot_bin() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Dovecot:
    base: Path
    maildir: Path  # the user's INBOX (cur/new/tmp)
    user: str
    password: str
    pop3_port: int
    imap_port: int
    pop3s_port: int  # 0 without TLS
    imaps_port: int
    ca_file: Path | None
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tuibill test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = (
        directory / "ca.pem",
        directory / "cert.pem",
        directory / "key.pem",
    )
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


def _log(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else "(pas de journal)"


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot s'est arrêté au démarrage :\n{_log(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"dovecot n'écoute pas sur {port} :\n{_log(log)}")


def _write_config(base: Path, tls: bool) -> tuple[Path, dict[str, int], Path, Path | None, Path]:
    """The private set-up under *base*: config file, ports, maildir, CA file, log path."""
    base.chmod(0o755)
    as_root = os.geteuid() == 0
    if as_root:
        mail_user = pwd.getpwnam("nobody")
        uid, gid = mail_user.pw_uid, mail_user.pw_gid
        service_user = "dovenull" if _user_exists("dovenull") else "nobody"
        internal_user = "dovecot" if _user_exists("dovecot") else "nobody"
    else:
        uid, gid = os.getuid(), os.getgid()
        service_user = internal_user = pwd.getpwuid(uid).pw_name
    group_line = "" if as_root else f"default_internal_group = {grp.getgrgid(gid).gr_name}\n"
    for part in ("run", "state", "home"):
        (base / part).mkdir()
    mailroot = base / "mail"
    maildir = mailroot / USER
    for part in ("cur", "new", "tmp"):
        (maildir / part).mkdir(parents=True)
    for path in [mailroot, maildir, *(maildir / part for part in ("cur", "new", "tmp"))]:
        path.chmod(0o777)
    (base / "home").chmod(0o777)
    passwd = base / "passwd"
    passwd.write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    passwd.chmod(0o644)
    ports = {name: _free_port() for name in ("pop3", "imap", "pop3s", "imaps")}
    ca_file = None
    ssl_lines = "ssl = no\n"
    if tls:
        ca_file, cert_file, key_file = make_certificates(base)
        ssl_lines = f"ssl = yes\nssl_cert = <{cert_file}\nssl_key = <{key_file}\n"
    log = base / "dovecot.log"
    config = base / "dovecot.conf"
    # Without root, no chroot for the login processes (dovecot's « rootless » set-up).
    chroot = "" if as_root else "  chroot =\n"
    config.write_text(
        f"""# private dovecot for tuibill's tests
protocols = pop3 imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
instance_name = tuibill-test-{base.name}
log_path = {log}
info_log_path = {log}
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
default_login_user = {service_user}
default_internal_user = {internal_user}
{group_line}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
mail_location = maildir:{mailroot}/%u
# No penalty delay after a failed login (a test tries a wrong password on purpose).
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol pop3 {{
  pop3_uidl_format = %08Xu%08Xv
}}
service imap-login {{
{chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {ports["imap"]}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ports["imaps"] if tls else 0}
  }}
}}
service pop3-login {{
{chroot}  inet_listener pop3 {{
    address = 127.0.0.1
    port = {ports["pop3"]}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {ports["pop3s"] if tls else 0}
  }}
}}
"""
    )
    return config, ports, maildir, ca_file, log


@contextmanager
def dovecot_server(*, tls: bool = False) -> Iterator[Dovecot]:
    """Start a private dovecot serving POP3 and IMAP for one user; stopped on exit."""
    binary = dovecot_bin()
    if binary is None:
        raise RuntimeError(
            "dovecot absent : installez les paquets Debian « dovecot-pop3d dovecot-imapd »."
        )
    # Not under pytest's tmp_path (mode 700): the unprivileged mail user must reach the maildir.
    base = Path(tempfile.mkdtemp(prefix="tuibill-dovecot-"))
    try:
        config, ports, maildir, ca_file, log = _write_config(base, tls)
        process = subprocess.Popen(
            [binary, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            for name in ("pop3", "imap") + (("pop3s", "imaps") if tls else ()):
                _wait_for_port(ports[name], process, log)
            yield Dovecot(
                base=base,
                maildir=maildir,
                user=USER,
                password=PASSWORD,
                pop3_port=ports["pop3"],
                imap_port=ports["imap"],
                pop3s_port=ports["pop3s"] if tls else 0,
                imaps_port=ports["imaps"] if tls else 0,
                ca_file=ca_file,
                log=log,
            )
        finally:
            # The whole group at once: the master alone waits about a second for its children.
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        grp.getgrgid(pwd.getpwnam(name).pw_gid)
    except KeyError:
        return False
    return True
