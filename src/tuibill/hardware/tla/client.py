"""The desk side of the TLA protocol over pyserial.

``serial.serial_for_url`` means the same client drives ``/dev/ttyUSB0``, ``rfc2217://host:port``
(ser2net on a thin client), ``socket://host:port`` and ``loop://``.

One exchange: send the request frame, then read until the answer with the same sequence number
arrives. Answers to earlier requests (same line, other sequence numbers) are skipped, noise is
skipped up to the next STX. On silence, or after a damaged answer, the *same* frame is sent again
(same sequence number: the device replays its cached answer instead of executing twice), up to
``retries`` more times.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from tuibill.hardware.tla.errors import (
    FrameChecksumError,
    FrameError,
    FrameGarbageError,
    TlaChecksumError,
    TlaLineLost,
    TlaNoAnswer,
    TlaPortError,
    TlaProtocolError,
    TlaTransmissionError,
)
from tuibill.hardware.tla.frames import MAX_BODY, Frame, FrameDecoder, encode
from tuibill.hardware.tla.interface import CommandReader
from tuibill.hardware.tla.protocol import (
    BASE_VERSION,
    ERROR_RESPONSE,
    PROTOCOL_VERSIONS,
    Command,
    decode_payload,
    encode_payload,
    parse_error,
)

POLL = 0.02  # seconds per read call: how fast a stop, a timeout or a quiet line is noticed
QUIET_AFTER_DAMAGE = 0.1  # a damaged answer followed by this much silence: resend at once


def _seconds(value: float) -> str:
    return f"{value:g}".replace(".", ",")


class TlaClient(CommandReader):
    """A portable reader on a serial line (or anything pyserial opens by URL).

    *timeout* is the silence, in seconds, after which an attempt is given up; *retries* is how
    many times a request is sent again after the first attempt; *versions* the protocol
    versions offered at IDENTIFY (default: all this software speaks).
    """

    def __init__(
        self,
        url: str,
        baudrate: int = 9600,
        timeout: float = 2.0,
        retries: int = 3,
        *,
        versions: Sequence[int] = PROTOCOL_VERSIONS,
    ) -> None:
        import serial

        super().__init__(versions)
        self.url = url
        self.baudrate = baudrate
        self.timeout = timeout
        self.retries = max(0, retries)
        # pty and tty vanish with three kinds of errors (see docs/formats/tla-protocol.md).
        self._line_errors: tuple[type[BaseException], ...] = (serial.SerialException, OSError)
        try:
            import termios

            self._line_errors += (termios.error,)
        except ImportError:  # not a POSIX system: no termios errors to expect
            pass
        try:
            self._port = serial.serial_for_url(
                url,
                baudrate=baudrate,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                timeout=POLL,
                write_timeout=timeout + self._transfer_time(MAX_BODY),
            )
        except (serial.SerialException, ValueError, OSError) as error:
            raise TlaPortError(
                f"Impossible d'ouvrir la liaison avec le lecteur portable « {url} » ({error}). "
                "Vérifiez le câble, le port configuré (devices.tla_url) et les droits d'accès "
                "(groupe « dialout »)."
            ) from None
        self._decoder = FrameDecoder()
        # A random start makes it unlikely that a new session's first request looks like a
        # retry of the previous session's last one.
        self._seq = random.randrange(256)
        try:
            self._port.reset_input_buffer()  # what an earlier session left unread
        except self._line_errors as error:
            self.close()
            self._lost(error)

    def _transfer_time(self, size: int) -> float:
        return size * 10 / max(self.baudrate, 1)  # 8N1: 10 bits per byte

    def close(self) -> None:
        try:
            self._port.close()
        except self._line_errors:
            pass

    def _lost(self, error: BaseException) -> NoReturn:
        raise TlaLineLost(
            f"Liaison perdue avec le lecteur portable « {self.url} » ({error}). "
            "Vérifiez qu'il est branché et allumé, puis relancez l'opération."
        ) from None

    # --- One exchange -------------------------------------------------------------------------

    def _call(self, command: Command, payload: dict[str, Any]) -> dict[str, Any]:
        version = BASE_VERSION if command is Command.IDENTIFY else self.protocol_version
        self._seq = (self._seq + 1) % 256
        request = encode(Frame(version, self._seq, command, encode_payload(payload)))
        attempts = self.retries + 1
        damage: FrameError | None = None
        for _ in range(attempts):
            self._send(request)
            answer = self._await(self._seq)
            if isinstance(answer, Frame):
                return self._interpret(answer, command, version)
            damage = answer or damage
        if damage is not None:
            checksum = isinstance(damage, FrameChecksumError)
            cls = TlaChecksumError if checksum else TlaTransmissionError
            what = "somme de contrôle fausse" if checksum else "réponse illisible"
            raise cls(
                f"Erreur de transmission avec le lecteur portable : {what} après {attempts} "
                f"essai(s) ({damage}). Vérifiez le câble et la vitesse de la liaison "
                f"({self.baudrate} bauds)."
            )
        raise TlaNoAnswer(
            f"Le lecteur portable ne répond pas ({attempts} essai(s), {_seconds(self.timeout)} s "
            f"d'attente chacun, port « {self.url} »). Vérifiez qu'il est allumé, relié et en "
            "mode liaison, puis recommencez."
        )

    def _send(self, request: bytes) -> None:
        import serial

        try:
            self._port.write(request)
        except serial.SerialTimeoutException:
            return  # the device does not take data: counted as an attempt without answer
        except self._line_errors as error:
            self._lost(error)

    def _await(self, seq: int) -> Frame | FrameError | None:
        """The answer to *seq*; or, if the attempt failed, the last damage seen (None: silence)."""
        start = last_byte = time.monotonic()
        # Even a device that never stops talking must give a frame within this budget.
        budget = self.timeout + 2 * self._transfer_time(MAX_BODY)
        damage: FrameError | None = None
        while True:
            now = time.monotonic()
            quiet = now - last_byte
            if (
                quiet >= self.timeout
                or now - start >= budget
                or (damage is not None and quiet >= min(QUIET_AFTER_DAMAGE, self.timeout))
            ):
                return damage
            try:
                data = self._port.read(self._port.in_waiting or 1)
            except self._line_errors as error:
                self._lost(error)
            if not data:
                continue
            last_byte = time.monotonic()
            for event in self._decoder.feed(data):
                if isinstance(event, FrameGarbageError):
                    continue  # noise between frames: not an answer, keep listening
                if isinstance(event, FrameError):
                    damage = event
                elif event.seq == seq:
                    return event
                # else: a late answer to an earlier request (its retry was answered first)

    def _interpret(self, frame: Frame, command: Command, version: int) -> dict[str, Any]:
        if frame.code == ERROR_RESPONSE:
            raise parse_error(decode_payload(frame.payload))
        if frame.code != command.response or frame.version != version:
            raise TlaProtocolError(
                f"Réponse inattendue du lecteur portable à la commande {command.name} "
                f"(code {frame.code:02X}, version {frame.version})."
            )
        return decode_payload(frame.payload)
