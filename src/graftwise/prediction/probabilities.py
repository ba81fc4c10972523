"""Match probabilities of a patient against one or many donors (match-prediction.md §§5–6).

P(exactly k) = Σ_{i,j: m(p_i,d_j)=k} Lp(p_i)·Ld(d_j) / (Σ Lp · Σ Ld), over the subjects' kept diplotypes (§5.2).
Diplotypes are first collapsed to distinct unordered P-level genotypes (null positions replaced by their expressing
partner, §5.1; matching.md §3.3) with summed likelihoods, so the double sum runs over distinct genotype pairs only;
the result equals the naive double sum up to float rounding (tested). Many donors are done in one batch: their
genotype tables are stacked and the per-locus mismatch counts of every (patient genotype, donor genotype) pair are
computed with array comparisons in chunks.

Categories, positional categories, percentages and predicted counts follow §6 (Atlas semantics, with P3, P4 and the
tail beyond 4 reported as graftwise's §8.1 improvement).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

import numpy as np

from graftwise.errors import ValidationError
from graftwise.prediction.hfsets import FloatArray, IntArray
from graftwise.prediction.imputation import GenotypeDistribution, UnrepresentedReason

PredictedCategory = Literal["Exact", "Potential", "Mismatch"]
MAX_REPORTED_MISMATCHES = 4
_WORSENESS = {"Exact": 0, "Potential": 1, "Mismatch": 2}
_CHUNK_CELLS = 4_000_000


def percentage(p: float) -> int:
    """Probability → integer percentage with round-half-to-even, as .NET's ``Convert.ToInt32(decimal)`` applied to
    ``(decimal)p * 100`` (§6). ``(decimal)double`` keeps 15 significant digits, which is mirrored here so that e.g.
    0.285 gives 28 (half-even on 28.5) and not a float artefact. Away from a half the float result is the same, so
    the decimal path is taken only near one."""
    x = p * 100
    if abs(x - math.floor(x) - 0.5) > 1e-6:
        return round(x)
    return int((Decimal(format(p, ".15g")) * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def percentages(p: FloatArray) -> IntArray:
    """:func:`percentage` of every element of ``p``, in one array operation (NaN gives 0): ``np.rint`` rounds half
    to even like ``round``, and the elements near a half take :func:`percentage`'s decimal path."""
    x = np.nan_to_num(p * 100)
    out = np.rint(x).astype(np.int64)
    for idx in zip(*np.nonzero(np.abs(x - np.floor(x) - 0.5) <= 1e-6), strict=True):
        out[idx] = percentage(float(p[idx]))
    return out


def locus_category(p0: float) -> PredictedCategory:
    """§6: Exact if percentage(P0) = 100, Mismatch if it is 0, else Potential."""
    return _category(percentage(p0))


def _category(pct: int) -> PredictedCategory:
    if pct == 100:
        return "Exact"
    if pct == 0:
        return "Mismatch"
    return "Potential"


def positional_categories(category: PredictedCategory, p2: float) -> tuple[PredictedCategory, PredictedCategory]:
    """§6 table: the two positions' categories from the locus category and percentage(P2) (unoriented)."""
    return _positions(category, percentage(p2))


def _positions(category: PredictedCategory, pct2: int) -> tuple[PredictedCategory, PredictedCategory]:
    if category == "Exact":
        return ("Exact", "Exact")
    if category == "Mismatch":
        if pct2 == 100:
            return ("Mismatch", "Mismatch")
        return ("Mismatch", "Exact") if pct2 == 0 else ("Mismatch", "Potential")
    return ("Potential", "Exact") if pct2 == 0 else ("Potential", "Potential")


def orient(
    categories: tuple[PredictedCategory, PredictedCategory], scoring_mismatch: tuple[bool, bool]
) -> tuple[PredictedCategory, PredictedCategory]:
    """Re-orient to the scoring orientation (Atlas #996, PR #1004): the position scoring calls a mismatch receives
    the worse predicted category."""
    worse, better = sorted(categories, key=lambda c: -_WORSENESS[c])
    if scoring_mismatch == (False, True):
        return (better, worse)
    if scoring_mismatch == (True, False):
        return (worse, better)
    return categories


@dataclass(frozen=True)
class LocusPrediction:
    """Per predicted locus: P(0, 1, 2 mismatches), their percentages, category and positional categories."""

    p_mismatch: tuple[float, float, float] | None
    percentages: tuple[int, int, int] | None
    category: PredictedCategory | None
    positional_categories: tuple[PredictedCategory, PredictedCategory] | None


@dataclass(frozen=True)
class SubjectSummary:
    """What the result says about one subject: the set used (with fallback step), representation and kept mass."""

    hf_set: Mapping[str, object] | None
    unrepresented: bool
    unrepresented_reason: UnrepresentedReason | None
    kept_mass: float | None
    shortcut: bool


@dataclass(frozen=True)
class MatchProbabilities:
    """One patient–donor prediction (§1). Every probability is None when either subject is unrepresented."""

    loci: tuple[str, ...]
    p_mismatch: tuple[float, ...] | None
    p_mismatch_more: float | None
    percentages: tuple[int, ...] | None
    per_locus: Mapping[str, LocusPrediction]
    overall_category: PredictedCategory | None
    predicted_match_count: int | None
    predicted_exact_count: int | None
    predicted_potential_count: int | None
    patient: SubjectSummary
    donor: SubjectSummary

    @property
    def low_kept_mass(self) -> bool:
        """§8.4: flag results whose kept mass is below 0.99 for either subject."""
        return any(s.kept_mass is not None and s.kept_mass < 0.99 for s in (self.patient, self.donor))


def _mismatch_counts(patient: IntArray, donors: IntArray) -> IntArray:
    """Per locus mismatches (I, J, L) of every patient genotype against every donor genotype (§5.1)."""
    p1, p2 = patient[:, None, :, 0], patient[:, None, :, 1]
    d1, d2 = donors[None, :, :, 0], donors[None, :, :, 1]
    direct = (p1 == d1).astype(np.int8) + (p2 == d2)
    cross = (p1 == d2).astype(np.int8) + (p2 == d1)
    out: IntArray = (2 - np.maximum(direct, cross)).astype(np.int8)
    return out


def mismatch_distributions(
    patient: GenotypeDistribution, donors: Sequence[GenotypeDistribution]
) -> tuple[FloatArray, FloatArray]:
    """For each donor: overall P(exactly k), k = 0…4, and P(> 4) as an array (D, 6); per locus P(k), k = 0…2, as
    (D, L, 3). Rows of unrepresented donors (or all rows, when the patient is unrepresented) are NaN."""
    n = len(donors)
    loci = patient.loci
    overall = np.full((n, MAX_REPORTED_MISMATCHES + 2), np.nan)
    per_locus = np.full((n, len(loci), 3), np.nan)
    if not patient.is_represented:
        return overall, per_locus
    ok = [d for d, dist in enumerate(donors) if dist.is_represented]
    for d in ok:
        if donors[d].loci != loci:
            raise ValidationError(f"donor predicted over {donors[d].loci}, patient over {loci}", field="loci")
        if donors[d].vocab is not patient.vocab and donors[d].vocab != patient.vocab:
            raise ValidationError("patient and donor were imputed in different nomenclature releases", field="release")
    if not ok:
        return overall, per_locus
    genotypes = np.concatenate([donors[d].genotypes for d in ok])
    weights = np.concatenate([donors[d].weights for d in ok])
    owner = np.concatenate([np.full(len(donors[d].weights), d) for d in ok])
    wp = patient.weights
    chunk = max(1, _CHUNK_CELLS // max(1, len(wp) * len(loci)))
    acc_overall = np.zeros((n, MAX_REPORTED_MISMATCHES + 2))
    acc_locus = np.zeros((n, len(loci), 3))
    for start in range(0, len(weights), chunk):
        sl = slice(start, start + chunk)
        m = _mismatch_counts(patient.genotypes, genotypes[sl])
        total = m.sum(axis=2)
        wd, who = weights[sl], owner[sl]
        for k in range(MAX_REPORTED_MISMATCHES + 1):
            acc_overall[:, k] += np.bincount(who, weights=(wp @ (total == k)) * wd, minlength=n)
        acc_overall[:, -1] += np.bincount(who, weights=(wp @ (total > MAX_REPORTED_MISMATCHES)) * wd, minlength=n)
        for li in range(len(loci)):
            for k in range(3):
                acc_locus[:, li, k] += np.bincount(who, weights=(wp @ (m[:, :, li] == k)) * wd, minlength=n)
    overall[ok] = acc_overall[ok]
    per_locus[ok] = acc_locus[ok]
    return overall, per_locus


def summarise(dist: GenotypeDistribution, hf_set: Mapping[str, object] | None) -> SubjectSummary:
    return SubjectSummary(hf_set, not dist.is_represented, dist.unrepresented, dist.kept_mass, dist.shortcut)


def assemble(
    loci: tuple[str, ...],
    overall: FloatArray,
    per_locus: FloatArray,
    patient: SubjectSummary,
    donor: SubjectSummary,
    scoring_mismatch: Mapping[str, tuple[bool, bool]] | None = None,
    *,
    pct: tuple[Sequence[int], Sequence[Sequence[int]]] | None = None,
) -> MatchProbabilities:
    """One result from the arrays of :func:`mismatch_distributions` (one row), with §6 categories and counts.
    ``pct`` passes the row's :func:`percentages` (overall, per locus) when computed for many rows at once."""
    if patient.unrepresented or donor.unrepresented or np.isnan(overall).any():
        empty = LocusPrediction(None, None, None, None)
        return MatchProbabilities(
            loci, None, None, None, dict.fromkeys(loci, empty), None, None, None, None, patient, donor
        )
    pct_overall, pct_locus = (
        pct if pct is not None else (percentages(overall).tolist(), percentages(per_locus).tolist())
    )
    locus_results: dict[str, LocusPrediction] = {}
    positions: list[PredictedCategory] = []
    for locus, p, q in zip(loci, per_locus[:, :3].tolist(), pct_locus, strict=True):
        cat = _category(q[0])
        pos = _positions(cat, q[2])
        if scoring_mismatch is not None and locus in scoring_mismatch:
            pos = orient(pos, scoring_mismatch[locus])
        positions.extend(pos)
        locus_results[locus] = LocusPrediction((p[0], p[1], p[2]), (q[0], q[1], q[2]), cat, pos)
    probs = tuple(overall[: MAX_REPORTED_MISMATCHES + 1].tolist())
    exact = positions.count("Exact")
    potential = positions.count("Potential")
    return MatchProbabilities(
        loci,
        probs,
        float(overall[-1]),
        tuple(pct_overall[: MAX_REPORTED_MISMATCHES + 1]),
        locus_results,
        _category(pct_overall[0]),
        exact + potential,
        exact,
        potential,
        patient,
        donor,
    )
