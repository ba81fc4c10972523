"""Match prediction: haplotype frequency sets in a release's groups, genotype imputation, and the probability of
0, 1, 2, … mismatches for a patient–donor pair (match-prediction.md)."""

from graftwise.prediction.hfsets import (
    GroupedHFSet,
    GroupScheme,
    HFSetStore,
    PVocabulary,
    SetChoice,
    SetInfo,
    build_schemes,
    convert_set,
)
from graftwise.prediction.imputation import (
    GenotypeDistribution,
    InterpretedSubject,
    SubjectGroups,
    impute,
    interpret_subject,
    subject_groups,
)
from graftwise.prediction.predictor import EIGHT_OF_EIGHT, TEN_OF_TEN, Imputation, Predictor
from graftwise.prediction.probabilities import LocusPrediction, MatchProbabilities, mismatch_distributions

__all__ = [
    "EIGHT_OF_EIGHT",
    "TEN_OF_TEN",
    "GenotypeDistribution",
    "GroupScheme",
    "GroupedHFSet",
    "HFSetStore",
    "Imputation",
    "InterpretedSubject",
    "LocusPrediction",
    "MatchProbabilities",
    "PVocabulary",
    "Predictor",
    "SetChoice",
    "SetInfo",
    "SubjectGroups",
    "build_schemes",
    "convert_set",
    "impute",
    "interpret_subject",
    "mismatch_distributions",
    "subject_groups",
]
