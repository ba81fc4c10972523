"""A slow, obviously correct reference of the search: plain Python over typing strings, one donor at a time.

It shares only the position interpretation (``TypingInterpreter``, tested on its own) and the per-pair scorer
(``PairScorer.score``, tested rule by rule) with the fast path; everything the fast path does differently (bitset
index, numba kernel, null substitution by table bits, memoisation per distinct typing pair, vectorised
aggregation, lexsort ranking) is re-done here the long way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graftwise.matching.request import SearchRequest
from graftwise.matching.result import OverallCategory, ScoreResult
from graftwise.matching.score import PairScorer
from graftwise.matching.typing import PositionTyping, TypingInterpreter

LOCI = ("A", "B", "C", "DRB1", "DQB1", "DPB1")


def _pair(interp: TypingInterpreter, locus: str, texts: Sequence[str], lenient: bool) -> list[PositionTyping]:
    first, second = (texts[0] or ""), (texts[1] or "")
    if not second:
        second = first
    if not first:
        first = second
    return [interp.interpret(locus, first, lenient=lenient), interp.interpret(locus, second, lenient=lenient)]


def _position_match(p: PositionTyping, d: PositionTyping) -> bool:
    if p.is_untyped or d.is_untyped:
        return True
    if p.is_null and d.is_null:
        return True
    return len(set(p.pgroups) & set(d.pgroups)) > 0


def _expressing_view(pair: list[PositionTyping]) -> list[PositionTyping]:
    a, b = pair
    if a.is_null and not b.is_null and not b.is_untyped:
        return [b, b]
    if b.is_null and not a.is_null and not a.is_untyped:
        return [a, a]
    return [a, b]


def reference_locus_count(interp: TypingInterpreter, locus: str, patient: Sequence[str], donor: Sequence[str]) -> int:
    p = _expressing_view(_pair(interp, locus, patient, False))
    d = _expressing_view(_pair(interp, locus, donor, True))
    best = 0
    for d_first, d_second in ((d[0], d[1]), (d[1], d[0])):
        count = int(_position_match(p[0], d_first)) + int(_position_match(p[1], d_second))
        best = max(best, count)
    return best


@dataclass
class ReferenceHit:
    row: int
    filter_counts: dict[str, int]
    score: ScoreResult
    attributes: dict[str, Any]


def reference_search(
    interp: TypingInterpreter,
    scorer: PairScorer,
    donors: Sequence[Mapping[str, Any]],
    request: SearchRequest,
    registries: Sequence[str],
) -> list[ReferenceHit]:
    """Donors passing §3.6, in registry order, each scored with :meth:`PairScorer.score`."""
    hits = []
    patient = {locus: list(request.patient_hla.get(locus, ("", ""))) for locus in LOCI}
    allowed = request.mismatches.per_locus
    limit = request.mismatches.total
    for row, donor in enumerate(donors):
        if donor.get("donor_type", "adult") != request.donor_type or not donor.get("searchable", True):
            continue
        if request.registry_filter is not None and donor.get("registry", registries[0]) not in request.registry_filter:
            continue
        counts = {}
        ok = True
        for locus in allowed:
            counts[locus] = reference_locus_count(
                interp, locus, [t or "" for t in patient[locus]], list(donor["hla"].get(locus) or ("", ""))
            )
            if counts[locus] < 2 - allowed[locus]:
                ok = False
        mismatches = sum(2 - c for c in counts.values())
        if mismatches > limit or (not request.include_better_matches and mismatches != limit):
            ok = False
        if not ok:
            continue
        p_pairs = {L: tuple(_pair(interp, L, [t or "" for t in patient[L]], False)) for L in LOCI}
        d_pairs = {L: tuple(_pair(interp, L, list(donor["hla"].get(L) or ("", "")), True)) for L in LOCI}
        score = scorer.score(
            p_pairs,  # type: ignore[arg-type]
            d_pairs,  # type: ignore[arg-type]
            request.scoring.loci_to_score,
            request.scoring.loci_excluded_from_aggregates,
        )
        hits.append(ReferenceHit(row, counts, score, dict(donor)))
    return hits


CATEGORY_RANK = {
    OverallCategory.DEFINITE: 4,
    OverallCategory.EXACT: 3,
    OverallCategory.POTENTIAL: 2,
    OverallCategory.PERMISSIVE_MISMATCH: 1,
    OverallCategory.MISMATCH: 0,
    None: -1,
}


DPB1_RANK = {"Match": 3, "PermissiveMismatch": 2, "Unknown": 1, "Mismatch": 0}


def reference_rank_key(hit: ReferenceHit) -> tuple[Any, ...]:
    """The default order (§7) for donors with equal non-HLA attributes: match count, category, grade score,
    confidence score, DPB1 (match > permissive > unknown or not scored > non-permissive)."""
    overall = hit.score.overall
    count = overall.scored_match_count if hit.score.loci else sum(hit.filter_counts.values())
    dpb1 = hit.score.loci.get("DPB1")
    dpb1_rank = DPB1_RANK[dpb1.category.value] if dpb1 is not None else 1
    return (-count, -CATEGORY_RANK[overall.category], -overall.grade_score, -overall.confidence_score, -dpb1_rank)
