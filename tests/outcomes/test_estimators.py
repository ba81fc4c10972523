"""Estimators on hand-computed cases, tie handling, cross-checks with lifelines / scikit-survival, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from sksurv.nonparametric import cumulative_incidence_competing_risks

from graftwise.errors import ValidationError
from graftwise.outcomes.comparison import gray_test, log_rank_test
from graftwise.outcomes.cumulative_incidence import aalen_johansen
from graftwise.outcomes.kaplan_meier import kaplan_meier
from graftwise.outcomes.regression import cox_regression, fine_gray_regression


def test_km_hand_computed_with_tie_event_before_censoring() -> None:
    # At t = 2 an event and a censoring are tied: the censored subject is still at risk (n = 4, not 3).
    curve = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    np.testing.assert_array_equal(curve.time, [1, 2, 3, 4])
    np.testing.assert_array_equal(curve.n_risk, [5, 4, 2, 1])
    np.testing.assert_array_equal(curve.n_event, [1, 1, 1, 0])
    np.testing.assert_array_equal(curve.n_censor, [0, 1, 0, 1])
    np.testing.assert_allclose(curve.survival, [0.8, 0.6, 0.3, 0.3])
    greenwood = np.cumsum([1 / (5 * 4), 1 / (4 * 3), 1 / (2 * 1), 0.0])
    np.testing.assert_allclose(curve.std_err, curve.survival * np.sqrt(greenwood))
    assert np.all(curve.lower[:3] < curve.survival[:3])
    assert np.all(curve.upper[:3] > curve.survival[:3])


def test_km_at_and_numbers_at_risk() -> None:
    curve = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    est = curve.at([0, 1, 1.5, 3.9, 4, 4.1])
    np.testing.assert_allclose(est.estimate[:5], [1.0, 0.8, 0.8, 0.3, 0.3])
    assert np.isnan(est.estimate[5])  # beyond the last observed time
    assert np.isnan(est.lower[0])  # S = 1: log(-log) interval undefined, as in R
    np.testing.assert_array_equal(curve.n_at_risk([0, 1, 1.5, 2, 4, 5]), [5, 5, 4, 4, 1, 0])


def test_km_zero_survival_has_no_interval() -> None:
    curve = kaplan_meier([1, 2], [1, 1])
    assert curve.survival[-1] == 0.0
    assert np.isnan(curve.std_err[-1])
    assert np.isnan(curve.lower[-1])


def test_aj_hand_computed_with_ties() -> None:
    # t=1 cause 1 (n=6); t=2 cause 2 tied with a censoring (n=5); t=3 cause 1 (n=3); t=4 censored; t=5 cause 2 (n=1).
    fit = aalen_johansen([1, 2, 2, 3, 4, 5], [1, 2, 0, 1, 0, 2])
    np.testing.assert_array_equal(fit.n_risk, [6, 5, 3, 2, 1])
    np.testing.assert_allclose(fit.incidence[fit.row(1)], [1 / 6, 1 / 6, 7 / 18, 7 / 18, 7 / 18])
    np.testing.assert_allclose(fit.incidence[fit.row(2)], [0, 1 / 6, 1 / 6, 1 / 6, 11 / 18])
    np.testing.assert_allclose(fit.survival, [5 / 6, 2 / 3, 4 / 9, 4 / 9, 0])


def test_aj_single_cause_is_one_minus_km() -> None:
    rng = np.random.default_rng(3)
    t = rng.integers(1, 30, 80).astype(float)
    e = rng.integers(0, 2, 80)
    np.testing.assert_allclose(aalen_johansen(t, e).incidence[0], 1 - kaplan_meier(t, e).survival, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 3)), min_size=1, max_size=40).filter(
        lambda rows: any(e > 0 for _, e in rows)
    )
)
def test_aj_sums_to_one_and_is_monotone(rows: list[tuple[int, int]]) -> None:
    t, e = np.array(rows).T
    fit = aalen_johansen(t, e)
    np.testing.assert_allclose(fit.survival + fit.incidence.sum(axis=0), 1.0, atol=1e-12)
    assert np.all(np.diff(fit.incidence, axis=1) >= -1e-15)
    assert np.all(fit.variance >= 0)
    ok = ~np.isnan(fit.lower)
    assert np.all(fit.lower[ok] <= fit.incidence[ok] + 1e-12)
    assert np.all(fit.upper[ok] >= fit.incidence[ok] - 1e-12)


def test_km_matches_lifelines() -> None:
    rng = np.random.default_rng(11)
    t = rng.integers(1, 50, 200).astype(float)  # many ties
    e = rng.integers(0, 2, 200)
    curve = kaplan_meier(t, e)
    ref = KaplanMeierFitter().fit(t, e)
    np.testing.assert_allclose(curve.survival, ref.survival_function_.loc[curve.time].to_numpy()[:, 0], atol=1e-12)


def test_aj_matches_lifelines_without_ties() -> None:
    # lifelines jitters tied times (spec §11.1), so it is a reference only on tie-free data.
    rng = np.random.default_rng(5)
    t = rng.exponential(10.0, 150)
    e = rng.integers(0, 3, 150)
    fit = aalen_johansen(t, e)
    for cause in (1, 2):
        ajf = AalenJohansenFitter(calculate_variance=False).fit(t, e, event_of_interest=cause)
        ref = ajf.cumulative_density_.iloc[:, 0]
        np.testing.assert_allclose(fit.at(cause, ref.index.to_numpy()[1:]).estimate, ref.to_numpy()[1:], atol=1e-12)


def test_aj_matches_scikit_survival_exact_with_ties(bmt: pd.DataFrame) -> None:
    times, cif = cumulative_incidence_competing_risks(bmt.status.to_numpy(), bmt.ftime.to_numpy())
    fit = aalen_johansen(bmt.ftime, bmt.status)
    for cause in (1, 2):
        np.testing.assert_allclose(fit.at(cause, times).estimate, cif[cause], atol=1e-12)


@pytest.mark.parametrize(
    ("time", "event", "field", "fragment"),
    [
        ([1, -2, 3], [0, 1, 1], "time", "row 2: time -2"),
        ([1, 2, "x"], [0, 1, 1], "time", "row 3: time 'x' is not a number"),
        ([1, 2, np.inf], [0, 1, 1], "time", "row 3"),
        ([1, 2, 3], [0, 1.5, 1], "event", "row 2: event 1.5"),
        ([1, 2, 3], [0, -1, 1], "event", "row 2: event -1"),
        ([1, 2, 3], [0, "a", 1], "event", "row 2: event 'a' is not a number"),
        ([1, 2], [0, 1, 1], "event", "time has 2 values but event has 3"),
        ([], [], "time", "no subjects"),
    ],
)
def test_validation_errors_name_row_and_field(
    time: list[object], event: list[object], field: str, fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment) as info:
        aalen_johansen(time, event)
    assert info.value.field == field


def test_km_rejects_competing_codes_and_bad_level() -> None:
    with pytest.raises(ValidationError, match="row 3: event 2 is not 0") as info:
        kaplan_meier([1, 2, 3], [0, 1, 2])
    assert info.value.field == "event"
    with pytest.raises(ValidationError) as info:
        kaplan_meier([1, 2, 3], [0, 1, 1], conf_level=1.0)
    assert info.value.field == "conf_level"
    with pytest.raises(ValidationError) as info:
        kaplan_meier([1, 2, 3], [0, 1, 1]).at([-1])
    assert info.value.field == "at"


def test_unknown_cause_and_single_group_are_errors() -> None:
    fit = aalen_johansen([1, 2, 3], [1, 0, 1])
    with pytest.raises(ValidationError, match="cause 2 does not occur"):
        fit.at(2, [1])
    with pytest.raises(ValidationError, match="at least two groups") as info:
        log_rank_test([1, 2, 3], [1, 0, 1], ["a", "a", "a"])
    assert info.value.field == "group"
    with pytest.raises(ValidationError, match="cause 3 never occurs"):
        gray_test([1, 2, 3, 4], [1, 0, 2, 1], ["a", "a", "b", "b"], cause=3)


def test_log_rank_identical_groups_give_zero() -> None:
    t = [1, 2, 3, 4, 1, 2, 3, 4]
    e = [1, 0, 1, 1, 1, 0, 1, 1]
    result = log_rank_test(t, e, ["a"] * 4 + ["b"] * 4)
    assert result.statistic == pytest.approx(0.0, abs=1e-12)
    assert result.p_value == pytest.approx(1.0)
    np.testing.assert_allclose(result.score, 0.0, atol=1e-12)


def test_fine_gray_without_competing_events_is_cox() -> None:
    # No competing risks and no tied times: the subdistribution risk set is the Cox risk set.
    rng = np.random.default_rng(8)
    x = rng.normal(size=(120, 2))
    t = rng.exponential(np.exp(-x @ np.array([0.5, -0.3])))
    df = pd.DataFrame({"t": t, "e": rng.random(120) < 0.7, "x1": x[:, 0], "x2": x[:, 1]}).astype({"e": int})
    fg = fine_gray_regression(df, time="t", event="e", covariates=["x1", "x2"])
    cox = cox_regression(df, time="t", event="e", covariates=["x1", "x2"])
    for a, b in zip(fg.terms, cox.terms, strict=True):
        assert a.coef == pytest.approx(b.coef, abs=1e-6)
    assert fg.n_competing == 0


def test_fine_gray_errors() -> None:
    df = pd.DataFrame(
        {"t": [1.0, 2, 3, 4, 5, 6], "e": [1, 2, 0, 1, 2, 1], "x": [1, 1, 1, 1, 1, 1], "y": [0, 1, 0, 1, 0, "?"]}
    )
    with pytest.raises(ValidationError, match="singular") as info:
        fine_gray_regression(df, time="t", event="e", covariates=["x"])
    assert info.value.field == "covariates"
    with pytest.raises(ValidationError, match="cause 3 never occurs"):
        fine_gray_regression(df, time="t", event="e", covariates=["x"], cause=3)
    with pytest.raises(ValidationError, match="row 6: covariate y") as info:
        fine_gray_regression(df, time="t", event="e", covariates=["y"])
    assert info.value.field == "y"
    with pytest.raises(ValidationError, match="missing column 'z'"):
        fine_gray_regression(df, time="t", event="e", covariates=["z"])
