"""Graft dose (clinical spec §8.1-8.2): arithmetic, every target on both sides, poor mobiliser, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.dose import CALCULATOR, GraftDoseResult, cd34_x10e6_per_kg, tnc_x10e8_per_kg
from graftwise.errors import ValidationError

ORDER = {"below_minimum": 0, "minimum_met": 1, "optimal": 2, "target_met": 2}


def product(dose_x10e6_per_kg: float, tnc_x10e8_per_kg: float | None = None, label: str = "day 1") -> dict[str, Any]:
    """A 100 mL product for a 100 kg recipient: CD34+/µL = dose × 1000, TNC ×10⁹/L = TNC dose × 100."""
    item: dict[str, Any] = {"label": label, "volume_ml": 100.0, "cd34_per_ul": dose_x10e6_per_kg * 1000}
    if tnc_x10e8_per_kg is not None:
        item["tnc_x10e9_per_l"] = tnc_x10e8_per_kg * 100
    return item


def run(graft: str, collections: list[dict[str, Any]], **extra: Any) -> GraftDoseResult:
    return CALCULATOR.run({"graft": graft, "recipient_weight_kg": 100.0, "collections": collections, **extra})


def test_spec_arithmetic() -> None:
    """CD34+/kg = CD34+/µL × mL × 1000 / kg: 250/µL × 280 mL × 1000 / 70 kg = 1.0 ×10⁶/kg."""
    assert cd34_x10e6_per_kg(250, 280, 70) == pytest.approx(1.0)
    assert tnc_x10e8_per_kg(100, 70, 70) == pytest.approx(1.0)  # 100 ×10⁹/L × 0.07 L = 7 ×10⁹ = 70 ×10⁸ / 70 kg


def test_running_total_across_days() -> None:
    result = run("autologous_pbsc", [product(1.1, label="d1"), product(0.9, label="d2")], plan="single")
    assert [c.cumulative_cd34_x10e6_per_kg for c in result.collections] == [1.1, 2.0]
    assert result.adequacy == "minimum_met"


@pytest.mark.parametrize(
    ("plan", "dose", "adequacy"),
    [
        ("single", 1.999, "below_minimum"),
        ("single", 2.0, "minimum_met"),
        ("single", 3.999, "minimum_met"),
        ("single", 4.0, "optimal"),
        ("tandem", 3.999, "below_minimum"),
        ("tandem", 4.0, "minimum_met"),
        ("tandem", 7.999, "minimum_met"),
        ("tandem", 8.0, "optimal"),
    ],
)
def test_autologous_targets_both_sides(plan: str, dose: float, adequacy: str) -> None:
    assert run("autologous_pbsc", [product(dose)], plan=plan).adequacy == adequacy


def test_tandem_bags_each_judged_per_cycle() -> None:
    result = run("autologous_pbsc", [product(6.0)], plan="tandem", tandem_split=[0.7, 0.3])
    assert [(b.cd34_x10e6_per_kg, b.adequacy) for b in result.bags] == [(4.2, "optimal"), (1.8, "below_minimum")]


@pytest.mark.parametrize(
    ("dose", "adequacy", "findings"),
    [
        (1.999, "below_minimum", 0),
        (2.0, "minimum_met", 0),
        (3.8, "minimum_met", 0),
        (3.801, "minimum_met", 1),
        (4.0, "target_met", 1),
        (4.5, "target_met", 1),
        (4.501, "target_met", 2),
    ],
)
def test_allogeneic_pbsc_thresholds_both_sides(dose: float, adequacy: str, findings: int) -> None:
    result = run("allogeneic_pbsc", [product(dose)])
    assert (result.adequacy, len(result.findings)) == (adequacy, findings)


@pytest.mark.parametrize(("dose", "warned"), [(8.0, False), (8.001, True)])
def test_pbsc_cap_warning_both_sides(dose: float, warned: bool) -> None:
    warnings = run("allogeneic_pbsc", [product(dose)]).warnings
    assert [(w.code, "above the cap" in w.message) for w in warnings] == ([("cd34_above_cap", True)] if warned else [])


@pytest.mark.parametrize(
    ("tnc", "cd34", "adequacy"),
    [
        (1.999, 3.0, "below_minimum"),
        (2.0, 3.0, "minimum_met"),
        (2.999, 3.0, "minimum_met"),
        (3.0, 3.0, "target_met"),
        (3.0, 1.999, "below_minimum"),
        (3.0, 2.0, "target_met"),
    ],
)
def test_bone_marrow_targets_both_sides(tnc: float, cd34: float, adequacy: str) -> None:
    assert run("bone_marrow", [product(cd34, tnc)]).adequacy == adequacy


@pytest.mark.parametrize(("donor_kg", "warned"), [(5.0, False), (4.99, True)])  # 100 mL harvest: 20 mL/kg at 5 kg
def test_bone_marrow_harvest_volume_both_sides(donor_kg: float, warned: bool) -> None:
    result = run("bone_marrow", [product(3.0, 3.0)], donor_weight_kg=donor_kg)
    assert any(w.code == "harvest_volume_high" and "mL/kg donor weight" in w.message for w in result.warnings) == warned


def history(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "failed_prior_collection": False,
        "extensive_radiotherapy_or_marrow_toxic_therapy": False,
        "prior_lines": 1,
        "refractory_disease": False,
        "extensive_marrow_involvement_or_cellularity_below_30_pct": False,
        "age_years": 50,
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"peak_pb_cd34_per_ul": 19.9, "adequate_mobilisation": True}, "proven"),
        ({"peak_pb_cd34_per_ul": 20.0, "adequate_mobilisation": True}, "no"),
        ({"peak_pb_cd34_per_ul": 5.0, "adequate_mobilisation": False}, "no"),
        ({"failed_prior_collection": True}, "predicted"),
        ({"extensive_radiotherapy_or_marrow_toxic_therapy": True}, "predicted"),
        ({"prior_lines": 3, "refractory_disease": True}, "predicted"),
        ({"prior_lines": 2, "refractory_disease": True}, "no"),
        ({"age_years": 65.1, "extensive_marrow_involvement_or_cellularity_below_30_pct": True}, "predicted"),
        ({"age_years": 65, "extensive_marrow_involvement_or_cellularity_below_30_pct": True}, "no"),
        ({"refractory_disease": True}, "no"),
    ],
)
def test_poor_mobiliser(overrides: dict[str, Any], status: str) -> None:
    result = run("autologous_pbsc", [product(5.0)], plan="single", mobilisation=history(**overrides))
    assert result.poor_mobiliser is not None
    assert result.poor_mobiliser.status == status


@pytest.mark.parametrize(("third_day_dose", "status"), [(0.599, "proven"), (0.6, "no")])
def test_proven_poor_mobiliser_after_three_aphereses_both_sides(third_day_dose: float, status: str) -> None:
    collections = [product(0.7, label="d1"), product(0.7, label="d2"), product(third_day_dose, label="d3")]
    result = run("autologous_pbsc", collections, plan="single", mobilisation=history())
    assert result.poor_mobiliser is not None
    assert result.poor_mobiliser.status == status


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"graft": "autologous_pbsc", "collections": [product(2.0)]}, "plan"),
        ({"graft": "allogeneic_pbsc", "collections": [product(2.0)], "plan": "single"}, "plan"),
        ({"graft": "allogeneic_pbsc", "collections": [product(2.0)], "mobilisation": history()}, "mobilisation"),
        ({"graft": "bone_marrow", "collections": [product(2.0)]}, "collections.0.tnc_x10e9_per_l"),
        ({"graft": "allogeneic_pbsc", "collections": [product(2.0)], "donor_weight_kg": 80}, "donor_weight_kg"),
        (
            {"graft": "autologous_pbsc", "collections": [product(2.0)], "plan": "single", "tandem_split": [0.5, 0.5]},
            "tandem_split",
        ),
        (
            {"graft": "autologous_pbsc", "collections": [product(2.0)], "plan": "tandem", "tandem_split": [0.7, 0.7]},
            "tandem_split",
        ),
        (
            {"graft": "autologous_pbsc", "collections": [product(2.0)], "plan": "tandem", "tandem_split": [1.0]},
            "tandem_split",
        ),
        ({"graft": "cord", "collections": [product(2.0)]}, "graft"),
        ({"graft": "allogeneic_pbsc", "collections": []}, "collections"),
        ({"graft": "allogeneic_pbsc", "collections": [{**product(2.0), "volume_ml": 0}]}, "collections.0.volume_ml"),
        (
            {"graft": "allogeneic_pbsc", "collections": [{**product(2.0), "cd34_per_ul": -1}]},
            "collections.0.cd34_per_ul",
        ),
        ({"graft": "allogeneic_pbsc", "collections": [product(2.0)], "recipient_weight_kg": 0}, "recipient_weight_kg"),
    ],
)
def test_impossible_input_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        CALCULATOR.run({"recipient_weight_kg": 100.0, **data})
    assert info.value.field == field


def test_tnc_partly_missing_is_warned_not_guessed() -> None:
    result = run("allogeneic_pbsc", [product(2.0, 1.0), product(2.0)])
    assert result.tnc_x10e8_per_kg is None
    assert [(w.code, "TNC missing" in w.message) for w in result.warnings] == [("tnc_incomplete", True)]


doses = st.floats(min_value=0, max_value=12, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    graft=st.sampled_from(["autologous_pbsc", "allogeneic_pbsc", "bone_marrow"]),
    low=doses,
    extra=doses,
    tnc=st.floats(min_value=0, max_value=6),
)
def test_raising_the_dose_never_lowers_adequacy(graft: str, low: float, extra: float, tnc: float) -> None:
    plan = {"plan": "tandem"} if graft == "autologous_pbsc" else {}
    before = run(graft, [product(low, tnc)], **plan).adequacy
    after = run(graft, [product(low + extra, tnc + extra)], **plan).adequacy
    assert ORDER[after] >= ORDER[before]


@settings(max_examples=40, deadline=None)
@given(weight=st.floats(min_value=1, max_value=200), cd34=st.floats(min_value=0, max_value=5000))
def test_heavier_recipient_never_gets_a_higher_dose(weight: float, cd34: float) -> None:
    assert cd34_x10e6_per_kg(cd34, 200, weight) >= cd34_x10e6_per_kg(cd34, 200, weight * 1.5)
