"""HCT-CI and HCT-CI/age (spec §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.hctci import CALCULATOR, HCTCI_2005, HctciResult
from graftwise.errors import ValidationError

from .run_case import cli_json

DROP = "<drop>"

FLAGS = (
    "arrhythmia",
    "coronary_artery_disease",
    "congestive_heart_failure",
    "myocardial_infarction",
    "inflammatory_bowel_disease",
    "diabetes",
    "cerebrovascular_disease",
    "psychiatric_disturbance",
    "chronic_hepatitis",
    "cirrhosis",
    "infection",
    "rheumatologic",
    "peptic_ulcer",
    "dialysis",
    "prior_renal_transplant",
    "on_oxygen",
    "prior_solid_tumour",
    "heart_valve_disease",
)


def case(**changes: Any) -> dict[str, Any]:
    """A healthy 35-year-old with every measurement normal; keyword arguments change or drop fields."""
    base: dict[str, Any] = dict.fromkeys(FLAGS, False)
    base.update(
        age_years=35,
        ejection_fraction_percent=60,
        liver_tests=[
            {"day": -20, "analyte": "bilirubin", "value": 0.7, "uln": 1.2},
            {"day": -12, "analyte": "bilirubin", "value": 0.8, "uln": 1.2},
        ],
        bmi_kg_m2=24,
        bmi_for_age_percentile=None,
        creatinine_mg_dl=0.9,
        fev1_percent_predicted=95,
        dlco_percent_predicted_hb_corrected=90,
        dyspnoea="none",
    )
    base.update(changes)
    return {k: v for k, v in base.items() if v != DROP}


def run(**changes: Any) -> HctciResult:
    result = CALCULATOR.run(case(**changes))
    assert isinstance(result, HctciResult)
    return result


def items(result: HctciResult) -> dict[str, int]:
    return {c.comorbidity: c.weight for c in result.contributing}


def codes(result: HctciResult) -> set[str]:
    return {n.code for n in result.warnings}


def test_healthy_scores_zero() -> None:
    result = run()
    assert (result.hct_ci, result.risk_group, result.contributing) == (0, "low (0)", ())
    assert (result.age_point, result.hct_ci_age, result.hct_ci_age_group) == (0, 0, "0")
    assert result.warnings == ()
    assert "Sorror" in result.citation


@pytest.mark.parametrize(
    ("flag", "item", "weight"),
    [
        ("arrhythmia", "arrhythmia", 1),
        ("coronary_artery_disease", "cardiac", 1),
        ("congestive_heart_failure", "cardiac", 1),
        ("myocardial_infarction", "cardiac", 1),
        ("inflammatory_bowel_disease", "inflammatory_bowel_disease", 1),
        ("diabetes", "diabetes", 1),
        ("cerebrovascular_disease", "cerebrovascular_disease", 1),
        ("psychiatric_disturbance", "psychiatric_disturbance", 1),
        ("chronic_hepatitis", "hepatic_mild", 1),
        ("infection", "infection", 1),
        ("rheumatologic", "rheumatologic", 2),
        ("peptic_ulcer", "peptic_ulcer", 2),
        ("dialysis", "renal_moderate_severe", 2),
        ("prior_renal_transplant", "renal_moderate_severe", 2),
        ("prior_solid_tumour", "prior_solid_tumour", 3),
        ("heart_valve_disease", "heart_valve_disease", 3),
        ("on_oxygen", "pulmonary_severe", 3),
        ("cirrhosis", "hepatic_moderate_severe", 3),
    ],
)
def test_each_reported_comorbidity_weight(flag: str, item: str, weight: int) -> None:
    result = run(**{flag: True})
    assert items(result) == {item: weight}
    assert result.hct_ci == weight


@pytest.mark.parametrize(("ef", "expected"), [(50.5, 0), (50, 1), (35, 1)])
def test_ejection_fraction_boundary(ef: float, expected: int) -> None:
    assert run(ejection_fraction_percent=ef).hct_ci == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"creatinine_mg_dl": 2.0}, 0),
        ({"creatinine_mg_dl": 2.01}, 2),
        ({"creatinine_mg_dl": DROP, "creatinine_umol_l": 176.8}, 0),  # exactly 2 mg/dL
        ({"creatinine_mg_dl": DROP, "creatinine_umol_l": 176.9}, 2),
    ],
)
def test_creatinine_boundary(changes: dict[str, Any], expected: int) -> None:
    assert run(**changes).hct_ci == expected


@pytest.mark.parametrize(("bmi", "expected"), [(35, 0), (35.1, 1)])
def test_bmi_boundary(bmi: float, expected: int) -> None:
    assert run(bmi_kg_m2=bmi).hct_ci == expected


@pytest.mark.parametrize(("percentile", "expected"), [(94.9, 0), (95, 1)])
def test_paediatric_obesity_by_bmi_for_age(percentile: float, expected: int) -> None:
    # Under 18 the adult BMI cut-off does not apply.
    assert run(age_years=12, bmi_kg_m2=40, bmi_for_age_percentile=percentile).hct_ci == expected


@pytest.mark.parametrize(
    ("fev1", "dlco", "item"),
    [
        (81, 90, None),
        (80.5, 90, None),
        (80, 90, "pulmonary_moderate"),
        (90, 80, "pulmonary_moderate"),  # the lower of the two counts
        (66, 90, "pulmonary_moderate"),
        (65.5, 90, "pulmonary_moderate"),
        (65, 90, "pulmonary_severe"),
        (90, 40, "pulmonary_severe"),
    ],
)
def test_pulmonary_function_boundaries(fev1: float, dlco: float, item: str | None) -> None:
    found = items(run(fev1_percent_predicted=fev1, dlco_percent_predicted_hb_corrected=dlco))
    assert found == ({} if item is None else {item: HCTCI_2005.item(item).weight})


@pytest.mark.parametrize(
    ("changes", "item"),
    [
        ({"dyspnoea": "slight_activity"}, "pulmonary_moderate"),
        ({"dyspnoea": "at_rest"}, "pulmonary_severe"),
        ({"dyspnoea": "slight_activity", "on_oxygen": True}, "pulmonary_severe"),  # only the highest tier
        ({"fev1_percent_predicted": 70, "dyspnoea": "at_rest"}, "pulmonary_severe"),
    ],
)
def test_pulmonary_symptoms_and_tiers(changes: dict[str, Any], item: str) -> None:
    assert items(run(**changes)) == {item: HCTCI_2005.item(item).weight}


def liver(*tests: tuple[int, str, float]) -> list[dict[str, Any]]:
    return [{"day": d, "analyte": a, "value": x_uln, "uln": 1.0} for d, a, x_uln in tests]


@pytest.mark.parametrize(
    ("tests", "item"),
    [
        (liver((-20, "bilirubin", 1.0), (-12, "bilirubin", 1.0)), None),  # at the ULN: not elevated
        (liver((-20, "bilirubin", 1.2), (-12, "bilirubin", 1.5)), "hepatic_mild"),
        (liver((-20, "bilirubin", 1.2), (-12, "bilirubin", 1.6)), "hepatic_moderate_severe"),
        (liver((-20, "ast", 1.2), (-12, "ast", 2.5)), "hepatic_mild"),
        (liver((-20, "alt", 1.2), (-12, "alt", 2.6)), "hepatic_moderate_severe"),
        # The elevated value closest to day −10 sets the tier, even when an earlier one is higher.
        (liver((-20, "bilirubin", 3.0), (-11, "bilirubin", 1.2)), "hepatic_mild"),
        # Two elevated values are needed.
        (liver((-20, "bilirubin", 0.9), (-12, "bilirubin", 3.0)), None),
        # Values outside day −24 to −10 do not count.
        (liver((-25, "bilirubin", 3.0), (-12, "bilirubin", 3.0)), None),
        (liver((-9, "bilirubin", 3.0), (-12, "bilirubin", 3.0)), None),
        (liver((-24, "bilirubin", 3.0), (-10, "bilirubin", 3.0)), "hepatic_moderate_severe"),
    ],
)
def test_hepatic_laboratory_window(tests: list[dict[str, Any]], item: str | None) -> None:
    found = items(run(liver_tests=tests))
    assert found == ({} if item is None else {item: HCTCI_2005.item(item).weight})


def test_hepatic_tier_highest_only_and_warnings() -> None:
    result = run(chronic_hepatitis=True, cirrhosis=True)
    assert items(result) == {"hepatic_moderate_severe": 3}
    empty = run(liver_tests=liver((-30, "bilirubin", 0.5)))
    assert {"liver_test_window_empty", "liver_tests_outside_window"} <= codes(empty)
    single = run(liver_tests=liver((-20, "bilirubin", 2.0), (-12, "bilirubin", 0.5)))
    assert "single_elevated_liver_test" in codes(single)


@pytest.mark.parametrize(("age", "age_point"), [(39, 0), (39.99, 0), (40, 1), (65, 1)])
def test_hct_ci_age_point(age: float, age_point: int) -> None:
    result = run(age_years=age, diabetes=True)
    assert (result.hct_ci, result.age_point, result.hct_ci_age) == (1, age_point, 1 + age_point)


@pytest.mark.parametrize(
    ("flags", "score", "group"),
    [
        ((), 0, "low (0)"),
        (("diabetes",), 1, "intermediate (1–2)"),
        (("peptic_ulcer",), 2, "intermediate (1–2)"),
        (("diabetes", "peptic_ulcer"), 3, "high (≥ 3)"),
    ],
)
def test_risk_groups(flags: tuple[str, ...], score: int, group: str) -> None:
    result = run(**dict.fromkeys(flags, True))
    assert (result.hct_ci, result.risk_group) == (score, group)


@pytest.mark.parametrize(
    ("flags", "age", "group"),
    [
        ((), 39, "0"),
        ((), 40, "1–2"),
        (("peptic_ulcer",), 40, "3–4"),
        (("peptic_ulcer", "diabetes"), 40, "3–4"),
        (("prior_solid_tumour", "diabetes"), 40, "≥ 5"),
    ],
)
def test_hct_ci_age_groups(flags: tuple[str, ...], age: float, group: str) -> None:
    assert run(age_years=age, **dict.fromkeys(flags, True)).hct_ci_age_group == group


def test_maximum_is_26() -> None:
    worst = run(
        **dict.fromkeys(FLAGS, True),
        ejection_fraction_percent=30,
        bmi_kg_m2=40,
        creatinine_mg_dl=3,
        fev1_percent_predicted=40,
        dyspnoea="at_rest",
        liver_tests=liver((-20, "bilirubin", 3), (-12, "bilirubin", 3)),
    )
    assert worst.hct_ci == 26
    assert len(worst.contributing) == 15
    assert "cardiac" in worst.rule


def test_missing_measurements_are_warned_not_scored() -> None:
    result = run(
        ejection_fraction_percent=None,
        bmi_kg_m2=None,
        creatinine_mg_dl=DROP,
        fev1_percent_predicted=None,
        dlco_percent_predicted_hb_corrected=None,
    )
    assert result.hct_ci == 0
    assert {
        "ejection_fraction_not_given",
        "bmi_not_given",
        "creatinine_not_given",
        "pulmonary_function_incomplete",
    } <= codes(result)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"diabetes": DROP}, "diabetes"),
        ({"diabetes": "maybe"}, "diabetes"),
        ({"age_years": -1}, "age_years"),
        ({"ejection_fraction_percent": 101}, "ejection_fraction_percent"),
        ({"ejection_fraction_percent": DROP}, "ejection_fraction_percent"),
        ({"creatinine_umol_l": 80}, "creatinine_mg_dl"),
        ({"creatinine_mg_dl": -0.5}, "creatinine_mg_dl"),
        ({"dyspnoea": "sometimes"}, "dyspnoea"),
        ({"liver_tests": [{"day": -12, "analyte": "ggt", "value": 1, "uln": 1}]}, "liver_tests.0.analyte"),
        ({"liver_tests": [{"day": -12, "analyte": "alt", "value": 1, "uln": 0}]}, "liver_tests.0.uln"),
        ({"fev1_percent_predicted": -3}, "fev1_percent_predicted"),
    ],
)
def test_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        CALCULATOR.run(case(**changes))
    assert info.value.field == field
    assert field in str(info.value)


def test_cli_hct_ci(tmp_path: Path) -> None:
    out = cli_json("hct-ci", case(age_years=55, diabetes=True, fev1_percent_predicted=72), tmp_path)
    assert (out["hct_ci"], out["hct_ci_age"], out["hct_ci_age_group"]) == (3, 4, "3–4")
    assert [c["comorbidity"] for c in out["contributing"]] == ["diabetes", "pulmonary_moderate"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(FLAGS), unique=True), st.sampled_from(FLAGS))
def test_adding_a_comorbidity_never_lowers_the_index(present: list[str], added: str) -> None:
    before = run(**dict.fromkeys(present, True))
    after = run(**dict.fromkeys([*present, added], True))
    assert after.hct_ci >= before.hct_ci
    assert after.hct_ci <= 26
