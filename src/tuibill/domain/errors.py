"""Errors the domain and services raise, each carrying a French message for the user."""

from __future__ import annotations


class TuibillError(Exception):
    """Base: ``str(error)`` is a French sentence fit to show to the user."""


class RefusedOperation(TuibillError):
    """A business rule refuses the operation (CLI exit status 1)."""


class ValidationError(RefusedOperation):
    """Bad input, optionally tied to a form field so a screen can show it there."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class IllegalTransition(RefusedOperation):
    """A state change that the life cycle table does not allow."""


class NotFound(RefusedOperation):
    """The record asked for does not exist."""


class ConfigError(TuibillError):
    """A wrong or missing setting (CLI exit status 2)."""

    def __init__(self, message: str, file: str | None = None, key: str | None = None) -> None:
        where = ""
        if file and key:
            where = f"{file} : clé « {key} » : "
        elif file:
            where = f"{file} : "
        elif key:
            where = f"clé « {key} » : "
        super().__init__(where + message)
        self.file = file
        self.key = key


class Forbidden(RefusedOperation):
    """The logged-in user's role does not allow the action (the message names who may)."""


class AuthenticationFailed(RefusedOperation):
    """Wrong login, password or PIN, or a disabled account."""
