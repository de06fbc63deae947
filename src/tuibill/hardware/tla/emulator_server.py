"""The portable reader emulator on a line: :class:`TlaEmulator` answers frames for a
:class:`~tuibill.hardware.tla.emulator.TlaDevice`, caches its last answer (a retried request is
replayed, never executed twice) and can misbehave on purpose (:class:`Misbehaviour`);
:class:`PtyLine` and :class:`TcpLine` serve it in a thread, on a new pseudo-terminal or on a TCP
port of 127.0.0.1."""

from __future__ import annotations

import os
import select
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from tuibill.hardware.tla.emulator import TlaDevice
from tuibill.hardware.tla.errors import (
    TlaDeviceError,
    TlaEmulatorError,
)
from tuibill.hardware.tla.frames import Frame, FrameDecoder, encode
from tuibill.hardware.tla.protocol import (
    BASE_VERSION,
    ERROR_RESPONSE,
    ErrorCode,
    PayloadError,
    decode_payload,
    device_error,
    encode_payload,
    error_payload,
)

# Bytes sent before each answer by a "garbage" device: noise, then a frame start cut short by
# the real answer's STX, so that both resynchronisation paths of the desk are exercised.
NOISE = b"\xff\x00~bruit\x03\x10\x02\x01\x07\x10"


@dataclass
class Misbehaviour:
    """Faults to inject, to test the desk's recovery paths."""

    silent: bool = False  # reads, never executes, never answers (switched off, wrong mode)
    garbage: bool = False  # NOISE before every answer
    slow: float = 0.0  # seconds of delay before every answer
    hangup_after: int | None = None  # after N answers, cut the next one in half and hang up
    corrupt_crc_once: bool = False  # the next answer has a wrong CRC (the retry gets it right)
    drop: int = 0  # execute the next N requests but do not answer them


@dataclass
class _Cached:
    request: Frame
    generation: int
    answer: Frame


class TlaEmulator:
    """Turns request frames into answer bytes, with a one-answer cache and optional faults.

    Requests with a bad CRC, length or escaping are dropped without an answer: a reply could not
    be paired with its request safely; the desk times out and resends.
    """

    def __init__(self, device: TlaDevice, misbehaviour: Misbehaviour | None = None) -> None:
        self.device = device
        self.misbehaviour = misbehaviour or Misbehaviour()
        self.answers_sent = 0
        self.replays = 0  # retried requests answered from the cache
        self._cached: _Cached | None = None
        self._lock = threading.Lock()

    def respond(self, request: Frame) -> bytes | None:
        """The answer bytes for *request*, or None if the device keeps quiet."""
        fault = self.misbehaviour
        if fault.silent:
            return None
        with self._lock:
            cached = self._cached
            generation = self._generation()
            if cached is not None and cached.request == request and cached.generation == generation:
                # The same request again: the desk did not get our answer. Replay it, because
                # executing it again could do twice what was asked once.
                self.replays += 1
                answer = cached.answer
            else:
                answer = self._answer(request)
                self._cached = _Cached(request, self._generation(), answer)
            if fault.drop > 0:
                fault.drop -= 1
                return None
            corrupt, fault.corrupt_crc_once = fault.corrupt_crc_once, False
            return encode(answer, corrupt_crc=corrupt)

    def _generation(self) -> int:
        try:
            return self.device.generation
        except (TlaEmulatorError, OSError):  # unreadable memory: _answer reports it; never replay
            return -1

    def _answer(self, request: Frame) -> Frame:
        if request.version not in self.device.versions:
            error = device_error(
                ErrorCode.UNSUPPORTED_VERSION, {"supported": list(self.device.versions)}
            )
            return self._error_frame(BASE_VERSION, request.seq, error)
        try:
            if len(request.payload) > self.device.max_payload:
                raise device_error(
                    ErrorCode.BAD_PAYLOAD,
                    {},
                    f"données trop longues ({len(request.payload)} octets)",
                )
            try:
                payload = decode_payload(request.payload)
            except PayloadError as error:
                raise device_error(ErrorCode.BAD_PAYLOAD, {}, str(error)) from None
            answer = self.device.execute(request.code, payload, request.version)
        except TlaDeviceError as error:
            return self._error_frame(request.version, request.seq, error)
        except (TlaEmulatorError, OSError) as error:  # its memory failed: say so, do not die
            return self._error_frame(
                request.version, request.seq, device_error(ErrorCode.INTERNAL, {}, str(error))
            )
        return Frame(request.version, request.seq, request.code | 0x80, encode_payload(answer))

    @staticmethod
    def _error_frame(version: int, seq: int, error: TlaDeviceError) -> Frame:
        return Frame(version, seq, ERROR_RESPONSE, encode_payload(error_payload(error)))

    def serve(
        self,
        read: Callable[[float], bytes | None],
        write: Callable[[bytes], None],
        stop: threading.Event,
    ) -> str:
        """Serve one connection until *stop*, the peer leaves, or a planned hang-up.

        *read(timeout)* returns b"" when nothing came in time and None when the line is closed.
        Returns "stopped", "closed" or "hangup".
        """
        decoder = FrameDecoder()
        while not stop.is_set():
            data = read(0.05)
            if data is None:
                return "closed"
            for event in decoder.feed(data):
                if not isinstance(event, Frame):
                    continue  # noise or a damaged request: no answer (see the class docstring)
                answer = self.respond(event)
                if answer is None:
                    continue
                fault = self.misbehaviour
                if fault.slow and stop.wait(fault.slow):
                    return "stopped"
                if fault.garbage:
                    answer = NOISE + answer
                try:
                    if fault.hangup_after is not None and self.answers_sent >= fault.hangup_after:
                        fault.hangup_after = None  # once: the line works again afterwards
                        write(answer[: len(answer) // 2])
                        return "hangup"
                    # Counted before writing: once the desk holds an answer, it is counted.
                    self.answers_sent += 1
                    write(answer)
                except OSError:  # the desk went away while we were answering
                    return "closed"
        return "stopped"


class _Line(ABC):
    """An emulator served in a background thread."""

    def __init__(self, emulator: TlaEmulator) -> None:
        self.emulator = emulator
        self._stop = threading.Event()
        # Waited on instead of Thread.join(): a join interrupted by Ctrl+C can leave the thread
        # looking finished while it still runs, and its clean-up would then never happen.
        self._done = threading.Event()
        self.error: BaseException | None = None

    def _start_thread(self, name: str) -> None:
        threading.Thread(target=self._guarded, name=name, daemon=True).start()

    def _guarded(self) -> None:
        try:
            self._run()
        except BaseException as error:  # kept for the caller: a thread's exception is lost
            self.error = error
        finally:
            self._done.set()

    @abstractmethod
    def _run(self) -> None:
        """Serve until stopped."""

    def stop(self) -> None:
        self._stop.set()
        self._done.wait(timeout=5)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the line stops by itself (or *timeout*); True if it has stopped."""
        return self._done.wait(timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class PtyLine(_Line):
    """The emulator on the master side of a new pseudo-terminal; the desk opens :attr:`port`.

    The slave is set raw before anything is written, and kept open here so that desk sessions
    can come and go without the master seeing a hang-up. After a planned hang-up, *reopen* makes
    a new pseudo-terminal (a new path, announced through *on_port* and the *link* symlink);
    otherwise the line stops.
    """

    def __init__(
        self,
        emulator: TlaEmulator,
        *,
        reopen: bool = False,
        link: str | Path | None = None,
        on_port: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(emulator)
        self.reopen = reopen
        self.link = Path(link) if link else None
        self.on_port = on_port
        self._master, self._slave, self.port = self._open()
        self._start_thread("tla-pty")

    def _open(self) -> tuple[int, int, str]:
        import tty

        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        path = os.ttyname(slave)
        if self.link is not None:
            temporary = self.link.with_name(self.link.name + ".new")
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(path)
            os.replace(temporary, self.link)
        if self.on_port is not None:
            self.on_port(path)
        return master, slave, path

    def _close(self) -> None:
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def _read(self, timeout: float) -> bytes | None:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self._master, 4096)
        except BlockingIOError:
            return b""
        except OSError:
            return None

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            _, ready, _ = select.select([], [self._master], [], 0.05)
            if ready:
                try:
                    view = view[os.write(self._master, view) :]
                except BlockingIOError:
                    continue

    def _run(self) -> None:
        try:
            while True:
                outcome = self.emulator.serve(self._read, self._write, self._stop)
                if outcome != "hangup" or not self.reopen or self._stop.is_set():
                    return
                self._close()
                self._master, self._slave, self.port = self._open()
        finally:
            self._close()
            if self.link is not None:
                self.link.unlink(missing_ok=True)


class TcpLine(_Line):
    """The emulator on a TCP port of 127.0.0.1 (*port* 0: any free one); the desk opens
    :attr:`url` (``socket://127.0.0.1:PORT``). One connection at a time, like a serial line;
    after a hang-up or a disconnection it waits for the next one."""

    def __init__(self, emulator: TlaEmulator, port: int = 0, host: str = "127.0.0.1") -> None:
        super().__init__(emulator)
        self._server = socket.create_server((host, port))
        self.host = host
        self.port = self._server.getsockname()[1]
        self.url = f"socket://{host}:{self.port}"
        self._start_thread("tla-tcp")

    def _run(self) -> None:
        with self._server:
            while not self._stop.is_set():
                ready, _, _ = select.select([self._server], [], [], 0.05)
                if not ready:
                    continue
                connection, _ = self._server.accept()
                with connection:
                    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self.emulator.serve(
                        lambda timeout, c=connection: _receive(c, timeout),
                        connection.sendall,
                        self._stop,
                    )
                    try:
                        connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass


def _receive(connection: socket.socket, timeout: float) -> bytes | None:
    ready, _, _ = select.select([connection], [], [], timeout)
    if not ready:
        return b""
    try:
        return connection.recv(4096) or None
    except OSError:
        return None
