"""The errors of every file format: a French sentence naming the record and the field."""

from __future__ import annotations

from tuibill.domain.errors import TuibillError


class FormatError(TuibillError):
    """A file (or content to write) that its format refuses.

    ``str(error)`` is a French sentence naming the record (number and type) and the field;
    the attributes give the same facts to code (``field`` is the dataclass attribute name).
    """

    def __init__(
        self,
        message: str,
        *,
        record_number: int | None = None,
        record_type: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.record_number = record_number
        self.record_type = record_type
        self.field = field


class ChecksumError(FormatError):
    """The file's checksum does not match its content: it was altered or truncated in transit."""


class UnsupportedVersionError(FormatError):
    """A well-formed header announcing a format version this codec does not read."""
