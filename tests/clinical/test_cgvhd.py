"""Chronic GVHD: NIH 2014 organ scores and global severity (spec §2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.cgvhd import CALCULATOR, ORGANS, SEVERITIES, CgvhdResult, global_severity
from graftwise.errors import ValidationError

from .run_case import cli_json

SCORED = ("mouth", "eyes", "gi", "joints_fascia", "genital")
DROP = "<drop>"  # a value that removes the key, where null is itself a meaningful value


def case(**organs: dict[str, Any]) -> dict[str, Any]:
    """A case with every organ at 0 and GVHD attribution; keyword arguments update one organ each."""
    base: dict[str, Any] = {
        "skin": {"bsa_percent": 0, "features": [], "attribution": "gvhd"},
        "liver": {
            "bilirubin_mg_dl": 0.6,
            "bilirubin_uln_mg_dl": 1.2,
            "alt_u_l": 30,
            "alt_uln_u_l": 40,
            "alkaline_phosphatase_u_l": 80,
            "alkaline_phosphatase_uln_u_l": 120,
            "attribution": "gvhd",
        },
        "lung": {"symptom_score": 0, "fev1_percent_predicted": 95, "attribution": "gvhd"},
        "performance_score": 1,
    }
    for organ in SCORED:
        base[organ] = {"score": 0, "attribution": "gvhd"}
    for organ, change in organs.items():
        base[organ] = {k: v for k, v in {**base[organ], **change}.items() if v != DROP}
    return base


def run(**organs: dict[str, Any]) -> CgvhdResult:
    result = CALCULATOR.run(case(**organs))
    assert isinstance(result, CgvhdResult)
    return result


def organ_score(result: CgvhdResult, organ: str) -> int:
    return next(o.score for o in result.organs if o.organ == organ)


def codes(result: CgvhdResult) -> set[str]:
    return {n.code for n in result.warnings}


@pytest.mark.parametrize(
    ("bsa", "features", "expected"),
    [
        (0, [], 0),
        (1, [], 1),
        (18, [], 1),
        (18.5, [], 2),
        (19, [], 2),
        (50, [], 2),
        (50.5, [], 3),
        (5, ["superficial_sclerosis"], 2),
        (5, ["deep_sclerosis"], 3),
        (0, ["impaired_mobility"], 3),
        (0, ["ulceration"], 3),
        (0, ["severe_pruritus"], 3),
        (60, ["superficial_sclerosis"], 3),  # the higher of the two scales
    ],
)
def test_skin_score(bsa: float, features: list[str], expected: int) -> None:
    assert organ_score(run(skin={"bsa_percent": bsa, "features": features}), "skin") == expected


@pytest.mark.parametrize(
    ("liver", "expected"),
    [
        ({"alt_u_l": 119, "alkaline_phosphatase_u_l": 359}, 0),  # ALT 2.975 ×, AP 2.99 ×
        ({"alt_u_l": 120}, 1),  # ALT 3 × ULN
        ({"alt_u_l": 200}, 1),  # ALT 5 × ULN
        ({"alt_u_l": 201}, 2),  # ALT > 5 × ULN
        ({"alkaline_phosphatase_u_l": 360}, 1),  # AP 3 × ULN
        ({"bilirubin_mg_dl": 1.2}, 0),  # at the ULN: normal
        ({"bilirubin_mg_dl": 1.3}, 2),  # raised
        ({"bilirubin_mg_dl": 3.0}, 2),
        ({"bilirubin_mg_dl": 3.05}, 3),
        ({"bilirubin_mg_dl": DROP, "bilirubin_umol_l": 51.3}, 2),  # 3.0 mg/dL in SI
        ({"bilirubin_mg_dl": DROP, "bilirubin_umol_l": 51.4}, 3),
    ],
)
def test_liver_score(liver: dict[str, Any], expected: int) -> None:
    assert organ_score(run(liver=liver), "liver") == expected


@pytest.mark.parametrize(
    ("fev1", "expected"),
    [(100, 0), (80, 0), (79.5, 0), (79, 1), (60, 1), (59, 2), (40, 2), (39.5, 2), (39, 3), (20, 3)],
)
def test_lung_fev1_score(fev1: float, expected: int) -> None:
    result = run(lung={"fev1_percent_predicted": fev1, "symptom_score": expected})
    assert organ_score(result, "lung") == expected
    assert result.lung_score_source == "fev1"
    assert "lung_symptom_fev1_discordant" not in codes(result)


def test_lung_fev1_wins_over_symptoms_and_is_flagged() -> None:
    result = run(lung={"fev1_percent_predicted": 85, "symptom_score": 2})
    assert organ_score(result, "lung") == 0
    assert result.global_severity == "none"
    assert "lung_symptom_fev1_discordant" in codes(result)


def test_lung_symptoms_used_without_fev1() -> None:
    result = run(lung={"fev1_percent_predicted": None, "symptom_score": 1})
    assert result.lung_score_source == "symptoms"
    assert result.global_severity == "moderate"
    assert "lung_fev1_missing" in codes(result)


def scores(**kw: int) -> dict[str, int]:
    return {organ: kw.get(organ, 0) for organ in ORGANS}


@pytest.mark.parametrize(
    ("organ_scores", "expected"),
    [
        ({}, "none"),
        ({"mouth": 1}, "mild"),
        ({"mouth": 1, "eyes": 1}, "mild"),
        ({"mouth": 1, "eyes": 1, "skin": 1}, "moderate"),  # 3 organs at 1
        ({"gi": 2}, "moderate"),
        ({"lung": 1}, "moderate"),
        ({"lung": 1, "mouth": 1}, "moderate"),
        ({"lung": 2}, "severe"),
        ({"genital": 3}, "severe"),
        ({"skin": 3, "mouth": 1}, "severe"),
        ({"joints_fascia": 2, "eyes": 2}, "moderate"),
    ],
)
def test_global_severity_table(organ_scores: dict[str, int], expected: str) -> None:
    assert global_severity(scores(**organ_scores))[0] == expected


def test_global_severity_end_to_end_and_performance_not_used() -> None:
    data = case(mouth={"score": 1}, eyes={"score": 1})
    data["performance_score"] = 3
    result = CALCULATOR.run(data)
    assert result.global_severity == "mild"
    assert result.performance_score == 3
    assert "mild" in result.rule
    assert "Jagasia" in result.citation
    assert result.rules_version == "nih_cgvhd_2014"


def test_not_gvhd_organ_is_left_out_and_mixed_is_scored() -> None:
    left_out = run(eyes={"score": 3, "attribution": "not_gvhd"})
    assert left_out.global_severity == "none"
    eyes = next(o for o in left_out.organs if o.organ == "eyes")
    assert (eyes.score, eyes.counted_score) == (3, 0)
    assert "organ_not_gvhd" in codes(left_out)
    mixed = run(eyes={"score": 3, "attribution": "mixed"})
    assert mixed.global_severity == "severe"
    assert "organ_attribution_mixed" in codes(mixed)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=8, max_size=8), st.sampled_from(ORGANS))
def test_global_severity_monotone_in_organ_scores(values: list[int], organ: str) -> None:
    before = dict(zip(ORGANS, values, strict=True))
    for higher in range(before[organ] + 1, 4):
        after = {**before, organ: higher}
        assert SEVERITIES.index(global_severity(after)[0]) >= SEVERITIES.index(global_severity(before)[0])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mouth": {"score": 4}}, "mouth.score"),
        ({"eyes": {"score": -1}}, "eyes.score"),
        ({"gi": {"attribution": "maybe"}}, "gi.attribution"),
        ({"skin": {"bsa_percent": 101}}, "skin.bsa_percent"),
        ({"skin": {"features": ["rash"]}}, "skin.features.0"),
        ({"liver": {"bilirubin_mg_dl": -1}}, "liver.bilirubin_mg_dl"),
        ({"liver": {"bilirubin_umol_l": 10}}, "liver.bilirubin_mg_dl"),
        ({"liver": {"bilirubin_uln_mg_dl": DROP}}, "liver.bilirubin_uln_mg_dl"),
        ({"liver": {"alt_uln_u_l": 0}}, "liver.alt_uln_u_l"),
        ({"lung": {"fev1_percent_predicted": -5}}, "lung.fev1_percent_predicted"),
        ({"lung": {"symptom_score": DROP}}, "lung.symptom_score"),
        ({"lung": {"fev1_percent_predicted": DROP}}, "lung.fev1_percent_predicted"),
        ({"genital": None}, "genital"),
    ],
)
def test_refused(change: dict[str, Any], field: str) -> None:
    data = case()
    for organ, sub in change.items():
        if sub is None:
            del data[organ]
        else:
            data[organ] = {k: v for k, v in {**data[organ], **sub}.items() if v != DROP}
    with pytest.raises(ValidationError) as info:
        CALCULATOR.run(data)
    assert info.value.field == field
    assert field in str(info.value)


def test_cli_cgvhd(tmp_path: Path) -> None:
    data = case(skin={"bsa_percent": 30, "features": []}, lung={"fev1_percent_predicted": 55, "symptom_score": 2})
    out = cli_json("cgvhd", data, tmp_path)
    assert out["global_severity"] == "severe"
    assert [o["score"] for o in out["organs"] if o["organ"] in ("skin", "lung")] == [2, 2]


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0, 100),
    st.floats(0, 100),
    st.floats(20, 120),
    st.floats(0, 60),
    st.floats(0, 8),
)
def test_severity_monotone_in_measurements(
    bsa: float, more_bsa: float, fev1: float, less_fev1: float, bili: float
) -> None:
    """More skin involvement, a lower FEV1 or a higher bilirubin never lowers global severity."""

    def severity(skin_bsa: float, fev1_value: float, bilirubin: float) -> int:
        result = run(
            skin={"bsa_percent": skin_bsa},
            lung={"fev1_percent_predicted": fev1_value},
            liver={"bilirubin_mg_dl": bilirubin},
        )
        return SEVERITIES.index(result.global_severity)

    before = severity(bsa, fev1, bili)
    assert severity(min(bsa + more_bsa, 100.0), fev1, bili) >= before
    assert severity(bsa, max(fev1 - less_fev1, 0.0), bili) >= before
    assert severity(bsa, fev1, bili + 1.0) >= before
