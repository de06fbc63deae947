"""A private pcscd with the vpcd virtual reader, and its card slots (helpers for conftest).

pcscd is started by socket activation on our own Unix socket (``PCSCLITE_CSOCK_NAME``) with a
reader.conf.d of our own (vpcd on free ports). pcscd always creates ``/run/pcscd`` and writes
its pid file there, so it runs in a private mount namespace where ``/run`` is a temporary
directory: the machine's ``/run/pcscd`` (and any system pcscd) is never touched.

libpcsclite reads ``PCSCLITE_CSOCK_NAME`` once per process, hence one daemon per test process
(each pytest-xdist worker gets its own, on its own ports).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER_PREFIX = "Virtual PCD"
START_TIMEOUT = 30.0  # generous: a loaded 2-core machine
CARD_TIMEOUT = 20.0
REINSERT_GAP = 0.5  # after a pull, pcscd misses a card put back sooner (see the notes)


def _free_port_pair() -> int:
    """A port P with P and P+1 free (vpcd opens one port per slot)."""
    for _ in range(100):
        with socket.socket() as first:
            first.bind(("", 0))
            port = first.getsockname()[1]
            if port + 1 > 0xFFFF:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free pair of TCP ports")


def _listening(port: int) -> bool:
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(wanted) and fields[3] == "0A":  # 0A = LISTEN
                return True
    return False


def _namespace_prefix() -> list[str]:
    """``unshare`` arguments giving pcscd a private mount namespace (root or user namespace)."""
    candidates = [["unshare", "--mount", "--propagation", "private"]]
    if os.geteuid() != 0:
        candidates.insert(
            0, ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]
        )
    for prefix in candidates:
        if shutil.which(prefix[0]) is None:
            break
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=20)
        if probe.returncode == 0:
            return prefix
    raise RuntimeError(
        "cannot create a private mount namespace (unshare): a private pcscd would write "
        "/run/pcscd, which the tests must not touch"
    )


@dataclass
class PcscStack:
    directory: Path
    socket_path: Path
    port: int
    process: subprocess.Popen
    log_path: Path
    readers: tuple[str, ...] = field(default=())

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def env(self) -> dict[str, str]:
        return {**os.environ, "PCSCLITE_CSOCK_NAME": str(self.socket_path)}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_pcscd(*, with_vpcd: bool = True) -> PcscStack:
    """Start a private pcscd (with or without the two vpcd slots); wait until it serves."""
    directory = Path(tempfile.mkdtemp(prefix="tuibill-pcscd-"))
    conf = directory / "reader.conf.d"
    run = directory / "run"
    conf.mkdir()
    run.mkdir()
    port = _free_port_pair() if with_vpcd else 0
    if with_vpcd:
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{READER_PREFIX}"\n'
            f"DEVICENAME /dev/null:0x{port:04X}\n"
            f"LIBPATH {VPCD_DRIVER}\n"
            f"CHANNELID 0x{port:04X}\n"
        )
    socket_path = directory / "pcscd.comm"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path))
    listener.listen(64)
    # A duplicate that is surely not fd 3, or « 3<&N N<&- » below would close it.
    fd = os.dup(listener.fileno())
    log_path = directory / "pcscd.log"
    script = (
        f"mount -n --bind '{run}' /run && export LISTEN_PID=$$ LISTEN_FDS=1 && "
        f"exec pcscd --foreground --info -c '{conf}' 3<&{fd} {fd}<&-"
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*_namespace_prefix(), "bash", "-c", script],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    os.close(fd)
    listener.close()
    stack = PcscStack(
        directory,
        socket_path,
        port,
        process,
        log_path,
        (f"{READER_PREFIX} 00 00", f"{READER_PREFIX} 00 01") if with_vpcd else (),
    )
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        ready = "daemon ready" in stack.log() and (
            not with_vpcd or (_listening(port) and _listening(port + 1))
        )
        if ready:
            return stack
        if process.poll() is not None or time.monotonic() > deadline:
            text = stack.log()
            stack.stop()
            raise RuntimeError(f"private pcscd did not start:\n{text}")
        time.sleep(0.02)


def reader_atr(reader: str) -> bytes | None:
    """What pcscd reports for ``reader`` right now (ATR, or None when empty)."""
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == 0, f"pcscd unreachable: {hresult:08X}"
    try:
        hresult, states = scard.SCardGetStatusChange(
            context, 0, [(reader, scard.SCARD_STATE_UNAWARE)]
        )
        _name, event, atr = states[0]
        present = event & scard.SCARD_STATE_PRESENT and not event & scard.SCARD_STATE_MUTE
        return bytes(atr) if present and atr else None
    finally:
        scard.SCardReleaseContext(context)


def wait_reader(reader: str, atr: bytes | None, timeout: float = CARD_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reader_atr(reader) == atr:
            return True
        time.sleep(0.02)
    return False


class Slot:
    """One vpcd slot of the private pcscd: insert an emulated card, remove it.

    Removal does not wait for pcscd to notice (one 400 ms presence poll): the next insertion in
    the slot does, so that tests alternating slots overlap those waits.
    """

    def __init__(self, stack: PcscStack, index: int) -> None:
        self.stack = stack
        self.port = stack.port + index
        self.reader = stack.readers[index]
        self.emulator = None
        self.removed_at = 0.0
        self._free_from = 0.0
        self._maybe_present = False

    def wait_empty(self) -> None:
        """Until pcscd reports the slot empty (and, after a pull, a little longer)."""
        if self._maybe_present:
            if not wait_reader(self.reader, None):
                raise AssertionError(f"{self.reader} never empty:\n{self.stack.log()[-3000:]}")
            self._maybe_present = False
        delay = self._free_from - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def insert(self, card, *, pull_after: int | None = None):
        from tuibill.hardware.cards.vpcd_emulator import VpcdEmulator

        for attempt in range(2):
            self.remove()
            self.wait_empty()
            emulator = VpcdEmulator(card, port=self.port, pull_after=pull_after)
            emulator.insert(timeout=CARD_TIMEOUT)
            self.emulator, self._maybe_present = emulator, True
            if wait_reader(self.reader, card.atr, CARD_TIMEOUT / (2 - attempt)):
                return emulator
            self._free_from = time.monotonic() + REINSERT_GAP  # not announced: once more
        raise AssertionError(f"card never seen in {self.reader}:\n{self.stack.log()[-3000:]}")

    def insert_process(self, *args: str) -> subprocess.Popen:
        """The emulator as its own process (``python -m …vpcd_emulator``)."""
        import sys

        self.remove()
        self.wait_empty()
        self._maybe_present = True
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tuibill.hardware.cards.vpcd_emulator",
                "--port",
                str(self.port),
                *args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def remove(self) -> None:
        """Take the card out (close the emulator's connection); returns at once."""
        emulator, self.emulator = self.emulator, None
        if emulator is not None:
            if emulator.pulled.is_set():
                self._free_from = time.monotonic() + REINSERT_GAP
            emulator.remove()
            self.removed_at = time.monotonic()
