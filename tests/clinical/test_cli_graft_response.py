"""The CLI of engraftment, graft-dose, cord-selection, conditioning and response: each example file runs, and an
impossible case ends with exit status 2 and an error naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graftwise.cli import app
from graftwise.cli._common import run_cli
from graftwise.clinical import calculators

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "clinical"
NAMES = ["engraftment", "graft-dose", "cord-selection", "conditioning", "response"]


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_through_cli(name: str) -> None:
    path = EXAMPLES / f"{name}.json"
    result = CliRunner().invoke(app, ["clinical", name, "--input", str(path)])
    assert result.exit_code == 0, result.output
    expected = calculators()[name].run(json.loads(path.read_text(encoding="utf-8"))).model_dump(mode="json")
    assert json.loads(result.stdout) == expected


@pytest.mark.parametrize(
    ("name", "case", "field"),
    [
        (
            "engraftment",
            {"graft_source": "pbsc", "counts": [{"day": 1, "anc_x10e9_per_l": -1}]},
            "counts.0.anc_x10e9_per_l",
        ),
        (
            "graft-dose",
            {
                "graft": "autologous_pbsc",
                "recipient_weight_kg": 70,
                "collections": [{"label": "d1", "volume_ml": 100, "cd34_per_ul": 500}],
            },
            "plan",
        ),
        ("cord-selection", {"recipient_weight_kg": 0, "disease": "malignant", "units": []}, "recipient_weight_kg"),
        ("conditioning", {"agents": [{"agent": "busulfan", "total_dose": 8, "unit": "mg/kg"}]}, "agents.0.route"),
        (
            "response",
            {"assessment": {"system": "lugano2014_lymphoma", "modality": "pet_ct"}},
            "assessment.lugano2014_lymphoma.deauville_score",
        ),
    ],
)
def test_cli_error_names_the_field(
    name: str, case: dict[str, object], field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        run_cli(app, ["clinical", name, "--input", str(path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"[{field}]" in err
    assert err.startswith("error (invalid_input)")
