"""``graftwise outcomes km|cif|report|synthetic``: survival and competing-risk estimates from a CSV file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from graftwise.cli._common import console, print_json
from graftwise.errors import GraftwiseError, ValidationError
from graftwise.outcomes._data import FloatArray, IntArray, format_time, validate_times_events
from graftwise.outcomes.cohort import cohort_from_frame
from graftwise.outcomes.report import (
    GroupEstimates,
    endpoint_table,
    incidence_by_group,
    render_cohort_report,
    render_curve_report,
    survival_by_group,
)
from graftwise.outcomes.synthetic import synthetic_cohort

app = typer.Typer(
    help="Outcome analytics: Kaplan–Meier, Aalen–Johansen cumulative incidence, cohort reports, synthetic cohorts.",
    no_args_is_help=True,
)

DEFAULT_AT = "365.25,730.5,1826.25"
DATA = typer.Option(..., "--data", help="CSV file, one row per subject (transplant).")
TIME = typer.Option(..., "--time", help="Column with the follow-up time (e.g. days after HCT).")
EVENT = typer.Option(..., "--event", help="Column with the event code: 0 censored, 1..K cause (km: 0/1).")
GROUP = typer.Option(None, "--group", help="Column whose values define the groups.")
AT = typer.Option(DEFAULT_AT, "--at", help="Comma-separated times for the estimates (default 1, 2, 5 years in days).")
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ValidationError(f"{path}: no such file", field="data")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: not a readable CSV file ({exc})", field="data") from None
    if frame.empty:
        raise ValidationError(f"{path}: no data rows", field="data")
    return frame


def _column(frame: pd.DataFrame, path: Path, name: str) -> pd.Series:
    if name not in frame.columns:
        raise ValidationError(
            f"{path}: no column {name!r}; columns are {', '.join(map(str, frame.columns))}", field=name
        )
    return frame[name]


def _times_events(
    path: Path, frame: pd.DataFrame, time: str, event: str, *, binary: bool
) -> tuple[FloatArray, IntArray]:
    t_col = _column(frame, path, time)
    e_col = _column(frame, path, event)
    try:
        return validate_times_events(t_col.to_numpy(), e_col.to_numpy(), binary=binary)
    except ValidationError as exc:
        name = time if exc.field == "time" else event
        raise ValidationError(f"{path}: column {name!r}: {exc.message}", field=name) from None


def _groups(path: Path, frame: pd.DataFrame, group: str | None) -> list[str] | None:
    if group is None:
        return None
    col = _column(frame, path, group)
    missing = np.flatnonzero(col.isna().to_numpy())
    if missing.size:
        raise ValidationError(f"{path}: column {group!r}: row {missing[0] + 1}: group value is missing", field=group)
    return [str(v) for v in col]


def _parse_at(text: str) -> list[float]:
    values = []
    for token in text.split(","):
        try:
            value = float(token)
        except ValueError:
            raise ValidationError(f"--at: {token.strip()!r} is not a number", field="at") from None
        if not math.isfinite(value) or value < 0:
            raise ValidationError(f"--at: {token.strip()!r} must be a finite time >= 0", field="at")
        values.append(value)
    return values


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _shape(rows: list[GroupEstimates]) -> dict[str, dict[str, dict[str, dict[str, float | None]]]]:
    out: dict[str, dict[str, dict[str, dict[str, float | None]]]] = {}
    for r in rows:
        keys = [format_time(t) for t in r.estimates.at]
        out.setdefault(r.group, {})[r.key] = {
            name: {k: _num(v) for k, v in zip(keys, values, strict=True)}
            for name, values in (
                ("at", r.estimates.estimate),
                ("lower", r.estimates.lower),
                ("upper", r.estimates.upper),
            )
        }
    return out


def _emit(rows: list[GroupEstimates], as_json: bool, title: str) -> None:
    if as_json:
        print_json({"groups": _shape(rows)})
        return
    table = Table(title=title)
    for name in ("group", "curve", "time", "estimate", "95% CI"):
        table.add_column(name, justify="left" if name in ("group", "curve") else "right")
    for r in rows:
        e = r.estimates
        for i, t in enumerate(e.at):
            est = "beyond follow-up" if math.isnan(e.estimate[i]) else f"{e.estimate[i]:.4f}"
            ci = "—" if math.isnan(e.lower[i]) else f"{e.lower[i]:.4f}–{e.upper[i]:.4f}"
            table.add_row(r.group, r.key, format_time(t), est, ci)
    console.print(table)


@app.command("km")
def km(
    data: Path = DATA, time: str = TIME, event: str = EVENT, group: str | None = GROUP, at: str = AT, json: bool = JSON
) -> None:
    """Kaplan–Meier survival (Greenwood variance, log(−log) 95% CI) at the --at times."""
    frame = _read(data)
    t, e = _times_events(data, frame, time, event, binary=True)
    _, rows = survival_by_group(t, e, _parse_at(at), group=_groups(data, frame, group))
    _emit(rows, json, f"Kaplan–Meier survival: {data.name}")


@app.command("cif")
def cif(
    data: Path = DATA, time: str = TIME, event: str = EVENT, group: str | None = GROUP, at: str = AT, json: bool = JSON
) -> None:
    """Aalen–Johansen cumulative incidence of every event code (competing risks, exact ties) at the --at times."""
    frame = _read(data)
    t, e = _times_events(data, frame, time, event, binary=False)
    _, rows = incidence_by_group(t, e, _parse_at(at), group=_groups(data, frame, group))
    _emit(rows, json, f"Cumulative incidence: {data.name}")


@app.command("report")
def report(
    data: Path = DATA,
    time: str | None = typer.Option(None, "--time", help="Time column; omit for a full cohort report."),
    event: str | None = typer.Option(None, "--event", help="Event column (0 censored, 1..K); with --time."),
    group: str | None = GROUP,
    at: str = AT,
    out: Path = typer.Option(Path("report.html"), "--out", help="HTML file to write."),
    title: str = typer.Option("Cohort outcomes", "--title", help="Report title."),
    json: bool = typer.Option(False, "--json", help="Also print the tabulated estimates as JSON."),
) -> None:
    """One-page HTML report. Without --time/--event the CSV is a cohort table (see docs/outcomes.md) and the report
    shows OS, PFS, relapse, NRM, GVHD and GRFS at 1, 2 and 5 years (JSON keys: endpoint names, times in days);
    with them, that one outcome at --at (JSON keys: survival or event codes)."""
    frame = _read(data)
    groups = _groups(data, frame, group)
    if (time is None) != (event is None):
        raise ValidationError("give both --time and --event, or neither (cohort report)", field="time")
    if time is not None and event is not None:
        t, e = _times_events(data, frame, time, event, binary=False)
        times = _parse_at(at)
        page = render_curve_report(t, e, times, group=groups, group_name=group or "group", title=title)
        rows = (
            survival_by_group(t, e, times, group=groups)
            if e.max() <= 1
            else incidence_by_group(t, e, times, group=groups)
        )[1]
    else:
        try:
            cohort = cohort_from_frame(frame)
        except GraftwiseError as exc:
            raise ValidationError(f"{data}: {exc.message}", field=exc.field) from None
        page = render_cohort_report(cohort, group=groups, group_name=group or "group", title=title)
        rows = [GroupEstimates(r.group, r.endpoint, r.estimates) for r in endpoint_table(cohort, group=groups)]
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"{out}: cannot write ({exc.strerror})", field="out") from None
    if json:
        print_json({"groups": _shape(rows)})
    else:
        console.print(f"wrote {out} ({len(page):,} bytes)")


@app.command("synthetic")
def synthetic(
    n: int = typer.Option(..., "--n", help="Number of transplants."),
    seed: int = typer.Option(..., "--seed", help="Random seed (same seed, same cohort)."),
    out: Path = typer.Option(..., "--out", help="CSV file to write."),
) -> None:
    """Write a seeded synthetic cohort (no patient data) with realistic outcome rates; see docs/outcomes.md."""
    frame = synthetic_cohort(n, seed)
    try:
        frame.to_csv(out, index=False)
    except OSError as exc:
        raise ValidationError(f"{out}: cannot write ({exc.strerror})", field="out") from None
    console.print(f"wrote {out} ({n} transplants, seed {seed})")
