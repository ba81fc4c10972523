"""Transplant endpoints derived from a :class:`Cohort` by their published definitions (clinical spec §11).

Each function returns :class:`EndpointData`: one (time, event) pair per transplant, event 0 = censored, 1 = the
event of interest, 2 = the competing event (competing-risk endpoints only), ready for :func:`kaplan_meier` or
:func:`aalen_johansen`. Definitions are **[R]** in the spec unless marked; GRFS is **[V]** (Holtan 2015).
Ties [D]: an event on the same day as death counts as that event (relapse on the day of death is a relapse, not NRM).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

import numpy as np

from graftwise.errors import ValidationError
from graftwise.outcomes._data import FloatArray, IntArray
from graftwise.outcomes.cohort import AcuteGvhd, ChronicGvhd, Cohort


class Estimator(Enum):
    """Which estimator an endpoint needs: 1 − KM is wrong in the presence of competing risks."""

    KAPLAN_MEIER = "kaplan_meier"
    AALEN_JOHANSEN = "aalen_johansen"


@dataclass(frozen=True)
class EndpointData:
    """Analysis data of one endpoint: ``event`` 0 = censored, 1 = event, 2 = competing event."""

    name: str
    time: FloatArray
    event: IntArray
    estimator: Estimator
    definition: str


def _first(*days: FloatArray) -> FloatArray:
    return np.asarray(np.fmin.reduce(np.vstack(days), axis=0), dtype=np.float64)


def _competing(
    name: str, definition: str, cohort: Cohort, event_day: FloatArray, competing_day: FloatArray
) -> EndpointData:
    """Event of interest at ``event_day`` unless a competing event happened strictly earlier; else censored."""
    has_event = ~np.isnan(event_day) & ~(competing_day < event_day)
    has_competing = ~has_event & ~np.isnan(competing_day)
    time = np.where(has_event, event_day, np.where(has_competing, competing_day, cohort.followup_day))
    event = np.where(has_event, 1, np.where(has_competing, 2, 0)).astype(np.int64)
    return EndpointData(name, time, event, Estimator.AALEN_JOHANSEN, definition)


def overall_survival(cohort: Cohort) -> EndpointData:
    """OS: death from any cause; alive patients censored at last follow-up."""
    return EndpointData(
        "OS",
        cohort.followup_day,
        cohort.dead.astype(np.int64),
        Estimator.KAPLAN_MEIER,
        "death from any cause; censored at last follow-up",
    )


def progression_free_survival(cohort: Cohort) -> EndpointData:
    """PFS / LFS (DFS): relapse or progression, or death from any cause, whichever comes first."""
    day = _first(cohort.relapse_day, cohort.death_day)
    event = ~np.isnan(day)
    return EndpointData(
        "PFS",
        np.where(event, day, cohort.followup_day),
        event.astype(np.int64),
        Estimator.KAPLAN_MEIER,
        "relapse/progression or death, whichever first",
    )


def relapse_incidence(cohort: Cohort) -> EndpointData:
    """CIR: relapse/progression, with non-relapse mortality as the competing risk."""
    return _competing(
        "CIR",
        "relapse/progression; competing: death without prior relapse",
        cohort,
        cohort.relapse_day,
        cohort.death_day,
    )


def non_relapse_mortality(cohort: Cohort) -> EndpointData:
    """NRM: death without prior relapse, with relapse as the competing risk (relapse on the day of death wins)."""
    nrm_day = np.where(np.isnan(cohort.relapse_day), cohort.death_day, np.nan)
    return _competing(
        "NRM", "death without prior relapse; competing: relapse/progression", cohort, nrm_day, cohort.relapse_day
    )


def _require_acute(cohort: Cohort) -> AcuteGvhd:
    if cohort.agvhd is None:
        raise ValidationError("the cohort has no acute GVHD columns (agvhd_grade, agvhd_day)", field="agvhd_grade")
    return cohort.agvhd


def _require_chronic(cohort: Cohort) -> ChronicGvhd:
    if cohort.cgvhd is None:
        raise ValidationError(
            "the cohort has no chronic GVHD columns (cgvhd_severity, cgvhd_day, cgvhd_systemic)", field="cgvhd_severity"
        )
    return cohort.cgvhd


def _gvhd_competitor(cohort: Cohort, relapse_competes: bool) -> FloatArray:
    return _first(cohort.death_day, cohort.relapse_day) if relapse_competes else cohort.death_day


def acute_gvhd_incidence(cohort: Cohort, *, min_grade: Literal[2, 3], relapse_competes: bool = False) -> EndpointData:
    """Cumulative incidence of acute GVHD of grade >= ``min_grade`` (II–IV: 2, III–IV: 3).

    Competing risk: death without that GVHD (and relapse too if ``relapse_competes``; some studies do, spec §11).
    """
    if min_grade not in (2, 3):
        raise ValidationError(
            f"min_grade {min_grade!r}: expected 2 (grade II–IV) or 3 (grade III–IV)", field="min_grade"
        )
    acute = _require_acute(cohort)
    day = np.where(acute.grade >= min_grade, acute.onset_day, np.nan)
    label = "II–IV" if min_grade == 2 else "III–IV"
    competitor = "death or relapse" if relapse_competes else "death"
    return _competing(
        f"aGVHD {label}",
        f"onset of grade {label} acute GVHD; competing: {competitor} without it",
        cohort,
        day,
        _gvhd_competitor(cohort, relapse_competes),
    )


def chronic_gvhd_incidence(
    cohort: Cohort, *, severity: Literal["any", "moderate_severe"] = "any", relapse_competes: bool = False
) -> EndpointData:
    """Cumulative incidence of chronic GVHD (any, or NIH 2014 moderate–severe), death without it competing."""
    chronic = _require_chronic(cohort)
    if severity not in ("any", "moderate_severe"):
        raise ValidationError(f"severity {severity!r}: expected 'any' or 'moderate_severe'", field="severity")
    threshold = 1 if severity == "any" else 2
    day = np.where(chronic.severity >= threshold, chronic.onset_day, np.nan)
    label = "cGVHD" if severity == "any" else "cGVHD moderate–severe"
    competitor = "death or relapse" if relapse_competes else "death"
    return _competing(
        label,
        f"onset of {label}; competing: {competitor} without it",
        cohort,
        day,
        _gvhd_competitor(cohort, relapse_competes),
    )


def gvhd_free_relapse_free_survival(
    cohort: Cohort, *, chronic: Literal["systemic_therapy", "moderate_severe"] = ("systemic_therapy")
) -> EndpointData:
    """GRFS (Holtan SG et al., *Blood* 2015;125:1333) [V]: the first of grade III–IV acute GVHD, chronic GVHD
    requiring systemic immunosuppressive therapy, relapse, or death; Kaplan–Meier.

    ``chronic="moderate_severe"`` is the named variant "GRFS (NIH moderate–severe cGVHD)" (spec §11: name variants
    explicitly). Holtan reported 1-year GRFS, hence "first year" in the spec; the curve here spans all follow-up.
    """
    acute = _require_acute(cohort)
    chr_ = _require_chronic(cohort)
    if chronic == "systemic_therapy":
        c_day = np.where(chr_.systemic_therapy, chr_.onset_day, np.nan)
        name = "GRFS"
    elif chronic == "moderate_severe":
        c_day = np.where(chr_.severity >= 2, chr_.onset_day, np.nan)
        name = "GRFS (NIH moderate–severe cGVHD)"
    else:
        raise ValidationError(f"chronic {chronic!r}: expected 'systemic_therapy' or 'moderate_severe'", field="chronic")
    a_day = np.where(acute.grade >= 3, acute.onset_day, np.nan)
    day = _first(a_day, c_day, cohort.relapse_day, cohort.death_day)
    event = ~np.isnan(day)
    return EndpointData(
        name,
        np.where(event, day, cohort.followup_day),
        event.astype(np.int64),
        Estimator.KAPLAN_MEIER,
        "first of grade III–IV aGVHD, cGVHD "
        + ("needing systemic therapy" if name == "GRFS" else "moderate–severe")
        + ", relapse, death",
    )
