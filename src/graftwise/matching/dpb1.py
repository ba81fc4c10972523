"""DPB1 T-cell-epitope (TCE) permissiveness and direction (matching.md §5; clinical.md §9.1).

Sources: Zino E et al., *Blood* 2004;103:1417 and Fleischhauer K et al., *Lancet Oncol* 2012;13:366 (TCE3 model;
the spec marks these citation details "to verify"); Crivello P et al., *BBMT* 2015;21:233 (functional distance);
Arrieta-Bolaños E et al., *Blood Adv* 2018;2:1773 (clinical association). Data: IPD-IMGT/HLA ``tce/dpb_tce.csv``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from graftwise.matching.typing import PositionTyping, TypingInterpreter


class TceVersion(enum.Enum):
    """Which assignment column of dpb_tce.csv to use (§5.1; default V2)."""

    V1 = "V1"
    V2 = "V2"


class MismatchDirection(enum.Enum):
    """Direction of a non-permissive DPB1 mismatch (§5.2)."""

    GVH = "GvH"
    HVG = "HvG"


class TceVerdict(enum.Enum):
    PERMISSIVE = "permissive"
    NON_PERMISSIVE = "non_permissive"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class TceResult:
    verdict: TceVerdict
    direction: MismatchDirection | None
    patient_group: int | None
    donor_group: int | None


def tce_group_value(assignment: str) -> int | None:
    """One assignment string → group 1, 2 or 3; ``0`` (null) and blank → None.

    Atlas compatibility (the default, §5.1): only the first character counts, so ``2a`` → 2 and ``3$`` → 3. The
    clinical meaning of ``2a`` is an open item of the spec.
    """
    value = assignment.strip()
    if not value or value[0] not in "123":
        return None
    return int(value[0])


@dataclass
class TceGroups:
    """Looks up TCE groups of DPB1 typings in one release (memoised per typing string)."""

    interp: TypingInterpreter
    version: TceVersion = TceVersion.V2
    _memo: dict[str, int | None] = field(default_factory=dict, repr=False)

    def allele_group(self, allele: str) -> int | None:
        row = self.interp.nom.tables.tce.get(allele)
        if row is None:
            return None
        return tce_group_value(row[0] if self.version is TceVersion.V1 else row[1])

    def typing_group(self, typing: PositionTyping) -> int | None:
        """The group of a position: the common group of its expressing alleles; None (unknown) when an allele has
        no assignment or the alleles disagree (an ambiguous typing cannot be classified)."""
        if typing.text in self._memo:
            return self._memo[typing.text]
        groups = {self.allele_group(a) for a in typing.expressing}
        found = groups.pop() if len(groups) == 1 else None
        self._memo[typing.text] = found
        return found


def tce_compare(
    tce: TceGroups, patient: tuple[PositionTyping, PositionTyping], donor: tuple[PositionTyping, PositionTyping]
) -> TceResult:
    """§5.2 on raw positions (nulls take their partner's group here). Compare each side's lowest group: equal →
    permissive; donor lower → non-permissive HvG; patient lower → non-permissive GvH."""
    sides: list[int | None] = []
    for pair in (patient, donor):
        if any(p.is_new or p.is_untyped for p in pair) or all(p.is_null for p in pair):
            return TceResult(TceVerdict.UNKNOWN, None, None, None)
        expressing = [p for p in pair if not p.is_null]
        groups = [tce.typing_group(p) for p in expressing]
        sides.append(None if None in groups else min(g for g in groups if g is not None))
    patient_low, donor_low = sides
    if patient_low is None or donor_low is None:
        return TceResult(TceVerdict.UNKNOWN, None, patient_low, donor_low)
    if patient_low == donor_low:
        return TceResult(TceVerdict.PERMISSIVE, None, patient_low, donor_low)
    direction = MismatchDirection.HVG if donor_low < patient_low else MismatchDirection.GVH
    return TceResult(TceVerdict.NON_PERMISSIVE, direction, patient_low, donor_low)
