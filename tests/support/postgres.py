"""A private PostgreSQL server for the tests (Debian's ``postgresql`` package).

initdb refuses root, so the cluster belongs to the ``postgres`` user when we are root; the data
dir lives under ``tempfile.mkdtemp()`` (pytest's tmp dirs are mode 700).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throw-away cluster; yield a URL to an empty database ``tuibill``."""
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL absent : installez le paquet Debian « postgresql ».")
    base = tempfile.mkdtemp(prefix="tuibill-pg-")
    data = os.path.join(base, "data")
    port = _free_port()
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(base, "postgres", "postgres")
    subprocess.run(
        [
            *prefix,
            f"{bindir}/initdb",
            "-D",
            data,
            "-U",
            "tuibill",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *prefix,
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-l",
            os.path.join(base, "log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "tuibill", "tuibill"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://tuibill@127.0.0.1:{port}/tuibill"
    finally:
        subprocess.run(
            [*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)
