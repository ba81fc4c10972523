"""Per-position match confidence and antigen match (matching.md §4.7, §4.8).

Both run after the null substitution of §4.7 (a single null at a locus is replaced by its expressing partner).
"""

from __future__ import annotations

import enum

from graftwise.matching.typing import PositionKind, PositionTyping


class MatchConfidence(enum.Enum):
    """Position confidence, worst → best: Mismatch < Potential < Exact < Definite (§4.7)."""

    MISMATCH = "Mismatch"
    POTENTIAL = "Potential"
    EXACT = "Exact"
    DEFINITE = "Definite"

    @property
    def ordinal(self) -> int:
        return _ORDER[self]


_ORDER = {c: i for i, c in enumerate(MatchConfidence)}


def serology_shared(patient: PositionTyping, donor: PositionTyping) -> bool:
    """Direct–direct, patient-direct–donor-indirect or patient-indirect–donor-direct overlap (§4.7 rule 3)."""
    return bool(patient.direct & donor.direct or patient.direct & donor.indirect or patient.indirect & donor.direct)


def confidence(patient: PositionTyping, donor: PositionTyping) -> MatchConfidence:
    """§4.7, rules in order, on null-substituted positions.

    ``NEW`` against any typed position is ``Mismatch`` (§3.5: NEW "mismatches everything except an untyped
    position"); rule 1 of §4.7 names only NEW vs NEW, and graftwise extends it to one side NEW so §3.5 holds.
    """
    if patient.is_untyped or donor.is_untyped:
        return MatchConfidence.POTENTIAL
    if patient.is_new or donor.is_new:
        return MatchConfidence.MISMATCH
    serology = PositionKind.SEROLOGY in (patient.kind, donor.kind)
    if serology and not serology_shared(patient, donor):
        return MatchConfidence.MISMATCH
    if not serology and not patient.pgroups & donor.pgroups:
        # two typings with no P groups at all (both null) are Potential, not Mismatch (§4.7 rule 3′)
        if patient.is_null and donor.is_null:
            return MatchConfidence.POTENTIAL
        return MatchConfidence.MISMATCH
    if patient.kind is PositionKind.SINGLE_ALLELE and donor.kind is PositionKind.SINGLE_ALLELE:
        return MatchConfidence.DEFINITE
    if not serology and len(patient.pgroups) == 1 and len(donor.pgroups) == 1:
        return MatchConfidence.EXACT
    return MatchConfidence.POTENTIAL


def is_antigen_match(patient: PositionTyping, donor: PositionTyping) -> bool | None:
    """§4.8 on null-substituted positions. At DPB1 a ``false`` becomes ``null`` when neither side has a serological
    equivalent (Atlas #1073: a misleading false)."""
    if patient.is_untyped or donor.is_untyped:
        return None
    molecular = patient.kind.is_molecular and donor.kind.is_molecular
    if molecular and not patient.is_null and not donor.is_null and patient.pgroups & donor.pgroups:
        return True
    if (patient.direct | patient.indirect) & donor.direct:
        return True
    if patient.locus == "DPB1" and not patient.direct and not donor.direct:
        return None
    return False
