"""Refined Disease Risk Index (spec §4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graftwise.clinical.dri import CALCULATOR, DRI_2014, DriResult
from graftwise.errors import ValidationError

from .run_case import cli_json


def dri(diagnosis: str, status: str | None, cytogenetics: str | None = None) -> DriResult:
    result = CALCULATOR.run(
        {"diagnosis": diagnosis, "cytogenetic_risk_dri": cytogenetics, "disease_status_at_hct": status}
    )
    assert isinstance(result, DriResult)
    return result


@pytest.mark.parametrize(
    ("diagnosis", "cytogenetics", "disease_risk"),
    [
        ("aml", "favourable", "low"),
        ("aml", "intermediate", "intermediate"),
        ("aml", "adverse", "high"),
        ("mds", "intermediate", "intermediate"),
        ("mds", "adverse", "high"),
        ("cll", None, "low"),
        ("indolent_b_nhl", None, "low"),
        ("all", None, "intermediate"),
        ("mpn", None, "intermediate"),
        ("myeloma", None, "intermediate"),
        ("hodgkin", None, "intermediate"),
        ("dlbcl_or_transformed_indolent_b_nhl", None, "intermediate"),
        ("mantle_cell", None, "intermediate"),
        ("t_cell_nodal", None, "intermediate"),
        ("t_cell_extranodal", None, "high"),
    ],
)
def test_disease_risk_table(diagnosis: str, cytogenetics: str | None, disease_risk: str) -> None:
    status = "cr"
    result = dri(diagnosis, status, cytogenetics)
    assert result.disease_risk == disease_risk
    assert result.stage_risk == "low"


def test_cml_disease_risk_is_low() -> None:
    assert dri("cml", "chronic_phase").disease_risk == "low"


@pytest.mark.parametrize(
    ("diagnosis", "status", "stage"),
    [
        ("aml", "cr", "low"),
        ("aml", "primary_induction_failure", "high"),
        ("all", "active_relapse", "high"),
        ("mds", "untreated", "low"),
        ("mds", "cr", "low"),
        ("mpn", "active_after_treatment", "high"),
        ("cml", "chronic_phase", "low"),
        ("cml", "accelerated_or_blast_phase", "high"),
        ("hodgkin", "pr", "low"),
        ("myeloma", "pr", "low"),
        ("cll", "pr", "low"),
        ("dlbcl_or_transformed_indolent_b_nhl", "not_in_cr_or_pr", "high"),
    ],
)
def test_stage_risk_table(diagnosis: str, status: str, stage: str) -> None:
    cytogenetics = "intermediate" if diagnosis in ("aml", "mds") else None
    assert dri(diagnosis, status, cytogenetics).stage_risk == stage


@pytest.mark.parametrize(
    ("diagnosis", "status", "cytogenetics", "group", "three"),
    [
        ("cll", "cr", None, "low", "low"),
        ("cll", "not_in_cr_or_pr", None, "intermediate", "intermediate"),
        ("aml", "cr", "intermediate", "intermediate", "intermediate"),
        ("aml", "active_relapse", "intermediate", "high", "high_or_very_high"),
        ("aml", "cr", "adverse", "high", "high_or_very_high"),
        ("aml", "primary_induction_failure", "adverse", "very_high", "high_or_very_high"),
        ("t_cell_extranodal", "not_in_cr_or_pr", None, "very_high", "high_or_very_high"),
    ],
)
def test_combination_matrix(diagnosis: str, status: str, cytogenetics: str | None, group: str, three: str) -> None:
    result = dri(diagnosis, status, cytogenetics)
    assert (result.dri, result.dri_3_group) == (group, three)
    assert group.replace("_", " ") in result.rule
    assert "Armand" in result.citation


def test_every_matrix_cell_is_defined() -> None:
    assert len(DRI_2014.combined) == 6
    assert set(DRI_2014.combined.values()) == {"low", "intermediate", "high", "very_high"}


@pytest.mark.parametrize(
    ("diagnosis", "status", "cytogenetics", "reason"),
    [
        ("non_malignant", None, None, "N/A - non-malignant indication"),
        ("other", "cr", None, "N/A - disease not in the refined DRI table"),
        ("aml", "cr", None, "TBD cytogenetics"),
        ("mds", "untreated", None, "TBD cytogenetics"),
        ("myeloma", None, None, "Missing disease status"),
    ],
)
def test_not_assignable(diagnosis: str, status: str | None, cytogenetics: str | None, reason: str) -> None:
    result = dri(diagnosis, status, cytogenetics)
    assert (result.dri, result.dri_3_group, result.not_assignable_reason) == (
        "not_assignable",
        "not_assignable",
        reason,
    )
    assert result.disease_risk is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"diagnosis": "mds", "cytogenetic_risk_dri": "favourable", "disease_status_at_hct": "cr"},
            "cytogenetic_risk_dri",
        ),
        (
            {"diagnosis": "cll", "cytogenetic_risk_dri": "adverse", "disease_status_at_hct": "cr"},
            "cytogenetic_risk_dri",
        ),
        (
            {"diagnosis": "aml", "cytogenetic_risk_dri": "eln_adverse", "disease_status_at_hct": "cr"},
            "cytogenetic_risk_dri",
        ),
        (
            {"diagnosis": "aml", "cytogenetic_risk_dri": "adverse", "disease_status_at_hct": "pr"},
            "disease_status_at_hct",
        ),
        ({"diagnosis": "cml", "cytogenetic_risk_dri": None, "disease_status_at_hct": "cr"}, "disease_status_at_hct"),
        (
            {"diagnosis": "myeloma", "cytogenetic_risk_dri": None, "disease_status_at_hct": "untreated"},
            "disease_status_at_hct",
        ),
        ({"diagnosis": "leukaemia", "cytogenetic_risk_dri": None, "disease_status_at_hct": "cr"}, "diagnosis"),
        ({"diagnosis": "aml", "cytogenetic_risk_dri": "adverse"}, "disease_status_at_hct"),
    ],
)
def test_refused(data: dict[str, str | None], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        CALCULATOR.run(data)
    assert info.value.field == field
    assert field in str(info.value)


def test_cli_dri(tmp_path: Path) -> None:
    case = {"diagnosis": "aml", "cytogenetic_risk_dri": "favourable", "disease_status_at_hct": "active_relapse"}
    out = cli_json("dri", case, tmp_path)
    assert (out["dri"], out["disease_risk"], out["stage_risk"]) == ("intermediate", "low", "high")
