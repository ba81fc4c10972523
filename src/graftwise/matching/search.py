"""Donor search: patient → index tables → fused filter → memoised exact scoring of the survivors → ranking.

ARCHITECTURE.md "hot path"; matching.md §3 (filter), §4 (scoring), §6 (counts), §7 (ranking), §9 (results).
Scoring runs on survivors only, once per distinct (donor typing pair) per locus: millions of donors sharing a
typing cost one scoring. Per-donor aggregation and ranking are vectorised; result objects are built for the
requested page only.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from graftwise.errors import ValidationError
from graftwise.matching.confidence import MatchConfidence
from graftwise.matching.grades import LocusCategory
from graftwise.matching.index import MatchIndex, load_or_build_index
from graftwise.matching.kernel import filter_donors, locus_counts
from graftwise.matching.ranking import (
    ABO_CODES,
    RankingConfig,
    RankInputs,
    abo_class,
    age_years,
    rank_order,
    reasons,
)
from graftwise.matching.request import SearchRequest
from graftwise.matching.result import DonorResult, LocusResult, OverallCategory, SearchResult
from graftwise.matching.score import Pair, PairScorer, antigen_match_count, normalise_pair
from graftwise.matching.source import HLA_LOCI, DonorArrays
from graftwise.matching.typing import (
    MATCH_LOCI,
    SCORE_LOCI,
    PositionTyping,
    TypingInterpreter,
    normalise_locus_token,
    substitute_nulls,
)

DONOR_TYPES = {"adult": 0, "cord": 1}
_CATEGORY_RANK = {
    OverallCategory.DEFINITE: 4,
    OverallCategory.EXACT: 3,
    OverallCategory.POTENTIAL: 2,
    OverallCategory.PERMISSIVE_MISMATCH: 1,
    OverallCategory.MISMATCH: 0,
}
_DPB1_RANK = {
    LocusCategory.MATCH: 3,
    LocusCategory.PERMISSIVE_MISMATCH: 2,
    LocusCategory.UNKNOWN: 1,
    LocusCategory.MISMATCH: 0,
}


def patient_pairs(
    hla: Mapping[str, Sequence[str | None]], interp: TypingInterpreter, *, lenient: bool = False
) -> dict[str, Pair]:
    """Interpret a per-locus typing (locus prefix optional) into position pairs; missing loci are untyped."""
    out: dict[str, Pair] = {}
    for locus in SCORE_LOCI:
        values = list(hla.get(locus, ()) or ())
        values += [None] * (2 - len(values))
        first, second = (
            interp.interpret(locus, normalise_locus_token(locus, v or ""), lenient=lenient) for v in values[:2]
        )
        out[locus] = (first, second)
    return out


@dataclass(frozen=True)
class LocusScores:
    """Scores of one locus for every survivor: the distinct results and, per survivor, which one applies."""

    distinct: list[LocusResult]
    which: npt.NDArray[np.int64]


@dataclass(frozen=True)
class SearchColumns:
    """A whole search, columnar (survivors in registry row order), plus the rank order."""

    request: SearchRequest
    started_at: str
    rows: npt.NDArray[np.int64]
    filter_loci: tuple[str, ...]
    filter_counts: npt.NDArray[np.int8]
    """(survivors, matched loci) in ``filter_loci`` order."""
    scores: dict[str, LocusScores]
    scored_match_count: npt.NDArray[np.int64]
    scored_potential_count: npt.NDArray[np.int64]
    scored_exact_count: npt.NDArray[np.int64]
    category: npt.NDArray[np.int64]
    confidence: npt.NDArray[np.int64]
    grade_score: npt.NDArray[np.float64]
    confidence_score: npt.NDArray[np.float64]
    antigen_match_count: npt.NDArray[np.int64]
    typed_loci_count: npt.NDArray[np.int64]
    order: npt.NDArray[np.int64]
    matching_seconds: float
    scoring_seconds: float

    @property
    def filter_match_count(self) -> npt.NDArray[np.int64]:
        total: npt.NDArray[np.int64] = self.filter_counts.sum(axis=1, dtype=np.int64)
        return total


@dataclass
class DonorSearch:
    """Searches one registry's arrays in one release."""

    arrays: DonorArrays
    interp: TypingInterpreter
    scorer: PairScorer
    cache: Path | None = None
    """Registry folder: the index is cached under its ``index/``."""
    records: Callable[[Sequence[int]], Sequence[Any]] | None = None
    """The contract's ``reg.records``, to name donors in results."""
    ranking: RankingConfig = field(default_factory=RankingConfig)
    index_seconds: float = 0.0

    @cached_property
    def index(self) -> MatchIndex:
        start = time.perf_counter()
        loci = [locus for locus in MATCH_LOCI if locus in self.arrays.meta.get("loci", MATCH_LOCI)]
        built = load_or_build_index(self.arrays, self.interp, loci, self.cache)
        self.index_seconds = time.perf_counter() - start
        return built

    @cached_property
    def _hla(self) -> dict[str, npt.NDArray[np.int32]]:
        return {locus: np.asarray(self.arrays.hla(locus)) for locus in HLA_LOCI}

    @cached_property
    def _typings(self) -> dict[str, list[str]]:
        return {locus: self.arrays.typings(locus) for locus in HLA_LOCI}

    def run(self, request: SearchRequest) -> SearchColumns:
        """Filter, score and rank (columnar). ``request`` must come from :func:`validate_request`."""
        started = dt.datetime.now(dt.UTC).isoformat()
        t0 = time.perf_counter()
        patient = patient_pairs(request.patient_hla, self.interp)
        matched = request.matched_loci
        tables = {
            locus: self.index.loci[locus].table(substitute_nulls(normalise_pair(patient[locus]))) for locus in matched
        }
        allowed = request.mismatches.per_locus
        ordered = sorted(matched, key=lambda m: (allowed[m], self.index.loci[m].pass_fraction(tables[m])))
        registry_ok = None
        if request.registry_filter is not None:
            codes = list(self.arrays.meta.get("registries", []))
            registry_ok = np.array([c in request.registry_filter for c in codes] or [False], dtype=np.bool_)
        rows = filter_donors(
            [self._hla[L] for L in ordered],
            [tables[L] for L in ordered],
            [allowed[L] for L in ordered],
            request.mismatches.total,
            request.include_better_matches,
            np.asarray(self.arrays.column("donor_type")),
            DONOR_TYPES[request.donor_type],
            np.asarray(self.arrays.column("searchable")),
            np.asarray(self.arrays.column("registry")),
            registry_ok,
        )
        counts = locus_counts([self._hla[L] for L in ordered], [tables[L] for L in ordered], rows)
        t1 = time.perf_counter()
        columns = self._score(request, patient, rows, tuple(ordered), counts, started)
        t2 = time.perf_counter()
        return replace(columns, matching_seconds=t1 - t0, scoring_seconds=t2 - t1)

    def _score(
        self,
        request: SearchRequest,
        patient: Mapping[str, Pair],
        rows: npt.NDArray[np.int64],
        filter_loci: tuple[str, ...],
        counts: npt.NDArray[np.int8],
        started: str,
    ) -> SearchColumns:
        excluded = set(request.scoring.loci_excluded_from_aggregates)
        n = rows.shape[0]
        scores: dict[str, LocusScores] = {}
        match = np.zeros(n, np.int64)
        potential = np.zeros(n, np.int64)
        exact = np.zeros(n, np.int64)
        conf = np.full(n, len(MatchConfidence), np.int64)
        grade_score = np.zeros(n, np.float64)
        conf_score = np.zeros(n, np.float64)
        antigen = np.zeros(n, np.int64)
        others_match = np.ones(n, dtype=bool)
        dpb1_permissive = np.zeros(n, dtype=bool)
        any_aggregated = False
        for locus in request.scoring.loci_to_score:
            included = locus not in excluded
            ls = self._score_locus(locus, patient[locus], rows, included)
            scores[locus] = ls
            w = ls.which

            def col(f: Callable[[LocusResult], float], w: npt.NDArray[np.int64] = w, ls: LocusScores = ls) -> Any:
                return np.array([f(r) for r in ls.distinct], dtype=np.float64)[w]

            antigen += col(lambda r: antigen_match_count({"x": r})).astype(np.int64)
            if not included:
                continue
            any_aggregated = True
            match += col(lambda r: r.match_count).astype(np.int64)
            potential += col(lambda r: r.potential_count).astype(np.int64)
            exact += col(lambda r: r.exact_count).astype(np.int64)
            conf = np.minimum(conf, col(lambda r: r.confidence.ordinal).astype(np.int64))
            grade_score += col(lambda r: sum(self.scorer.grade_weights[p.grade] for p in r.positions))
            conf_score += col(lambda r: sum(self.scorer.confidence_weights[p.confidence] for p in r.positions))
            category = col(lambda r: r.category.ordinal).astype(np.int64)
            if locus == "DPB1":
                dpb1_permissive = category == LocusCategory.PERMISSIVE_MISMATCH.ordinal
            else:
                others_match &= category == LocusCategory.MATCH.ordinal
        overall = np.where(
            conf == MatchConfidence.DEFINITE.ordinal,
            4,
            np.where(
                conf == MatchConfidence.EXACT.ordinal,
                3,
                np.where(conf == MatchConfidence.POTENTIAL.ordinal, 2, np.where(others_match & dpb1_permissive, 1, 0)),
            ),
        ).astype(np.int64)
        if not any_aggregated:
            overall[:] = -1
            conf[:] = -1
        typed = np.zeros(n, np.int64)
        for locus in HLA_LOCI:
            ids = self._hla[locus][rows]
            typed += ((ids[:, 0] != 0) | (ids[:, 1] != 0)).astype(np.int64)
        dpb1 = np.ones(n, np.int64)
        if "DPB1" in scores:
            ls = scores["DPB1"]
            dpb1 = np.array([_DPB1_RANK[r.category] for r in ls.distinct], np.int64)[ls.which]
        primary = match if request.scoring.loci_to_score else counts.sum(axis=1, dtype=np.int64)
        inputs = RankInputs(
            match_count=primary,
            category=overall,
            grade_score=grade_score,
            confidence_score=conf_score,
            dpb1=dpb1,
            birth_date=self._attr("birth_date", rows, np.int32, np.iinfo(np.int32).min),
            cmv=self._attr("cmv", rows, np.int8, -1),
            sex=self._attr("sex", rows, np.int8, -1),
            parity=self._attr("parity", rows, np.int8, -1),
            abo=self._attr("abo", rows, np.int8, -1),
        )
        order = rank_order(
            inputs,
            self.ranking,
            None if request.patient_cmv is None else int(request.patient_cmv == "positive"),
            None if request.patient_abo is None else ABO_CODES[request.patient_abo],
        )
        return SearchColumns(
            request=request,
            started_at=started,
            rows=rows,
            filter_loci=filter_loci,
            filter_counts=counts,
            scores=scores,
            scored_match_count=match,
            scored_potential_count=potential,
            scored_exact_count=exact,
            category=overall,
            confidence=conf,
            grade_score=grade_score,
            confidence_score=conf_score,
            antigen_match_count=antigen,
            typed_loci_count=typed,
            order=order,
            matching_seconds=0.0,
            scoring_seconds=0.0,
        )

    def _attr(self, name: str, rows: npt.NDArray[np.int64], dtype: Any, missing: int) -> Any:
        try:
            column = self.arrays.column(name)
        except FileNotFoundError:
            return np.full(rows.shape[0], missing, dtype=dtype)
        return np.asarray(column[rows], dtype=dtype)

    def _score_locus(self, locus: str, patient: Pair, rows: npt.NDArray[np.int64], included: bool) -> LocusScores:
        ids = self._hla[locus][rows].astype(np.int64)
        width = max(len(self._typings[locus]), 1)
        keys = ids[:, 0] * width + ids[:, 1]
        unique, which = np.unique(keys, return_inverse=True)
        typings = self._typings[locus]
        distinct = []
        for key in unique.tolist():
            a, b = divmod(int(key), width)
            donor = (self._donor_typing(locus, typings[a]), self._donor_typing(locus, typings[b]))
            distinct.append(self.scorer.score_locus(locus, patient, donor, included=included))
        return LocusScores(distinct, which.astype(np.int64).ravel())

    def _donor_typing(self, locus: str, text: str) -> PositionTyping:
        return self.interp.interpret(locus, text, lenient=True)

    def page(self, columns: SearchColumns, offset: int = 0, limit: int | None = None) -> SearchResult:
        """Materialise ranked results ``offset`` … ``offset + limit`` (all when ``limit`` is None)."""
        request = columns.request
        picked = columns.order[offset : None if limit is None else offset + limit]
        donors = self._donor_results(columns, picked, offset + 1 + np.arange(picked.shape[0]))
        return SearchResult(
            matching_release=self.interp.release,
            matching_started_at=columns.started_at,
            donor_count=int(columns.rows.shape[0]),
            filter_denominator=request.filter_denominator,
            scoring_denominator=request.scoring_denominator,
            antigen_match_denominator=2 * len(request.scoring.loci_to_score),
            offset=offset,
            limit=limit,
            donors=donors,
            matching_seconds=columns.matching_seconds,
            scoring_seconds=columns.scoring_seconds,
        )

    def results_at_rows(self, columns: SearchColumns, rows: Sequence[int]) -> list[DonorResult]:
        """Full results of the survivors at registry ``rows`` (each must have passed the filter), in rank order."""
        wanted = np.asarray(sorted(set(rows)), dtype=np.int64)
        positions = np.searchsorted(columns.rows, wanted)
        if positions.shape[0] and (
            positions.max() >= columns.rows.shape[0] or (columns.rows[positions] != wanted).any()
        ):
            raise ValidationError("a row given did not pass the filter of this search", field="rows")
        rank_of = np.empty_like(columns.order)
        rank_of[columns.order] = np.arange(columns.order.shape[0])
        picked = positions[np.argsort(rank_of[positions], kind="stable")]
        return self._donor_results(columns, picked, rank_of[picked] + 1)

    def _donor_results(
        self, columns: SearchColumns, picked: npt.NDArray[np.int64], ranks: npt.NDArray[np.int64]
    ) -> list[DonorResult]:
        """Result objects for survivors at positions ``picked`` (into ``columns.rows``) with the given ranks."""
        request = columns.request
        rows = columns.rows[picked]
        records = list(self.records([int(r) for r in rows])) if self.records is not None and len(rows) else []
        registries = list(self.arrays.meta.get("registries", []))
        reg_col = self._attr("registry", rows, np.int64, -1)
        populations = list(self.arrays.meta.get("populations", []))
        pop_col = self._attr("population", rows, np.int64, -1)
        attrs = {k: self._attr(k, rows, np.int64, -1) for k in ("sex", "parity", "cmv", "abo")}
        birth = self._attr("birth_date", rows, np.int64, np.iinfo(np.int32).min)
        dtype_col = self._attr("donor_type", rows, np.int64, -1)
        donors = []
        for k, (j, row) in enumerate(zip(picked.tolist(), rows.tolist(), strict=True)):
            loci = {locus: ls.distinct[int(ls.which[j])] for locus, ls in columns.scores.items()}
            overall = self.scorer.overall(loci)
            denominator = overall.denominator if request.scoring.loci_to_score else request.filter_denominator
            count = overall.scored_match_count if request.scoring.loci_to_score else int(columns.filter_match_count[j])
            dpb1 = loci.get("DPB1")
            donors.append(
                DonorResult(
                    rank=int(ranks[k]),
                    row=int(row),
                    donor_id=_donor_id(records[k]) if records else None,
                    donor_type="cord" if dtype_col[k] == 1 else "adult",
                    registry=registries[reg_col[k]] if 0 <= reg_col[k] < len(registries) else None,
                    population=populations[pop_col[k]] if 0 <= pop_col[k] < len(populations) else None,
                    filter_match_count=int(columns.filter_match_count[j]),
                    filter_locus_counts={
                        L: int(columns.filter_counts[j, i]) for i, L in enumerate(columns.filter_loci)
                    },
                    typed_loci_count=int(columns.typed_loci_count[j]),
                    antigen_match_count=int(columns.antigen_match_count[j]),
                    loci=loci,
                    overall=overall,
                    hla={
                        L: (self._typings[L][int(self._hla[L][row, 0])], self._typings[L][int(self._hla[L][row, 1])])
                        for L in HLA_LOCI
                    },
                    rank_reasons=reasons(
                        count_text=f"{count}/{denominator}",
                        category=overall.category.value if overall.category is not None else None,
                        dpb1_text=_dpb1_text(dpb1),
                        age=age_years(int(birth[k]), self.ranking.as_of),
                        sex=int(attrs["sex"][k]),
                        parity=int(attrs["parity"][k]),
                        cmv_text=_cmv_text(request.patient_cmv, int(attrs["cmv"][k])),
                        abo=abo_class(ABO_CODES[request.patient_abo], int(attrs["abo"][k]))
                        if request.patient_abo is not None
                        else None,
                    ),
                )
            )
        return donors

    def search(self, request: SearchRequest) -> SearchResult:
        return self.page(self.run(request), request.offset, request.limit)


def _donor_id(record: Any) -> str | None:
    for name in ("donor_id", "record_id", "id"):
        value = getattr(record, name, None)
        if value is not None:
            return str(value)
    return None


def _dpb1_text(result: LocusResult | None) -> str | None:
    if result is None:
        return None
    if result.category is LocusCategory.MATCH:
        return "DPB1 matched"
    if result.category is LocusCategory.PERMISSIVE_MISMATCH:
        return "DPB1 permissive"
    if result.category is LocusCategory.MISMATCH:
        direction = result.mismatch_direction.value if result.mismatch_direction else "direction unknown"
        return f"DPB1 non-permissive ({direction})"
    return "DPB1 TCE unknown" if result.typed else "DPB1 untyped"


def _cmv_text(patient: str | None, donor: int) -> str | None:
    if patient is None:
        return None
    if donor < 0:
        return "CMV unknown"
    return "CMV matched" if donor == int(patient == "positive") else "CMV mismatched"


__all__ = ["DonorSearch", "LocusScores", "SearchColumns", "patient_pairs"]
