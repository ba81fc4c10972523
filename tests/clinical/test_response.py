"""Response criteria (clinical spec §10): ELN 2022 AML, IMWG 2016 myeloma, Lugano 2014, every threshold both sides."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.response import CALCULATOR, ResponseResult
from graftwise.errors import ValidationError


def run(assessment: dict[str, Any]) -> ResponseResult:
    return CALCULATOR.run({"assessment": assessment})


def field_of(assessment: dict[str, Any]) -> str | None:
    with pytest.raises(ValidationError) as info:
        run(assessment)
    return info.value.field


# --- AML ----------------------------------------------------------------------------------------------------------


def aml(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "system": "eln2022_aml",
        "bm_blasts_pct": 2.0,
        "circulating_blasts": False,
        "extramedullary_disease": False,
        "anc_x10e9_per_l": 1.5,
        "platelets_x10e9_per_l": 150.0,
        "use_crh": True,
        "therapy": "intensive",
        "intensive_courses_completed": 1,
        "bm_cells_counted": 500,
        "prior_remission": False,
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("overrides", "category"),
    [
        ({}, "CR"),
        ({"bm_blasts_pct": 4.99}, "CR"),
        ({"bm_blasts_pct": 5.0, "pretreatment_bm_blasts_pct": 6.0}, "no_response"),
        ({"circulating_blasts": True}, "no_response"),
        ({"extramedullary_disease": True}, "no_response"),
        ({"anc_x10e9_per_l": 1.0, "platelets_x10e9_per_l": 100.0}, "CR"),
        ({"anc_x10e9_per_l": 0.99, "platelets_x10e9_per_l": 100.0}, "CRh"),
        ({"anc_x10e9_per_l": 0.99, "platelets_x10e9_per_l": 100.0, "use_crh": False}, "CRi"),
        ({"anc_x10e9_per_l": 0.5, "platelets_x10e9_per_l": 50.0}, "CRh"),
        ({"anc_x10e9_per_l": 0.5, "platelets_x10e9_per_l": 50.0, "use_crh": False}, "MLFS"),
        ({"anc_x10e9_per_l": 0.49, "platelets_x10e9_per_l": 99.9}, "MLFS"),
        ({"anc_x10e9_per_l": 0.5, "platelets_x10e9_per_l": 49.9}, "MLFS"),
        ({"anc_x10e9_per_l": 0.49, "platelets_x10e9_per_l": 100.0}, "CRi"),
        ({"anc_x10e9_per_l": 1.2, "platelets_x10e9_per_l": 49.9}, "CRi"),
    ],
)
def test_aml_remission_categories_both_sides(overrides: dict[str, Any], category: str) -> None:
    assert run(aml(**overrides)).category == category


@pytest.mark.parametrize(
    ("cells", "cellularity", "category"),
    [(200, None, "MLFS"), (199, None, "not_evaluable"), (None, 10.0, "MLFS"), (199, 9.9, "not_evaluable")],
)
def test_aml_mlfs_needs_a_non_aplastic_marrow(cells: int | None, cellularity: float | None, category: str) -> None:
    data = aml(anc_x10e9_per_l=0.2, platelets_x10e9_per_l=20.0, bm_cells_counted=cells, bm_cellularity_pct=cellularity)
    assert run(data).category == category


def test_aml_mlfs_without_marrow_adequacy_is_refused() -> None:
    data = aml(anc_x10e9_per_l=0.2, platelets_x10e9_per_l=20.0, bm_cells_counted=None)
    assert field_of(data) == "assessment.eln2022_aml.bm_cellularity_pct"


@pytest.mark.parametrize(
    ("blasts", "pre", "anc", "category"),
    [
        (25.0, 50.0, 1.5, "PR"),
        (25.01, 60.0, 1.5, "no_response"),
        (5.0, 10.0, 1.5, "PR"),
        (25.0, 49.9, 1.5, "no_response"),
        (10.0, 40.0, 0.9, "no_response"),
    ],
)
def test_aml_partial_remission_both_sides(blasts: float, pre: float, anc: float, category: str) -> None:
    data = aml(bm_blasts_pct=blasts, pretreatment_bm_blasts_pct=pre, anc_x10e9_per_l=anc)
    assert run(data).category == category


def test_aml_partial_remission_needs_pretreatment_blasts() -> None:
    assert field_of(aml(bm_blasts_pct=10.0)) == "assessment.eln2022_aml.pretreatment_bm_blasts_pct"


@pytest.mark.parametrize(
    ("overrides", "category"),
    [
        ({"intensive_courses_completed": 2}, "refractory"),
        ({"intensive_courses_completed": 1}, "no_response"),
        (
            {"therapy": "less_intensive", "intensive_courses_completed": None, "days_since_therapy_start": 180},
            "refractory",
        ),
        (
            {"therapy": "less_intensive", "intensive_courses_completed": None, "days_since_therapy_start": 179},
            "no_response",
        ),
    ],
)
def test_aml_refractory_at_landmark_both_sides(overrides: dict[str, Any], category: str) -> None:
    result = run(aml(bm_blasts_pct=40.0, pretreatment_bm_blasts_pct=60.0, **overrides))
    assert result.category == category
    assert result.best_response_at_assessment == "no_response"


def test_aml_cr_at_landmark_is_not_refractory() -> None:
    assert run(aml(intensive_courses_completed=2)).category == "CR"


def test_aml_pr_at_landmark_is_refractory_with_best_response_kept() -> None:
    result = run(aml(bm_blasts_pct=10.0, pretreatment_bm_blasts_pct=40.0, intensive_courses_completed=2))
    assert (result.category, result.best_response_at_assessment) == ("refractory", "PR")


@pytest.mark.parametrize(
    ("overrides", "category"),
    [
        ({"bm_blasts_pct": 5.0}, "relapse"),
        ({"bm_blasts_pct": 4.99}, "CR"),
        ({"circulating_blasts_confirmed": True}, "relapse"),
        ({"new_extramedullary_disease": True}, "relapse"),
        ({"mrd_conversion_confirmed": True}, "mrd_relapse"),
        ({"mrd_log10_rise": 1.0}, "mrd_relapse"),
        ({"mrd_log10_rise": 0.99}, "CR"),
    ],
)
def test_aml_relapse_both_sides(overrides: dict[str, Any], category: str) -> None:
    assert run(aml(prior_remission=True, intensive_courses_completed=None, **overrides)).category == category


def test_aml_mrd_reported_with_remission_only() -> None:
    assert run(aml(mrd_negative=True)).mrd_negative is True
    assert run(aml(bm_blasts_pct=40.0, pretreatment_bm_blasts_pct=60.0, mrd_negative=True)).mrd_negative is None


def test_aml_cibmtr_transfusion_independence_warning() -> None:
    warnings = run(aml(transfusion_independent=False)).warnings
    assert [(w.code, "transfusion independence" in w.message) for w in warnings] == [
        ("cibmtr_cr_transfusion_dependent", True)
    ]
    assert not run(aml(transfusion_independent=True)).warnings


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"intensive_courses_completed": None}, "assessment.eln2022_aml.intensive_courses_completed"),
        ({"therapy": "less_intensive"}, "assessment.eln2022_aml.days_since_therapy_start"),
        ({"bm_blasts_pct": 101}, "assessment.eln2022_aml.bm_blasts_pct"),
        ({"anc_x10e9_per_l": -0.1}, "assessment.eln2022_aml.anc_x10e9_per_l"),
        ({"use_crh": None}, "assessment.eln2022_aml.use_crh"),
        ({"system": "eln2017_aml"}, "assessment"),
    ],
)
def test_aml_impossible_input_names_the_field(overrides: dict[str, Any], field: str) -> None:
    assert field_of(aml(**overrides)) == field


ORDER = {"CR": 3, "CRh": 2, "CRi": 1, "MLFS": 0}


@settings(max_examples=60, deadline=None)
@given(
    anc=st.floats(min_value=0, max_value=3),
    plt=st.floats(min_value=0, max_value=300),
    more_anc=st.floats(min_value=0, max_value=2),
    more_plt=st.floats(min_value=0, max_value=200),
    use_crh=st.booleans(),
)
def test_aml_higher_counts_never_lower_the_remission(
    anc: float, plt: float, more_anc: float, more_plt: float, use_crh: bool
) -> None:
    before = run(aml(anc_x10e9_per_l=anc, platelets_x10e9_per_l=plt, use_crh=use_crh)).category
    after = run(aml(anc_x10e9_per_l=anc + more_anc, platelets_x10e9_per_l=plt + more_plt, use_crh=use_crh)).category
    assert ORDER[after] >= ORDER[before]


# --- Myeloma ------------------------------------------------------------------------------------------------------


def mm(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "system": "imwg2016_myeloma",
        "baseline_serum_m_protein_g_dl": 4.0,
        "baseline_urine_m_protein_mg_24h": 400.0,
        "serum_m_protein_g_dl": 4.0,
        "urine_m_protein_mg_24h": 400.0,
        "soft_tissue_plasmacytomas": False,
        "bone_marrow_progression": False,
        "new_or_enlarging_lesions": False,
        "confirmed": True,
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("serum", "urine", "category"),
    [
        (0.4, 99.0, "VGPR"),  # 90% serum fall, urine < 100
        (0.41, 99.0, "PR"),
        (0.4, 100.0, "PR"),
        (2.0, 199.0, "PR"),  # 50% serum fall, urine < 200
        (2.0, 40.0, "PR"),  # urine fall exactly 90%
        (2.0, 200.0, "MR"),  # urine neither >= 90% fall nor < 200; 50% fall is MR
        (2.01, 40.0, "MR"),
        (3.0, 200.0, "MR"),  # 25% serum, 50% urine
        (3.01, 200.0, "SD"),
        (3.0, 201.0, "SD"),
        (4.0, 400.0, "SD"),
    ],
)
def test_myeloma_fall_thresholds_both_sides(serum: float, urine: float, category: str) -> None:
    assert run(mm(serum_m_protein_g_dl=serum, urine_m_protein_mg_24h=urine)).category == category


def test_myeloma_urine_only_disease() -> None:
    data = mm(baseline_serum_m_protein_g_dl=0.0, serum_m_protein_g_dl=0.0, urine_m_protein_mg_24h=150.0)
    assert run(data).category == "PR"


def test_myeloma_immunofixation_only_is_vgpr() -> None:
    data = mm(serum_m_protein_g_dl=0.0, urine_m_protein_mg_24h=0.0, serum_immunofixation_negative=False)
    result = run(data)
    assert (result.category, result.criteria_met) == ("VGPR", ["M-protein detectable by immunofixation only"])


def cr(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "serum_m_protein_g_dl": 0.0,
        "urine_m_protein_mg_24h": 0.0,
        "serum_immunofixation_negative": True,
        "urine_immunofixation_negative": True,
        "bm_plasma_cells_pct": 2.0,
    }
    return mm(**{**values, **overrides})


@pytest.mark.parametrize(
    ("overrides", "category"),
    [
        ({}, "CR"),
        ({"bm_plasma_cells_pct": 4.99}, "CR"),
        ({"bm_plasma_cells_pct": 5.0}, "VGPR"),
        ({"soft_tissue_plasmacytomas": True}, "VGPR"),
        ({"flc_ratio_normal": True, "clonal_bm_plasma_cells": False}, "sCR"),
        ({"flc_ratio_normal": False, "clonal_bm_plasma_cells": False}, "CR"),
        ({"flc_ratio_normal": True, "clonal_bm_plasma_cells": True}, "CR"),
    ],
)
def test_myeloma_complete_responses(overrides: dict[str, Any], category: str) -> None:
    assert run(cr(**overrides)).category == category


def test_myeloma_scr_not_assessable_is_warned() -> None:
    result = run(cr(flc_ratio_normal=True))
    assert result.category == "CR"
    assert any(w.code == "scr_not_assessable" and "sCR not assessable" in w.message for w in result.warnings)


def test_myeloma_cr_needs_marrow() -> None:
    assert field_of(cr(bm_plasma_cells_pct=None)) == "assessment.imwg2016_myeloma.bm_plasma_cells_pct"


@pytest.mark.parametrize(
    ("nadir", "serum", "setting", "pd"),
    [
        (2.0, 2.5, True, True),  # +25%, +0.5 g/dL
        (2.0, 2.49, True, False),
        (1.0, 1.5, True, True),
        (1.0, 1.49, True, False),  # +49% but < 0.5 g/dL
        (5.0, 6.0, True, True),  # +20% but >= 1 g/dL from a nadir >= 5
        (5.0, 5.99, True, False),
        (5.0, 6.0, False, False),
        (4.99, 5.99, True, False),
        (0.0, 0.5, True, True),
        (0.0, 0.49, True, False),
    ],
)
def test_myeloma_serum_progression_both_sides(nadir: float, serum: float, setting: bool, pd: bool) -> None:
    data = mm(
        baseline_serum_m_protein_g_dl=8.0,
        baseline_urine_m_protein_mg_24h=0.0,
        urine_m_protein_mg_24h=0.0,
        nadir_serum_m_protein_g_dl=nadir,
        serum_m_protein_g_dl=serum,
        high_nadir_rise_sufficient=setting,
    )
    assert (run(data).category == "PD") == pd


@pytest.mark.parametrize(
    ("nadir", "urine", "pd"), [(800, 1000, True), (800, 999, False), (100, 300, True), (100, 299, False)]
)
def test_myeloma_urine_progression_both_sides(nadir: float, urine: float, pd: bool) -> None:
    data = mm(baseline_urine_m_protein_mg_24h=2000.0, nadir_urine_m_protein_mg_24h=nadir, urine_m_protein_mg_24h=urine)
    assert (run(data).category == "PD") == pd


@pytest.mark.parametrize(
    ("measurable", "dflc", "pd"), [(False, 50.01, True), (False, 50.0, False), (True, 80.0, False)]
)
def test_myeloma_flc_progression_only_without_measurable_protein(measurable: bool, dflc: float, pd: bool) -> None:
    baseline = 4.0 if measurable else 0.0
    data = mm(
        baseline_serum_m_protein_g_dl=baseline,
        serum_m_protein_g_dl=baseline,
        baseline_urine_m_protein_mg_24h=0.0,
        urine_m_protein_mg_24h=0.0,
        nadir_dflc_mg_dl=40.0,
        dflc_mg_dl=dflc,
    )
    assert (run(data).category == "PD") == pd


@pytest.mark.parametrize("flag", ["bone_marrow_progression", "new_or_enlarging_lesions"])
def test_myeloma_other_progression_criteria(flag: str) -> None:
    assert run(cr(**{flag: True})).category == "PD"


def test_myeloma_unconfirmed_is_warned() -> None:
    assert any(
        w.code == "response_not_confirmed" and "two consecutive" in w.message
        for w in run(mm(confirmed=False, serum_m_protein_g_dl=0.4, urine_m_protein_mg_24h=0)).warnings
    )


def test_myeloma_not_measurable_is_not_evaluable() -> None:
    data = mm(baseline_serum_m_protein_g_dl=0.0, baseline_urine_m_protein_mg_24h=0.0, serum_m_protein_g_dl=0.0)
    assert run(data).category == "not_evaluable"


def test_myeloma_missing_current_value_names_field() -> None:
    data = mm()
    del data["serum_m_protein_g_dl"]
    assert field_of(data) == "assessment.imwg2016_myeloma.serum_m_protein_g_dl"


MM_ORDER = {"SD": 0, "MR": 1, "PR": 2, "VGPR": 3}


@settings(max_examples=60, deadline=None)
@given(
    serum=st.floats(min_value=0.01, max_value=4),
    urine=st.floats(min_value=1, max_value=400),
    less=st.floats(min_value=0, max_value=1),
)
def test_myeloma_lower_m_protein_never_lowers_response(serum: float, urine: float, less: float) -> None:
    before = run(mm(serum_m_protein_g_dl=serum, urine_m_protein_mg_24h=urine)).category
    after = run(mm(serum_m_protein_g_dl=serum * (1 - less), urine_m_protein_mg_24h=urine * (1 - less))).category
    assert MM_ORDER[after] >= MM_ORDER[before]


# --- Lymphoma -----------------------------------------------------------------------------------------------------


def pet(score: int, change: str | None = None, new: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "system": "lugano2014_lymphoma",
        "modality": "pet_ct",
        "deauville_score": score,
        "new_fdg_avid_lesions": new,
    }
    if change is not None:
        data["uptake_change"] = change
    return data


@pytest.mark.parametrize(
    ("score", "change", "new", "category"),
    [
        (1, None, False, "complete_metabolic_response"),
        (3, None, False, "complete_metabolic_response"),
        (4, "reduced", False, "partial_metabolic_response"),
        (5, "reduced", False, "partial_metabolic_response"),
        (4, "no_significant_change", False, "no_metabolic_response"),
        (5, "increased", False, "progressive_metabolic_disease"),
        (2, None, True, "progressive_metabolic_disease"),
    ],
)
def test_lugano_pet(score: int, change: str | None, new: bool, category: str) -> None:
    assert run(pet(score, change, new)).category == category


def test_lugano_pet_deauville_4_needs_uptake_change() -> None:
    assert field_of(pet(4)) == "assessment.lugano2014_lymphoma.uptake_change"


def lesion(
    base: tuple[float, float], nadir: tuple[float, float], now: tuple[float, float], site: str = "nodal"
) -> dict[str, Any]:
    return {
        "site": site,
        "baseline_ldi_cm": base[0],
        "baseline_sdi_cm": base[1],
        "nadir_ldi_cm": nadir[0],
        "nadir_sdi_cm": nadir[1],
        "ldi_cm": now[0],
        "sdi_cm": now[1],
    }


def ct(lesions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "system": "lugano2014_lymphoma",
        "modality": "ct",
        "target_lesions": lesions,
        "extralymphatic_disease": False,
        **extra,
    }


@pytest.mark.parametrize(
    ("now", "extra", "category"),
    [
        ((1.5, 1.0), {}, "complete_response"),
        ((1.51, 1.0), {}, "partial_response"),
        ((1.5, 1.0), {"extralymphatic_disease": True}, "partial_response"),
        ((3.0, 2.0), {}, "partial_response"),  # SPD 6 of 12: exactly 50% fall
        ((3.0, 2.01), {}, "stable_disease"),
    ],
)
def test_lugano_ct_response_both_sides(now: tuple[float, float], extra: dict[str, Any], category: str) -> None:
    assert run(ct([lesion((4.0, 3.0), now, now)], **extra)).category == category


@pytest.mark.parametrize(
    ("nadir", "now", "pd"),
    [
        ((2.0, 1.5), (2.5, 1.8), True),  # PPD +50%, LDi +0.5 (lesion <= 2 cm), LDi > 1.5
        ((2.0, 1.5), (2.49, 1.81), False),  # increments 0.49 / 0.31
        ((3.0, 2.0), (4.0, 3.0), True),  # > 2 cm: +1.0 needed
        ((3.0, 2.0), (3.9, 2.9), False),
        ((1.0, 0.5), (1.5, 1.0), False),  # LDi not > 1.5
        ((1.0, 0.5), (1.6, 1.0), True),
        ((2.0, 2.0), (2.8, 2.1), False),  # PPD +47%
    ],
)
def test_lugano_ct_lesion_progression_both_sides(
    nadir: tuple[float, float], now: tuple[float, float], pd: bool
) -> None:
    result = run(ct([lesion((5.0, 4.0), nadir, now)]))
    assert (result.category == "progressive_disease") == pd


@pytest.mark.parametrize(
    ("extra", "pd"),
    [
        ({"new_node_ldi_cm": 1.5}, False),
        ({"new_node_ldi_cm": 1.51}, True),
        ({"new_extranodal_site_cm": 1.0}, False),
        ({"new_extranodal_site_cm": 1.01}, True),
        ({"new_extranodal_site_cm": 0.8, "new_lesion_clearly_lymphoma": True}, True),
        ({"spleen": {"normal_length_cm": 13, "baseline_length_cm": 15, "length_cm": 16}}, False),
        ({"spleen": {"normal_length_cm": 13, "baseline_length_cm": 15, "length_cm": 16.01}}, True),
        ({"spleen": {"normal_length_cm": 13, "baseline_length_cm": 12, "length_cm": 13.99}}, False),
        ({"spleen": {"normal_length_cm": 13, "baseline_length_cm": 12, "length_cm": 14}}, True),
    ],
)
def test_lugano_ct_new_lesions_and_spleen_both_sides(extra: dict[str, Any], pd: bool) -> None:
    result = run(ct([lesion((4.0, 3.0), (1.0, 1.0), (1.0, 1.0))], **extra))
    assert (result.category == "progressive_disease") == pd


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (ct([lesion((4, 3), (2, 1), (2, 1))] * 7), "assessment.lugano2014_lymphoma.target_lesions"),
        (ct([]), "assessment.lugano2014_lymphoma.target_lesions"),
        (ct([lesion((4, 3), (2, 1), (1, 2))]), "assessment.lugano2014_lymphoma.target_lesions.0"),
        (
            {**ct([lesion((4, 3), (2, 1), (2, 1))]), "extralymphatic_disease": None},
            "assessment.lugano2014_lymphoma.extralymphatic_disease",
        ),
        ({**pet(3), "deauville_score": 6}, "assessment.lugano2014_lymphoma.deauville_score"),
        ({**pet(3), "new_fdg_avid_lesions": None}, "assessment.lugano2014_lymphoma.new_fdg_avid_lesions"),
    ],
)
def test_lugano_impossible_input_names_the_field(data: dict[str, Any], field: str) -> None:
    assert field_of(data) == field


@settings(max_examples=40, deadline=None)
@given(
    ldi=st.floats(min_value=0.5, max_value=6),
    ratio=st.floats(min_value=0.1, max_value=1),
    new_node=st.floats(min_value=1.51, max_value=5),
)
def test_lugano_a_new_node_always_means_progression(ldi: float, ratio: float, new_node: float) -> None:
    now = (ldi, ldi * ratio)
    assert run(ct([lesion((6.0, 5.0), now, now)], new_node_ldi_cm=new_node)).category == "progressive_disease"
