"""Scoring one patient–donor pair: per-position grade, confidence and antigen match with orientation (§4.9), locus
aggregation (§4.10), DPB1 TCE refinement (§5) and the overall category and counts (§4.11, §6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from graftwise.errors import GraftwiseError
from graftwise.matching.confidence import MatchConfidence, confidence, is_antigen_match
from graftwise.matching.dpb1 import TceGroups, TceVerdict, TceVersion, tce_compare
from graftwise.matching.grades import LocusCategory, MatchGrade, grade, grade_category
from graftwise.matching.result import (
    LocusResult,
    OverallCategory,
    OverallResult,
    PositionResult,
    ScoreResult,
    TceInfo,
)
from graftwise.matching.typing import PositionKind, PositionTyping, TypingInterpreter, substitute_nulls

Pair = tuple[PositionTyping, PositionTyping]

DIRECT = (0, 1)
CROSS = (1, 0)
"""Orientation as the patient position each donor position is compared with."""

DEFAULT_GRADE_WEIGHTS: dict[MatchGrade, float] = {
    MatchGrade.GDNA: 14,
    MatchGrade.CDNA: 13,
    MatchGrade.PROTEIN: 12,
    MatchGrade.G_GROUP: 11,
    MatchGrade.P_GROUP: 10,
    MatchGrade.NULL_GDNA: 9,
    MatchGrade.NULL_CDNA: 8,
    MatchGrade.NULL_PARTIAL: 7,
    MatchGrade.ASSOCIATED: 6,
    MatchGrade.SPLIT: 5,
    MatchGrade.BROAD: 4,
    MatchGrade.EXPRESSING_VS_NULL: 3,
    MatchGrade.NULL_MISMATCH: 0,
    MatchGrade.MISMATCH: 0,
    MatchGrade.UNKNOWN: 0,
}
"""Default grade weights for the grade score (§7 item 3: published, not zeros). Nulls rank below the allele
grades they resemble; Unknown (untyped DPB1) adds nothing."""

DEFAULT_CONFIDENCE_WEIGHTS: dict[MatchConfidence, float] = {
    MatchConfidence.DEFINITE: 3,
    MatchConfidence.EXACT: 2,
    MatchConfidence.POTENTIAL: 1,
    MatchConfidence.MISMATCH: 0,
}


def normalise_pair(pair: Pair) -> Pair:
    """A locus typed at one position only is homozygous (matching.md §10.1: ``field2`` empty means field1 copied)."""
    first, second = pair
    if second.is_untyped and not first.is_untyped:
        return first, first
    if first.is_untyped and not second.is_untyped:
        return second, second
    return pair


def filter_position_match(patient: PositionTyping, donor: PositionTyping) -> bool:
    """The filter's position match (§3.1, §3.3, §3.4), on null-substituted positions: P groups intersect; untyped
    matches anything; two nulls with no P groups count as a (potential) match [design decision, §3.3]."""
    if patient.is_untyped or donor.is_untyped:
        return True
    if patient.is_null and donor.is_null:
        return True
    return bool(patient.pgroups & donor.pgroups)


def filter_locus_count(patient: Pair, donor: Pair) -> int:
    """§3.2: max over the direct and cross orientations of the number of matching position pairs."""
    p = substitute_nulls(normalise_pair(patient))
    d = substitute_nulls(normalise_pair(donor))
    direct = filter_position_match(p[0], d[0]) + filter_position_match(p[1], d[1])
    cross = filter_position_match(p[0], d[1]) + filter_position_match(p[1], d[0])
    return max(direct, cross)


@dataclass
class PairScorer:
    """Scores loci of one release; memoised per (locus, patient pair, donor pair) of typing strings."""

    interp: TypingInterpreter
    tce_version: TceVersion = TceVersion.V2
    grade_weights: Mapping[MatchGrade, float] = field(default_factory=lambda: dict(DEFAULT_GRADE_WEIGHTS))
    confidence_weights: Mapping[MatchConfidence, float] = field(
        default_factory=lambda: dict(DEFAULT_CONFIDENCE_WEIGHTS)
    )
    _memo: dict[tuple[str, bool, tuple[str, str], tuple[str, str]], LocusResult] = field(
        default_factory=dict, repr=False
    )
    _grades: dict[tuple[str, str, str], MatchGrade] = field(default_factory=dict, repr=False)
    _positions: dict[tuple[str, str, str, str, str], PositionResult] = field(default_factory=dict, repr=False)

    @cached_property
    def tce(self) -> TceGroups:
        return TceGroups(self.interp, self.tce_version)

    def score_locus(self, locus: str, patient: Pair, donor: Pair, *, included: bool = True) -> LocusResult:
        key = (locus, included, (patient[0].text, patient[1].text), (donor[0].text, donor[1].text))
        found = self._memo.get(key)
        if found is None:
            found = self._score_locus(locus, normalise_pair(patient), normalise_pair(donor), included)
            self._memo[key] = found
        return found

    def _score_locus(self, locus: str, patient: Pair, donor: Pair, included: bool) -> LocusResult:
        ps, ds = substitute_nulls(patient), substitute_nulls(donor)
        grades = {o: tuple(self._grade(patient[o[i]], donor[i]) for i in (0, 1)) for o in (DIRECT, CROSS)}
        best = max(sum(g.ordinal for g in gs) for gs in grades.values())
        kept = [o for o in (DIRECT, CROSS) if sum(g.ordinal for g in grades[o]) == best]
        confs = {o: tuple(confidence(ps[o[i]], ds[i]) for i in (0, 1)) for o in kept}
        best_c = max(sum(c.ordinal for c in cs) for cs in confs.values())
        kept = [o for o in kept if sum(c.ordinal for c in confs[o]) == best_c]
        antigen = {o: tuple(is_antigen_match(ps[o[i]], ds[i]) for i in (0, 1)) for o in kept}
        orientation = max(kept, key=lambda o: sum(a is True for a in antigen[o]))
        positions = tuple(
            self._position(
                patient[orientation[i]],
                donor[i],
                ps[orientation[i]],
                ds[i],
                grades[orientation][i],
                confs[orientation][i],
                antigen[orientation][i],
            )
            for i in (0, 1)
        )
        cats = [grade_category(p.grade) for p in positions]
        if (cats[0] is LocusCategory.UNKNOWN) != (cats[1] is LocusCategory.UNKNOWN):
            raise GraftwiseError(f"internal error: one Unknown position at {locus} ({patient}, {donor})")
        category = min(cats, key=lambda c: c.ordinal)
        mismatches = sum(p.confidence is MatchConfidence.MISMATCH for p in positions)
        potential = sum(p.confidence is MatchConfidence.POTENTIAL for p in positions)
        direction = None
        tce_info = None
        if locus == "DPB1" and category is LocusCategory.MISMATCH:
            tce = tce_compare(self.tce, patient, donor)
            tce_info = TceInfo(
                permissive=None if tce.verdict is TceVerdict.UNKNOWN else tce.verdict is TceVerdict.PERMISSIVE,
                patient_group=tce.patient_group,
                donor_group=tce.donor_group,
            )
            if tce.verdict is TceVerdict.PERMISSIVE:
                category = LocusCategory.PERMISSIVE_MISMATCH
            elif tce.verdict is TceVerdict.UNKNOWN:
                category = LocusCategory.UNKNOWN
            direction = tce.direction
        return LocusResult(
            positions=(positions[0], positions[1]),
            match_count=2 - mismatches,
            potential_count=potential,
            exact_count=2 - mismatches - potential,
            category=category,
            confidence=min((p.confidence for p in positions), key=lambda c: c.ordinal),
            mismatch_direction=direction,
            typed=not any(t.is_untyped for t in (*patient, *donor)),
            included_in_aggregate=included,
            orientation="direct" if orientation == DIRECT else "cross",
            tce=tce_info,
        )

    def _grade(self, patient: PositionTyping, donor: PositionTyping) -> MatchGrade:
        key = (patient.locus, patient.text, donor.text)
        found = self._grades.get(key)
        if found is None:
            found = self._grades[key] = grade(self.interp, patient, donor)
        return found

    def _position(
        self,
        patient: PositionTyping,
        donor: PositionTyping,
        ps: PositionTyping,
        ds: PositionTyping,
        g: MatchGrade,
        c: MatchConfidence,
        antigen: bool | None,
    ) -> PositionResult:
        """One position's result; a function of the four typings (the verdicts derive from them), so memoised."""
        key = (patient.locus, patient.text, donor.text, ps.text, ds.text)
        found = self._positions.get(key)
        if found is None:
            found = self._positions[key] = self._explain(patient, donor, ps, ds, g, c, antigen)
        return found

    def _explain(
        self,
        patient: PositionTyping,
        donor: PositionTyping,
        ps: PositionTyping,
        ds: PositionTyping,
        g: MatchGrade,
        c: MatchConfidence,
        antigen: bool | None,
    ) -> PositionResult:
        serology = PositionKind.SEROLOGY in (ps.kind, ds.kind)
        filter_match = filter_position_match(ps, ds)
        disagreement = serology and filter_match != (c is not MatchConfidence.MISMATCH)
        text = f"patient {patient.text or 'untyped'} vs donor {donor.text or 'untyped'}: grade {g.value}, " + (
            f"confidence {c.value}"
        )
        if ps is not patient or ds is not donor:
            text += f" (after null substitution: {ps.text} vs {ds.text})"
        if serology:
            text += f"; {_serology_path(ps, 'patient')}; {_serology_path(ds, 'donor')}"
            text += f"; P-group filter: {'match' if filter_match else 'mismatch'}"
            if disagreement:
                text += "; the filter and the serology scoring disagree (matching.md §4.5)"
        return PositionResult(
            grade=g, confidence=c, is_antigen_match=antigen, serology_disagreement=disagreement, explanation=text
        )

    def overall(self, loci: Mapping[str, LocusResult]) -> OverallResult:
        """§4.11 and §6 over the loci scored; loci with ``included_in_aggregate`` false are left out."""
        aggregated = {name: r for name, r in loci.items() if r.included_in_aggregate}
        confidences = [p.confidence for r in aggregated.values() for p in r.positions]
        category: OverallCategory | None = None
        lowest: MatchConfidence | None = None
        if confidences:
            lowest = min(confidences, key=lambda c: c.ordinal)
            category = _overall_category(lowest, aggregated)
        return OverallResult(
            scored_match_count=sum(r.match_count for r in aggregated.values()),
            scored_potential_count=sum(r.potential_count for r in aggregated.values()),
            scored_exact_count=sum(r.exact_count for r in aggregated.values()),
            category=category,
            confidence=lowest,
            denominator=2 * len(aggregated),
            grade_score=sum(self.grade_weights[p.grade] for r in aggregated.values() for p in r.positions),
            confidence_score=sum(
                self.confidence_weights[p.confidence] for r in aggregated.values() for p in r.positions
            ),
        )

    def score(
        self,
        patient: Mapping[str, Pair],
        donor: Mapping[str, Pair],
        loci: Sequence[str],
        excluded: Sequence[str] = (),
    ) -> ScoreResult:
        """Score every locus of ``loci`` (missing loci are untyped) and aggregate."""
        results = {
            locus: self.score_locus(
                locus,
                patient.get(locus, untyped_pair(locus)),
                donor.get(locus, untyped_pair(locus)),
                included=locus not in excluded,
            )
            for locus in loci
        }
        return ScoreResult(
            release=self.interp.release,
            loci=results,
            overall=self.overall(results),
            antigen_match_count=antigen_match_count(results),
            antigen_match_denominator=2 * len(results),
            typed_loci_count=typed_loci_count(donor),
        )


def untyped_pair(locus: str) -> Pair:
    blank = PositionTyping("", locus, PositionKind.UNTYPED)
    return blank, blank


def antigen_match_count(loci: Mapping[str, LocusResult]) -> int:
    return sum(p.is_antigen_match is True for r in loci.values() for p in r.positions)


def typed_loci_count(donor: Mapping[str, Pair]) -> int:
    """Loci typed at both positions (§6); a one-position locus counts as homozygous (typed)."""
    return sum(not normalise_pair(pair)[0].is_untyped for pair in donor.values())


def _overall_category(lowest: MatchConfidence, loci: Mapping[str, LocusResult]) -> OverallCategory:
    if lowest is MatchConfidence.DEFINITE:
        return OverallCategory.DEFINITE
    if lowest is MatchConfidence.EXACT:
        return OverallCategory.EXACT
    if lowest is MatchConfidence.POTENTIAL:
        return OverallCategory.POTENTIAL
    dpb1 = loci.get("DPB1")
    others_match = all(r.category is LocusCategory.MATCH for name, r in loci.items() if name != "DPB1")
    if dpb1 is not None and others_match and dpb1.category is LocusCategory.PERMISSIVE_MISMATCH:
        return OverallCategory.PERMISSIVE_MISMATCH
    return OverallCategory.MISMATCH


def _serology_path(t: PositionTyping, side: str) -> str:
    if t.kind is PositionKind.SEROLOGY:
        path = ", ".join(f"{a} ({how})" for a, how in t.serology_path)
        return f"{side} serology {t.text} → {path} → {len(t.pgroups)} P groups"
    direct = ", ".join(sorted(t.direct)) or "none"
    return f"{side} {t.text} maps to serology {direct} (rel_dna_ser)"
