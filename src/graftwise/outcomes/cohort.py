"""The transplant cohort: one row per transplant, times in days from HCT (day 0), validated.

Columns (CSV or DataFrame), times as days since HCT; or, if a ``transplant_date`` column is present, the matching
``*_date`` columns (``followup_date``, ``death_date``, ``relapse_date``, ``agvhd_date``, ``cgvhd_date``) instead:

* ``patient_id`` — unique identifier;
* ``followup_day`` — last follow-up (for a patient who died: the day of death), required for everyone;
* ``death_day`` — empty if alive at last follow-up;
* ``relapse_day`` — relapse or progression, empty if none;
* ``agvhd_grade`` — maximum overall acute GVHD grade 0–4 (0 = none) and ``agvhd_day`` its onset (optional pair);
* ``cgvhd_severity`` — NIH 2014 global severity ``none``/``mild``/``moderate``/``severe``, ``cgvhd_day`` its onset and
  ``cgvhd_systemic`` (0/1) whether it needed systemic immunosuppressive therapy (optional triple).

Time zero is the HCT date (clinical spec §11). Conventions [D]: ``agvhd_day`` is the registry "date of onset of acute
GVHD" and is used as the event time for every grade threshold (CIBMTR-style forms record one onset date with the
maximum grade); an event on the same day as death counts as that event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from graftwise.errors import ValidationError
from graftwise.outcomes._data import FloatArray, IntArray

CGVHD_SEVERITIES: Final = ("none", "mild", "moderate", "severe")
_DATE_COLUMNS: Final = {
    "followup_date": "followup_day",
    "death_date": "death_day",
    "relapse_date": "relapse_day",
    "agvhd_date": "agvhd_day",
    "cgvhd_date": "cgvhd_day",
}
BoolArray = np.ndarray[tuple[int], np.dtype[np.bool_]]


@dataclass(frozen=True)
class AcuteGvhd:
    """Maximum overall acute GVHD grade (0–4) per transplant and onset day (NaN when grade 0)."""

    grade: IntArray
    onset_day: FloatArray


@dataclass(frozen=True)
class ChronicGvhd:
    """NIH global severity code per transplant (index into ``CGVHD_SEVERITIES``), onset day and systemic therapy."""

    severity: IntArray
    onset_day: FloatArray
    systemic_therapy: BoolArray


@dataclass(frozen=True)
class Cohort:
    """A validated cohort; missing event days are NaN. Build it with :func:`cohort_from_frame`."""

    patient_id: tuple[str, ...]
    followup_day: FloatArray
    death_day: FloatArray
    relapse_day: FloatArray
    agvhd: AcuteGvhd | None
    cgvhd: ChronicGvhd | None

    @property
    def size(self) -> int:
        """Number of transplants."""
        return len(self.patient_id)

    @property
    def dead(self) -> BoolArray:
        """True where death was recorded."""
        return np.asarray(~np.isnan(self.death_day))


def _row_error(df: pd.DataFrame, mask: np.ndarray, column: str, what: str) -> None:
    rows = np.flatnonzero(mask)
    if rows.size:
        r = int(rows[0])
        pid = df["patient_id"].iloc[r] if "patient_id" in df.columns else r
        raise ValidationError(f"row {r + 1} (patient {pid}): {column} {what}", field=column)


def _days(df: pd.DataFrame, column: str, *, required: bool) -> FloatArray:
    if column not in df.columns:
        if required:
            raise ValidationError(f"missing column {column!r}", field=column)
        return np.full(len(df), np.nan)
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=np.float64)
    _row_error(df, df[column].notna().to_numpy() & np.isnan(values), column, "is not a number of days")
    _row_error(df, np.isinf(values), column, "is infinite, expected a finite number of days")
    _row_error(df, values < 0, column, "is before day 0 (the transplant); expected >= 0")
    if required:
        _row_error(df, np.isnan(values), column, "is missing; every transplant needs it")
    return values


def _dates_to_days(df: pd.DataFrame) -> pd.DataFrame:
    """Replace ``transplant_date`` and ``*_date`` columns by days since transplant."""
    out = df.copy()
    base = pd.to_datetime(out["transplant_date"], errors="coerce")
    _row_error(out, base.isna().to_numpy(), "transplant_date", "is missing or not a date (expected YYYY-MM-DD)")
    for date_col, day_col in _DATE_COLUMNS.items():
        if date_col not in out.columns:
            continue
        raw = out[date_col]
        parsed = pd.to_datetime(raw, errors="coerce")
        _row_error(out, (raw.notna() & parsed.isna()).to_numpy(), date_col, "is not a date (expected YYYY-MM-DD)")
        out[day_col] = (parsed - base).dt.days
    return out.drop(columns=["transplant_date", *[c for c in _DATE_COLUMNS if c in out.columns]])


def cohort_from_frame(frame: pd.DataFrame) -> Cohort:
    """Validate a table of transplants (one row each) and build a :class:`Cohort`.

    Errors name the row (1-based), the patient and the column: a missing follow-up (censoring) time, an event
    before day 0 (e.g. relapse before transplant), an event after last follow-up, follow-up continuing after death,
    an unknown grade or severity, an onset without a grade or a grade without an onset.
    """
    if "patient_id" not in frame.columns:
        raise ValidationError("missing column 'patient_id'", field="patient_id")
    if len(frame) == 0:
        raise ValidationError("the cohort is empty; expected at least one transplant", field="patient_id")
    df = _dates_to_days(frame) if "transplant_date" in frame.columns else frame
    ids = df["patient_id"].astype(str)
    _row_error(df, ids.duplicated().to_numpy(), "patient_id", "is a duplicate; expected one row per transplant")
    followup = _days(df, "followup_day", required=True)
    death = _days(df, "death_day", required=False)
    relapse = _days(df, "relapse_day", required=False)
    dead = ~np.isnan(death)
    _row_error(df, dead & (death < followup), "followup_day", "is after death_day; follow-up ends at death")
    _row_error(df, dead & (death > followup), "death_day", "is after last follow-up (followup_day)")
    _row_error(df, relapse > followup, "relapse_day", "is after last follow-up (followup_day)")
    agvhd = _acute(df, followup) if "agvhd_grade" in df.columns else None
    cgvhd = _chronic(df, followup) if "cgvhd_severity" in df.columns else None
    return Cohort(tuple(ids), followup, death, relapse, agvhd, cgvhd)


def _acute(df: pd.DataFrame, followup: FloatArray) -> AcuteGvhd:
    raw = df["agvhd_grade"]
    grade_f = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(grade_f) | ~np.isin(grade_f, [0, 1, 2, 3, 4])
    _row_error(df, bad, "agvhd_grade", "must be an integer 0–4 (0 = no acute GVHD)")
    grade = grade_f.astype(np.int64)
    onset = _days(df, "agvhd_day", required=False)
    _row_error(df, (grade > 0) & np.isnan(onset), "agvhd_day", "is missing for acute GVHD of grade >= 1")
    _row_error(df, (grade == 0) & ~np.isnan(onset), "agvhd_day", "is given but agvhd_grade is 0")
    _row_error(df, onset > followup, "agvhd_day", "is after last follow-up (followup_day)")
    return AcuteGvhd(grade, onset)


def _chronic(df: pd.DataFrame, followup: FloatArray) -> ChronicGvhd:
    raw = df["cgvhd_severity"].astype(str).str.strip().str.lower()
    known = raw.isin(CGVHD_SEVERITIES).to_numpy()
    _row_error(df, ~known, "cgvhd_severity", f"must be one of {', '.join(CGVHD_SEVERITIES)}")
    severity = np.array([CGVHD_SEVERITIES.index(s) for s in raw], dtype=np.int64)
    onset = _days(df, "cgvhd_day", required=False)
    _row_error(df, (severity > 0) & np.isnan(onset), "cgvhd_day", "is missing for chronic GVHD")
    _row_error(df, (severity == 0) & ~np.isnan(onset), "cgvhd_day", "is given but cgvhd_severity is none")
    _row_error(df, onset > followup, "cgvhd_day", "is after last follow-up (followup_day)")
    if "cgvhd_systemic" not in df.columns:
        raise ValidationError(
            "missing column 'cgvhd_systemic' (0/1), needed with cgvhd_severity", field="cgvhd_systemic"
        )
    sys_f = pd.to_numeric(df["cgvhd_systemic"], errors="coerce").to_numpy(dtype=np.float64)
    _row_error(df, ~np.isin(sys_f, [0, 1]), "cgvhd_systemic", "must be 0 or 1")
    systemic = sys_f == 1
    _row_error(df, systemic & (severity == 0), "cgvhd_systemic", "is 1 but cgvhd_severity is none")
    return ChronicGvhd(severity, onset, np.asarray(systemic))
