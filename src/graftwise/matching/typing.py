"""One position's typing, interpreted for matching and scoring (matching.md §2).

:class:`TypingInterpreter` turns a typing string (allele, truncation, allele string, MAC, XX, G/P/small-g group,
serology, ``NEW``) into a :class:`PositionTyping`: its P groups, whether it is a null, its kind, and its matching
serologies (direct and indirect, §4.4). Results are memoised per distinct string, so a registry with millions of
donors interprets each string once per release (§2, last paragraph).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from graftwise.errors import ValidationError
from graftwise.hla import GLSyntaxError, HLAError, InvalidGroupNameError, Nomenclature, TokenKind, parse_token
from graftwise.hla.names import fields_of, is_null_name

MATCH_LOCI = ("A", "B", "C", "DQB1", "DRB1")
"""Loci that may be used as match criteria (§1); DPB1 is scored, never matched."""
SCORE_LOCI = ("A", "B", "C", "DQB1", "DRB1", "DPB1")
"""Loci that may be scored (§1); also the loci a patient or donor may carry."""

_SEROLOGY_LOCUS = {"A": "A", "B": "B", "Cw": "C", "DR": "DRB1", "DQ": "DQB1", "DP": "DPB1"}


class PositionKind(enum.Enum):
    """What one position's typing is, as the grade calculator chooser needs it (§4.1)."""

    UNTYPED = "untyped"
    NEW = "new"
    SINGLE_ALLELE = "single_allele"
    ALLELE_NAME = "allele_name"  # an allele name that maps to several alleles (a truncation), rule 5
    MULTIPLE = "multiple"  # allele string, MAC, XX, G, P or small-g group, rule 4
    SEROLOGY = "serology"

    @property
    def is_molecular(self) -> bool:
        return self in (PositionKind.SINGLE_ALLELE, PositionKind.ALLELE_NAME, PositionKind.MULTIPLE)


class SerologySubtype(enum.Enum):
    """Place of an antigen in rel_ser_ser (WMDA): broad, split, associated, or none of them."""

    BROAD = "broad"
    SPLIT = "split"
    ASSOCIATED = "associated"
    NOT_SPLIT = "not_split"


@dataclass(frozen=True)
class PositionTyping:
    """One position interpreted (§2).

    ``alleles`` are all current full names the typing can mean, nulls included; ``expressing`` drops the nulls.
    ``pgroups`` are the P groups of the expressing alleles (an expressing allele with no named P group is its own
    group, rule 1); for serology they come from the matching serologies (§4.5). ``direct`` and ``indirect`` are the
    matching serologies (§4.4). ``is_null`` is true for a typing whose every allele is null (a single null allele or
    a short null); nulls inside a multiple-allele typing are ignored (rule 2).
    """

    text: str
    locus: str
    kind: PositionKind
    alleles: frozenset[str] = frozenset()
    expressing: frozenset[str] = frozenset()
    pgroups: frozenset[str] = frozenset()
    ggroups: frozenset[str] = frozenset()
    is_null: bool = False
    direct: frozenset[str] = frozenset()
    indirect: frozenset[str] = frozenset()
    serology_path: tuple[tuple[str, str], ...] = ()
    """For serology: (antigen, how it relates) pairs that produced the P groups (§4.5 explanation)."""

    @property
    def is_untyped(self) -> bool:
        return self.kind is PositionKind.UNTYPED

    @property
    def is_new(self) -> bool:
        return self.kind is PositionKind.NEW

    @property
    def serologies(self) -> frozenset[str]:
        return self.direct | self.indirect


UNTYPED_TEXT = ""


@dataclass(frozen=True)
class AlleleKeys:
    """Keys of a typing's expressing alleles for the §4.2 grades: gDNA-complete names, and the 3-field and 2-field
    names of its full-sequence alleles."""

    gdna: frozenset[str]
    full_three: frozenset[str]
    full_two: frozenset[str]


@dataclass
class TypingInterpreter:
    """Interprets typing strings in one release, memoised per (locus, string, lenient)."""

    nom: Nomenclature = field(repr=False)
    _memo: dict[tuple[str, str, bool], PositionTyping] = field(default_factory=dict, repr=False)
    _keys: dict[tuple[str, str], AlleleKeys] = field(default_factory=dict, repr=False)

    @property
    def release(self) -> str:
        return self.nom.release

    def __repr__(self) -> str:
        return f"TypingInterpreter(release={self.release!r})"

    # ---- serology relations (rel_ser_ser) ------------------------------------------------------------------------

    @cached_property
    def _broad_of(self) -> dict[str, str]:
        return {s: broad for broad, splits in self.nom.tables.splits.items() for s in splits}

    @cached_property
    def _parent_of(self) -> dict[str, str]:
        """Associated antigen → the antigen it is associated with (``A2403`` → ``A24``)."""
        return {a: parent for parent, assoc in self.nom.tables.associated.items() for a in assoc}

    def subtype(self, antigen: str) -> SerologySubtype:
        if antigen in self.nom.tables.splits:
            return SerologySubtype.BROAD
        if antigen in self._parent_of:
            return SerologySubtype.ASSOCIATED
        if antigen in self._broad_of:
            return SerologySubtype.SPLIT
        return SerologySubtype.NOT_SPLIT

    def relatives(self, antigen: str) -> tuple[str, ...]:
        """The indirect matching serologies of ``antigen`` in rel_ser_ser: a broad's splits and their associated
        antigens; a split's broad and its associated antigens; an associated antigen's parent (and the parent's
        broad); a not-split antigen's associated antigens."""
        tables = self.nom.tables
        out: list[str] = []
        kind = self.subtype(antigen)
        if kind is SerologySubtype.BROAD:
            for s in tables.splits[antigen]:
                out += [s, *tables.associated.get(s, ())]
            out += tables.associated.get(antigen, ())
        elif kind is SerologySubtype.ASSOCIATED:
            parent = self._parent_of[antigen]
            out.append(parent)
            if parent in self._broad_of:
                out.append(self._broad_of[parent])
        else:
            if kind is SerologySubtype.SPLIT:
                out.append(self._broad_of[antigen])
            out += tables.associated.get(antigen, ())
        return tuple(dict.fromkeys(a for a in out if a != antigen))

    @cached_property
    def _alleles_of_antigen(self) -> dict[str, frozenset[str]]:
        """Antigen → alleles that rel_dna_ser assigns to it (Unambiguous, Possible, Assumed)."""
        index: dict[str, set[str]] = defaultdict(set)
        for allele, assignment in self.nom.tables.serology.items():
            for antigen in assignment.antigens:
                index[antigen].add(allele)
        return {k: frozenset(v) for k, v in index.items()}

    def allele_keys(self, typing: PositionTyping) -> AlleleKeys:
        """The §4.2 keys of a typing, memoised per (locus, text)."""
        key = (typing.locus, typing.text)
        found = self._keys.get(key)
        if found is None:
            status = self.nom.tables.status
            full = [a for a in typing.expressing if a in status and status[a].full]
            found = AlleleKeys(
                gdna=frozenset(a for a in full if status[a].gdna),
                full_three=frozenset(fields_of(a, 3) for a in full),
                full_two=frozenset(fields_of(a, 2) for a in full),
            )
            self._keys[key] = found
        return found

    # ---- groups ----------------------------------------------------------------------------------------------------

    def pgroup(self, allele: str) -> str:
        """P group of an expressing allele; one with no named P group is its own group (§2 rule 1)."""
        return self.nom.p_group_of.get(allele, allele)

    def ggroup(self, allele: str) -> str:
        return self.nom.g_group_of.get(allele, allele)

    # ---- interpretation ------------------------------------------------------------------------------------------

    def interpret(self, locus: str, text: str | None, *, lenient: bool = False) -> PositionTyping:
        """Interpret one position. ``None`` or ``""`` is untyped. Raises :class:`HLAError` for an invalid typing and
        :class:`ValidationError` for a typing of another locus."""
        text = (text or "").strip()
        key = (locus, text, lenient)
        found = self._memo.get(key)
        if found is None:
            found = self._interpret(locus, text, lenient)
            self._memo[key] = found
        return found

    def _interpret(self, locus: str, text: str, lenient: bool) -> PositionTyping:
        if not text:
            return PositionTyping(UNTYPED_TEXT, locus, PositionKind.UNTYPED)
        if text in ("NEW", f"{locus}*NEW"):
            return PositionTyping(text, locus, PositionKind.NEW)
        if "/" in text:
            return self._allele_string(locus, text, lenient)
        token = parse_token(text)
        if token.kind is TokenKind.SEROLOGY:
            return self._serology(locus, text)
        self._check_locus(locus, text, token.locus)
        if token.kind is TokenKind.LG_GROUP:
            members = self.nom.small_g_groups.get(text)
            if members is None:
                raise InvalidGroupNameError("not a small-g group name of this release", token=text)
            return self._molecular(locus, text, PositionKind.MULTIPLE, members)
        typing = self.nom.typing(text, lenient=lenient)
        if token.kind in (TokenKind.ALLELE, TokenKind.V2):
            kind = PositionKind.SINGLE_ALLELE if len(typing.alleles) == 1 else PositionKind.ALLELE_NAME
        elif token.kind is TokenKind.EXTENSION:
            raise GLSyntaxError("only NEW is accepted as a WMDA code in a search", token=text, code="unsupported_code")
        else:
            kind = PositionKind.MULTIPLE
        return self._molecular(locus, text, kind, typing.alleles)

    def _allele_string(self, locus: str, text: str, lenient: bool) -> PositionTyping:
        members: set[str] = set()
        for part in text.split("/"):
            part = part.strip()
            if not part or "*" not in part:
                # a locus-less element inherits the locus of the string (A*01:01/01:02 is common shorthand)
                if not part:
                    raise GLSyntaxError("empty element in allele string", token=text, code="empty_token")
                part = f"{locus}*{part}"
            token = parse_token(part)
            self._check_locus(locus, text, token.locus)
            if token.kind is TokenKind.SEROLOGY:
                raise GLSyntaxError("serology cannot be part of an allele string", token=text, code="mixed_string")
            members |= self.nom.typing(part, lenient=lenient).alleles
        return self._molecular(locus, text, PositionKind.MULTIPLE, frozenset(members))

    @staticmethod
    def _check_locus(locus: str, text: str, found: str) -> None:
        if found != locus:
            raise ValidationError(f"{text!r} is a typing of locus {found}, not {locus}", field=f"{locus}:{text}")

    def _molecular(self, locus: str, text: str, kind: PositionKind, alleles: frozenset[str]) -> PositionTyping:
        expressing = frozenset(a for a in alleles if not is_null_name(a))
        is_null = bool(alleles) and not expressing
        direct: set[str] = set()
        for allele in expressing:
            assignment = self.nom.tables.serology.get(allele)
            if assignment is not None:
                direct.update(assignment.antigens)
        indirect = {r for a in direct for r in self.relatives(a)} - direct
        return PositionTyping(
            text=text,
            locus=locus,
            kind=kind,
            alleles=alleles,
            expressing=expressing,
            pgroups=frozenset(self.pgroup(a) for a in expressing),
            ggroups=frozenset(self.ggroup(a) for a in expressing),
            is_null=is_null,
            direct=frozenset(direct),
            indirect=frozenset(indirect),
        )

    def _serology(self, locus: str, text: str) -> PositionTyping:
        prefix = parse_token(text).locus
        if _SEROLOGY_LOCUS.get(prefix) != locus:
            raise ValidationError(f"{text!r} is not a serological antigen of locus {locus}", field=f"{locus}:{text}")
        if text not in self.nom.known_antigens:
            raise HLAError(f"not a serological antigen of release {self.release}", token=text, code="unknown_antigen")
        related = self.relatives(text)
        path: list[tuple[str, str]] = [(text, "direct")] + [(r, "indirect") for r in related]
        expressing: set[str] = set()
        for antigen, _ in path:
            expressing.update(a for a in self._alleles_of_antigen.get(antigen, ()) if not is_null_name(a))
        return PositionTyping(
            text=text,
            locus=locus,
            kind=PositionKind.SEROLOGY,
            alleles=frozenset(expressing),
            expressing=frozenset(expressing),
            pgroups=frozenset(self.pgroup(a) for a in expressing),
            ggroups=frozenset(self.ggroup(a) for a in expressing),
            direct=frozenset((text,)),
            indirect=frozenset(related),
            serology_path=tuple(path),
        )


def substitute_nulls(pair: tuple[PositionTyping, PositionTyping]) -> tuple[PositionTyping, PositionTyping]:
    """Replace a single null position by its expressing partner (§3.3, §4.7): the locus is then treated as
    homozygous for the partner. Two nulls, or a null beside an untyped position, stay as they are."""
    first, second = pair
    if first.is_null and not second.is_null and not second.is_untyped:
        return second, second
    if second.is_null and not first.is_null and not first.is_untyped:
        return first, first
    return pair


def normalise_locus_token(locus: str, text: str) -> str:
    """Add the locus to a locus-less molecular token (``01:01`` → ``A*01:01``), as the CLI's JSON allows."""
    text = text.strip()
    if not text or text == "NEW" or "*" in text:
        return text
    if text[0].isdigit():
        return f"{locus}*{text}"
    return text


__all__ = [
    "MATCH_LOCI",
    "SCORE_LOCI",
    "PositionKind",
    "PositionTyping",
    "SerologySubtype",
    "TypingInterpreter",
    "normalise_locus_token",
    "substitute_nulls",
]
