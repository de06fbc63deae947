"""Card errors: each carries a French sentence fit to show at the reception desk.

Every error subclasses :class:`CardError`, itself a :class:`~tuibill.domain.errors.RefusedOperation` (CLI exit 1),
so screens and commands can catch one class. Messages never contain a PIN.
"""

from __future__ import annotations

from tuibill.domain.errors import RefusedOperation


class CardError(RefusedOperation):
    """Base of every smart-card problem."""


class PcscUnavailableError(CardError):
    """The PC/SC service (pcscd) cannot be reached."""

    def __init__(self, detail: str = "") -> None:
        message = (
            "Service pcscd injoignable : le service des lecteurs de cartes ne répond pas. "
            "Vérifiez qu'il est installé et démarré (paquet « pcscd »)."
        )
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class NoReaderError(CardError):
    """No card reader, or none matching the configured name."""


class NoCardError(CardError):
    """The reader is empty (or holds no card of the kind asked for)."""


class CardRemovedError(CardError):
    """The card was pulled (or stopped answering) during an operation: nothing was read."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "La carte a été retirée pendant l'opération : aucune donnée n'a été lue. "
            "Réinsérez la carte et recommencez."
        )


class CardDataError(CardError):
    """The card answered, but its data is malformed or inconsistent: nothing is returned."""


class UnsupportedCardError(CardError):
    """The card is of a kind this operation cannot handle."""


class Vitale1Error(UnsupportedCardError):
    """A Vitale 1 card: it cannot be read without the official SESAM-Vitale library."""

    def __init__(self) -> None:
        super().__init__(
            "Carte Vitale 1 : elle ne peut pas être lue sans la bibliothèque officielle "
            "SESAM-Vitale. Facturez en mode dégradé (feuille de soins avec pièces jointes SCOR)."
        )


class CardCommandError(CardError):
    """The card refused a command with an unexpected status word."""

    def __init__(self, command: str, sw: int) -> None:
        super().__init__(f"La carte a refusé la commande « {command} » (code retour {sw:04X}).")
        self.command = command
        self.sw = sw


class PinFormatError(CardError):
    """The PIN typed is not 4 to 8 digits (checked before anything is sent to the card)."""


class WrongPinError(CardError):
    """Wrong PIN; ``tries_left`` attempts remain before the card blocks."""

    def __init__(self, tries_left: int) -> None:
        super().__init__(f"Code porteur erroné, il reste {tries_left} essai(s).")
        self.tries_left = tries_left


class CardBlockedError(CardError):
    """The PIN is blocked (too many wrong attempts)."""

    def __init__(self) -> None:
        super().__init__(
            "Carte bloquée : trop de codes porteur erronés. Elle doit être débloquée avec son "
            "code de déblocage (voir le courrier de l'ANS) avant toute signature."
        )


class PinRequiredError(CardError):
    """The card asks for the PIN before signing."""

    def __init__(self) -> None:
        super().__init__("Code porteur requis : saisissez le code de la carte avant de signer.")
