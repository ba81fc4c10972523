"""The one-page cohort report: endpoint table at 1, 2 and 5 years, curves by group, group comparisons (HTML).

The table (:func:`endpoint_table`) is plain typed data; :func:`render_cohort_report` turns it and the plots into a
self-contained HTML page (PNG images embedded as base64, no external files or scripts).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from graftwise.errors import ValidationError
from graftwise.outcomes import endpoints as ep
from graftwise.outcomes._data import FloatArray, format_time, validate_at, validate_times_events
from graftwise.outcomes.cohort import Cohort
from graftwise.outcomes.comparison import GroupTest, gray_test, log_rank_test
from graftwise.outcomes.cumulative_incidence import CumulativeIncidence, aalen_johansen
from graftwise.outcomes.kaplan_meier import PointEstimates, SurvivalCurve, kaplan_meier
from graftwise.outcomes.plots import figure_png, plot_incidence, plot_survival

DAYS_PER_YEAR: Final = 365.25
STANDARD_YEARS: Final = (1.0, 2.0, 5.0)
ALL: Final = "all"


@dataclass(frozen=True)
class EndpointRow:
    """One endpoint in one group: estimates at the table's times (NaN beyond follow-up), and the definition."""

    endpoint: str
    group: str
    n: int
    estimator: ep.Estimator
    estimates: PointEstimates
    definition: str


@dataclass(frozen=True)
class GroupEstimates:
    """Estimates in one group for one curve: ``key`` is ``"survival"`` (Kaplan–Meier) or a cause code."""

    group: str
    key: str
    estimates: PointEstimates


def _split(size: int, group: Sequence[str] | None) -> dict[str, npt.NDArray[np.bool_]]:
    """Masks per group value (sorted), or one mask named ``all`` when there is no grouping."""
    if group is None:
        return {ALL: np.ones(size, dtype=bool)}
    labels = np.asarray(group, dtype=str)
    if labels.size != size:
        raise ValidationError(f"group has {labels.size} labels for {size} subjects", field="group")
    return {str(g): labels == g for g in np.unique(labels)}


def survival_by_group(
    time: npt.ArrayLike, event: npt.ArrayLike, at: npt.ArrayLike, *, group: Sequence[str] | None = None
) -> tuple[dict[str, SurvivalCurve], list[GroupEstimates]]:
    """Kaplan–Meier per group (or overall) and S(t) with limits at ``at``."""
    t, e = validate_times_events(time, event, binary=True)
    fits = {g: kaplan_meier(t[m], e[m]) for g, m in _split(t.size, group).items()}
    return fits, [GroupEstimates(g, "survival", f.at(at)) for g, f in fits.items()]


def incidence_by_group(
    time: npt.ArrayLike, event: npt.ArrayLike, at: npt.ArrayLike, *, group: Sequence[str] | None = None
) -> tuple[dict[str, CumulativeIncidence], list[GroupEstimates]]:
    """Aalen–Johansen per group (or overall) and every cause's F(t) with limits at ``at``."""
    t, e = validate_times_events(time, event)
    if not (e > 0).any():
        raise ValidationError("no events: every event code is 0 (censored)", field="event")
    fits = {g: aalen_johansen(t[m], e[m]) for g, m in _split(t.size, group).items()}
    causes = sorted({c for f in fits.values() for c in f.causes})
    a = validate_at(at)
    rows = [GroupEstimates(g, str(c), _cause_at(f, c, a)) for g, f in fits.items() for c in causes]
    return fits, rows


def _endpoints(cohort: Cohort) -> list[Callable[[Cohort], ep.EndpointData]]:
    out: list[Callable[[Cohort], ep.EndpointData]] = [
        ep.overall_survival,
        ep.progression_free_survival,
        ep.relapse_incidence,
        ep.non_relapse_mortality,
    ]
    if cohort.agvhd is not None:
        out += [
            lambda c: ep.acute_gvhd_incidence(c, min_grade=2),
            lambda c: ep.acute_gvhd_incidence(c, min_grade=3),
        ]
    if cohort.cgvhd is not None:
        out.append(ep.chronic_gvhd_incidence)
    if cohort.agvhd is not None and cohort.cgvhd is not None:
        out.append(ep.gvhd_free_relapse_free_survival)
    return out


def _fit(data: ep.EndpointData, mask: npt.NDArray[np.bool_]) -> SurvivalCurve | CumulativeIncidence:
    if data.estimator is ep.Estimator.KAPLAN_MEIER:
        return kaplan_meier(data.time[mask], data.event[mask])
    return aalen_johansen(data.time[mask], data.event[mask])


def _cause_at(fit: CumulativeIncidence, cause: int, at: FloatArray) -> PointEstimates:
    if cause not in fit.causes:  # no such event in this group: incidence 0 up to the last follow-up
        zero = np.where(at <= fit.time[-1], 0.0, np.nan)
        return PointEstimates(at, zero, np.full_like(at, np.nan), np.full_like(at, np.nan))
    return fit.at(cause, at)


def _estimates(fit: SurvivalCurve | CumulativeIncidence, at: FloatArray) -> PointEstimates:
    return fit.at(at) if isinstance(fit, SurvivalCurve) else _cause_at(fit, 1, at)


def _group_masks(cohort: Cohort, group: Sequence[str] | None) -> dict[str, npt.NDArray[np.bool_]]:
    """The whole cohort, then each group."""
    if group is not None and ALL in set(map(str, group)):
        raise ValidationError(f"a group may not be called {ALL!r}: that row is the whole cohort", field="group")
    return {ALL: np.ones(cohort.size, dtype=bool)} | ({} if group is None else _split(cohort.size, group))


def endpoint_table(
    cohort: Cohort, *, group: Sequence[str] | None = None, years: Sequence[float] = STANDARD_YEARS
) -> list[EndpointRow]:
    """Every endpoint the cohort supports, overall and per group, at ``years`` after HCT (1 year = 365.25 days)."""
    at = np.asarray(years, dtype=np.float64) * DAYS_PER_YEAR
    rows = []
    for derive in _endpoints(cohort):
        data = derive(cohort)
        for label, mask in _group_masks(cohort, group).items():
            fit = _fit(data, mask)
            rows.append(
                EndpointRow(data.name, label, int(mask.sum()), data.estimator, _estimates(fit, at), data.definition)
            )
    return rows


def _pct(x: float) -> str:
    return "—" if np.isnan(x) else f"{100 * x:.1f}%"


def format_estimate(est: PointEstimates, i: int) -> str:
    """ "Estimate (lower–upper)" in percent at position ``i``; "—" beyond follow-up."""
    if np.isnan(est.estimate[i]):
        return "—"
    ci = "" if np.isnan(est.lower[i]) else f" ({_pct(est.lower[i])}–{_pct(est.upper[i])})"
    return _pct(est.estimate[i]) + ci


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


_STYLE: Final = (
    "body{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "td:first-child,td:nth-child(2){text-align:left}img{width:49%}.note{font-size:12px;color:#555}"
)


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _tests(group_name: str, items: Sequence[tuple[str, GroupTest]]) -> str:
    lines = "".join(
        f"<li>{html.escape(name)}: χ² = {t.statistic:.3f} on {t.df} df, p = {t.p_value:.4g}</li>" for name, t in items
    )
    return f"<h2>Comparison by {html.escape(group_name)}</h2><ul>{lines}</ul>" if items else ""


def render_cohort_report(
    cohort: Cohort, *, group: Sequence[str] | None = None, group_name: str = "group", title: str = "Cohort outcomes"
) -> str:
    """A self-contained one-page HTML report: endpoint table at 1, 2, 5 years, curves and group tests."""
    rows = endpoint_table(cohort, group=group)
    masks = _group_masks(cohort, group)
    plot_groups = {k: v for k, v in masks.items() if k != ALL} or masks
    reverse = kaplan_meier(cohort.followup_day, (~cohort.dead).astype(int))
    below = np.flatnonzero(reverse.survival <= 0.5)
    median_fu = f"{reverse.time[below[0]]:.0f} days" if below.size else "not reached"
    years = [f"{y:g} year{'s' if y != 1 else ''}" for y in STANDARD_YEARS]
    table = _table(
        ["Endpoint", group_name, "n", *years],
        [
            [
                f'<span title="{html.escape(r.definition)}">{html.escape(r.endpoint)}</span>',
                html.escape(r.group),
                str(r.n),
                *(format_estimate(r.estimates, i) for i in range(len(STANDARD_YEARS))),
            ]
            for r in rows
        ],
    )
    os_ = ep.overall_survival(cohort)
    pfs = ep.progression_free_survival(cohort)
    cir = ep.relapse_incidence(cohort)
    cir_fits = {k: aalen_johansen(cir.time[m], cir.event[m]) for k, m in plot_groups.items()}
    figures = [
        _img(
            figure_png(
                plot_survival({k: kaplan_meier(d.time[m], d.event[m]) for k, m in plot_groups.items()}, title=name)
            ),
            name,
        )
        for d, name in ((os_, "Overall survival"), (pfs, "Progression-free survival"))
    ] + [
        _img(figure_png(plot_incidence(cir_fits, cause, title=name)), name)
        for cause, name in ((1, "Relapse incidence (NRM competing)"), (2, "Non-relapse mortality (relapse competing)"))
        if (cir.event == cause).any()
    ]
    tests: list[tuple[str, GroupTest]] = []
    if group is not None and len(plot_groups) > 1:
        labels = np.asarray(group, dtype=str)
        tests += [
            (f"{name}, log-rank", log_rank_test(d.time, d.event, labels))
            for d, name in ((os_, "Overall survival"), (pfs, "Progression-free survival"))
            if d.event.any()
        ]
        tests += [
            (f"{name}, Gray", gray_test(cir.time, cir.event, labels, cause=cause))
            for cause, name in ((1, "Relapse incidence"), (2, "Non-relapse mortality"))
            if (cir.event == cause).any()
        ]
    return _page(
        title,
        f"<p>{cohort.size} transplants, {int(cohort.dead.sum())} deaths; median follow-up {median_fu} "
        f"(reverse Kaplan–Meier).</p><h2>Endpoints</h2>{table}"
        '<p class="note">Estimate (95% confidence interval, log(−log)). OS, PFS and GRFS: Kaplan–Meier. Relapse, NRM '
        "and GVHD: Aalen–Johansen cumulative incidence with competing risks, not 1 − Kaplan–Meier. — beyond follow-up. "
        "GRFS per Holtan 2015: grade III–IV acute GVHD, chronic GVHD needing systemic therapy, relapse or death.</p>"
        f"{_tests(group_name, tests)}<h2>Curves</h2>{''.join(figures)}",
    )


def render_curve_report(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    at: npt.ArrayLike,
    *,
    group: Sequence[str] | None = None,
    group_name: str = "group",
    title: str = "Outcome report",
) -> str:
    """One-page HTML report of a single (time, event) outcome: Kaplan–Meier when ``event`` is 0/1, otherwise
    Aalen–Johansen per cause; a table at ``at``, the curves, and log-rank / Gray tests between groups."""
    t, e = validate_times_events(time, event)
    a = validate_at(at)
    tests: list[tuple[str, GroupTest]] = []
    labels = None if group is None else np.asarray(group, dtype=str)
    multi = labels is not None and np.unique(labels).size > 1
    rows: list[GroupEstimates]
    if e.max() <= 1:
        km_fits, rows = survival_by_group(t, e, a, group=group)
        figures = [_img(figure_png(plot_survival(km_fits, title="Kaplan–Meier survival", xlabel="Time")), "Survival")]
        if multi and labels is not None:
            tests.append(("Log-rank", log_rank_test(t, e, labels)))
    else:
        ci_fits, rows = incidence_by_group(t, e, a, group=group)
        causes = sorted({c for f in ci_fits.values() for c in f.causes})
        figures = [
            _img(
                figure_png(plot_incidence(ci_fits, c, title=f"Cumulative incidence, event {c}", xlabel="Time")),
                f"Event {c}",
            )
            for c in causes
        ]
        if multi and labels is not None:
            tests += [(f"Event {c}, Gray", gray_test(t, e, labels, cause=c)) for c in causes]
    table = _table(
        [group_name, "curve", *(f"t = {format_time(x)}" for x in a)],
        [
            [html.escape(r.group), html.escape(r.key), *(format_estimate(r.estimates, i) for i in range(a.size))]
            for r in rows
        ],
    )
    return _page(
        title,
        f"<p>{t.size} subjects, {int((e > 0).sum())} events.</p>{table}"
        '<p class="note">Estimate (95% confidence interval, log(−log)); — beyond follow-up. "survival": Kaplan–Meier; '
        "a cause code: Aalen–Johansen cumulative incidence with the other causes competing.</p>"
        f"{_tests(group_name, tests)}<h2>Curves</h2>{''.join(figures)}",
    )
