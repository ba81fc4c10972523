"""Cox proportional-hazards regression through lifelines' ``CoxPHFitter`` (Efron ties, like R ``coxph``).

Reference: Cox DR. Regression models and life-tables. *J R Stat Soc B* 1972;34:187–220; Efron B. The efficiency of
Cox's likelihood function for censored data. *J Am Stat Assoc* 1977;72:557–565.

Fine–Gray subdistribution-hazard regression (``cmprsk::crr``) is **not** provided: neither lifelines nor
scikit-survival implements it (clinical spec §11) and no dependable Python port was available. For competing risks use
a cause-specific Cox model (:func:`cox_regression` with the competing events censored), and say so when reporting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter

from graftwise.errors import ValidationError
from graftwise.outcomes._data import validate_conf_level, validate_times_events


@dataclass(frozen=True)
class CoxTerm:
    """One covariate: log hazard ratio, its standard error, hazard ratio with limits, Wald p-value."""

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


def cox_regression(
    frame: pd.DataFrame, *, time: str, event: str, covariates: Sequence[str], conf_level: float = 0.95
) -> CoxResult:
    """Fit S(t | x) with hazard h₀(t)·exp(βᵀx) by partial likelihood (Efron's ties).

    ``event`` is 1 for the event, 0 for censored; covariates must be numeric with no missing values (code
    categories as 0/1 columns first). Agrees with R ``coxph(..., ties = "efron")`` to 1e-6 on the veterans data.
    """
    level = validate_conf_level(conf_level)
    if not covariates:
        raise ValidationError("no covariates given; expected at least one column name", field="covariates")
    for col in (time, event, *covariates):
        if col not in frame.columns:
            raise ValidationError(f"missing column {col!r}", field=col)
    t, e = validate_times_events(frame[time].to_numpy(), frame[event].to_numpy(), binary=True)
    data = pd.DataFrame({"_time": t, "_event": e})
    for col in covariates:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValidationError(
                f"row {bad[0] + 1}: covariate {col} is {frame[col].iloc[bad[0]]!r}, expected a finite number", field=col
            )
        data[col] = values
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
