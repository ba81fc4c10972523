"""Cord blood unit selection (clinical spec §8.3): filter, order, single/double dose, HLA cautions, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.cord import CALCULATOR, CORD_RULES, CordSelectionResult
from graftwise.errors import ValidationError

# With a 10 kg recipient, TNC ×10⁷/kg = total ×10⁷ / 10 and CD34+ ×10⁵/kg = total ×10⁶.
WEIGHT = 10.0


def unit(uid: str, match: str = "6/8", tnc: float = 3.0, cd34: float | None = 1.5, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"unit_id": uid, "allele_match_8": match, "tnc_total_x10e7": tnc * WEIGHT, **extra}
    if cd34 is not None:
        item["cd34_total_x10e6"] = cd34
    return item


def run(units: list[dict[str, Any]], disease: str = "malignant") -> CordSelectionResult:
    return CALCULATOR.run({"recipient_weight_kg": WEIGHT, "disease": disease, "units": units})


def passes(**kwargs: Any) -> bool:
    return run([unit("u1", **kwargs)]).units[0].passes_filter


def test_dose_per_kg_uses_recipient_weight() -> None:
    result = CALCULATOR.run(
        {
            "recipient_weight_kg": 70,
            "disease": "malignant",
            "units": [{"unit_id": "u", "allele_match_8": "6/8", "tnc_total_x10e7": 210, "cd34_total_x10e6": 1.4}],
        }
    )
    assert (result.units[0].tnc_x10e7_per_kg, result.units[0].cd34_x10e5_per_kg) == (3.0, 0.2)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"match": "4/8"}, True),
        ({"match": "3/8"}, False),
        ({"tnc": 1.5}, False),
        ({"tnc": 1.51}, True),
        ({"cd34": 0.99}, False),
        ({"cd34": 1.0}, True),
        ({"cd34": None}, True),
        ({"dsa_against_unit": True}, False),
        ({"dsa_against_unit": False}, True),
    ],
)
def test_search_filter_both_sides(kwargs: dict[str, Any], expected: bool) -> None:
    assert passes(**kwargs) == expected


@pytest.mark.parametrize(
    ("tnc", "cd34", "recommendation"),
    [(3.0, 1.5, "single"), (2.99, 1.5, "none"), (3.0, 1.49, "none"), (3.0, None, "none")],
)
def test_single_unit_thresholds_both_sides(tnc: float, cd34: float | None, recommendation: str) -> None:
    assert run([unit("u1", tnc=tnc, cd34=cd34)]).recommendation == recommendation


@pytest.mark.parametrize(("tnc", "recommendation"), [(5.0, "none"), (5.01, "single")])
def test_non_malignant_needs_tnc_above_5(tnc: float, recommendation: str) -> None:
    assert run([unit("u1", tnc=tnc, cd34=2.0)], disease="non_malignant").recommendation == recommendation


def test_double_unit_when_no_single_unit_is_adequate() -> None:
    result = run([unit("a", tnc=2.0, cd34=1.0), unit("b", tnc=1.6, cd34=1.2), unit("c", tnc=1.55, cd34=1.1)])
    assert (result.recommendation, result.selected_unit_ids) == ("double", ["a", "b"])


def test_double_unit_needs_two_eligible_units() -> None:
    assert run([unit("a", tnc=2.0, cd34=1.0), unit("b", tnc=2.0, cd34=0.99)]).recommendation == "none"


def test_no_double_unit_for_non_malignant_disease() -> None:
    result = run([unit("a", tnc=2.0, cd34=1.0), unit("b", tnc=2.0, cd34=1.0)], disease="non_malignant")
    assert result.recommendation == "none"
    assert "malignant disease" in result.rule


def test_single_preferred_over_double() -> None:
    result = run([unit("a", tnc=2.0, cd34=1.0), unit("b", tnc=2.0, cd34=1.0), unit("c", match="5/8", tnc=3.5)])
    assert (result.recommendation, result.selected_unit_ids) == ("single", ["c"])


def test_order_by_match_then_tnc() -> None:
    result = run(
        [
            unit("low", match="5/8", tnc=9.0),
            unit("mid", match="7/8", tnc=3.2),
            unit("top", match="7/8", tnc=4.0),
            unit("out", match="3/8"),
        ]
    )
    assert [(u.unit_id, u.rank) for u in result.units] == [("top", 1), ("mid", 2), ("low", 3), ("out", None)]
    assert result.selected_unit_ids == ["top"]


def test_hla_c_mismatch_avoided_when_possible() -> None:
    result = run(
        [
            unit("c_mm", match="7/8", tnc=4.0, mismatched_loci=["C"]),
            unit("drb1_mm", match="7/8", tnc=3.5, mismatched_loci=["DRB1"]),
        ]
    )
    assert result.selected_unit_ids == ["drb1_mm"]
    assert not result.warnings


def test_cautioned_unit_chosen_only_when_alone_with_warning() -> None:
    result = run([unit("c_mm", match="7/8", mismatched_loci=["C"]), unit("small", tnc=2.0)])
    assert result.selected_unit_ids == ["c_mm"]
    assert [(w.code, "HLA caution" in w.message) for w in result.warnings] == [("chosen_unit_hla_caution", True)]


@pytest.mark.parametrize(("match", "cautioned"), [("6/8", False), ("5/8", True)])
def test_more_than_two_mismatches_caution_both_sides(match: str, cautioned: bool) -> None:
    assert bool(run([unit("u", match=match)]).units[0].cautions) == cautioned


@pytest.mark.parametrize(
    ("units", "field"),
    [
        ([unit("u", match="9/8")], "units.0.allele_match_8"),
        ([unit("u", match="6/10")], "units.0.allele_match_8"),
        ([unit("u", match="6/8", mismatched_loci=["C"])], "units.0"),
        ([unit("u", match="5/8", mismatched_loci=["C", "C", "C"])], "units.0"),
        ([unit("u", match="7/8", mismatched_loci=["DQB1"])], "units.0.mismatched_loci.0"),
        ([unit("u"), unit("u")], "units.1.unit_id"),
        ([unit("u", tnc=0)], "units.0.tnc_total_x10e7"),
        ([unit("u", cd34=-1)], "units.0.cd34_total_x10e6"),
        ([], "units"),
    ],
)
def test_impossible_input_names_the_field(units: list[dict[str, Any]], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        run(units)
    assert info.value.field == field


def test_weight_and_disease_are_required() -> None:
    with pytest.raises(ValidationError) as info:
        CALCULATOR.run({"units": [unit("u")], "disease": "malignant"})
    assert info.value.field == "recipient_weight_kg"


unit_strategy = st.builds(
    lambda m, tnc, cd34: (m, tnc, cd34),
    st.integers(min_value=0, max_value=8),
    st.floats(min_value=0.1, max_value=8),
    st.one_of(st.none(), st.floats(min_value=0, max_value=4)),
)


@settings(max_examples=60, deadline=None)
@given(specs=st.lists(unit_strategy, min_size=1, max_size=6), disease=st.sampled_from(["malignant", "non_malignant"]))
def test_chosen_units_always_meet_their_criteria(specs: list[tuple[int, float, float | None]], disease: str) -> None:
    result = run([unit(f"u{i}", f"{m}/8", tnc, cd34) for i, (m, tnc, cd34) in enumerate(specs)], disease=disease)
    chosen = [u for u in result.units if u.unit_id in result.selected_unit_ids]
    for u in chosen:
        assert u.passes_filter
        assert u.cd34_x10e5_per_kg is not None
        if result.recommendation == "single":
            assert u.tnc_x10e7_per_kg >= CORD_RULES.single_tnc_min
            assert u.cd34_x10e5_per_kg >= CORD_RULES.single_cd34_min
        else:
            assert u.cd34_x10e5_per_kg >= CORD_RULES.double_cd34_min
    ranks = [u.rank for u in result.units if u.rank is not None]
    assert ranks == list(range(1, len(ranks) + 1))


@settings(max_examples=40, deadline=None)
@given(tnc=st.floats(min_value=0.1, max_value=8), cd34=st.floats(min_value=0, max_value=4), more=st.floats(0, 4))
def test_more_cells_never_make_a_unit_less_eligible(tnc: float, cd34: float, more: float) -> None:
    before = run([unit("u", tnc=tnc, cd34=cd34)]).units[0]
    after = run([unit("u", tnc=tnc + more, cd34=cd34 + more)]).units[0]
    assert after.single_eligible >= before.single_eligible
    assert after.double_eligible >= before.double_eligible
