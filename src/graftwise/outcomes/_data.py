"""Validation and tabulation of right-censored (time, event) data shared by every estimator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from graftwise.errors import ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _show(value: object) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def _numbers(values: npt.ArrayLike, field: str, expected: str) -> FloatArray:
    """Floats from any 1-D input; the first non-numeric value is reported with its (1-based) row."""
    raw = np.asarray(values)
    if raw.dtype == np.bool_:
        return raw.astype(np.float64)
    numeric = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(numeric) & ~pd.isna(pd.Series(raw)).to_numpy())
    if bad.size:
        raise ValidationError(
            f"row {bad[0] + 1}: {field} {_show(raw[bad[0]])} is not a number; expected {expected}", field=field
        )
    return numeric


def validate_times_events(
    time: npt.ArrayLike, event: npt.ArrayLike, *, binary: bool = False
) -> tuple[FloatArray, IntArray]:
    """Check and convert right-censored data: one time and one integer event code per subject.

    ``time`` must be finite and >= 0; ``event`` is 0 for censored and 1..K for the cause of the event
    (only 0/1 when ``binary``). Raises :class:`ValidationError` naming the first offending row (1-based) and
    ``field`` ``"time"`` or ``"event"``.
    """
    t_in = np.asarray(time)
    e_in = np.asarray(event)
    if t_in.ndim != 1 or e_in.ndim != 1:
        raise ValidationError("time and event must be one-dimensional", field="time")
    if t_in.shape != e_in.shape:
        raise ValidationError(
            f"time has {t_in.size} values but event has {e_in.size}; expected one each per subject", field="event"
        )
    if t_in.size == 0:
        raise ValidationError("no subjects: expected at least one (time, event) pair", field="time")
    t = _numbers(t_in, "time", "a finite number >= 0")
    bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
    if bad.size:
        raise ValidationError(f"row {bad[0] + 1}: time {_show(t_in[bad[0]])} is not a finite number >= 0", field="time")
    codes = "0 (censored) or 1 (event)" if binary else "an integer code >= 0 (0 = censored, 1..K = cause)"
    e = _numbers(e_in, "event", codes)
    bad = np.flatnonzero(~np.isfinite(e) | (e != np.round(e)) | (e < 0) | ((e > 1) if binary else False))
    if bad.size:
        raise ValidationError(f"row {bad[0] + 1}: event {_show(e_in[bad[0]])} is not {codes}", field="event")
    return t, e.astype(np.int64)


def validate_conf_level(conf_level: float) -> float:
    """A confidence level strictly between 0 and 1."""
    if not 0.0 < conf_level < 1.0:
        raise ValidationError(f"conf_level {conf_level!r} must lie strictly between 0 and 1", field="conf_level")
    return float(conf_level)


def z_value(conf_level: float) -> float:
    """Two-sided standard-normal quantile for ``conf_level``."""
    return float(stats.norm.ppf(0.5 + conf_level / 2.0))


@dataclass(frozen=True)
class RiskTable:
    """Counts at each distinct observed time (events and censorings), in increasing time order.

    ``n_risk[j]`` counts subjects with time >= ``time[j]``, so a subject censored at ``time[j]`` is still at risk
    for the events at ``time[j]``: events precede censorings at tied times (Kaplan & Meier 1958, and cmprsk).
    ``n_event[k, j]`` counts events of ``causes[k]``.
    """

    time: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    causes: tuple[int, ...]

    @property
    def n_event_total(self) -> IntArray:
        """Events of any cause at each time."""
        return np.asarray(self.n_event.sum(axis=0), dtype=np.int64)


def risk_table(time: FloatArray, event: IntArray, causes: tuple[int, ...] | None = None) -> RiskTable:
    """Tabulate validated data; ``causes`` defaults to the event codes present (excluding 0)."""
    times, inverse = np.unique(time, return_inverse=True)
    m = times.size
    leaving = np.bincount(inverse, minlength=m)
    n_risk = time.size - np.concatenate(([0], np.cumsum(leaving)[:-1]))
    if causes is None:
        causes = tuple(int(c) for c in np.unique(event[event > 0]))
    n_event = np.zeros((len(causes), m), dtype=np.int64)
    for k, c in enumerate(causes):
        n_event[k] = np.bincount(inverse[event == c], minlength=m)
    n_censor = np.bincount(inverse[event == 0], minlength=m)
    return RiskTable(times, n_risk.astype(np.int64), n_event, n_censor.astype(np.int64), causes)


def step_lookup(grid: FloatArray, values: npt.NDArray[np.float64], at: FloatArray, initial: float) -> FloatArray:
    """Right-continuous step function: the value at the last ``grid`` time <= ``at`` (``initial`` before it).

    Times beyond the last observed time give NaN: the estimate is not defined past follow-up.
    """
    idx = np.searchsorted(grid, at, side="right") - 1
    out = np.where(idx >= 0, values[np.clip(idx, 0, None)], initial).astype(np.float64)
    out[at > grid[-1]] = np.nan
    return out


def validate_at(at: npt.ArrayLike) -> FloatArray:
    """Evaluation times: finite and >= 0."""
    a = np.atleast_1d(np.asarray(at, dtype=np.float64))
    bad = np.flatnonzero(~np.isfinite(a) | (a < 0))
    if bad.size:
        raise ValidationError(f"evaluation time {a[bad[0]]!r} is not a finite number >= 0", field="at")
    return a


def format_time(t: float) -> str:
    """A time as the shortest exact decimal ("12", "365.25", "100000.5"): used as a JSON key and a column label."""
    return str(np.format_float_positional(t, trim="-"))
