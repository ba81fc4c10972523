"""The root of every error graftwise raises on purpose.

Each error says what was wrong and what was expected; the CLI turns it into one clear line and a non-zero exit.
"""

from __future__ import annotations


class GraftwiseError(Exception):
    """Base class of all graftwise errors.

    ``str(error)`` is the full message. ``code`` is a short machine-readable reason (``"missing_file"``,
    ``"not_in_release"``, …); ``field`` names the input field, token or line that was wrong, when there is one.
    """

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def __str__(self) -> str:
        return self.message


class ValidationError(GraftwiseError):
    """An input value is impossible, contradictory or missing; ``field`` names it."""

    code = "invalid_input"


class ReferenceDataError(GraftwiseError):
    """Reference data is missing, malformed or fails its checksum."""

    code = "reference_data"
