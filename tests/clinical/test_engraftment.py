"""Engraftment, graft failure and chimerism (clinical spec §7): worked examples and every boundary."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.engraftment import CALCULATOR, CIBMTR_2024, EngraftmentResult
from graftwise.errors import ValidationError

# Form 2100 example (CIBMTR manual): platelets from day 0, last platelet transfusion on day 0.
CIBMTR_PLATELETS = [10, 30, 25, 10, 15, 19, 23, 25, 40, 50, 56, 65, 72]


def case(
    anc: list[float] | None = None,
    plt: list[float] | None = None,
    first_day: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    n = max(len(anc or []), len(plt or []))
    counts = []
    for i in range(n):
        count: dict[str, Any] = {"day": first_day + i}
        if anc is not None and i < len(anc):
            count["anc_x10e9_per_l"] = anc[i]
        if plt is not None and i < len(plt):
            count["platelets_x10e9_per_l"] = plt[i]
        counts.append(count)
    return {"graft_source": "pbsc", "counts": counts, **extra}


def run(data: dict[str, Any]) -> EngraftmentResult:
    return CALCULATOR.run(data)


def field_of(data: dict[str, Any]) -> str | None:
    with pytest.raises(ValidationError) as info:
        run(data)
    return info.value.field


# --- platelets: the CIBMTR worked example and the transfusion window ---------------------------------------------


def test_cibmtr_form_2100_example() -> None:
    result = run(case(plt=CIBMTR_PLATELETS, transfusions=[{"day": 0, "product": "platelets"}]))
    assert result.platelet_recovery_20.status == "recovered"
    assert result.platelet_recovery_20.day == 7
    assert result.platelet_recovery_50.day == 9


def test_spec_example_from_day_1() -> None:
    """The spec lists days 1-10 (and day 11 = 65 for the >= 50 run) without the day-0 count."""
    result = run(case(plt=CIBMTR_PLATELETS[1:12], first_day=1, transfusions=[{"day": 0, "product": "platelets"}]))
    assert (result.platelet_recovery_20.day, result.platelet_recovery_50.day) == (7, 9)


@pytest.mark.parametrize(("transfusion_day", "expected"), [(2, 9), (3, 10)])
def test_transfusion_window_both_sides(transfusion_day: int, expected: int) -> None:
    """Day d qualifies only if the last platelet transfusion was on or before d - 7."""
    data = case(plt=[10] * 4 + [25] * 20, transfusions=[{"day": transfusion_day, "product": "platelets"}])
    assert run(data).platelet_recovery_20.day == expected


def test_rbc_transfusion_does_not_block_platelet_recovery() -> None:
    data = case(plt=[10, 25, 25, 25], transfusions=[{"day": 1, "product": "rbc"}])
    assert run(data).platelet_recovery_20.day == 1


def test_transfusion_inside_run_is_flagged_not_rejected() -> None:
    data = case(
        plt=[10] * 4 + [25] * 20,
        transfusions=[{"day": 2, "product": "platelets"}, {"day": 10, "product": "platelets"}],
    )
    result = run(data)
    assert result.platelet_recovery_20.day == 9
    assert any(
        w.code == "platelet_transfusion_inside_run" and "inside the >= 20.0 recovery run" in w.message
        for w in result.warnings
    )


@pytest.mark.parametrize(("value", "status"), [(20.0, "recovered"), (19.9, "not_reached")])
def test_platelet_threshold_both_sides(value: float, status: str) -> None:
    assert run(case(plt=[10, value, value, value])).platelet_recovery_20.status == status


def test_platelets_never_below_20_without_transfusion_not_applicable() -> None:
    result = run(case(plt=[150, 120, 90, 60]))
    assert result.platelet_recovery_20.status == "not_applicable"
    assert result.platelet_recovery_50.status == "not_applicable"


def test_platelets_never_below_20_but_transfused_are_counted() -> None:
    data = case(plt=[30, 25, 25, 25, 25, 25, 25, 25, 25, 25], transfusions=[{"day": 0, "product": "platelets"}])
    assert run(data).platelet_recovery_20.day == 7


def test_no_platelet_values() -> None:
    result = run(case(anc=[0.1, 0.6, 0.6, 0.6]))
    assert result.platelet_recovery_20.status == "no_data"
    assert any(w.code == "recovery_not_assessable" and "cannot be assessed" in w.message for w in result.warnings)


# --- neutrophils -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "status"), [(0.5, "recovered"), (0.49, "not_reached")])
def test_anc_threshold_both_sides(value: float, status: str) -> None:
    assert run(case(anc=[0.0, value, value, value])).neutrophil_recovery.status == status


def test_anc_exactly_threshold_without_manual_is_used_with_warning() -> None:
    result = run(case(anc=[0.0, 0.5, 0.5, 0.5]))
    assert result.neutrophil_recovery.day == 1
    assert (
        sum(w.code == "anc_at_threshold_no_differential" and "exactly 0.5" in w.message for w in result.warnings) == 3
    )


@pytest.mark.parametrize(
    ("segs", "bands", "status"),
    [(40.0, 5.0, "not_reached"), (45.0, 5.0, "recovered")],  # WBC 1.0: manual ANC 0.45 vs 0.50
)
def test_automated_anc_of_exactly_threshold_defers_to_manual(segs: float, bands: float, status: str) -> None:
    manual = {"wbc_x10e9_per_l": 1.0, "segs_pct": segs, "bands_pct": bands}
    data = case(anc=[0.0, 0.6, 0.5, 0.7])
    data["counts"][2]["manual_differential"] = manual
    assert run(data).neutrophil_recovery.status == status


def test_manual_differential_alone_gives_anc() -> None:
    data = case(anc=[0.0])
    for day in (1, 2, 3):
        data["counts"].append(
            {"day": day, "manual_differential": {"wbc_x10e9_per_l": 2.0, "segs_pct": 20.0, "bands_pct": 5.0}}
        )
    assert run(data).neutrophil_recovery.day == 1


@pytest.mark.parametrize(("run_values", "status"), [([0.6, 0.6], "not_reached"), ([0.6, 0.6, 0.6], "recovered")])
def test_three_consecutive_values_both_sides(run_values: list[float], status: str) -> None:
    assert run(case(anc=[0.0, *run_values, 0.3])).neutrophil_recovery.status == status


def test_interrupted_run_restarts() -> None:
    assert run(case(anc=[0.0, 0.6, 0.7, 0.4, 0.8, 0.9, 1.0])).neutrophil_recovery.day == 4


def test_values_more_than_a_day_apart_count() -> None:
    data = {
        "graft_source": "pbsc",
        "counts": [{"day": d, "anc_x10e9_per_l": a} for d, a in [(5, 0.1), (10, 0.6), (13, 0.8), (16, 1.1)]],
    }
    assert run(data).neutrophil_recovery.day == 10


def test_values_before_nadir_are_ignored() -> None:
    result = run(case(anc=[1.2, 0.9, 0.6, 0.1, 0.0, 0.0, 0.7, 0.8, 1.0]))
    assert result.neutrophil_recovery.day == 6


def test_anc_never_below_threshold_not_applicable() -> None:
    result = run(case(anc=[1.2, 0.9, 0.6, 0.7]))
    assert result.neutrophil_recovery.status == "not_applicable"
    assert result.primary_graft_failure.status == "no"


@pytest.mark.parametrize(("last", "warned"), [(0.5, True), (0.49, False)])
def test_run_in_progress_at_end_of_data_is_warned(last: float, warned: bool) -> None:
    result = run(case(anc=[0.0, 0.1, 0.6, last]))
    assert result.neutrophil_recovery.status == "not_reached"
    assert (
        any(w.code == "anc_recovery_run_unfinished" and "may be in progress" in w.message for w in result.warnings)
        == warned
    )


def test_later_lower_anc_than_nadir_is_warned() -> None:
    result = run(case(anc=[0.2, 0.6, 0.7, 0.8, 0.1]))
    assert result.neutrophil_recovery.day == 1
    assert any(w.code == "anc_below_nadir_after_recovery" and "below the nadir" in w.message for w in result.warnings)


def test_dates_convert_to_days() -> None:
    data = {
        "graft_source": "ucb",
        "transplant_date": "2026-01-01",
        "counts": [
            {"date": "2026-01-05", "anc_x10e9_per_l": 0.0},
            {"date": "2026-01-20", "anc_x10e9_per_l": 0.5},
            {"date": "2026-01-21", "anc_x10e9_per_l": 0.6},
            {"day": 21, "anc_x10e9_per_l": 0.9},
        ],
    }
    recovery = run(data).neutrophil_recovery
    assert recovery.day == 19
    assert str(recovery.date) == "2026-01-20"


# --- graft failure -----------------------------------------------------------------------------------------------


def anc_recovering_on(day: int, last_day: int) -> list[float]:
    return [0.0 if d < day else 0.8 for d in range(last_day + 1)]


@pytest.mark.parametrize(
    ("source", "recovery_day", "status"),
    [("pbsc", 30, "no"), ("bm_unstimulated", 30, "no"), ("ucb", 42, "no"), ("ucb", 43, "yes"), ("pbsc", 31, "yes")],
)
def test_primary_graft_failure_landmark_both_sides(source: str, recovery_day: int, status: str) -> None:
    data = case(anc=anc_recovering_on(recovery_day, 50), graft_source=source, pancytopenia_at_landmark=True)
    assert run(data).primary_graft_failure.status == status


def test_landmark_setting_overrides_default() -> None:
    data = case(anc=anc_recovering_on(29, 40), graft_failure_day=28, pancytopenia_at_landmark=True)
    result = run(data).primary_graft_failure
    assert (result.status, result.day) == ("yes", 28)


def test_pancytopenia_required_only_when_not_recovered_by_landmark() -> None:
    assert field_of(case(anc=[0.0] * 31)) == "pancytopenia_at_landmark"
    assert run(case(anc=anc_recovering_on(12, 31))).primary_graft_failure.status == "no"


def test_no_pancytopenia_is_not_primary_graft_failure() -> None:
    result = run(case(anc=[0.3] * 31, pancytopenia_at_landmark=False))
    assert result.primary_graft_failure.status == "no"
    assert "poor graft function" in result.primary_graft_failure.rule


@pytest.mark.parametrize(("last_day", "status"), [(29, "not_evaluable"), (30, "yes")])
def test_follow_up_must_reach_landmark(last_day: int, status: str) -> None:
    data = case(anc=[0.0] * (last_day + 1), pancytopenia_at_landmark=True)
    assert run(data).primary_graft_failure.status == status


def engrafted_then(anc_tail: list[float], plt_tail: list[float], **extra: Any) -> dict[str, Any]:
    return case(anc=[0.0, 0.6, 0.7, 0.9, *anc_tail], plt=[10, 30, 40, 50, *plt_tail], **extra)


def test_secondary_graft_failure_needs_decline_and_support() -> None:
    declined = engrafted_then([0.8, 0.3], [60, 15], transfusions=[{"day": 5, "product": "platelets"}])
    result = run(declined).secondary_graft_failure
    assert (result.status, result.day) == ("yes", 5)
    growth_factor = engrafted_then([0.3], [60], growth_factor=[{"day": 6, "agent": "G-CSF"}])
    assert run(growth_factor).secondary_graft_failure.status == "yes"


def test_secondary_graft_failure_not_without_support() -> None:
    assert run(engrafted_then([0.8, 0.3], [60, 15])).secondary_graft_failure.status == "no"


def test_secondary_graft_failure_not_when_support_precedes_decline() -> None:
    data = engrafted_then([0.8, 0.8, 0.3], [60, 60, 60], transfusions=[{"day": 4, "product": "rbc"}])
    assert run(data).secondary_graft_failure.status == "no"


@pytest.mark.parametrize(("anc", "plt", "status"), [(0.5, 20.0, "no"), (0.49, 20.0, "yes"), (0.5, 19.9, "yes")])
def test_secondary_graft_failure_thresholds_both_sides(anc: float, plt: float, status: str) -> None:
    data = engrafted_then([anc], [plt], transfusions=[{"day": 4, "product": "rbc"}])
    assert run(data).secondary_graft_failure.status == status


def test_secondary_graft_failure_not_evaluable_before_recovery() -> None:
    assert run(case(anc=[0.0, 0.1], plt=[5, 5])).secondary_graft_failure.status == "not_evaluable"


# --- chimerism ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pct", "definition", "category"),
    [
        (95.0, "cibmtr", "full_donor"),
        (94.99, "cibmtr", "mixed"),
        (95.0, "strict_astct", "mixed"),
        (95.01, "strict_astct", "full_donor"),
        (100.0, "strict_astct", "full_donor"),
        (5.0, "cibmtr", "mixed"),
        (4.99, "cibmtr", "graft_loss"),
        (0.0, "strict_astct", "graft_loss"),
    ],
)
def test_chimerism_boundaries(pct: float, definition: str, category: str) -> None:
    data = case(
        anc=[0.0, 0.6, 0.6, 0.6],
        chimerism=[{"day": 30, "lineage": "cd3", "donor_pct": pct}],
        chimerism_definition=definition,
    )
    assert run(data).chimerism[0].category == category


def test_chimerism_lineages_kept_separate() -> None:
    data = case(
        anc=[0.0],
        chimerism=[
            {"day": 30, "lineage": "cd3", "donor_pct": 60.0},
            {"day": 30, "lineage": "cd33", "donor_pct": 99.0},
        ],
    )
    assert [(c.lineage, c.category) for c in run(data).chimerism] == [("cd3", "mixed"), ("cd33", "full_donor")]


# --- impossible input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["counts"][0].update(anc_x10e9_per_l=-0.1), "counts.0.anc_x10e9_per_l"),
        (lambda d: d["counts"][1].update(platelets_x10e9_per_l=-1), "counts.1.platelets_x10e9_per_l"),
        (lambda d: d["counts"][1].update(day=0), "counts.1.day"),
        (lambda d: d["counts"][0].update(day=-1), "counts.0.day"),
        (lambda d: d.update(transfusions=[{"day": -2, "product": "platelets"}]), "transfusions.0.day"),
        (lambda d: d.update(transfusions=[{"day": 2, "product": "plasma"}]), "transfusions.0.product"),
        (lambda d: d.update(graft_source="cord"), "graft_source"),
        (lambda d: d.update(counts=[]), "counts"),
        (lambda d: d.update(weight=70), "weight"),
        (lambda d: d.update(chimerism=[{"day": 1, "lineage": "cd3", "donor_pct": 101}]), "chimerism.0.donor_pct"),
        (lambda d: d.update(graft_failure_day=0), "graft_failure_day"),
    ],
)
def test_impossible_input_names_the_field(mutate: Any, field: str) -> None:
    data = case(anc=[0.0, 0.6, 0.6, 0.6], plt=[10, 30, 30, 30])
    mutate(data)
    assert field_of(data) == field


def test_transfusion_dated_before_transplant() -> None:
    data = case(anc=[0.0], transplant_date="2026-03-10", transfusions=[{"date": "2026-03-09", "product": "rbc"}])
    assert field_of(data) == "transfusions.0.date"


def test_date_without_transplant_date() -> None:
    assert field_of(case(anc=[0.0], transfusions=[{"date": "2026-03-09", "product": "rbc"}])) == "transplant_date"


def test_duplicate_day_given_by_date_and_day() -> None:
    data = case(anc=[0.0, 0.6], transplant_date="2026-03-10")
    data["counts"].append({"date": "2026-03-11", "anc_x10e9_per_l": 0.7})
    assert field_of(data) == "counts.2.date"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"day": 1, "date": "2026-01-01", "anc_x10e9_per_l": 1.0}, "exactly one of 'day' or 'date'"),
        ({"anc_x10e9_per_l": 1.0}, "exactly one of 'day' or 'date'"),
        ({"day": 1}, "needs anc_x10e9_per_l"),
        (
            {"day": 1, "manual_differential": {"wbc_x10e9_per_l": 1, "segs_pct": 90, "bands_pct": 20}},
            "must not exceed 100",
        ),
    ],
)
def test_malformed_count_record(record: dict[str, Any], message: str) -> None:
    data = case(anc=[0.0])
    data["counts"].append(record)
    with pytest.raises(ValidationError, match=message) as info:
        run(data)
    assert info.value.field is not None
    assert info.value.field.startswith("counts.1")


# --- properties --------------------------------------------------------------------------------------------------

anc_values = st.lists(st.floats(min_value=0, max_value=3, allow_nan=False), min_size=1, max_size=25)


@settings(max_examples=80, deadline=None)
@given(anc=anc_values, tail=st.lists(st.floats(min_value=0, max_value=0.49), min_size=1, max_size=5))
def test_later_low_counts_never_remove_an_earlier_recovery(anc: list[float], tail: list[float]) -> None:
    before = run(case(anc=anc, pancytopenia_at_landmark=True)).neutrophil_recovery
    after = run(case(anc=anc + tail, pancytopenia_at_landmark=True)).neutrophil_recovery
    if before.status == "recovered":
        assert (after.status, after.day) == ("recovered", before.day)


@settings(max_examples=80, deadline=None)
@given(anc=anc_values)
def test_recovery_day_starts_a_run_of_three_after_a_low_value(anc: list[float]) -> None:
    recovery = run(case(anc=anc, pancytopenia_at_landmark=True)).neutrophil_recovery
    if recovery.status == "recovered":
        assert recovery.day is not None
        assert all(v >= CIBMTR_2024.anc_threshold for v in anc[recovery.day : recovery.day + 3])
        assert min(anc[: recovery.day]) < CIBMTR_2024.anc_threshold


@settings(max_examples=60, deadline=None)
@given(
    plt=st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=1, max_size=25),
    tx_days=st.lists(st.integers(min_value=0, max_value=24), max_size=4),
)
def test_platelet_recovery_respects_transfusion_window(plt: list[float], tx_days: list[int]) -> None:
    data = case(plt=plt, transfusions=[{"day": d, "product": "platelets"} for d in tx_days])
    recovery = run(data).platelet_recovery_20
    if recovery.status == "recovered":
        assert recovery.day is not None
        assert all(t <= recovery.day - 7 for t in tx_days if t <= recovery.day)
