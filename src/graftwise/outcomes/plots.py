"""Curves a clinician expects: Kaplan–Meier survival and cumulative incidence by group, with confidence bands and a
numbers-at-risk table beneath. Matplotlib's object API on the Agg canvas: no pyplot state, no display needed."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from graftwise.errors import ValidationError
from graftwise.outcomes._data import FloatArray, IntArray
from graftwise.outcomes.cumulative_incidence import CumulativeIncidence
from graftwise.outcomes.kaplan_meier import SurvivalCurve, n_at_risk


def _steps(
    ax: Axes,
    time: FloatArray,
    est: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    start: float,
    label: str,
    color: str,
) -> None:
    """Right-continuous step curve from (0, start), with the confidence band where it is defined."""
    x = np.concatenate(([0.0], time))
    ax.step(x, np.concatenate(([start], est)), where="post", color=color, label=label, linewidth=1.6)
    lo = np.concatenate(([np.nan], lower))
    hi = np.concatenate(([np.nan], upper))
    ok = ~np.isnan(lo) & ~np.isnan(hi)
    ax.fill_between(
        x, np.where(ok, lo, start), np.where(ok, hi, start), where=ok, step="post", color=color, alpha=0.18, linewidth=0
    )


def _risk_table(ax: Axes, ticks: FloatArray, rows: Sequence[tuple[str, FloatArray, IntArray, str]]) -> None:
    ax.set_xlim(ax.get_xlim())
    ax.set_ylim(-0.5, len(rows) - 0.5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in reversed(rows)])
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0, pad=16)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title("Number at risk", fontsize=9, loc="left")
    for i, (_, grid, n_risk, color) in enumerate(reversed(rows)):
        for t, n in zip(ticks, n_at_risk(grid, n_risk, ticks), strict=True):
            ax.text(t, i, str(int(n)), ha="center", va="center", fontsize=8, color=color)


def _figure(n_groups: int) -> tuple[Figure, Axes, Axes]:
    fig = Figure(figsize=(7.0, 4.6 + 0.22 * n_groups), dpi=100)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 1, height_ratios=[4.0, 0.6 + 0.25 * n_groups], hspace=0.35)
    return fig, fig.add_subplot(grid[0]), fig.add_subplot(grid[1])


def _finish(
    fig: Figure,
    ax: Axes,
    table: Axes,
    title: str,
    ylabel: str,
    xlabel: str,
    max_time: float,
    rows: Sequence[tuple[str, FloatArray, IntArray, str]],
) -> Figure:
    ax.set_xlim(0.0, max_time * 1.02)
    ax.set_ylim(0.0, 1.0)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8, frameon=False)
    ticks = np.asarray([t for t in ax.get_xticks() if 0.0 <= t <= max_time], dtype=np.float64)
    ax.set_xticks(ticks)
    table.set_xlim(ax.get_xlim())
    _risk_table(table, ticks, rows)
    return fig


def _start(
    curves: Mapping[str, SurvivalCurve] | Mapping[str, CumulativeIncidence],
) -> tuple[Figure, Axes, Axes, list[str], float]:
    """Figure, curve and table axes, one colour per group, and the last observed time over all groups."""
    if not curves:
        raise ValidationError("nothing to plot: expected at least one curve", field="curves")
    fig, ax, table = _figure(len(curves))
    colors = [f"C{i % 10}" for i in range(len(curves))]
    return fig, ax, table, colors, max(float(c.time[-1]) for c in curves.values())


def plot_survival(
    curves: Mapping[str, SurvivalCurve], *, title: str, xlabel: str = "Days after HCT", ylabel: str = "Probability"
) -> Figure:
    """Kaplan–Meier curves (one per group) with log(−log) confidence bands and a numbers-at-risk table."""
    fig, ax, table, colors, max_time = _start(curves)
    rows = []
    for (label, c), color in zip(curves.items(), colors, strict=True):
        _steps(ax, c.time, c.survival, c.lower, c.upper, 1.0, label, color)
        rows.append((label, c.time, c.n_risk, color))
    return _finish(fig, ax, table, title, ylabel, xlabel, max_time, rows)


def plot_incidence(
    curves: Mapping[str, CumulativeIncidence],
    cause: int,
    *,
    title: str,
    xlabel: str = "Days after HCT",
    ylabel: str = "Cumulative incidence",
) -> Figure:
    """Aalen–Johansen cumulative incidence of ``cause`` (one curve per group) with bands and numbers at risk."""
    fig, ax, table, colors, max_time = _start(curves)
    rows = []
    for (label, c), color in zip(curves.items(), colors, strict=True):
        rows.append((label, c.time, c.n_risk, color))
        if cause not in c.causes:  # a group without this event type stays at zero
            ax.step([0.0, float(c.time[-1])], [0.0, 0.0], where="post", color=color, label=label)
            continue
        i = c.row(cause)
        _steps(ax, c.time, c.incidence[i], c.lower[i], c.upper[i], 0.0, label, color)
    return _finish(fig, ax, table, title, ylabel, xlabel, max_time, rows)


def figure_png(fig: Figure) -> bytes:
    """The figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
