"""Result models of scoring and search, with the exact JSON names of matching.md §6 and §9."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graftwise.matching.confidence import MatchConfidence
from graftwise.matching.dpb1 import MismatchDirection
from graftwise.matching.grades import LocusCategory, MatchGrade


class OverallCategory(enum.Enum):
    """Overall match category over scored, non-excluded loci (§4.11)."""

    DEFINITE = "Definite"
    EXACT = "Exact"
    POTENTIAL = "Potential"
    PERMISSIVE_MISMATCH = "PermissiveMismatch"
    MISMATCH = "Mismatch"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PositionResult(_Frozen):
    """One donor position (donor orientation, §4.9 rule 4)."""

    grade: MatchGrade
    confidence: MatchConfidence
    is_antigen_match: bool | None
    serology_disagreement: bool = Field(
        description="True when the P-group filter and the serology scoring disagree at this position (§4.5)"
    )
    explanation: str


class TceInfo(_Frozen):
    """DPB1 TCE groups compared (§5.2): each side's lowest group, None when unknown."""

    permissive: bool | None
    patient_group: int | None
    donor_group: int | None


class LocusResult(_Frozen):
    positions: tuple[PositionResult, PositionResult]
    match_count: int = Field(description="2 − positions whose confidence is Mismatch (§4.10)")
    potential_count: int
    exact_count: int
    category: LocusCategory
    confidence: MatchConfidence
    mismatch_direction: MismatchDirection | None = None
    typed: bool
    included_in_aggregate: bool
    orientation: str = Field(description="'direct' (P1↔D1, P2↔D2) or 'cross' (P1↔D2, P2↔D1)")
    tce: TceInfo | None = None


class OverallResult(_Frozen):
    scored_match_count: int
    scored_potential_count: int
    scored_exact_count: int
    category: OverallCategory | None
    confidence: MatchConfidence | None
    denominator: int = Field(description="2 × (scored loci − excluded loci)")
    grade_score: float
    confidence_score: float


class ScoreResult(_Frozen):
    """One patient–donor pair scored (the ``score`` endpoint, §4)."""

    release: str
    loci: dict[str, LocusResult]
    overall: OverallResult
    antigen_match_count: int
    antigen_match_denominator: int
    typed_loci_count: int


class DonorResult(_Frozen):
    """One donor of a search (§9): matching, scoring and ranking parts."""

    rank: int
    row: int = Field(description="row of the donor in the registry arrays")
    donor_id: str | None
    donor_type: str
    registry: str | None
    population: str | None = Field(description="the donor's ethnicity/population code (§9)")
    filter_match_count: int
    filter_locus_counts: dict[str, int]
    typed_loci_count: int
    antigen_match_count: int
    loci: dict[str, LocusResult]
    overall: OverallResult
    hla: dict[str, tuple[str, str]]
    rank_reasons: list[str]
    match_prediction: dict[str, Any] | None = Field(
        default=None,
        description="match-prediction.md §1 fields (graftwise.prediction.search); None when prediction was not run",
    )
    p0_rank: int | None = Field(default=None, description="rank by P(0 mismatches) when asked for; else None")


class SearchResult(_Frozen):
    """A page of a search's ranked results, with the set-level figures of §9."""

    matching_release: str
    matching_started_at: str
    donor_count: int = Field(description="donors that passed the filter")
    filter_denominator: int = Field(description="2 × matched loci")
    scoring_denominator: int = Field(description="2 × (scored loci − excluded loci)")
    antigen_match_denominator: int = Field(description="2 × scored loci")
    offset: int
    limit: int | None
    donors: list[DonorResult]
    matching_seconds: float
    scoring_seconds: float
    unrepresented_donor_count: int | None = Field(
        default=None,
        description="donors of this page without probabilities because their own typing is unrepresented (§9); "
        "None when match prediction was not run",
    )
