"""Agreement with R survival 3.5.3 / cmprsk 2.2.11 on public data; expected values and R calls in r_reference.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from graftwise.outcomes.comparison import gray_test, log_rank_test
from graftwise.outcomes.cumulative_incidence import aalen_johansen
from graftwise.outcomes.kaplan_meier import kaplan_meier
from graftwise.outcomes.regression import cox_regression, fine_gray_regression

from . import r_reference as r

TOL = 1e-6


def _assert_close(actual: np.ndarray, expected: list[float]) -> None:
    exp = np.asarray(expected)
    assert np.array_equal(np.isnan(actual), np.isnan(exp))
    ok = ~np.isnan(exp)
    np.testing.assert_allclose(actual[ok], exp[ok], rtol=0, atol=TOL)


def _check_km(ref: dict[str, list[float]], time: Any, event: Any) -> None:
    curve = kaplan_meier(time, event)
    idx = np.searchsorted(curve.time, ref["time"])
    np.testing.assert_array_equal(curve.time[idx], ref["time"])
    np.testing.assert_array_equal(curve.n_risk[idx], ref["n_risk"])
    np.testing.assert_array_equal(curve.n_event[idx], ref["n_event"])
    for ours, theirs in [("survival", "surv"), ("std_err", "std_err"), ("lower", "lower"), ("upper", "upper")]:
        _assert_close(getattr(curve, ours)[idx], ref[theirs])


def test_km_bmt_any_event(bmt: pd.DataFrame) -> None:
    _check_km(r.KM_BMT_ALL["all"], bmt.ftime, bmt.status > 0)


@pytest.mark.parametrize("dis", [0, 1])
def test_km_bmt_by_disease(bmt: pd.DataFrame, dis: int) -> None:
    sub = bmt[bmt.dis.astype(str) == str(dis)]
    _check_km(r.KM_BMT_DIS[str(dis)], sub.ftime, sub.status > 0)


def test_km_cgvhd_first_event(cgvhd: pd.DataFrame) -> None:
    _check_km(r.KM_CG_ALL["all"], cgvhd.ftime, cgvhd.status > 0)


@pytest.mark.parametrize("arm", ["standard", "test"])
def test_km_veterans_reaches_zero(veterans: pd.DataFrame, arm: str) -> None:
    sub = veterans[veterans.Treatment == arm]
    _check_km(r.KM_VET_TRT[arm], sub.Survival_in_days, sub.Status)


def _check_cif(ref: dict[str, dict[str, list[float]]], time: Any, status: Any, prefix: str) -> None:
    fit = aalen_johansen(time, status)
    for cause in fit.causes:
        curve = ref[f"{prefix} {cause}"]
        at = fit.at(cause, curve["time"])
        _assert_close(at.estimate, curve["est"])
        idx = np.searchsorted(fit.time, curve["time"], side="right") - 1
        var = np.where(idx >= 0, fit.variance[fit.row(cause)][idx], 0.0)
        _assert_close(var, curve["var"])


def test_cif_bmt(bmt: pd.DataFrame) -> None:
    _check_cif(r.CI_BMT_ALL, bmt.ftime, bmt.status, "1")


@pytest.mark.parametrize("dis", [0, 1])
def test_cif_bmt_by_disease(bmt: pd.DataFrame, dis: int) -> None:
    sub = bmt[bmt.dis.astype(str) == str(dis)]
    _check_cif(r.CI_BMT_DIS, sub.ftime, sub.status, str(dis))


def test_cif_cgvhd_three_causes(cgvhd: pd.DataFrame) -> None:
    _check_cif(r.CI_CG_ALL, cgvhd.ftime, cgvhd.status, "1")


@pytest.mark.parametrize("tx", ["BM", "PB"])
def test_cif_cgvhd_by_graft(cgvhd: pd.DataFrame, tx: str) -> None:
    sub = cgvhd[cgvhd.tx == tx]
    _check_cif(r.CI_CG_TX, sub.ftime, sub.status, tx)


def test_spec_anchor_bmt_cause1_at_24_months(bmt: pd.DataFrame) -> None:
    # Clinical spec §11.1: exact (cmprsk, sksurv) value 0.2728; lifelines' jittered AJ gives 0.245-0.277.
    assert aalen_johansen(bmt.ftime, bmt.status).at(1, [24.0]).estimate[0] == pytest.approx(0.2728, abs=5e-5)


@pytest.mark.parametrize(
    ("ref", "data", "time", "event", "group"),
    [
        (r.LR_BMT_DIS, "bmt", "ftime", "status", "dis"),
        (r.LR_CG_DX, "cgvhd", "ftime", "status", "dx"),
        (r.LR_VET_TRT, "veterans", "Survival_in_days", "Status", "Treatment"),
        (r.LR_VET_CELL, "veterans", "Survival_in_days", "Status", "Celltype"),
    ],
)
def test_log_rank(
    request: pytest.FixtureRequest, ref: dict[str, float], data: str, time: str, event: str, group: str
) -> None:
    df = request.getfixturevalue(data)
    result = log_rank_test(df[time], df[event].astype(int) > 0, df[group])
    assert result.statistic == pytest.approx(ref["chisq"], abs=TOL)
    assert result.df == ref["df"]
    assert result.p_value == pytest.approx(ref["p"], abs=TOL)


def _age_group(cgvhd: pd.DataFrame) -> np.ndarray:
    return np.where(cgvhd.age < 35, "a<35", np.where(cgvhd.age < 50, "b35-49", "c>=50"))


@pytest.mark.parametrize(
    ("ref", "data", "group", "rho"),
    [
        (r.GRAY_BMT_DIS, "bmt", "dis", 0.0),
        (r.GRAY_CG_TX, "cgvhd", "tx", 0.0),
        (r.GRAY_CG_DX, "cgvhd", "dx", 0.0),
        (r.GRAY_CG_AGE3, "cgvhd", "age3", 0.0),
        (r.GRAY_CG_AGE3_RHO1, "cgvhd", "age3", 1.0),
    ],
)
def test_gray(
    request: pytest.FixtureRequest, ref: dict[str, dict[str, float]], data: str, group: str, rho: float
) -> None:
    df = request.getfixturevalue(data)
    labels = _age_group(df) if group == "age3" else df[group]
    for cause, expected in ref.items():
        result = gray_test(df.ftime, df.status, labels, cause=int(cause), rho=rho)
        assert result.statistic == pytest.approx(expected["stat"], abs=TOL)
        assert result.df == expected["df"]
        assert result.p_value == pytest.approx(expected["pv"], abs=TOL)


def test_cox_veterans(veterans: pd.DataFrame) -> None:
    df = veterans.assign(Treatmenttest=(veterans.Treatment == "test").astype(int), ev=veterans.Status.astype(int))
    fit = cox_regression(
        df, time="Survival_in_days", event="ev", covariates=["Age_in_years", "Karnofsky_score", "Treatmenttest"]
    )
    for term in fit.terms:
        assert term.coef == pytest.approx(r.COX_VET[term.name]["coef"], abs=TOL)
        assert term.std_err == pytest.approx(r.COX_VET[term.name]["se"], abs=TOL)
        assert term.hazard_ratio == pytest.approx(np.exp(term.coef))
        assert term.lower < term.hazard_ratio < term.upper
    assert fit.n == 137
    assert fit.n_events == 128


@pytest.mark.parametrize(
    ("ref", "data", "covariates", "cause"),
    [
        (r.CRR_BMT_DIS_C1, "bmt", ["dis"], 1),
        (r.CRR_BMT_DIS_C2, "bmt", ["dis"], 2),
        (r.CRR_CG_C1, "cgvhd", ["age", "txPB", "dxCML"], 1),
        (r.CRR_CG_C2, "cgvhd", ["age", "txPB", "dxCML"], 2),
    ],
)
def test_fine_gray(
    request: pytest.FixtureRequest, ref: dict[str, dict[str, float]], data: str, covariates: list[str], cause: int
) -> None:
    df = request.getfixturevalue(data)
    if data == "cgvhd":
        df = df.assign(txPB=(df.tx == "PB").astype(int), dxCML=(df.dx == "CML").astype(int))
    else:
        df = df.assign(dis=df.dis.astype(int))
    fit = fine_gray_regression(df, time="ftime", event="status", covariates=covariates, cause=cause)
    assert [t.name for t in fit.terms] == covariates
    for term in fit.terms:
        assert term.coef == pytest.approx(ref[term.name]["coef"], abs=TOL)
        assert term.std_err == pytest.approx(ref[term.name]["se"], abs=TOL)
        assert term.lower < term.hazard_ratio < term.upper
    assert fit.n == len(df)
    assert fit.n_events == int((df.status == cause).sum())


def test_cif_log_log_interval_from_r_variance(bmt: pd.DataFrame) -> None:
    # cmprsk gives no interval; ours is the log(-log) transform of its variance: F^exp(±z·√V/(F·log F)).
    ref = r.CI_BMT_ALL["1 1"]
    i = ref["time"].index(24.0) if 24.0 in ref["time"] else int(np.searchsorted(ref["time"], 24.0, side="right") - 1)
    f, v = ref["est"][i], ref["var"][i]
    shift = 1.959963984540054 * np.sqrt(v) / (f * np.log(f))
    at = aalen_johansen(bmt.ftime, bmt.status).at(1, [24.0])
    assert at.lower[0] == pytest.approx(f ** np.exp(-shift), abs=TOL)
    assert at.upper[0] == pytest.approx(f ** np.exp(shift), abs=TOL)
