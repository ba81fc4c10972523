"""A seeded synthetic transplant cohort with realistic outcome rates, so reports can be shown without patient data.

Calibrated targets (clinical spec §3, HCT-CI multicentre validation, ElSawy M et al., *Br J Haematol*, 2,523
allografts **[V]**): 2-year NRM 14% / 23% / 39% and 2-year OS 74% / 61% / 39% for HCT-CI 0 / 1–2 / ≥ 3.
Everything else is a graftwise design choice **[D]**, stated here and not taken from a source: HCT-CI mix 35/35/30%;
2-year relapse incidence 25% in every group; constant cause-specific hazards of relapse and NRM, and of death after
relapse (solved per group so that 2-year OS hits its target), the relapse and NRM hazards falling to a fifth after
two years; acute GVHD maximum grade 0–IV with probabilities
50/15/20/10/5% (II–IV 35%, III–IV 15%) and onset day 10 + Gamma(2, 12); chronic GVHD in 40% with onset day
100 + Gamma(2, 60), NIH severity mild/moderate/severe 35/40/25%, systemic therapy for moderate–severe and 20% of mild;
GVHD and mortality drawn independently; administrative follow-up uniform on 180–2,190 days. Times are whole days
(≥ 1), which creates tied times as real registry data do. GRFS is not fitted: the resulting 1-year GRFS is about 44%,
above the 31% of Holtan 2015's 907 patients (spec §11 [V]), whose cohort had more GVHD, relapse and early death.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import brentq

from graftwise.errors import ValidationError

HORIZON_DAYS: Final = 730.0


@dataclass(frozen=True)
class RiskGroup:
    """An HCT-CI group with its calibration targets at two years."""

    label: str
    share: float
    nrm_2y: float
    os_2y: float


RISK_GROUPS: Final = (
    RiskGroup("0", 0.35, 0.14, 0.74),
    RiskGroup("1-2", 0.35, 0.23, 0.61),
    RiskGroup(">=3", 0.30, 0.39, 0.39),
)
RELAPSE_2Y: Final = 0.25
AGVHD_GRADE_P: Final = (0.50, 0.15, 0.20, 0.10, 0.05)
CGVHD_P: Final = 0.40
CGVHD_SEVERITY_P: Final = (0.35, 0.40, 0.25)
MILD_SYSTEMIC_P: Final = 0.20
FOLLOWUP_RANGE: Final = (180.0, 2190.0)
LATE_HAZARD_RATIO: Final = 0.2


@dataclass(frozen=True)
class Hazards:
    """Daily hazards of NRM and relapse (competing) and of death after relapse."""

    nrm: float
    relapse: float
    post_relapse_death: float


def group_hazards(group: RiskGroup) -> Hazards:
    """Constant hazards reproducing the group's 2-year NRM, 2-year relapse incidence and 2-year OS.

    With λ = λ_n + λ_r: CIF_n(T) = λ_n/λ (1 − e^{−λT}), CIF_r(T) = λ_r/λ (1 − e^{−λT}); deaths after relapse by T are
    CIF_r(T) − λ_r (e^{−λT} − e^{−μT})/(μ − λ), solved for μ so that 1 − OS(T) = CIF_n(T) + those deaths.
    """
    total = group.nrm_2y + RELAPSE_2Y
    lam = -np.log(1.0 - total) / HORIZON_DAYS
    lam_n = lam * group.nrm_2y / total
    lam_r = lam * RELAPSE_2Y / total
    target = 1.0 - group.os_2y - group.nrm_2y

    def excess_deaths(mu: float) -> float:
        # (e^{−λT} − e^{−μT})/(μ − λ) written as e^{−λT}·(1 − e^{−xT})/x, x = μ − λ, whose limit at x = 0 is T.
        x = mu - lam
        ratio = HORIZON_DAYS if x == 0 else -np.expm1(-x * HORIZON_DAYS) / x
        return float(RELAPSE_2Y - lam_r * np.exp(-lam * HORIZON_DAYS) * ratio - target)

    mu = brentq(excess_deaths, 1e-9, 1.0)
    return Hazards(float(lam_n), float(lam_r), float(mu))


def _late_slowdown(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Hazard × LATE_HAZARD_RATIO after two years (relapse and NRM plateau); the 2-year calibration is unchanged."""
    return np.where(t > HORIZON_DAYS, HORIZON_DAYS + (t - HORIZON_DAYS) / LATE_HAZARD_RATIO, t)


def synthetic_cohort(n: int, seed: int) -> pd.DataFrame:
    """``n`` synthetic transplants as a cohort table (columns of :mod:`graftwise.outcomes.cohort` plus ``hct_ci``)."""
    if not isinstance(n, int) or n < 1:
        raise ValidationError(f"n {n!r} must be a positive integer", field="n")
    rng = np.random.default_rng(seed)
    g = rng.choice(len(RISK_GROUPS), size=n, p=[r.share for r in RISK_GROUPS])
    hz = [group_hazards(r) for r in RISK_GROUPS]
    lam_n = np.array([h.nrm for h in hz])[g]
    lam_r = np.array([h.relapse for h in hz])[g]
    mu = np.array([h.post_relapse_death for h in hz])[g]
    t_nrm = _late_slowdown(rng.exponential(1.0 / lam_n))
    t_rel = _late_slowdown(rng.exponential(1.0 / lam_r))
    relapsed = t_rel < t_nrm
    t_death = np.where(relapsed, t_rel + rng.exponential(1.0 / mu), t_nrm)
    censor = rng.uniform(*FOLLOWUP_RANGE, size=n)
    whole = np.ceil  # whole days, at least day 1
    death_day = whole(t_death)
    censor_day = whole(censor)
    dead = death_day <= censor_day
    followup = np.where(dead, death_day, censor_day)
    relapse_day = np.where(relapsed & (whole(t_rel) <= followup), whole(t_rel), np.nan)

    grade = rng.choice(5, size=n, p=AGVHD_GRADE_P)
    a_day = whole(10.0 + rng.gamma(2.0, 12.0, size=n))
    grade = np.where(a_day <= followup, grade, 0)
    a_day = np.where(grade > 0, a_day, np.nan)

    has_c = rng.random(n) < CGVHD_P
    c_day = whole(100.0 + rng.gamma(2.0, 60.0, size=n))
    has_c &= c_day <= followup
    sev = np.where(has_c, 1 + rng.choice(3, size=n, p=CGVHD_SEVERITY_P), 0)
    systemic = (sev >= 2) | ((sev == 1) & (rng.random(n) < MILD_SYSTEMIC_P))
    names = np.array(["none", "mild", "moderate", "severe"])
    return pd.DataFrame(
        {
            "patient_id": [f"SYN{i + 1:05d}" for i in range(n)],
            "hct_ci": np.array([r.label for r in RISK_GROUPS])[g],
            "followup_day": followup,
            "death_day": np.where(dead, death_day, np.nan),
            "relapse_day": relapse_day,
            "agvhd_grade": grade,
            "agvhd_day": a_day,
            "cgvhd_severity": names[sev],
            "cgvhd_day": np.where(has_c, c_day, np.nan),
            "cgvhd_systemic": systemic.astype(int),
        }
    )
