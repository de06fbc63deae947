"""The card side of vsmartcard's vpcd virtual reader: an emulated card seen through pcscd.

vpcd (the pcscd driver) listens on TCP; this program connects to it: connected = card inserted,
connection closed = card removed. Every message, both ways, is a 2-byte big-endian length and a
payload. One-byte messages from vpcd are controls: ``00`` power off, ``01`` power on, ``02``
reset (no reply to any of them), ``04`` get ATR (reply: the ATR; sent at every presence poll).
Longer messages are command APDUs: the reply is data + SW1 SW2.

Run::

    python -m tuibill.hardware.cards.vpcd_emulator --port 35963 --card vitale2
    python -m tuibill.hardware.cards.vpcd_emulator --card vitale2 --beneficiaries famille.json \\
        --get-response --long-lengths --zero-padding 64
    python -m tuibill.hardware.cards.vpcd_emulator --card cps --pin 1234 --tries-left 1
    python -m tuibill.hardware.cards.vpcd_emulator --card vitale2 --pull-after 3

The card stays in until vpcd closes the connection, the process is stopped (Ctrl-C: card
removed), or ``--pull-after N`` pulls it: the (N+1)-th APDU gets no answer at all.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

from tuibill.hardware.cards.emulator_cards import (
    CARD_KINDS,
    EmulatedCard,
    Quirks,
    VitaleLayout,
    load_people,
    make_card,
)

DEFAULT_PORT = 35963  # vpcd's first slot (CHANNELID 0x8C7B in /etc/reader.conf.d/vpcd)
CONTROL_POWER_OFF, CONTROL_POWER_ON, CONTROL_RESET, CONTROL_GET_ATR = 0x00, 0x01, 0x02, 0x04


def _quick_ack(sock: socket.socket) -> None:
    # vpcd sends length and payload in two send() calls with Nagle on: without an immediate
    # ACK each APDU waits for the 40 ms delayed-ACK timer. Linux resets the flag, so set it
    # before every recv.
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        except OSError:
            pass


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        _quick_ack(sock)
        try:
            chunk = sock.recv(size - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


class VpcdEmulator:
    """One emulated card in one vpcd slot. ``insert()`` connects, ``remove()`` disconnects."""

    def __init__(
        self,
        card: EmulatedCard,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        pull_after: int | None = None,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.pull_after = pull_after
        self.apdus: list[bytes] = []  # every command APDU received (tests check what was sent)
        self.pulled = threading.Event()
        self._on_event = on_event or (lambda _message: None)
        self._sock: socket.socket | None = None
        self._sock_lock = threading.Lock()  # the serving thread and remove() both close
        self._thread: threading.Thread | None = None

    def connect(self, timeout: float = 10.0) -> None:
        """Connect to vpcd (retrying until ``timeout``: pcscd may still be loading the driver)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2.0)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._on_event(f"carte « {self.card.label} » insérée ({self.host}:{self.port})")

    def insert(self, timeout: float = 10.0) -> None:
        """Connect and serve in a background thread."""
        self.connect(timeout)
        self._thread = threading.Thread(target=self.serve, name=f"vpcd-{self.port}", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Take the card out (close the connection) and wait for the serving thread."""
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10.0)
        self._close()

    def _close(self) -> None:
        with self._sock_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
            self._on_event(f"carte « {self.card.label} » retirée")

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(len(payload).to_bytes(2, "big") + payload)

    def serve(self) -> None:
        """Answer vpcd until it closes the connection, ``remove()`` is called or the card is
        pulled."""
        sock = self._sock
        if sock is None:
            raise RuntimeError("not connected")
        try:
            while True:
                header = _recv_exact(sock, 2)
                if header is None:
                    return
                payload = _recv_exact(sock, int.from_bytes(header, "big"))
                if payload is None:
                    return
                if len(payload) == 1:
                    self._control(sock, payload[0])
                    continue
                if self.pull_after is not None and len(self.apdus) >= self.pull_after:
                    self.pulled.set()
                    self._on_event("carte arrachée pendant la lecture")
                    return  # no answer: the finally below closes the connection
                self.apdus.append(payload)
                self._send(sock, self.card.process(payload))
        except OSError:
            return
        finally:
            self._close()

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == CONTROL_GET_ATR:
            self._send(sock, self.card.atr)
        elif code == CONTROL_POWER_ON:
            self.card.power_on()
        elif code == CONTROL_POWER_OFF:
            self.card.power_off()
        elif code == CONTROL_RESET:
            self.card.reset()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tuibill.hardware.cards.vpcd_emulator",
        description="Carte émulée pour le lecteur virtuel vpcd (vsmartcard) : la connexion TCP "
        "vaut insertion, la déconnexion retrait.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="adresse de vpcd (127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port de l'emplacement vpcd")
    parser.add_argument("--card", choices=CARD_KINDS, default="vitale2", help="type de carte")
    parser.add_argument(
        "--beneficiaries",
        metavar="FICHIER.json",
        help="Vitale : bénéficiaires (liste d'objets last_name, first_name, birth_date, nir, rank)",
    )
    parser.add_argument(
        "--long-lengths", action="store_true", help="Vitale : longueurs TLV en forme longue (81 xx)"
    )
    parser.add_argument(
        "--zero-padding",
        type=int,
        default=0,
        metavar="N",
        help="Vitale : N octets 00 après les données des fichiers",
    )
    parser.add_argument(
        "--name-width",
        type=int,
        default=0,
        metavar="N",
        help="Vitale : noms complétés d'espaces jusqu'à N caractères",
    )
    parser.add_argument("--name", help="CPS/CPE : nom du porteur")
    parser.add_argument("--ps-number", help="CPS/CPE : numéro de professionnel")
    parser.add_argument("--specialty", help="CPS/CPE : code spécialité")
    parser.add_argument("--pin", default="1234", help="CPS/CPE : code porteur (1234)")
    parser.add_argument(
        "--tries-left", type=int, default=3, help="CPS/CPE : essais restants (0 : carte bloquée)"
    )
    parser.add_argument(
        "--key-file",
        metavar="CLE.pem",
        help="CPS/CPE : clé privée RSA (PEM, sans mot de passe) ; sinon générée",
    )
    parser.add_argument(
        "--get-response",
        action="store_true",
        help="répondre 61xx : données à lire par GET RESPONSE",
    )
    parser.add_argument(
        "--wrong-length",
        action="store_true",
        help="répondre 6Cxx quand Le n'est pas la longueur exacte",
    )
    parser.add_argument(
        "--pull-after",
        type=int,
        metavar="N",
        help="arracher la carte après N commandes (la suivante reste sans réponse)",
    )
    parser.add_argument(
        "--connect-timeout", type=float, default=10.0, help="attente maximale de vpcd, en secondes"
    )
    return parser


def card_from_args(args: argparse.Namespace) -> EmulatedCard:
    quirks = Quirks(get_response=args.get_response, wrong_length=args.wrong_length)
    if args.card == "vitale2":
        layout = VitaleLayout(
            long_lengths=args.long_lengths,
            zero_padding=args.zero_padding,
            name_width=args.name_width,
        )
        people = load_people(args.beneficiaries) if args.beneficiaries else None
        return make_card("vitale2", people=people, layout=layout, quirks=quirks)
    if args.card in ("cps", "cpe"):
        options: dict[str, object] = {
            "pin": args.pin,
            "tries_left": args.tries_left,
            "quirks": quirks,
        }
        for key in ("name", "ps_number", "specialty"):
            if getattr(args, key):
                options[key] = getattr(args, key)
        if args.key_file:
            from pathlib import Path

            from cryptography.hazmat.primitives.serialization import load_pem_private_key

            options["key"] = load_pem_private_key(Path(args.key_file).read_bytes(), password=None)
        return make_card(args.card, **options)
    return make_card(args.card, quirks=quirks)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        card = card_from_args(args)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"vpcd_emulator : carte impossible à préparer : {error}", file=sys.stderr)
        return 2

    def report(message: str) -> None:
        print(f"vpcd_emulator : {message}", file=sys.stderr, flush=True)

    emulator = VpcdEmulator(card, args.host, args.port, pull_after=args.pull_after, on_event=report)
    # SIGTERM as Ctrl-C: the card is removed cleanly (connection closed) before exiting.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        emulator.connect(args.connect_timeout)
    except OSError as error:
        report(f"vpcd injoignable sur {args.host}:{args.port} ({error})")
        return 1
    try:
        emulator.serve()
    except KeyboardInterrupt:
        emulator.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
