"""Donor HLA checks at one position, cached per distinct typing string (matching.md §10.2 item 3).

Donor import is lenient (renamed names are followed, with a warning). A position holds one typing: an allele, an
allele string (``A*01:01/A*01:02``), a MAC, an XX code, a G or P group or a serological antigen, of the position's
locus. Each distinct (locus, string) is interpreted once, so a million records cost a few thousand lookups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graftwise.hla import HLAError, Nomenclature
from graftwise.hla.gl import leaves
from graftwise.hla.names import TokenKind
from graftwise.hla.tables import SEROLOGY_PREFIX

_OTHER_GL_OPERATORS = re.compile(r"[\^|+~]")
_SEROLOGY_PREFIXES = {
    "A": ("A",),
    "B": ("B",),
    "C": ("Cw",),
    "DRB1": ("DR",),
    "DQB1": ("DQ",),
    "DRB3": ("DR",),
    "DRB4": ("DR",),
    "DRB5": ("DR",),
}


@dataclass(frozen=True)
class TypingCheck:
    """The verdict on one typing string at one locus: ``errors`` are (code, message) pairs; empty means valid."""

    errors: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def normalise_dna(locus: str, raw: str) -> str:
    """Write a DNA typing with its locus on every allele: ``01:01`` / ``*01:01`` / ``HLA-A*01:01`` → ``A*01:01``;
    ``01:01/01:02`` → ``A*01:01/A*01:02``. A serological antigen name (``A31``) is kept as it is, so a locus typed
    at DNA level at one position and serologically at the other can be written in the DNA fields."""
    parts = []
    for part in raw.strip().split("/"):
        p = part.strip().removeprefix("HLA-")
        if "*" not in p and p[:1].isdigit():
            p = f"{locus}*{p}"
        elif p.startswith("*"):
            p = locus + p
        parts.append(p)
    return "/".join(parts)


def normalise_serology(locus: str, raw: str) -> str:
    """``2`` at A → ``A2``; ``10`` at C → ``Cw10``; an antigen already written with its prefix is kept."""
    text = raw.strip()
    if text.isdigit():
        prefix = SEROLOGY_PREFIX.get(locus)
        return f"{prefix}{text}" if prefix else text
    return text


class TypingValidator:
    """Cached checks of donor typings against one release."""

    def __init__(self, nom: Nomenclature) -> None:
        self.nom = nom
        self._cache: dict[tuple[str, str], TypingCheck] = {}

    @property
    def release(self) -> str:
        return self.nom.release

    def check(self, locus: str, text: str) -> TypingCheck:
        key = (locus, text)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._check(locus, text)
        return found

    def _check(self, locus: str, text: str) -> TypingCheck:
        if m := _OTHER_GL_OPERATORS.search(text):
            return TypingCheck(
                (("not_one_position", f"{text!r}: operator {m.group()!r}; a position holds one typing ('/' lists)"),)
            )
        try:
            tree = self.nom.parse(text, lenient=True)
        except HLAError as exc:
            return TypingCheck(((exc.code, f"{text!r}: {exc}"),))
        warnings: list[str] = []
        for leaf in leaves(tree):
            typing = self.nom.typing(leaf.token, lenient=True)
            warnings.extend(f"{leaf.token}: {w}" for w in typing.warnings)
            if typing.kind is TokenKind.SEROLOGY:
                ok = typing.locus in _SEROLOGY_PREFIXES.get(locus, ()) and (
                    not typing.alleles or all(a.startswith(f"{locus}*") for a in typing.alleles)
                )
            else:
                ok = bool(typing.alleles) and all(a.startswith(f"{locus}*") for a in typing.alleles)
            if not ok:
                return TypingCheck((("wrong_locus", f"{leaf.token!r} is not a typing of locus {locus}"),))
        return TypingCheck((), tuple(warnings))
