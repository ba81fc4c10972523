"""EBMT risk score (spec §5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.ebmt import CALCULATOR, EBMT_2009, EbmtResult, max_score
from graftwise.errors import ValidationError

from .run_case import cli_json

DROP = "<drop>"


def case(**changes: Any) -> dict[str, Any]:
    """A 15-year-old with acute leukaemia in CR1 and a male HLA-identical sibling: score 0."""
    base: dict[str, Any] = {
        "age_years": 15,
        "diagnosis": "acute_leukaemia",
        "disease_status": "cr1",
        "days_from_diagnosis_to_hct": 150,
        "donor_type": "hla_identical_sibling",
        "donor_sex": "male",
        "recipient_sex": "male",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v != DROP}


def run(**changes: Any) -> EbmtResult:
    result = CALCULATOR.run(case(**changes))
    assert isinstance(result, EbmtResult)
    return result


def points(result: EbmtResult, factor: str) -> int:
    return next(f.points for f in result.factors if f.factor == factor)


def test_baseline_is_zero() -> None:
    result = run()
    assert (result.score, result.maximum_score) == (0, 7)
    assert "Gratwohl" in result.citation
    assert result.warnings == ()


@pytest.mark.parametrize(("age", "expected"), [(0, 0), (19, 0), (20, 1), (40, 1), (41, 2), (70, 2)])
def test_age_points(age: int, expected: int) -> None:
    assert points(run(age_years=age), "age") == expected


@pytest.mark.parametrize(
    ("diagnosis", "status", "stage"),
    [
        ("acute_leukaemia", "cr1", "early"),
        ("acute_leukaemia", "cr2", "intermediate"),
        ("acute_leukaemia", "cr3_or_later", "intermediate"),
        ("acute_leukaemia", "not_in_remission", "late"),
        ("cml", "cp1", "early"),
        ("cml", "accelerated_phase", "intermediate"),
        ("cml", "cp2_or_later", "intermediate"),
        ("cml", "blast_crisis", "late"),
        ("mds", "untreated", "early"),
        ("mds", "cr1", "early"),
        ("lymphoma", "pr", "intermediate"),
        ("myeloma", "cr2", "intermediate"),
        ("myeloma", "relapsed_progressing_refractory", "late"),
    ],
)
def test_disease_stage(diagnosis: str, status: str, stage: str) -> None:
    result = run(diagnosis=diagnosis, disease_status=status)
    assert result.disease_stage == stage
    assert points(result, "disease_stage") == EBMT_2009.stage_points[stage]  # type: ignore[index]


def test_cr3_acute_leukaemia_is_flagged() -> None:
    assert [n.code for n in run(disease_status="cr3_or_later").warnings] == ["cr3_stage_unconfirmed"]


@pytest.mark.parametrize(
    ("status", "days", "expected"),
    [("cr2", 364, 0), ("cr2", 365, 1), ("cr2", 2000, 1), ("cr1", 365, 0), ("cr1", 2000, 0)],
)
def test_interval_points_and_cr1_exemption(status: str, days: int, expected: int) -> None:
    assert points(run(disease_status=status, days_from_diagnosis_to_hct=days), "diagnosis_to_hct_interval") == expected


@pytest.mark.parametrize(("donor", "expected"), [("hla_identical_sibling", 0), ("unrelated", 1), ("other_related", 1)])
def test_donor_points(donor: str, expected: int) -> None:
    assert points(run(donor_type=donor), "donor_type") == expected


@pytest.mark.parametrize(
    ("donor_sex", "recipient_sex", "expected"),
    [("female", "male", 1), ("male", "male", 0), ("female", "female", 0), ("male", "female", 0)],
)
def test_sex_points(donor_sex: str, recipient_sex: str, expected: int) -> None:
    assert points(run(donor_sex=donor_sex, recipient_sex=recipient_sex), "donor_recipient_sex") == expected


def test_worst_allogeneic_is_7() -> None:
    result = run(
        age_years=60,
        disease_status="not_in_remission",
        days_from_diagnosis_to_hct=400,
        donor_type="unrelated",
        donor_sex="female",
    )
    assert (result.score, result.maximum_score) == (7, 7)
    assert "= 7 of 7" in result.rule


def test_autologous_has_no_donor_factors() -> None:
    result = run(
        donor_type="autologous",
        donor_sex=None,
        age_years=55,
        diagnosis="myeloma",
        disease_status="relapsed_progressing_refractory",
        days_from_diagnosis_to_hct=800,
    )
    assert (result.score, result.maximum_score) == (5, 5)
    assert [f.factor for f in result.factors] == ["age", "disease_stage", "diagnosis_to_hct_interval"]
    assert max_score(EBMT_2009, autologous=True) == 5


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"age_years": 40.5}, "age_years"),
        ({"age_years": -1}, "age_years"),
        ({"days_from_diagnosis_to_hct": -3}, "days_from_diagnosis_to_hct"),
        ({"disease_status": "cp1"}, "disease_status"),
        ({"diagnosis": "cml", "disease_status": "cr1"}, "disease_status"),
        ({"donor_type": "autologous"}, "donor_sex"),
        ({"donor_sex": None}, "donor_sex"),
        ({"donor_sex": DROP}, "donor_sex"),
        ({"recipient_sex": "unknown"}, "recipient_sex"),
        ({"donor_type": "cord"}, "donor_type"),
    ],
)
def test_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        CALCULATOR.run(case(**changes))
    assert info.value.field == field
    assert field in str(info.value)


def test_cli_ebmt_score(tmp_path: Path) -> None:
    out = cli_json("ebmt-score", case(age_years=45, donor_type="unrelated"), tmp_path)
    assert (out["score"], out["maximum_score"]) == (3, 7)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 129), st.integers(1, 60), st.integers(0, 5000), st.integers(0, 3000))
def test_score_never_falls_with_age_or_interval(age: int, older: int, days: int, later: int) -> None:
    base = run(age_years=age, disease_status="cr2", days_from_diagnosis_to_hct=days).score
    assert run(age_years=min(age + older, 130), disease_status="cr2", days_from_diagnosis_to_hct=days).score >= base
    assert run(age_years=age, disease_status="cr2", days_from_diagnosis_to_hct=days + later).score >= base
