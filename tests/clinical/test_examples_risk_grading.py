"""Every example case of the GVHD-grading and risk calculators runs through the CLI and gives a documented result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graftwise.cli import app
from graftwise.cli._common import run_cli
from graftwise.errors import ValidationError

from .run_case import cli_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "clinical"

# The calculators of this group and the headline result each example file documents (docs/clinical/<name>.md).
EXPECTED = {
    "agvhd": ("maximum_grade", "III"),
    "cgvhd": ("global_severity", "moderate"),
    "hct-ci": ("hct_ci_age", 5),
    "dri": ("dri", "intermediate"),
    "ebmt-score": ("score", 6),
    "kps": ("ecog", 1),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_through_cli(name: str) -> None:
    out = cli_file(name, EXAMPLES / f"{name}.json")
    key, value = EXPECTED[name]
    assert out[key] == value
    assert out["rule"]
    assert out["citation"]


def test_cli_refusal_is_one_line_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = json.loads((EXAMPLES / "agvhd.json").read_text(encoding="utf-8"))
    case["assessments"][1]["day"] = 10  # before the first assessment's day 18
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        run_cli(app, ["clinical", "agvhd", "--input", str(path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "assessments.1.day" in err
    assert "invalid_input" in err


def test_cli_refuses_unreadable_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(app, ["clinical", "kps", "--input", str(path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, ValidationError)
    assert result.exception.field == "input"
