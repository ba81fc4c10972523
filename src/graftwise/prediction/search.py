"""Match prediction for donor-search results (issue 5 §3; match-prediction.md §§1, 6).

Each result's donor typing, registry and population select and feed the donor's imputation (cached per distinct
typing, so identical high-resolution donors cost one imputation); the positions scoring calls a mismatch receive
the worse predicted category (Atlas #996, PR #1004). A cord search (8 loci) predicts A, B, C, DRB1; an adult search
predicts A, B, C, DQB1, DRB1 (§1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graftwise.matching.confidence import MatchConfidence
from graftwise.matching.result import DonorResult
from graftwise.prediction.predictor import Predictor
from graftwise.prediction.probabilities import MatchProbabilities


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
