"""Tests comparing groups: the log-rank test for survival curves.

Reference: Mantel N. Evaluation of survival data and two new rank order statistics arising in its
consideration. *Cancer Chemother Rep* 1966;50:163–170; Peto R, Peto J. Asymptotically efficient rank invariant
test procedures. *J R Stat Soc A* 1972;135:185–207. Matches R ``survival::survdiff`` (rho = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from graftwise.errors import ValidationError
from graftwise.outcomes._data import FloatArray, validate_times_events


@dataclass(frozen=True)
class GroupTest:
    """A chi-square test between groups: statistic, degrees of freedom, p-value, per-group observed/expected."""

    groups: tuple[str, ...]
    statistic: float
    df: int
    p_value: float
    observed: FloatArray
    expected: FloatArray


def _group_labels(group: npt.ArrayLike, size: int) -> tuple[tuple[str, ...], npt.NDArray[np.int64]]:
    g = np.asarray(group)
    if g.ndim != 1 or g.size != size:
        raise ValidationError(f"group must hold one value per subject ({size}), got shape {g.shape}", field="group")
    labels, codes = np.unique(g.astype(str), return_inverse=True)
    if labels.size < 2:
        raise ValidationError("a comparison needs at least two groups; found one", field="group")
    return tuple(str(x) for x in labels), codes.astype(np.int64)


def log_rank_test(time: npt.ArrayLike, event: npt.ArrayLike, group: npt.ArrayLike) -> GroupTest:
    """K-sample log-rank test of equal hazards.

    At each distinct event time t_j with n_j at risk (n_kj in group k) and d_j events:
    O_k − E_k = Σ_j (d_kj − n_kj d_j / n_j) and
    V_kl = Σ_j d_j (n_j − d_j)/(n_j − 1) · (n_kj/n_j)(δ_kl − n_lj/n_j) (hypergeometric, exact for ties);
    X² = (O − E)ᵀ V⁻ (O − E) on rank(V) degrees of freedom (V⁻ the Moore–Penrose inverse).
    """
    t, e = validate_times_events(time, event, binary=True)
    labels, codes = _group_labels(group, t.size)
    k = len(labels)
    event_times = np.unique(t[e == 1])
    if event_times.size == 0:
        raise ValidationError("no events: the log-rank test needs at least one", field="event")
    m = event_times.size
    n_kj = np.empty((k, m))
    d_kj = np.empty((k, m))
    for i in range(k):
        ti = np.sort(t[codes == i])
        n_kj[i] = ti.size - np.searchsorted(ti, event_times, side="left")
        ev = t[(codes == i) & (e == 1)]
        d_kj[i] = np.bincount(np.searchsorted(event_times, ev), minlength=m)
    n = n_kj.sum(axis=0)
    d = d_kj.sum(axis=0)
    expected = (n_kj * d / n).sum(axis=1)
    observed = d_kj.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
    p = n_kj / n
    v = np.einsum("j,kj,lj->kl", scale, p, -p) + np.diag((scale * p).sum(axis=1))
    diff = observed - expected
    stat = float(diff @ np.linalg.pinv(v) @ diff)
    df = int(np.linalg.matrix_rank(v))
    return GroupTest(labels, stat, df, float(stats.chi2.sf(stat, df)), observed, expected)
