"""Acute GVHD: MAGIC stages (spec §1.1), MAGIC grade (§1.2), Keystone / Glucksberg / IBMTR (§1.3), timelines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.agvhd import (
    CALCULATOR,
    AgvhdResult,
    HistoricalStages,
    MagicStages,
    glucksberg_grade,
    ibmtr_grade,
    keystone_grade,
    magic_grade,
)
from graftwise.errors import ValidationError

from .run_case import cli_json


def assessment(**overrides: Any) -> dict[str, Any]:
    """An assessment with every organ normal; tests change only what they are about."""
    base: dict[str, Any] = {
        "day": 14,
        "skin_rash_bsa_percent": 0,
        "skin_bullae_desquamation_bsa_percent": 0,
        "bilirubin_mg_dl": 0.8,
        "upper_gi_persistent_symptoms": False,
        "stool_volume_ml_per_day": 200,
        "grossly_bloody_stool": False,
        "abdominal_pain_needs_opioids": False,
        "abdominal_pain_affects_performance": False,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


HISTORICAL_EXTRA = {"liver_other_cause_documented": False, "upper_gi_histology_confirmed": False, "ecog": 1}


def grade(system: str = "magic", *, age: float = 45, weight: float | None = 70, **overrides: Any) -> AgvhdResult:
    extra = HISTORICAL_EXTRA if system != "magic" else {}
    case = {
        "system": system,
        "age_years": age,
        "weight_kg": weight,
        "assessments": [assessment(**{**extra, **overrides})],
    }
    result = CALCULATOR.run(case)
    assert isinstance(result, AgvhdResult)
    return result


def stages(system: str = "magic", **kw: Any) -> dict[str, int]:
    dumped: dict[str, int] = grade(system, **kw).assessments[0].stages.model_dump()
    return dumped


def codes(result: AgvhdResult) -> set[str]:
    return {n.code for a in result.assessments for n in a.warnings} | {n.code for n in result.warnings}


# --- MAGIC organ stages, both sides of every threshold (spec §1.1 boundaries) ---


@pytest.mark.parametrize(
    ("rash", "bullae", "expected"),
    [
        (0, 0, 0),
        (0.5, 0, 1),
        (24.9, 0, 1),
        (25, 0, 2),
        (50, 0, 2),
        (50.1, 0, 3),
        (51, 5, 3),  # bullae must exceed 5%
        (51, 5.1, 4),
        (50, 30, 2),  # bullae on ≤ 50% BSA: staged by BSA
        (100, 100, 4),
    ],
)
def test_magic_skin(rash: float, bullae: float, expected: int) -> None:
    assert stages(skin_rash_bsa_percent=rash, skin_bullae_desquamation_bsa_percent=bullae)["skin"] == expected


def test_magic_skin_bullae_without_stage4_flagged() -> None:
    assert "skin_bullae_staged_by_bsa" in codes(
        grade(skin_rash_bsa_percent=40, skin_bullae_desquamation_bsa_percent=10)
    )
    assert "skin_bullae_staged_by_bsa" not in codes(grade(skin_rash_bsa_percent=40))


@pytest.mark.parametrize(
    ("mg_dl", "expected"),
    [(0, 0), (1.99, 0), (2.0, 1), (3.0, 1), (3.05, 2), (6.0, 2), (6.05, 3), (15.0, 3), (15.01, 4)],
)
def test_magic_liver_mg_dl(mg_dl: float, expected: int) -> None:
    assert stages(bilirubin_mg_dl=mg_dl)["liver"] == expected


@pytest.mark.parametrize(
    ("umol_l", "expected"),
    [(34.1, 0), (34.2, 1), (51.3, 1), (51.4, 2), (102.6, 2), (102.7, 3), (256.5, 3), (256.6, 4)],
)
def test_magic_liver_umol_l_same_cutoffs(umol_l: float, expected: int) -> None:
    assert stages(bilirubin_mg_dl=None, bilirubin_umol_l=umol_l)["liver"] == expected


def test_magic_liver_not_downstaged_for_other_cause() -> None:
    result = grade(bilirubin_mg_dl=4, liver_other_cause_documented=True)
    assert result.assessments[0].stages.model_dump()["liver"] == 2
    assert "liver_not_downstaged" in codes(result)


@pytest.mark.parametrize(("persistent", "expected"), [(False, 0), (True, 1)])
def test_magic_upper_gi(persistent: bool, expected: int) -> None:
    assert stages(upper_gi_persistent_symptoms=persistent)["upper_gi"] == expected


@pytest.mark.parametrize(
    ("volume", "expected"),
    [(0, 0), (499, 0), (500, 1), (999, 1), (999.5, 1), (1000, 2), (1500, 2), (1500.5, 3), (4000, 3)],
)
def test_magic_lower_gi_adult_volume(volume: float, expected: int) -> None:
    assert stages(stool_volume_ml_per_day=volume)["lower_gi"] == expected


@pytest.mark.parametrize(
    ("episodes", "expected"), [(0, 0), (2.9, 0), (3, 1), (4, 1), (4.5, 2), (5, 2), (7, 2), (7.5, 3), (8, 3)]
)
def test_magic_lower_gi_adult_episodes(episodes: float, expected: int) -> None:
    assert stages(stool_volume_ml_per_day=None, stool_episodes_per_day=episodes)["lower_gi"] == expected


@pytest.mark.parametrize(
    ("ml_per_kg", "expected"),
    [(9.9, 0), (10, 1), (19.9, 1), (19.95, 2), (20, 2), (30, 2), (30.05, 3)],
)
def test_magic_lower_gi_child_volume_per_kg(ml_per_kg: float, expected: int) -> None:
    weight = 20.0
    result = stages(age=8, weight=weight, stool_volume_ml_per_day=ml_per_kg * weight)
    assert result["lower_gi"] == expected


@pytest.mark.parametrize(
    ("episodes", "expected"), [(3.9, 0), (4, 1), (6, 1), (6.5, 2), (7, 2), (10, 2), (10.5, 3), (11, 3)]
)
def test_magic_lower_gi_child_episodes(episodes: float, expected: int) -> None:
    kw: dict[str, Any] = {"stool_volume_ml_per_day": None, "stool_episodes_per_day": episodes}
    assert stages(age=8, weight=25, **kw)["lower_gi"] == expected


@pytest.mark.parametrize(("weight", "expected"), [(50, 0), (50.1, 1)])
def test_child_thresholds_at_50_kg_or_less(weight: float, expected: int) -> None:
    # 3 episodes a day is stage 1 for an adult (3–4) and stage 0 for a child (< 4).
    kw: dict[str, Any] = {"stool_volume_ml_per_day": None, "stool_episodes_per_day": 3}
    assert stages(age=30, weight=weight, **kw)["lower_gi"] == expected


def test_adult_without_weight_uses_adult_thresholds_and_says_so() -> None:
    result = grade(age=18, weight=None, stool_volume_ml_per_day=600)
    assert result.assessments[0].stages.model_dump()["lower_gi"] == 1
    assert "weight_unknown_adult_thresholds" in codes(result)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"grossly_bloody_stool": True, "stool_volume_ml_per_day": 100}, 4),
        ({"abdominal_pain_needs_opioids": True, "abdominal_pain_affects_performance": True}, 4),
        ({"abdominal_pain_needs_opioids": True}, 0),
        ({"abdominal_pain_affects_performance": True}, 0),
    ],
)
def test_magic_lower_gi_stage4(kw: dict[str, Any], expected: int) -> None:
    assert stages(**kw)["lower_gi"] == expected


def test_magic_incomplete_pain_criteria_flagged() -> None:
    assert "abdominal_pain_criteria_incomplete" in codes(grade(abdominal_pain_needs_opioids=True))


def test_magic_volume_wins_over_episodes_and_disagreement_is_flagged() -> None:
    result = grade(stool_volume_ml_per_day=1600, stool_episodes_per_day=2)
    assert result.assessments[0].stages.model_dump()["lower_gi"] == 3
    assert "lower_gi_volume_episode_discordant" in codes(result)
    assert "lower_gi_volume_episode_discordant" not in codes(
        grade(stool_volume_ml_per_day=600, stool_episodes_per_day=3)
    )


# --- MAGIC overall grade (spec §1.2): first match, not the maximum organ stage ---


@pytest.mark.parametrize(
    ("skin", "liver", "upper_gi", "lower_gi", "expected"),
    [
        (0, 0, 0, 0, 0),
        (1, 0, 0, 0, 1),
        (2, 0, 0, 0, 1),
        (3, 0, 0, 0, 2),
        (0, 1, 0, 0, 2),
        (0, 0, 1, 0, 2),
        (0, 0, 0, 1, 2),
        (2, 0, 1, 0, 2),
        (0, 2, 0, 0, 3),
        (0, 3, 0, 0, 3),
        (0, 0, 0, 2, 3),
        (0, 0, 0, 3, 3),
        (3, 3, 1, 3, 3),
        (4, 0, 0, 0, 4),
        (0, 4, 0, 0, 4),
        (0, 0, 0, 4, 4),
    ],
)
def test_magic_grade_table(skin: int, liver: int, upper_gi: int, lower_gi: int, expected: int) -> None:
    rank, wording = magic_grade(MagicStages(skin=skin, liver=liver, upper_gi=upper_gi, lower_gi=lower_gi))
    assert rank == expected
    assert wording.startswith(f"grade {('0', 'I', 'II', 'III', 'IV')[expected]}:")


# --- Historical systems (spec §1.3) ---


@pytest.mark.parametrize(("volume", "expected"), [(500, 0), (501, 1), (1000, 1), (1001, 2), (1500, 2), (1501, 3)])
def test_keystone_gut_adult(volume: float, expected: int) -> None:
    assert stages("keystone", stool_volume_ml_per_day=volume)["gut"] == expected


@pytest.mark.parametrize(("ml_per_kg", "expected"), [(30, 0), (31, 1), (60, 1), (61, 2), (90, 2), (91, 3)])
def test_keystone_gut_child_per_kg(ml_per_kg: float, expected: int) -> None:
    assert stages("keystone", age=6, weight=20, stool_volume_ml_per_day=ml_per_kg * 20)["gut"] == expected


@pytest.mark.parametrize(("histology", "expected"), [(False, 0), (True, 1)])
def test_keystone_upper_gi_needs_histology(histology: bool, expected: int) -> None:
    kw = {"upper_gi_persistent_symptoms": True, "upper_gi_histology_confirmed": histology}
    assert stages("keystone", **kw)["gut"] == expected


def test_keystone_severe_pain_is_gut_4_but_bloody_stool_is_not() -> None:
    pain = {"abdominal_pain_needs_opioids": True, "abdominal_pain_affects_performance": True}
    assert stages("keystone", **pain)["gut"] == 4
    assert stages("keystone", grossly_bloody_stool=True)["gut"] == 0


@pytest.mark.parametrize(("other_cause", "expected"), [(False, 2), (True, 1)])
def test_keystone_liver_downstaged_for_other_cause(other_cause: bool, expected: int) -> None:
    assert stages("keystone", bilirubin_mg_dl=4, liver_other_cause_documented=other_cause)["liver"] == expected


@pytest.mark.parametrize(("bullae", "expected"), [(0, 3), (1, 4)])
def test_keystone_skin_stage4_any_bullae_with_erythroderma(bullae: float, expected: int) -> None:
    kw = {"skin_rash_bsa_percent": 60, "skin_bullae_desquamation_bsa_percent": bullae}
    assert stages("keystone", **kw)["skin"] == expected


@pytest.mark.parametrize(
    ("skin", "liver", "gut", "expected"),
    [
        (0, 0, 0, 0),
        (2, 0, 0, 1),
        (3, 0, 0, 2),
        (0, 1, 0, 2),
        (0, 0, 1, 2),
        (0, 2, 0, 3),
        (0, 0, 2, 3),
        (0, 0, 4, 3),  # gut 4 is grade III in Keystone, IV in MAGIC
        (4, 0, 0, 4),
        (0, 4, 0, 4),
    ],
)
def test_keystone_grade_table(skin: int, liver: int, gut: int, expected: int) -> None:
    assert keystone_grade(HistoricalStages(skin=skin, liver=liver, gut=gut))[0] == expected


@pytest.mark.parametrize(
    ("skin", "liver", "gut", "ecog", "kps", "expected"),
    [
        (0, 0, 0, 0, None, 0),
        (2, 0, 0, 3, None, 1),
        (3, 0, 0, None, 70, 2),
        (1, 1, 0, None, 70, 2),
        (0, 4, 0, None, 70, 3),
        (0, 0, 3, None, 70, 3),
        (0, 0, 4, None, 70, 4),
        (4, 0, 0, None, 70, 4),
        (1, 0, 0, 4, None, 4),
        (1, 0, 0, 3, None, 1),
        (1, 0, 0, None, 20, 4),
        (1, 0, 0, None, 30, 1),
    ],
)
def test_glucksberg_grade_table(
    skin: int, liver: int, gut: int, ecog: int | None, kps: int | None, expected: int
) -> None:
    assert glucksberg_grade(HistoricalStages(skin=skin, liver=liver, gut=gut), ecog, kps)[0] == expected


@pytest.mark.parametrize(
    ("skin", "liver", "gut", "expected"),
    [
        (0, 0, 0, 0),
        (1, 0, 0, 1),
        (2, 0, 0, 2),
        (0, 1, 0, 2),
        (1, 0, 1, 2),
        (0, 2, 2, 2),
        (3, 0, 0, 3),
        (0, 0, 3, 3),
        (0, 4, 0, 4),
        (4, 0, 0, 4),
    ],
)
def test_ibmtr_grade_table(skin: int, liver: int, gut: int, expected: int) -> None:
    assert ibmtr_grade(HistoricalStages(skin=skin, liver=liver, gut=gut))[0] == expected


def test_ibmtr_labels_are_letters() -> None:
    assert grade("ibmtr", skin_rash_bsa_percent=10).maximum_grade == "A"
    assert grade("ibmtr", skin_rash_bsa_percent=30).maximum_grade == "B"


def test_glucksberg_uses_performance_status() -> None:
    result = grade("glucksberg_1974", skin_rash_bsa_percent=10, ecog=4)
    assert result.maximum_grade == "IV"
    assert "Glucksberg" in result.citation


# --- Monotonicity: raising any organ stage never lowers the grade (every system) ---

STAGE = st.integers(0, 4)


@settings(max_examples=200, deadline=None)
@given(STAGE, STAGE, st.integers(0, 1), STAGE, st.sampled_from(["skin", "liver", "upper_gi", "lower_gi"]))
def test_magic_grade_monotone(skin: int, liver: int, upper_gi: int, lower_gi: int, organ: str) -> None:
    before = MagicStages(skin=skin, liver=liver, upper_gi=upper_gi, lower_gi=lower_gi)
    top = 1 if organ == "upper_gi" else 4
    value = getattr(before, organ)
    for higher in range(value + 1, top + 1):
        after = before.model_copy(update={organ: higher})
        assert magic_grade(after)[0] >= magic_grade(before)[0]


@settings(max_examples=200, deadline=None)
@given(
    STAGE,
    STAGE,
    STAGE,
    st.sampled_from(["skin", "liver", "gut"]),
    st.sampled_from(["keystone", "glucksberg", "ibmtr"]),
    st.one_of(st.none(), st.integers(0, 5)),
)
def test_historical_grades_monotone(skin: int, liver: int, gut: int, organ: str, system: str, ecog: int | None) -> None:
    def rank(s: HistoricalStages) -> int:
        if system == "keystone":
            return keystone_grade(s)[0]
        if system == "glucksberg":
            return glucksberg_grade(s, ecog, None)[0]
        return ibmtr_grade(s)[0]

    before = HistoricalStages(skin=skin, liver=liver, gut=gut)
    for higher in range(getattr(before, organ) + 1, 5):
        assert rank(before.model_copy(update={organ: higher})) >= rank(before)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0, 100),
    st.floats(0, 30),
    st.floats(0, 3000),
    st.sampled_from(["skin_rash_bsa_percent", "bilirubin_mg_dl", "stool_volume_ml_per_day"]),
    st.floats(0, 50),
)
def test_magic_grade_monotone_in_measurements(rash: float, bili: float, volume: float, which: str, more: float) -> None:
    base = {"skin_rash_bsa_percent": rash, "bilirubin_mg_dl": bili, "stool_volume_ml_per_day": volume}
    raised = dict(base)
    raised[which] = min(base[which] + more, 100.0) if which == "skin_rash_bsa_percent" else base[which] + more
    assert grade(**raised).maximum_grade_rank >= grade(**base).maximum_grade_rank


# --- Assessments over time ---


def test_maximum_grade_and_first_day_reached() -> None:
    case = {
        "system": "magic",
        "age_years": 50,
        "weight_kg": 80,
        "assessments": [
            assessment(day=10, skin_rash_bsa_percent=20),  # I
            assessment(day=17, stool_volume_ml_per_day=1200),  # III
            assessment(day=24, bilirubin_mg_dl=2.5),  # II
            assessment(day=31, bilirubin_mg_dl=7),  # III again
        ],
    }
    result = CALCULATOR.run(case)
    assert [a.grade for a in result.assessments] == ["I", "III", "II", "III"]
    assert (result.maximum_grade, result.maximum_grade_day) == ("III", 17)
    assert "day 17" in result.rule


def test_result_carries_rule_citation_version_and_inputs() -> None:
    result = grade(skin_rash_bsa_percent=60)
    assert result.maximum_grade == "II"
    assert "skin 3" in result.rule
    assert "Harris" in result.citation
    assert result.rules_version == "magic_2016"
    assert "[R]" in result.confidence
    assert result.inputs.assessments[0].skin_rash_bsa_percent == 60


# --- Impossible and missing values are refused, naming the field ---


@pytest.mark.parametrize(
    ("case_change", "field"),
    [
        ({"bilirubin_mg_dl": -0.1}, "assessments.0.bilirubin_mg_dl"),
        ({"skin_rash_bsa_percent": 100.5}, "assessments.0.skin_rash_bsa_percent"),
        ({"skin_rash_bsa_percent": -1}, "assessments.0.skin_rash_bsa_percent"),
        ({"stool_volume_ml_per_day": -5}, "assessments.0.stool_volume_ml_per_day"),
        ({"upper_gi_persistent_symptoms": None}, "assessments.0.upper_gi_persistent_symptoms"),
        ({"bilirubin_umol_l": 20}, "assessments.0.bilirubin_mg_dl"),
        ({"bilirubin_mg_dl": None}, "assessments.0.bilirubin_mg_dl"),
        ({"stool_volume_ml_per_day": None}, "assessments.0.stool_volume_ml_per_day"),
        ({"day": -1}, "assessments.0.day"),
        ({"colour": "red"}, "assessments.0.colour"),
    ],
)
def test_refused_assessment_values(case_change: dict[str, Any], field: str) -> None:
    case = {"system": "magic", "age_years": 40, "weight_kg": 70, "assessments": [assessment(**case_change)]}
    with pytest.raises(ValidationError) as info:
        CALCULATOR.run(case)
    assert info.value.field == field
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ({"system": "magic", "age_years": 40, "weight_kg": 70, "assessments": []}, "assessments"),
        ({"system": "nih", "age_years": 40, "weight_kg": 70, "assessments": [assessment()]}, "system"),
        ({"age_years": 40, "weight_kg": 70, "assessments": [assessment()]}, "system"),
        ({"system": "magic", "age_years": 12, "weight_kg": None, "assessments": [assessment()]}, "weight_kg"),
        ({"system": "magic", "age_years": 40, "weight_kg": 0, "assessments": [assessment()]}, "weight_kg"),
        (
            {
                "system": "magic",
                "age_years": 40,
                "weight_kg": 70,
                "assessments": [assessment(day=20), assessment(day=14)],
            },
            "assessments.1.day",
        ),
        (
            {
                "system": "magic",
                "age_years": 40,
                "weight_kg": 70,
                "assessments": [assessment(day=20), assessment(day=20)],
            },
            "assessments.1.day",
        ),
        (
            {"system": "keystone", "age_years": 40, "weight_kg": 70, "assessments": [assessment()]},
            "assessments.0.liver_other_cause_documented",
        ),
        (
            {
                "system": "keystone",
                "age_years": 40,
                "weight_kg": 70,
                "assessments": [
                    assessment(
                        stool_volume_ml_per_day=None,
                        stool_episodes_per_day=3,
                        liver_other_cause_documented=False,
                        upper_gi_histology_confirmed=False,
                    )
                ],
            },
            "assessments.0.stool_volume_ml_per_day",
        ),
        (
            {
                "system": "glucksberg_1974",
                "age_years": 40,
                "weight_kg": 70,
                "assessments": [assessment(liver_other_cause_documented=False, upper_gi_histology_confirmed=False)],
            },
            "assessments.0.ecog",
        ),
    ],
)
def test_refused_cases(case: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        CALCULATOR.run(case)
    assert info.value.field == field
    assert field in str(info.value)


# --- CLI ---


def test_cli_agvhd(tmp_path: Path) -> None:
    case = {
        "system": "magic",
        "age_years": 9,
        "weight_kg": 30,
        "assessments": [assessment(day=12, stool_volume_ml_per_day=700, skin_rash_bsa_percent=10)],
    }
    out = cli_json("agvhd", case, tmp_path)
    assert out["assessments"][0]["stages"]["lower_gi"] == 2  # 23.3 mL/kg in a 30-kg child
    assert out["maximum_grade"] == "III"
    assert out["maximum_grade_day"] == 12
    assert out["citation"].startswith("Harris")
