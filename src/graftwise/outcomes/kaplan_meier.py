"""Kaplan–Meier survival with Greenwood variance and log-log confidence intervals.

References: Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. *J Am Stat Assoc*
1958;53:457–481. Greenwood M. The natural duration of cancer. *Reports on Public Health and Medical Subjects* 33,
HMSO 1926. Kalbfleisch JD, Prentice RL. *The Statistical Analysis of Failure Time Data*, Wiley 1980 (log(−log) CI).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graftwise.outcomes._data import (
    FloatArray,
    IntArray,
    risk_table,
    step_lookup,
    validate_at,
    validate_conf_level,
    validate_times_events,
    z_value,
)


@dataclass(frozen=True)
class PointEstimates:
    """An estimate and its confidence limits at chosen times (NaN beyond the last observed time)."""

    at: FloatArray
    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray


@dataclass(frozen=True)
class SurvivalCurve:
    """A Kaplan–Meier curve at every distinct observed time (event or censoring).

    ``std_err`` is the Greenwood standard error of S(t); ``lower``/``upper`` the log(−log) limits, NaN where S(t) is
    0 or 1.
    """

    time: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    survival: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    conf_level: float

    def at(self, times: npt.ArrayLike) -> PointEstimates:
        """S(t), lower and upper at ``times`` (right-continuous; S = 1 with undefined limits before the first time,
        NaN after the last)."""
        a = validate_at(times)
        return PointEstimates(
            a,
            step_lookup(self.time, self.survival, a, 1.0),
            step_lookup(self.time, self.lower, a, np.nan),
            step_lookup(self.time, self.upper, a, np.nan),
        )

    def n_at_risk(self, times: npt.ArrayLike) -> IntArray:
        """Numbers still at risk (time >= t) at ``times``."""
        return n_at_risk(self.time, self.n_risk, validate_at(times))


def n_at_risk(grid: FloatArray, n_risk: IntArray, at: FloatArray) -> IntArray:
    """At-risk count at each ``at`` from a risk table on ``grid`` (subjects with time >= t)."""
    idx = np.searchsorted(grid, at, side="left")
    padded = np.concatenate((n_risk, [0]))
    return np.asarray(padded[idx], dtype=np.int64)


def log_log_limits(estimate: FloatArray, se_log: FloatArray, z: float) -> tuple[FloatArray, FloatArray]:
    """log(−log) limits of a probability ``estimate`` from the standard error of log(estimate).

    exp(−exp(log(−log S) ± z·se/log S)) (Kalbfleisch & Prentice 1980); NaN where S = 1 or S = 0 (the transform is
    undefined there), as R's ``survfit(conf.type = "log-log")``.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_s = np.log(estimate)
        inner = np.log(-log_s)
        shift = z * se_log / log_s
        a = np.exp(-np.exp(inner + shift))
        b = np.exp(-np.exp(inner - shift))
    undefined = (estimate == 1.0) | (estimate == 0.0)
    return np.where(undefined, np.nan, np.minimum(a, b)), np.where(undefined, np.nan, np.maximum(a, b))


def kaplan_meier(time: npt.ArrayLike, event: npt.ArrayLike, *, conf_level: float = 0.95) -> SurvivalCurve:
    """Kaplan–Meier estimate S(t) = ∏_{t_j <= t} (1 − d_j / n_j) (Kaplan & Meier 1958).

    ``event`` is 1 for the event, 0 for censored. At tied times events precede censorings (a subject censored at
    t_j is at risk at t_j). Greenwood (1926): Var S(t) = S(t)² Σ_{t_j <= t} d_j / (n_j (n_j − d_j)). Confidence limits
    use the log(−log) transform with se(log S) = √(Σ d_j / (n_j (n_j − d_j))), matching R
    ``survfit(Surv(time, event) ~ 1, conf.type = "log-log")``.
    """
    level = validate_conf_level(conf_level)
    t, e = validate_times_events(time, event, binary=True)
    table = risk_table(t, e, causes=(1,))
    n = table.n_risk.astype(np.float64)
    d = table.n_event[0].astype(np.float64)
    survival = np.cumprod(1.0 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
        se_log = np.sqrt(greenwood)
        std_err = survival * se_log
    std_err[survival == 0.0] = np.nan
    lower, upper = log_log_limits(survival, se_log, z_value(level))
    return SurvivalCurve(
        time=table.time,
        n_risk=table.n_risk,
        n_event=table.n_event[0],
        n_censor=table.n_censor,
        survival=survival,
        std_err=std_err,
        lower=lower,
        upper=upper,
        conf_level=level,
    )
