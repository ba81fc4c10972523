"""``graftwise search --predict``: probabilities added to every search result (issue 5 §3)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from graftwise.cli import app

from .helpers import HIGH_RES


def _registry_folder() -> ModuleType:
    """The matching tests' writer of contract-shaped registry folders."""
    path = Path(__file__).parents[1] / "matching" / "registry_folder.py"
    spec = importlib.util.spec_from_file_location("registry_folder_for_prediction", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps(HIGH_RES))
    full = {k: tuple(v) for k, v in HIGH_RES.items()}
    donors = [
        {"hla": {**full, "A": ("A*01:AB", "A*02:XX"), "C": ("", ""), "DQB1": ("", "")}},  # low resolution
        {"hla": full},  # identical at two fields
        {"hla": {**full, "DRB1": ("DRB1*03:01", "DRB1*04:01")}},  # one mismatch
    ]
    return patient, _registry_folder().write_registry(tmp_path / "reg", donors)


def test_search_predict_json_adds_probabilities_per_donor(files: tuple[Path, Path]) -> None:
    patient, registry = files
    args = ["search", "--patient", str(patient), "--registry", str(registry), "--mismatches", "1"]
    result = CliRunner().invoke(app, [*args, "--predict", "--patient-ethnicity", "EUR", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["donor_count"] == 3
    by_row = {d["row"]: d["match_prediction"] for d in data["donors"]}
    assert by_row[1]["p_mismatch"] == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert by_row[1]["donor_unambiguous_shortcut"] is True
    assert by_row[2]["p_mismatch"][1] == 1.0
    assert by_row[2]["per_locus"]["DRB1"]["category"] == "Mismatch"
    low = by_row[0]
    assert 0 < low["p_mismatch"][0] < 1
    assert low["donor_hf_set"]["fallback_step"] == "population"  # registry DE has no set; population EUR does
    assert low["donor_kept_mass"] == pytest.approx(1.0, abs=1e-12)
    assert set(low["per_locus"]) == {"A", "B", "C", "DQB1", "DRB1"}


def test_search_predict_rank_by_p0_and_table(files: tuple[Path, Path]) -> None:
    patient, registry = files
    args = ["search", "--patient", str(patient), "--registry", str(registry), "--mismatches", "1", "--predict"]
    args += ["--patient-ethnicity", "EUR", "--rank-by-p0"]
    data = json.loads(CliRunner().invoke(app, [*args, "--json"]).output)
    p0 = [d["match_prediction"]["p_mismatch"][0] for d in data["donors"]]
    assert p0 == sorted(p0, reverse=True)
    assert [d["p0_rank"] for d in data["donors"]] == [1, 2, 3]
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "P(0 mm)" in table.output


def test_search_predict_needs_the_patient_ethnicity(files: tuple[Path, Path]) -> None:
    patient, registry = files
    args = ["search", "--patient", str(patient), "--registry", str(registry), "--predict", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "--patient-ethnicity" in str(result.exception)
