"""Errors of the HLA nomenclature engine (hla-nomenclature.md §15).

Every error names the offending ``token`` and, inside a GL string, its ``position`` (0-based character offset), the
``release`` in use, ``suggestions`` where there are any, and ``compat_class``: the py-ard exception it corresponds to.
"""

from __future__ import annotations

from collections.abc import Sequence

from graftwise.data import UnknownReleaseError
from graftwise.errors import GraftwiseError


class HLAError(GraftwiseError):
    """Base of every HLA nomenclature error."""

    code = "hla_error"
    compat_class = "PyArdError"

    def __init__(
        self,
        message: str,
        *,
        token: str | None = None,
        position: int | None = None,
        release: str | None = None,
        code: str | None = None,
        suggestions: Sequence[str] = (),
    ) -> None:
        super().__init__(message, code=code, field=token)
        self.reason = message
        self.token = token
        self.position = position
        self.release = release
        self.suggestions = list(suggestions)

    def __str__(self) -> str:
        where = f" at position {self.position}" if self.position is not None else ""
        shown = f"{self.token!r}{where}: " if self.token is not None else ""
        return f"{shown}{self.reason}"


class GLSyntaxError(HLAError):
    """Malformed GL string: empty token, dangling or doubled operator, illegal character."""

    code = "gl_syntax"
    compat_class = "InvalidAlleleError"


class InvalidTypingError(HLAError):
    """A token that is not shaped like any HLA typing (missing colon, empty or non-numeric field, first field only)."""

    code = "invalid_typing"
    compat_class = "InvalidTypingError"


class UnknownLocusError(HLAError):
    """The locus is not one IPD-IMGT/HLA names."""

    code = "unknown_locus"
    compat_class = "InvalidAlleleError"


class InvalidAlleleError(HLAError):
    """A well-formed allele name that the release does not know."""

    code = "not_in_release"
    compat_class = "InvalidAlleleError"


class DeletedAlleleError(InvalidAlleleError):
    """A retired name with no successor (hla_nom.txt); the reason is in the message."""

    code = "deleted_no_successor"


class RenamedAlleleError(InvalidAlleleError):
    """A retired name that has a successor (strict mode only); the successor is the first suggestion."""

    code = "renamed"


class InvalidGroupNameError(HLAError):
    """A G, P or lowercase-g name that is not an official group name of the release."""

    code = "unofficial_group"
    compat_class = "InvalidAlleleError"


class InvalidMACError(HLAError):
    """An NMDP multiple allele code that is unknown, wrong for its allele group, or has no valid expansion."""

    code = "unknown_code"
    compat_class = "InvalidMACError"


class InvalidXXError(HLAError):
    """An XX code whose first field has no alleles in the release."""

    code = "no_alleles_in_group"
    compat_class = "InvalidAlleleError"


class InvalidSerologyError(HLAError):
    """A serological antigen that the release does not know."""

    code = "unknown_antigen"
    compat_class = "InvalidAlleleError"


class DRBXConsistencyError(HLAError):
    """DRB3/4/5 typings inconsistent with DRB1 (hla-nomenclature.md §14)."""

    code = "unexpected_gene"
    compat_class = "DRBXBlenderError"


ReleaseError = UnknownReleaseError

__all__ = [
    "DRBXConsistencyError",
    "DeletedAlleleError",
    "GLSyntaxError",
    "HLAError",
    "InvalidAlleleError",
    "InvalidGroupNameError",
    "InvalidMACError",
    "InvalidSerologyError",
    "InvalidTypingError",
    "InvalidXXError",
    "ReleaseError",
    "RenamedAlleleError",
    "UnknownLocusError",
]
