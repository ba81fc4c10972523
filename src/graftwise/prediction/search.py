"""Match prediction for donor-search results (issue 5 §3; match-prediction.md §§1, 6; matching.md §1, §9).

:func:`search` is the search entry point that honours the request's ``run_match_prediction`` (matching.md §1,
default true): matching and scoring by :class:`graftwise.matching.search.DonorSearch`, then probabilities for every
donor of the page. Data flows matching → prediction, so this orchestration lives here, not in matching.

Each result's donor typing, registry and population select and feed the donor's imputation (cached per distinct
typing, so identical high-resolution donors cost one imputation); the positions scoring calls a mismatch receive
the worse predicted category (Atlas #996, PR #1004). A cord search (8 loci) predicts A, B, C, DRB1; an adult search
predicts A, B, C, DQB1, DRB1 (§1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graftwise.errors import ValidationError
from graftwise.matching.confidence import MatchConfidence
from graftwise.matching.repeat import DonorUpdates, RepeatResult, SearchStore, repeat_search
from graftwise.matching.request import SearchRequest
from graftwise.matching.result import DonorResult, SearchResult
from graftwise.matching.search import DonorSearch
from graftwise.prediction.predictor import EIGHT_OF_EIGHT, TEN_OF_TEN, Predictor
from graftwise.prediction.probabilities import MatchProbabilities, SubjectSummary

PREDICTION_LOCI = {"adult": TEN_OF_TEN, "cord": EIGHT_OF_EIGHT}
"""Loci predicted per donor type (match-prediction.md §1): 10/10 for adults, 8/8 for cord 4/8 searches."""


def scoring_mismatches(donor: DonorResult, loci: Sequence[str]) -> dict[str, tuple[bool, bool]]:
    """Per predicted locus, which of the two scored positions scoring calls a mismatch."""
    out: dict[str, tuple[bool, bool]] = {}
    for locus in loci:
        result = donor.loci.get(locus)
        if result is not None:
            first, second = (p.confidence is MatchConfidence.MISMATCH for p in result.positions)
            out[locus] = (first, second)
    return out


def predict_results(
    predictor: Predictor,
    patient_hla: Mapping[str, Sequence[str | None]],
    donors: Sequence[DonorResult],
    *,
    patient_keys: tuple[str | None, str | None],
) -> list[MatchProbabilities]:
    """Probabilities for every donor of a search result, in result order."""
    typings = [{locus: list(d.hla[locus]) for locus in predictor.loci if locus in d.hla} for d in donors]
    return predictor.predict_many(
        {locus: list(v) for locus, v in patient_hla.items() if locus in predictor.loci},
        typings,
        patient_keys=patient_keys,
        donor_keys=[(d.registry, d.population) for d in donors],
        scoring_mismatch=[scoring_mismatches(d, predictor.loci) for d in donors],
    )


def _summary_json(prefix: str, s: SubjectSummary) -> dict[str, Any]:
    return {
        f"{prefix}_hf_set": s.hf_set,
        f"{prefix}_unrepresented": s.unrepresented,
        f"{prefix}_unrepresented_reason": s.unrepresented_reason,
        f"{prefix}_kept_mass": s.kept_mass,
        f"{prefix}_unambiguous_shortcut": s.shortcut,
    }


def prediction_json(r: MatchProbabilities) -> dict[str, Any]:
    """One prediction with the match-prediction.md §1 field names."""
    return {
        "loci": list(r.loci),
        "p_mismatch": list(r.p_mismatch) if r.p_mismatch is not None else None,
        "p_mismatch_more": r.p_mismatch_more,
        "percentages": list(r.percentages) if r.percentages is not None else None,
        "overall_category": r.overall_category,
        "per_locus": {
            locus: {
                "p_mismatch": list(lp.p_mismatch) if lp.p_mismatch is not None else None,
                "percentages": list(lp.percentages) if lp.percentages is not None else None,
                "category": lp.category,
                "positional_categories": list(lp.positional_categories) if lp.positional_categories else None,
            }
            for locus, lp in r.per_locus.items()
        },
        "predicted_match_count": r.predicted_match_count,
        "predicted_exact_count": r.predicted_exact_count,
        "predicted_potential_count": r.predicted_potential_count,
        "predicted_denominator": 2 * len(r.loci),
        **_summary_json("patient", r.patient),
        **_summary_json("donor", r.donor),
        "low_kept_mass": r.low_kept_mass,
    }


def check_predictor(request: SearchRequest, predictor: Predictor | None) -> Predictor:
    """The predictor a ``run_match_prediction`` request needs: present, predicting the donor type's loci, and able to
    choose the patient's HF set (ethnicity or registry in the request, or one explicit set)."""
    if predictor is None:
        raise ValidationError(
            "run_match_prediction is true but no predictor (HF sets) was given; send false for matching only",
            field="run_match_prediction",
        )
    wanted = PREDICTION_LOCI[request.donor_type]
    if set(predictor.loci) != set(wanted):
        raise ValidationError(
            f"a {request.donor_type} search predicts {', '.join(wanted)}; the predictor covers "
            f"{', '.join(predictor.loci)}",
            field="run_match_prediction",
        )
    if request.patient_ethnicity is None and request.patient_registry is None and predictor.store.explicit is None:
        raise ValidationError(
            "match prediction needs patient_ethnicity or patient_registry to choose the HF set "
            "(CLI: --patient-ethnicity / --patient-registry), or one explicit HF set (--hf-set)",
            field="patient_ethnicity",
        )
    return predictor


def predict_donors(donors: Sequence[DonorResult], request: SearchRequest, predictor: Predictor) -> list[DonorResult]:
    """``donors`` with ``match_prediction`` (the match-prediction.md §1 fields) set, in the same order."""
    predictions = predict_results(
        predictor, request.patient_hla, donors, patient_keys=(request.patient_registry, request.patient_ethnicity)
    )
    return [
        d.model_copy(update={"match_prediction": prediction_json(p)}) for d, p in zip(donors, predictions, strict=True)
    ]


def add_predictions(
    result: SearchResult, request: SearchRequest, predictor: Predictor, *, rank_by_p0: bool = False
) -> SearchResult:
    """``result`` with ``match_prediction`` on every donor and the page's ``unrepresented_donor_count`` (§9). With
    ``rank_by_p0`` the donors are re-ordered by P(0 mismatches), highest first, donors without probabilities last,
    ties kept in rank order, and each gets ``p0_rank``."""
    donors = predict_donors(result.donors, request, predictor)
    predictions = [d.match_prediction or {} for d in donors]
    if rank_by_p0:
        p0 = [p["p_mismatch"][0] if p.get("p_mismatch") else None for p in predictions]
        order = sorted(range(len(p0)), key=lambda i: (p0[i] is None, -(p0[i] or 0.0), i))
        donors = [donors[i].model_copy(update={"p0_rank": n}) for n, i in enumerate(order, start=1)]
    unrepresented = sum(bool(p.get("donor_unrepresented")) for p in predictions)
    return result.model_copy(update={"donors": donors, "unrepresented_donor_count": unrepresented})


def search(
    engine: DonorSearch,
    request: SearchRequest,
    predictor: Predictor | None = None,
    *,
    rank_by_p0: bool = False,
    run: Callable[[SearchRequest], SearchResult] | None = None,
) -> SearchResult:
    """A donor search (matching.md §1, §9): matching and scoring, then, when ``request.run_match_prediction`` is true
    (the default), match prediction for every donor of the requested page. ``request`` must come from
    :func:`graftwise.matching.request.validate_request`. ``run`` replaces ``engine.search`` (e.g. a search that is
    also saved for repeat searches, :func:`graftwise.matching.repeat.save_search`)."""
    if request.run_match_prediction:
        predictor = check_predictor(request, predictor)
    elif rank_by_p0:
        raise ValidationError("ranking by P(0) needs run_match_prediction", field="rank_by_p0")
    result = (run or engine.search)(request)
    if predictor is None or not request.run_match_prediction:
        return result
    return add_predictions(result, request, predictor, rank_by_p0=rank_by_p0)


def repeat(
    engine: DonorSearch,
    request: SearchRequest,
    original_search_id: str,
    cutoff: dt.datetime,
    store: SearchStore,
    updates: DonorUpdates,
    predictor: Predictor | None = None,
) -> RepeatResult:
    """A repeat search (matching.md §8) whose new and updated matches carry match prediction when the (identical)
    request asks for it."""
    if request.run_match_prediction:
        predictor = check_predictor(request, predictor)
    result = repeat_search(engine, request, original_search_id, cutoff, store, updates)
    if predictor is None or not request.run_match_prediction:
        return result
    return result.model_copy(
        update={
            "new_matches": predict_donors(result.new_matches, request, predictor),
            "updated_matches": predict_donors(result.updated_matches, request, predictor),
        }
    )
