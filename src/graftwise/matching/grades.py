"""Per-position match grades (matching.md §4.1–§4.4, §4.6).

Bochtler W et al., WMDA matching framework, *Bone Marrow Transplant* 2011;46:338; semantics aligned with
Anthony Nolan's Atlas grading calculators (read for facts only).
"""

from __future__ import annotations

import enum
import itertools

from graftwise.hla.names import fields_of
from graftwise.matching.typing import PositionKind, PositionTyping, SerologySubtype, TypingInterpreter


class MatchGrade(enum.Enum):
    """The full grade scale, worst → best (§4.6). ``Unknown`` is last but not "best": only untyped DPB1 gets it."""

    MISMATCH = "Mismatch"
    EXPRESSING_VS_NULL = "ExpressingVsNull"
    BROAD = "Broad"
    SPLIT = "Split"
    ASSOCIATED = "Associated"
    NULL_MISMATCH = "NullMismatch"
    NULL_PARTIAL = "NullPartial"
    NULL_CDNA = "NullCDna"
    NULL_GDNA = "NullGDna"
    P_GROUP = "PGroup"
    G_GROUP = "GGroup"
    PROTEIN = "Protein"
    CDNA = "CDna"
    GDNA = "GDna"
    UNKNOWN = "Unknown"

    @property
    def ordinal(self) -> int:
        return _GRADE_ORDER[self]


_GRADE_ORDER = {g: i for i, g in enumerate(MatchGrade)}


class LocusCategory(enum.Enum):
    """Locus match category, worst → best: Unknown < Mismatch < PermissiveMismatch < Match (§4.10)."""

    UNKNOWN = "Unknown"
    MISMATCH = "Mismatch"
    PERMISSIVE_MISMATCH = "PermissiveMismatch"
    MATCH = "Match"

    @property
    def ordinal(self) -> int:
        return _CATEGORY_ORDER[self]


_CATEGORY_ORDER = {c: i for i, c in enumerate(LocusCategory)}

_MISMATCH_GRADES = frozenset({MatchGrade.MISMATCH, MatchGrade.NULL_MISMATCH})


def grade_category(grade: MatchGrade) -> LocusCategory:
    """Grade → locus category (§4.6): ExpressingVsNull counts as Match so the expressing partner decides."""
    if grade is MatchGrade.UNKNOWN:
        return LocusCategory.UNKNOWN
    if grade in _MISMATCH_GRADES:
        return LocusCategory.MISMATCH
    return LocusCategory.MATCH


def grade(interp: TypingInterpreter, patient: PositionTyping, donor: PositionTyping) -> MatchGrade:
    """Grade one patient position against one donor position (§4.1, first matching rule wins).

    Untyped positions take the default grade of §4.6: ``PGroup``, or ``Unknown`` at DPB1.
    """
    if patient.is_untyped or donor.is_untyped:
        return MatchGrade.UNKNOWN if patient.locus == "DPB1" else MatchGrade.P_GROUP
    if patient.is_new or donor.is_new:
        return MatchGrade.MISMATCH
    if PositionKind.SEROLOGY in (patient.kind, donor.kind):
        return serology_grade(interp, patient, donor)
    if patient.is_null != donor.is_null:
        return MatchGrade.EXPRESSING_VS_NULL
    if patient.is_null:
        return max(
            (_null_grade(interp, p, d) for p, d in itertools.product(patient.alleles, donor.alleles)),
            key=lambda g: g.ordinal,
        )
    if PositionKind.MULTIPLE in (patient.kind, donor.kind):
        return _multiple_grade(patient, donor)
    # rule 5 (truncations: the maximum over allele pairs) and rule 6 (single alleles) share one path; nulls inside a
    # truncation are ignored like nulls inside any multiple-allele typing (§2 rule 2).
    return _max_allele_grade(interp, patient, donor)


def _max_allele_grade(interp: TypingInterpreter, patient: PositionTyping, donor: PositionTyping) -> MatchGrade:
    """The maximum of :func:`_allele_grade` over every pair of expressing alleles (§4.1 rule 5), without building
    the pairs: each grade of §4.2 holds for some pair iff the matching keys of the two sides intersect."""
    ps, ds = patient.expressing, donor.expressing
    if len(ps) * len(ds) <= 16:
        return max((_allele_grade(interp, p, d) for p, d in itertools.product(ps, ds)), key=lambda g: g.ordinal)
    pk, dk = interp.allele_keys(patient), interp.allele_keys(donor)
    if pk.gdna & dk.gdna:
        return MatchGrade.GDNA
    if pk.full_three & dk.full_three:
        return MatchGrade.CDNA
    if pk.full_two & dk.full_two:
        return MatchGrade.PROTEIN
    if patient.ggroups & donor.ggroups:
        return MatchGrade.G_GROUP
    if patient.pgroups & donor.pgroups:
        return MatchGrade.P_GROUP
    return MatchGrade.MISMATCH


def _multiple_grade(patient: PositionTyping, donor: PositionTyping) -> MatchGrade:
    """§4.1 rule 4: identical information or a shared G group → GGroup; shared P group → PGroup."""
    if patient.expressing == donor.expressing or patient.ggroups & donor.ggroups:
        return MatchGrade.G_GROUP
    if patient.pgroups & donor.pgroups:
        return MatchGrade.P_GROUP
    return MatchGrade.MISMATCH


def _full(interp: TypingInterpreter, allele: str) -> bool:
    status = interp.nom.tables.status.get(allele)
    return status is not None and status.full


def _gdna(interp: TypingInterpreter, allele: str) -> bool:
    status = interp.nom.tables.status.get(allele)
    return status is not None and status.full and status.gdna


def _allele_grade(interp: TypingInterpreter, p: str, d: str) -> MatchGrade:
    """§4.2: two single expressing alleles (first rule that holds). Alleles missing from Allele_status count as
    partial sequences, so they never grade above GGroup."""
    both_full = _full(interp, p) and _full(interp, d)
    if p == d and _gdna(interp, p):
        return MatchGrade.GDNA
    if both_full and (p == d or fields_of(p, 3) == fields_of(d, 3)):
        return MatchGrade.CDNA
    if both_full and fields_of(p, 2) == fields_of(d, 2):
        return MatchGrade.PROTEIN
    if interp.ggroup(p) == interp.ggroup(d):
        return MatchGrade.G_GROUP
    if interp.pgroup(p) == interp.pgroup(d):
        return MatchGrade.P_GROUP
    return MatchGrade.MISMATCH


def _null_grade(interp: TypingInterpreter, p: str, d: str) -> MatchGrade:
    """§4.3: two single null alleles."""
    if p != d:
        return MatchGrade.NULL_MISMATCH
    if _gdna(interp, p):
        return MatchGrade.NULL_GDNA
    if _full(interp, p):
        return MatchGrade.NULL_CDNA
    return MatchGrade.NULL_PARTIAL


_SPLIT_LIKE = (SerologySubtype.SPLIT, SerologySubtype.NOT_SPLIT)


def serology_grade(interp: TypingInterpreter, patient: PositionTyping, donor: PositionTyping) -> MatchGrade:
    """§4.4 (WMDA SI levels), over the direct and indirect matching serologies of each side."""
    shared = patient.direct & donor.direct
    kinds = {interp.subtype(a) for a in shared}
    if SerologySubtype.ASSOCIATED in kinds:
        return MatchGrade.ASSOCIATED
    if kinds & set(_SPLIT_LIKE):
        return MatchGrade.SPLIT
    for one, other in ((patient, donor), (donor, patient)):
        # a direct split/not-split that the other side reaches only through one of its direct associated antigens
        assoc_parents = {
            interp.relatives(b)[0] for b in other.direct if interp.subtype(b) is SerologySubtype.ASSOCIATED
        }
        if any(interp.subtype(a) in _SPLIT_LIKE and a in assoc_parents for a in one.direct):
            return MatchGrade.SPLIT
    if SerologySubtype.BROAD in kinds:
        return MatchGrade.BROAD
    for one, other in ((patient, donor), (donor, patient)):
        reached = {
            r
            for b in other.direct
            if interp.subtype(b) in (SerologySubtype.SPLIT, SerologySubtype.ASSOCIATED)
            for r in interp.relatives(b)
        }
        if any(interp.subtype(a) is SerologySubtype.BROAD and a in reached for a in one.direct):
            return MatchGrade.BROAD
    return MatchGrade.MISMATCH
