"""Cohort validation and endpoint derivation on small hand-built cohorts (clinical spec §11)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from graftwise.errors import ValidationError
from graftwise.outcomes import endpoints as ep
from graftwise.outcomes.cohort import cohort_from_frame
from graftwise.outcomes.cumulative_incidence import aalen_johansen
from graftwise.outcomes.kaplan_meier import kaplan_meier
from graftwise.outcomes.synthetic import synthetic_cohort

NAN = np.nan
# A: relapse d200, death d400, aGVHD III d20, moderate cGVHD d150 on systemic therapy.
# B: NRM d300, aGVHD II d30.  C: alive d500, aGVHD I d15, mild cGVHD d200 without systemic therapy.
# D: relapse and death both d150.  E: alive d600, relapse d10 before aGVHD II d40.
ROWS: dict[str, list[Any]] = {
    "patient_id": ["A", "B", "C", "D", "E"],
    "followup_day": [400, 300, 500, 150, 600],
    "death_day": [400, 300, NAN, 150, NAN],
    "relapse_day": [200, NAN, NAN, 150, 10],
    "agvhd_grade": [3, 2, 1, 0, 2],
    "agvhd_day": [20, 30, 15, NAN, 40],
    "cgvhd_severity": ["moderate", "none", "mild", "none", "none"],
    "cgvhd_day": [150, NAN, 200, NAN, NAN],
    "cgvhd_systemic": [1, 0, 0, 0, 0],
}


def _cohort(**changes: list[Any]) -> pd.DataFrame:
    return pd.DataFrame({**ROWS, **changes})


def _check(data: ep.EndpointData, time: list[float], event: list[int]) -> None:
    np.testing.assert_array_equal(data.time, time)
    np.testing.assert_array_equal(data.event, event)


@pytest.fixture
def cohort() -> Any:
    return cohort_from_frame(_cohort())


def test_os_and_pfs(cohort: Any) -> None:
    _check(ep.overall_survival(cohort), [400, 300, 500, 150, 600], [1, 1, 0, 1, 0])
    _check(ep.progression_free_survival(cohort), [200, 300, 500, 150, 10], [1, 1, 0, 1, 1])


def test_relapse_and_nrm_compete(cohort: Any) -> None:
    # D relapsed on the day of death: relapse, not NRM [D].
    _check(ep.relapse_incidence(cohort), [200, 300, 500, 150, 10], [1, 2, 0, 1, 1])
    _check(ep.non_relapse_mortality(cohort), [200, 300, 500, 150, 10], [2, 1, 0, 2, 2])
    assert ep.relapse_incidence(cohort).estimator is ep.Estimator.AALEN_JOHANSEN


def test_acute_gvhd_grade_thresholds(cohort: Any) -> None:
    # Grade I (C) is below II–IV; grade II (B, E) is below III–IV: both sides of each threshold.
    _check(ep.acute_gvhd_incidence(cohort, min_grade=2), [20, 30, 500, 150, 40], [1, 1, 0, 2, 1])
    _check(ep.acute_gvhd_incidence(cohort, min_grade=3), [20, 300, 500, 150, 600], [1, 2, 0, 2, 0])


def test_acute_gvhd_with_relapse_competing(cohort: Any) -> None:
    _check(ep.acute_gvhd_incidence(cohort, min_grade=2, relapse_competes=True), [20, 30, 500, 150, 10], [1, 1, 0, 2, 2])


def test_chronic_gvhd_any_and_moderate_severe(cohort: Any) -> None:
    _check(ep.chronic_gvhd_incidence(cohort), [150, 300, 200, 150, 600], [1, 2, 1, 2, 0])
    _check(ep.chronic_gvhd_incidence(cohort, severity="moderate_severe"), [150, 300, 500, 150, 600], [1, 2, 0, 2, 0])


def test_grfs_holtan_and_nih_variant(cohort: Any) -> None:
    grfs = ep.gvhd_free_relapse_free_survival(cohort)
    assert grfs.name == "GRFS"
    # A: aGVHD III at d20; B: grade II does not count (death d300); C: mild cGVHD without systemic therapy is no event.
    _check(grfs, [20, 300, 500, 150, 10], [1, 1, 0, 1, 1])
    systemic_mild = ep.gvhd_free_relapse_free_survival(cohort_from_frame(_cohort(cgvhd_systemic=[1, 0, 1, 0, 0])))
    _check(systemic_mild, [20, 300, 200, 150, 10], [1, 1, 1, 1, 1])
    variant = ep.gvhd_free_relapse_free_survival(cohort, chronic="moderate_severe")
    assert variant.name == "GRFS (NIH moderate–severe cGVHD)"
    _check(variant, [20, 300, 500, 150, 10], [1, 1, 0, 1, 1])


def test_bad_endpoint_arguments(cohort: Any) -> None:
    with pytest.raises(ValidationError) as info:
        ep.acute_gvhd_incidence(cohort, min_grade=1)  # type: ignore[arg-type]
    assert info.value.field == "min_grade"
    no_gvhd = cohort_from_frame(_cohort().drop(columns=["agvhd_grade", "agvhd_day"]))
    with pytest.raises(ValidationError, match="no acute GVHD columns"):
        ep.gvhd_free_relapse_free_survival(no_gvhd)


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"relapse_day": [-1, NAN, NAN, 150, 10]}, "relapse_day", "row 1 \\(patient A\\): relapse_day is before day 0"),
        ({"relapse_day": [401, NAN, NAN, 150, 10]}, "relapse_day", "after last follow-up"),
        ({"followup_day": [400, NAN, 500, 150, 600]}, "followup_day", "row 2 \\(patient B\\): followup_day is missing"),
        ({"followup_day": [450, 300, 500, 150, 600]}, "followup_day", "is after death_day"),
        ({"death_day": [400, 300, 501, 150, NAN]}, "death_day", "row 3 .*after last follow-up"),
        ({"agvhd_grade": [5, 2, 1, 0, 2]}, "agvhd_grade", "must be an integer 0–4"),
        ({"agvhd_day": [NAN, 30, 15, NAN, 40]}, "agvhd_day", "missing for acute GVHD"),
        ({"agvhd_day": [20, 30, 15, 5, 40]}, "agvhd_day", "row 4 .*agvhd_grade is 0"),
        ({"agvhd_day": [20, 30, 15, NAN, 601]}, "agvhd_day", "after last follow-up"),
        ({"cgvhd_severity": ["moderate", "none", "weird", "none", "none"]}, "cgvhd_severity", "must be one of"),
        ({"cgvhd_day": [NAN, NAN, 200, NAN, NAN]}, "cgvhd_day", "missing for chronic GVHD"),
        ({"cgvhd_systemic": [1, 1, 0, 0, 0]}, "cgvhd_systemic", "row 2 .*cgvhd_severity is none"),
        ({"cgvhd_systemic": [1, 0, 2, 0, 0]}, "cgvhd_systemic", "must be 0 or 1"),
        ({"patient_id": ["A", "B", "C", "C", "E"]}, "patient_id", "row 4 .*duplicate"),
        ({"relapse_day": [200, NAN, "soon", 150, 10]}, "relapse_day", "not a number of days"),
    ],
)
def test_cohort_validation(changes: dict[str, list[Any]], field: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment) as info:
        cohort_from_frame(_cohort(**changes))
    assert info.value.field == field


def test_boundaries_accepted() -> None:
    # Relapse on day 0 and on the day of last follow-up are allowed (the other side of the errors above).
    c = cohort_from_frame(_cohort(relapse_day=[0, NAN, NAN, 150, 600]))
    assert c.relapse_day[0] == 0
    assert c.relapse_day[4] == 600


def test_missing_required_columns() -> None:
    with pytest.raises(ValidationError) as info:
        cohort_from_frame(_cohort().drop(columns=["followup_day"]))
    assert info.value.field == "followup_day"
    with pytest.raises(ValidationError) as info:
        cohort_from_frame(_cohort().drop(columns=["cgvhd_systemic"]))
    assert info.value.field == "cgvhd_systemic"


def test_dates_are_converted_to_days() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "transplant_date": ["2024-01-01", "2024-03-01"],
            "followup_date": ["2024-12-31", "2024-04-10"],
            "death_date": [None, "2024-04-10"],
            "relapse_date": ["2024-02-15", None],
        }
    )
    c = cohort_from_frame(frame)
    np.testing.assert_array_equal(c.followup_day, [365, 40])
    np.testing.assert_array_equal(c.relapse_day, [45, NAN])
    with pytest.raises(ValidationError, match="relapse_date is not a date") as info:
        cohort_from_frame(frame.assign(relapse_date=["2024-02-31x", None]))
    assert info.value.field == "relapse_date"
    with pytest.raises(ValidationError, match="relapse_day is before day 0"):
        cohort_from_frame(frame.assign(relapse_date=["2023-12-31", None]))


def test_cir_plus_nrm_plus_pfs_is_one() -> None:
    # Clinical spec §11 property, on a synthetic cohort with whole-day (tied) times.
    c = cohort_from_frame(synthetic_cohort(600, seed=2))
    cir = ep.relapse_incidence(c)
    fit = aalen_johansen(cir.time, cir.event)
    pfs = ep.progression_free_survival(c)
    km = kaplan_meier(pfs.time, pfs.event)
    grid = np.unique(np.concatenate((fit.time, km.time)))
    total = fit.at(1, grid).estimate + fit.at(2, grid).estimate + km.at(grid).estimate
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    nrm = ep.non_relapse_mortality(c)
    np.testing.assert_allclose(aalen_johansen(nrm.time, nrm.event).at(1, grid).estimate, fit.at(2, grid).estimate)
