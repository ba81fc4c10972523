"""Regression: Cox proportional hazards (lifelines' ``CoxPHFitter``) and Fine–Gray subdistribution hazards (own).

References: Cox DR. Regression models and life-tables. *J R Stat Soc B* 1972;34:187–220. Efron B. The efficiency of
Cox's likelihood function for censored data. *J Am Stat Assoc* 1977;72:557–565. Fine JP, Gray RJ. A proportional
hazards model for the subdistribution of a competing risk. *J Am Stat Assoc* 1999;94:496–509.

Neither lifelines nor scikit-survival has Fine–Gray (clinical spec §11), so :func:`fine_gray_regression` is written
here and checked against R ``cmprsk::crr`` 2.2-11 (coefficients and standard errors within 2e-9 on the Scrucca and
Pintilie data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from lifelines import CoxPHFitter
from scipy import stats

from graftwise.errors import ValidationError
from graftwise.outcomes._data import validate_conf_level, validate_times_events, z_value


@dataclass(frozen=True)
class CoxTerm:
    """One covariate: log (subdistribution) hazard ratio, its standard error, the ratio with limits, Wald p-value."""

    name: str
    coef: float
    std_err: float
    hazard_ratio: float
    lower: float
    upper: float
    p_value: float


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model: terms in covariate order, Harrell's concordance, partial log-likelihood, sample size."""

    terms: tuple[CoxTerm, ...]
    concordance: float
    log_likelihood: float
    n: int
    n_events: int
    conf_level: float


def _covariates(frame: pd.DataFrame, time: str, event: str, covariates: Sequence[str]) -> npt.NDArray[np.float64]:
    """Validated numeric covariate matrix (n × p); errors name the column and the first bad row."""
    if not covariates:
        raise ValidationError("no covariates given; expected at least one column name", field="covariates")
    for col in (time, event, *covariates):
        if col not in frame.columns:
            raise ValidationError(f"missing column {col!r}", field=col)
    columns = []
    for col in covariates:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValidationError(
                f"row {bad[0] + 1}: covariate {col} is {frame[col].iloc[bad[0]]!r}, expected a finite number", field=col
            )
        columns.append(values)
    return np.column_stack(columns)


def _terms(
    names: Sequence[str], coef: npt.NDArray[np.float64], se: npt.NDArray[np.float64], level: float
) -> tuple[CoxTerm, ...]:
    z = z_value(level)
    return tuple(
        CoxTerm(
            name,
            float(b),
            float(s),
            float(np.exp(b)),
            float(np.exp(b - z * s)),
            float(np.exp(b + z * s)),
            float(2.0 * stats.norm.sf(abs(b / s))),
        )
        for name, b, s in zip(names, coef, se, strict=True)
    )


def cox_regression(
    frame: pd.DataFrame, *, time: str, event: str, covariates: Sequence[str], conf_level: float = 0.95
) -> CoxResult:
    """Fit S(t | x) with hazard h₀(t)·exp(βᵀx) by partial likelihood (Efron's ties).

    ``event`` is 1 for the event, 0 for censored; covariates must be numeric with no missing values (code
    categories as 0/1 columns first). Agrees with R ``coxph(..., ties = "efron")`` to 1e-6 on the veterans data.
    """
    level = validate_conf_level(conf_level)
    x = _covariates(frame, time, event, covariates)
    t, e = validate_times_events(frame[time].to_numpy(), frame[event].to_numpy(), binary=True)
    data = pd.DataFrame({"_time": t, "_event": e})
    for j, col in enumerate(covariates):
        data[col] = x[:, j]
    if e.sum() == 0:
        raise ValidationError("no events: a Cox model needs at least one", field=event)
    fitter = CoxPHFitter(alpha=1.0 - level)
    fitter.fit(data, duration_col="_time", event_col="_event")
    summary = fitter.summary
    z = fitter.summary.columns
    lower_col = next(c for c in z if c.startswith("exp(coef) lower"))
    upper_col = next(c for c in z if c.startswith("exp(coef) upper"))
    terms = tuple(
        CoxTerm(
            name=col,
            coef=float(summary.loc[col, "coef"]),
            std_err=float(summary.loc[col, "se(coef)"]),
            hazard_ratio=float(summary.loc[col, "exp(coef)"]),
            lower=float(summary.loc[col, lower_col]),
            upper=float(summary.loc[col, upper_col]),
            p_value=float(summary.loc[col, "p"]),
        )
        for col in covariates
    )
    return CoxResult(
        terms=terms,
        concordance=float(fitter.concordance_index_),
        log_likelihood=float(fitter.log_likelihood_),
        n=int(t.size),
        n_events=int(e.sum()),
        conf_level=level,
    )


@dataclass(frozen=True)
class FineGrayResult:
    """A fitted Fine–Gray model: terms (``hazard_ratio`` is the subdistribution hazard ratio), sizes, convergence."""

    terms: tuple[CoxTerm, ...]
    cause: int
    n: int
    n_events: int
    n_competing: int
    iterations: int
    log_pseudo_likelihood: float
    conf_level: float


def _censoring_before(
    time: npt.NDArray[np.float64], censored: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Kaplan–Meier of the censoring distribution with censoring as the event: distinct times, at-risk counts,
    censorings and G(t) after each time (failures tied with a censoring stay at risk for it)."""
    grid = np.unique(time)
    at_risk = time.size - np.searchsorted(np.sort(time), grid, side="left")
    n_cens = np.bincount(np.searchsorted(grid, time[censored]), minlength=grid.size)
    g_after = np.asarray(np.cumprod(1.0 - n_cens / at_risk), dtype=np.float64)
    return grid, at_risk.astype(np.int64), n_cens.astype(np.int64), g_after


def fine_gray_regression(
    frame: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: Sequence[str],
    cause: int = 1,
    conf_level: float = 0.95,
    max_iterations: int = 50,
) -> FineGrayResult:
    """Fine–Gray proportional subdistribution-hazards regression (Fine & Gray 1999), as R ``cmprsk::crr``.

    ``event``: 0 censored, 1..K causes; ``cause`` is modelled, the other causes compete. Subjects who failed from a
    competing cause stay in the risk set after their failure time T_j with weight G(t−)/G(T_j−), G the Kaplan–Meier
    estimate of the censoring distribution (one censoring group). Tied failures: Breslow. The log pseudo-likelihood
    Σ_failures [βᵀZ_i − log S0(t_i)], S0(t) = Σ_j w_j(t) exp(βᵀZ_j), is maximised by Newton–Raphson from β = 0 until
    every step is below 1e-10. Variance: the sandwich I⁻¹ Ω I⁻¹, Ω = Σ_i (η_i + ψ_i)(η_i + ψ_i)ᵀ, with η_i the
    subject's score residual and ψ_i the correction for estimating G (Fine & Gray 1999, §4):
    ψ_i = ∫ q(u)/π(u) dM_i^c(u), q(u) = Σ_{failures t_l ≥ u} Σ_{j competing, T_j < u} w_j(t_l) e^{βᵀZ_j}
    (Z_j − Z̄(t_l)) / S0(t_l), π(u) the number at risk. Memory is O(n · m · p) for m distinct failure times.
    """
    level = validate_conf_level(conf_level)
    x = _covariates(frame, time, event, covariates)
    t, e = validate_times_events(frame[time].to_numpy(), frame[event].to_numpy())
    fail = e == cause
    comp = (e > 0) & ~fail
    cens = e == 0
    if not fail.any():
        raise ValidationError(f"cause {cause} never occurs; expected at least one such event", field=event)
    n, p = x.shape
    grid, at_risk, n_cens, g_after = _censoring_before(t, cens)

    def g_before(at: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        idx = np.searchsorted(grid, at, side="left") - 1
        return np.where(idx >= 0, g_after[np.clip(idx, 0, None)], 1.0)

    tau, d = np.unique(t[fail], return_counts=True)
    weight = (t[:, None] >= tau[None, :]).astype(np.float64)
    after_competing = comp[:, None] & (t[:, None] < tau[None, :])
    weight = np.where(after_competing, g_before(tau)[None, :] / g_before(t)[:, None], weight)
    zz = (x[:, :, None] * x[:, None, :]).reshape(n, p * p)
    z_fail = x[fail].sum(axis=0)

    def fit_at(beta: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], ...]:
        risk = np.exp(x @ beta)
        wr = weight * risk[:, None]
        s0 = wr.sum(axis=0)
        zbar = (wr.T @ x) / s0[:, None]
        s2 = (wr.T @ zz).reshape(-1, p, p) / s0[:, None, None]
        score = z_fail - d @ zbar
        info = np.einsum("l,lab->ab", d, s2 - zbar[:, :, None] * zbar[:, None, :])
        loglik = np.array([x[fail].sum(axis=0) @ beta - d @ np.log(s0)])
        return risk, s0, zbar, score, info, loglik

    beta = np.zeros(p)
    iterations = 0
    converged = False
    while not converged:
        if iterations == max_iterations:
            raise ValidationError(
                f"Newton–Raphson did not converge in {max_iterations} iterations (a covariate may separate the events)",
                field="covariates",
            )
        iterations += 1
        _, _, _, score, info, _ = fit_at(beta)
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            raise ValidationError(
                "the information matrix is singular: a covariate is constant or collinear", field="covariates"
            ) from None
        beta = beta + step
        converged = bool(np.max(np.abs(step)) < 1e-10)
    risk, s0, zbar, _, info, loglik = fit_at(beta)

    # η_i: dN part for the subject's own failure, minus its share of every risk set it belongs to.
    share = weight * risk[:, None] * (d / s0)[None, :]
    eta = -(share.sum(axis=1)[:, None] * x - share @ zbar)
    eta[fail] += x[fail] - zbar[np.searchsorted(tau, t[fail])]
    # ψ_i: q(u) at each censoring time u from competing-risk subjects failed before u and failures at or after u.
    contrib = share[comp][:, :, None] * (x[comp][:, None, :] - zbar[None, :, :])
    from_l_on = np.flip(np.cumsum(np.flip(contrib, axis=1), axis=1), axis=1)
    order = np.argsort(t[comp], kind="stable")
    cum = np.concatenate((np.zeros((1, tau.size, p)), np.cumsum(from_l_on[order], axis=0)), axis=0)
    cum = np.concatenate((cum, np.zeros((cum.shape[0], 1, p))), axis=1)  # no failure at or after u: q = 0
    has_cens = n_cens > 0
    u = grid[has_cens]
    q = cum[np.searchsorted(t[comp][order], u, side="left"), np.searchsorted(tau, u, side="left")]
    pi_u = at_risk[has_cens].astype(np.float64)
    compensator = np.cumsum(q * (n_cens[has_cens] / pi_u**2)[:, None], axis=0)
    upto = np.searchsorted(u, t, side="right") - 1
    psi = -np.where(upto[:, None] >= 0, compensator[np.clip(upto, 0, None)], 0.0)
    own = np.searchsorted(u, t[cens])
    psi[cens] += q[own] / pi_u[own][:, None]
    influence = eta + psi
    info_inv = np.linalg.inv(info)
    variance = info_inv @ (influence.T @ influence) @ info_inv
    return FineGrayResult(
        terms=_terms(covariates, beta, np.sqrt(np.diag(variance)), level),
        cause=cause,
        n=n,
        n_events=int(fail.sum()),
        n_competing=int(comp.sum()),
        iterations=iterations,
        log_pseudo_likelihood=float(loglik[0]),
        conf_level=level,
    )
