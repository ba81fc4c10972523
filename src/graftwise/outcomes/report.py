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
from graftwise.outcomes._data import FloatArray
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


def _estimates(fit: SurvivalCurve | CumulativeIncidence, at: FloatArray) -> PointEstimates:
    if isinstance(fit, SurvivalCurve):
        return fit.at(at)
    if 1 not in fit.causes:  # no event of interest in this group: incidence 0 up to the last follow-up
        zero = np.where(at <= fit.time[-1], 0.0, np.nan)
        return PointEstimates(at, zero, np.full_like(at, np.nan), np.full_like(at, np.nan))
    return fit.at(1, at)


def _group_masks(cohort: Cohort, group: Sequence[str] | None) -> dict[str, npt.NDArray[np.bool_]]:
    masks = {ALL: np.ones(cohort.size, dtype=bool)}
    if group is None:
        return masks
    labels = np.asarray(group, dtype=str)
    if labels.size != cohort.size:
        raise ValidationError(f"group has {labels.size} labels for {cohort.size} transplants", field="group")
    for g in np.unique(labels):
        masks[str(g)] = labels == g
    return masks


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


def _cell(est: PointEstimates, i: int) -> str:
    if np.isnan(est.estimate[i]):
        return "—"
    ci = "" if np.isnan(est.lower[i]) else f" ({_pct(est.lower[i])}–{_pct(est.upper[i])})"
    return _pct(est.estimate[i]) + ci


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _test_line(name: str, test: GroupTest) -> str:
    return f"<li>{html.escape(name)}: χ² = {test.statistic:.3f} on {test.df} df, p = {test.p_value:.4g}</li>"


def render_cohort_report(
    cohort: Cohort, *, group: Sequence[str] | None = None, group_name: str = "group", title: str = "Cohort outcomes"
) -> str:
    """A self-contained one-page HTML report: endpoint table at 1, 2, 5 years, curves and group tests."""
    rows = endpoint_table(cohort, group=group)
    masks = _group_masks(cohort, group)
    plot_groups = {k: v for k, v in masks.items() if k != ALL} or masks
    dead = int(cohort.dead.sum())
    reverse = kaplan_meier(cohort.followup_day, (~cohort.dead).astype(int))
    below = np.flatnonzero(reverse.survival <= 0.5)
    median_fu = f"{reverse.time[below[0]]:.0f} days" if below.size else "not reached"
    head = "".join(f"<th>{y:g} year{'s' if y != 1 else ''}</th>" for y in STANDARD_YEARS)
    body = "".join(
        f'<tr><td title="{html.escape(r.definition)}">{html.escape(r.endpoint)}</td><td>{html.escape(r.group)}</td>'
        f"<td>{r.n}</td>" + "".join(f"<td>{_cell(r.estimates, i)}</td>" for i in range(len(STANDARD_YEARS))) + "</tr>"
        for r in rows
    )
    figures = []
    os_ = ep.overall_survival(cohort)
    figures.append(
        _img(
            figure_png(
                plot_survival(
                    {k: kaplan_meier(os_.time[m], os_.event[m]) for k, m in plot_groups.items()},
                    title="Overall survival",
                )
            ),
            "Overall survival",
        )
    )
    pfs = ep.progression_free_survival(cohort)
    figures.append(
        _img(
            figure_png(
                plot_survival(
                    {k: kaplan_meier(pfs.time[m], pfs.event[m]) for k, m in plot_groups.items()},
                    title="Progression-free survival",
                )
            ),
            "Progression-free survival",
        )
    )
    cir = ep.relapse_incidence(cohort)
    cir_fits = {k: aalen_johansen(cir.time[m], cir.event[m]) for k, m in plot_groups.items()}
    figures.append(
        _img(figure_png(plot_incidence(cir_fits, 1, title="Relapse incidence (NRM competing)")), "Relapse incidence")
    )
    figures.append(
        _img(
            figure_png(plot_incidence(cir_fits, 2, title="Non-relapse mortality (relapse competing)")),
            "Non-relapse mortality",
        )
    )
    tests = ""
    if group is not None and len(plot_groups) > 1:
        labels = np.asarray(group, dtype=str)
        items = [
            _test_line("Overall survival, log-rank", log_rank_test(os_.time, os_.event, labels)),
            _test_line("Progression-free survival, log-rank", log_rank_test(pfs.time, pfs.event, labels)),
        ]
        if (cir.event == 1).any():
            items.append(_test_line("Relapse incidence, Gray", gray_test(cir.time, cir.event, labels, cause=1)))
        if (cir.event == 2).any():
            items.append(_test_line("Non-relapse mortality, Gray", gray_test(cir.time, cir.event, labels, cause=2)))
        tests = f"<h2>Comparison by {html.escape(group_name)}</h2><ul>{''.join(items)}</ul>"
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "td:first-child,td:nth-child(2){text-align:left}img{width:49%}.note{font-size:12px;color:#555}"
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{cohort.size} transplants, {dead} deaths; median follow-up {median_fu} (reverse Kaplan–Meier).</p>"
        f"<h2>Endpoints</h2><table><thead><tr><th>Endpoint</th><th>{html.escape(group_name)}</th><th>n</th>{head}"
        f"</tr></thead><tbody>{body}</tbody></table>"
        '<p class="note">Estimate (95% confidence interval, log(−log)). OS, PFS and GRFS: Kaplan–Meier. Relapse, NRM '
        "and GVHD: Aalen–Johansen cumulative incidence with competing risks, not 1 − Kaplan–Meier. — beyond follow-up. "
        "GRFS per Holtan 2015: grade III–IV acute GVHD, chronic GVHD needing systemic therapy, relapse or death.</p>"
        f"{tests}<h2>Curves</h2>{''.join(figures)}</body></html>"
    )
