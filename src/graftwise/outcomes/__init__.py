"""Outcome analytics: cohorts, transplant endpoints, survival and competing-risk estimators, tests, regression, plots
and reports (clinical spec §11). See docs/outcomes.md."""

from graftwise.outcomes.cohort import Cohort, cohort_from_frame
from graftwise.outcomes.comparison import GroupTest, gray_test, log_rank_test
from graftwise.outcomes.cumulative_incidence import CumulativeIncidence, aalen_johansen
from graftwise.outcomes.kaplan_meier import PointEstimates, SurvivalCurve, kaplan_meier
from graftwise.outcomes.regression import CoxResult, FineGrayResult, cox_regression, fine_gray_regression

__all__ = [
    "Cohort",
    "CoxResult",
    "CumulativeIncidence",
    "FineGrayResult",
    "GroupTest",
    "PointEstimates",
    "SurvivalCurve",
    "aalen_johansen",
    "cohort_from_frame",
    "cox_regression",
    "fine_gray_regression",
    "gray_test",
    "kaplan_meier",
    "log_rank_test",
]
