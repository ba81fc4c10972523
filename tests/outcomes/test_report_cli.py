"""Plots, HTML report, the synthetic cohort and the ``graftwise outcomes`` CLI."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from graftwise.cli import app
from graftwise.errors import ValidationError
from graftwise.outcomes import endpoints as ep
from graftwise.outcomes.cohort import cohort_from_frame
from graftwise.outcomes.cumulative_incidence import aalen_johansen
from graftwise.outcomes.kaplan_meier import kaplan_meier
from graftwise.outcomes.plots import figure_png, plot_incidence, plot_survival
from graftwise.outcomes.report import endpoint_table, format_estimate, render_cohort_report
from graftwise.outcomes.synthetic import RISK_GROUPS, synthetic_cohort

PNG = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


@pytest.fixture(scope="module")
def cohort_frame() -> pd.DataFrame:
    return synthetic_cohort(500, seed=4)


def test_plots_are_real_pngs(bmt: pd.DataFrame) -> None:
    groups = {str(g): s for g, s in bmt.groupby("dis", observed=True)}
    km = figure_png(plot_survival({g: kaplan_meier(s.ftime, s.status > 0) for g, s in groups.items()}, title="EFS"))
    ci = figure_png(plot_incidence({g: aalen_johansen(s.ftime, s.status) for g, s in groups.items()}, 1, title="R"))
    for png in (km, ci):
        assert png.startswith(PNG)
        assert len(png) > 15_000  # curves, bands and the at-risk table, not an empty canvas
    assert km != ci
    with pytest.raises(ValidationError):
        plot_survival({}, title="nothing")


def test_report_contains_endpoint_table_and_images(cohort_frame: pd.DataFrame) -> None:
    cohort = cohort_from_frame(cohort_frame)
    groups = list(cohort_frame.hct_ci)
    page = render_cohort_report(cohort, group=groups, group_name="HCT-CI")
    rows = endpoint_table(cohort, group=groups)
    assert {r.endpoint for r in rows} == {"OS", "PFS", "CIR", "NRM", "aGVHD II–IV", "aGVHD III–IV", "cGVHD", "GRFS"}
    assert len(rows) == 8 * 4  # all + three HCT-CI groups
    for r in rows:
        for i in range(3):
            assert format_estimate(r.estimates, i) in page
    os_all = next(r for r in rows if r.endpoint == "OS" and r.group == "all")
    os_fit = kaplan_meier(cohort.followup_day, cohort.dead.astype(int)).at([365.25])
    assert f"{100 * os_fit.estimate[0]:.1f}%" in format_estimate(os_all.estimates, 0)
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(images) == 4
    assert all(base64.b64decode(i).startswith(PNG) for i in images)
    assert "log-rank" in page
    assert "Gray" in page


def test_synthetic_is_seeded_and_valid() -> None:
    a = synthetic_cohort(300, seed=9)
    pd.testing.assert_frame_equal(a, synthetic_cohort(300, seed=9))
    assert not a.equals(synthetic_cohort(300, seed=10))
    cohort_from_frame(a)  # passes validation
    with pytest.raises(ValidationError):
        synthetic_cohort(0, seed=1)


def test_synthetic_hits_its_calibration_targets() -> None:
    frame = synthetic_cohort(12_000, seed=1)
    for group in RISK_GROUPS:
        c = cohort_from_frame(frame[frame.hct_ci == group.label])
        os_ = ep.overall_survival(c)
        nrm = ep.non_relapse_mortality(c)
        assert kaplan_meier(os_.time, os_.event).at([730]).estimate[0] == pytest.approx(group.os_2y, abs=0.03)
        assert aalen_johansen(nrm.time, nrm.event).at(1, [730]).estimate[0] == pytest.approx(group.nrm_2y, abs=0.03)


def _csv(tmp_path: Path, frame: pd.DataFrame) -> str:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_cli_cif_json_shape(tmp_path: Path, bmt: pd.DataFrame) -> None:
    path = _csv(tmp_path, bmt)
    result = runner.invoke(
        app,
        [
            "outcomes",
            "cif",
            "--data",
            path,
            "--time",
            "ftime",
            "--event",
            "status",
            "--group",
            "dis",
            "--at",
            "12,24",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"groups"}
    assert set(out["groups"]) == {"0", "1"}
    assert set(out["groups"]["0"]) == {"1", "2"}
    entry = out["groups"]["1"]["1"]
    assert set(entry) == {"at", "lower", "upper"}
    assert set(entry["at"]) == {"12", "24"}
    sub = bmt[bmt.dis.astype(str) == "1"]
    assert entry["at"]["24"] == pytest.approx(aalen_johansen(sub.ftime, sub.status).at(1, [24]).estimate[0])
    assert entry["lower"]["24"] < entry["at"]["24"] < entry["upper"]["24"]


def test_cli_km_json_all_and_beyond_follow_up(tmp_path: Path, bmt: pd.DataFrame) -> None:
    path = _csv(tmp_path, bmt.assign(any_event=(bmt.status > 0).astype(int)))
    result = runner.invoke(
        app, ["outcomes", "km", "--data", path, "--time", "ftime", "--event", "any_event", "--at", "0,12,100", "--json"]
    )
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)["groups"]["all"]["survival"]
    assert entry["at"]["12"] == pytest.approx(kaplan_meier(bmt.ftime, bmt.status > 0).at([12]).estimate[0])
    assert entry["at"]["100"] is None  # beyond the last follow-up (72 months)
    assert entry["lower"]["0"] is not None  # events at time 0 in these data


def test_cli_json_keys_keep_the_times_exact(tmp_path: Path) -> None:
    path = _csv(tmp_path, pd.DataFrame({"t": [100000.5, 200000.0, 3.0], "e": [1, 0, 1]}))
    argv = ["outcomes", "km", "--data", path, "--time", "t", "--event", "e", "--at", "100000.5,1234567", "--json"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)["groups"]["all"]["survival"]["at"]) == {"100000.5", "1234567"}


def test_top_level_help_lists_outcomes() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "outcomes" in result.output


def test_cli_table_output(tmp_path: Path, bmt: pd.DataFrame) -> None:
    path = _csv(tmp_path, bmt)
    result = runner.invoke(
        app, ["outcomes", "cif", "--data", path, "--time", "ftime", "--event", "status", "--at", "24"]
    )
    assert result.exit_code == 0, result.output
    expected = aalen_johansen(bmt.ftime, bmt.status).at(1, [24]).estimate[0]
    assert f"{expected:.4f}" in result.output


@pytest.mark.parametrize(
    ("frame", "args", "fragment"),
    [
        (pd.DataFrame({"t": [1, 2], "e": [0, 1]}), ["--time", "days"], "no column 'days'"),
        (pd.DataFrame({"t": [1, -2], "e": [0, 1]}), [], "column 't': row 2: time -2"),
        (pd.DataFrame({"t": [1, 2], "e": [0, "x"]}), [], "column 'e': row 2: event 'x' is not a number"),
        (pd.DataFrame({"t": [1, 2], "e": [0, 1.5]}), [], "column 'e': row 2: event 1.5"),
        (pd.DataFrame({"t": [1, 2], "e": [0, 1], "g": ["a", None]}), ["--group", "g"], "column 'g': row 2"),
        (pd.DataFrame({"t": [1, 2], "e": [0, 1]}), ["--at", "1,soon"], "'soon' is not a number"),
    ],
)
def test_cli_bad_input(tmp_path: Path, frame: pd.DataFrame, args: list[str], fragment: str) -> None:
    path = _csv(tmp_path, frame)
    base = {"--time": "t", "--event": "e"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = ["outcomes", "cif", "--data", path, *[x for kv in base.items() for x in kv]]
    result = runner.invoke(app, argv)
    assert isinstance(result.exception, ValidationError), result.output
    assert re.search(fragment, str(result.exception))


def test_cli_synthetic_then_report(tmp_path: Path) -> None:
    csv = tmp_path / "cohort.csv"
    html = tmp_path / "report.html"
    result = runner.invoke(app, ["outcomes", "synthetic", "--n", "300", "--seed", "3", "--out", str(csv)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["outcomes", "report", "--data", str(csv), "--group", "hct_ci", "--out", str(html)])
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8")
    assert "GRFS" in page
    assert page.count("data:image/png;base64,") == 4


def test_cli_curve_report(tmp_path: Path, bmt: pd.DataFrame) -> None:
    html = tmp_path / "r.html"
    path = _csv(tmp_path, bmt)
    argv = [
        "outcomes",
        "report",
        "--data",
        path,
        "--time",
        "ftime",
        "--event",
        "status",
        "--group",
        "dis",
        "--at",
        "12,24",
        "--out",
        str(html),
    ]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8")
    assert "Gray" in page
    sub = bmt[bmt.dis.astype(str) == "0"]
    fit = aalen_johansen(sub.ftime, sub.status).at(2, [24])
    assert f"{100 * fit.estimate[0]:.1f}%" in page
    assert page.count("data:image/png;base64,") == 2
    assert np.isfinite(fit.lower[0])


def test_cli_cohort_report_json(tmp_path: Path, cohort_frame: pd.DataFrame) -> None:
    path = _csv(tmp_path, cohort_frame)
    html = tmp_path / "r.html"
    result = runner.invoke(app, ["outcomes", "report", "--data", path, "--out", str(html), "--json"])
    assert result.exit_code == 0, result.output
    groups = json.loads(result.output)["groups"]
    assert set(groups) == {"all"}
    assert set(groups["all"]) == {"OS", "PFS", "CIR", "NRM", "aGVHD II–IV", "aGVHD III–IV", "cGVHD", "GRFS"}
    cohort = cohort_from_frame(cohort_frame)
    nrm = ep.non_relapse_mortality(cohort)
    expected = aalen_johansen(nrm.time, nrm.event).at(1, [730.5]).estimate[0]
    assert groups["all"]["NRM"]["at"]["730.5"] == pytest.approx(expected)
    assert html.stat().st_size > 50_000


def test_cli_report_rejects_bad_cohort(tmp_path: Path, cohort_frame: pd.DataFrame) -> None:
    bad = cohort_frame.copy()
    bad.loc[3, "relapse_day"] = -5
    result = runner.invoke(app, ["outcomes", "report", "--data", _csv(tmp_path, bad), "--out", str(tmp_path / "x")])
    assert isinstance(result.exception, ValidationError)
    assert "row 4" in str(result.exception)
    assert result.exception.field == "relapse_day"


def test_report_without_events_or_gvhd_columns() -> None:
    cohort = cohort_from_frame(pd.DataFrame({"patient_id": list("abcd"), "followup_day": [10, 20, 30, 40]}))
    page = render_cohort_report(cohort, group=["x", "x", "y", "y"])
    assert {r.endpoint for r in endpoint_table(cohort)} == {"OS", "PFS", "CIR", "NRM"}
    assert page.count("data:image/png;base64,") == 2  # survival curves only: no relapse or NRM to plot
    assert "log-rank" not in page
    with pytest.raises(ValidationError, match="may not be called 'all'"):
        endpoint_table(cohort, group=["all", "x", "y", "y"])
