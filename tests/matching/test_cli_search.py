"""``graftwise search`` and ``graftwise score`` on a small contract-shaped registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from registry_folder import write_registry
from typer.testing import CliRunner

from graftwise.cli import app
from graftwise.cli._common import run_cli
from graftwise.matching.request import RequestError

PATIENT = {
    "A": ["01:01", "A*02:01"],
    "B": ["B*08:01", "B*07:02"],
    "C": ["C*07:01", "C*07:02"],
    "DRB1": ["DRB1*03:01", "DRB1*15:01"],
    "DQB1": ["DQB1*02:01", "DQB1*06:02"],
    "DPB1": ["DPB1*04:01", "DPB1*03:01"],
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps(PATIENT))
    full = {k: tuple("A*01:01" if x == "01:01" else x for x in v) for k, v in PATIENT.items()}
    donors = [{"hla": full}, {"hla": {**full, "A": ("A*01:01", "A*03:01")}}, {"hla": full, "donor_type": "cord"}]
    return patient, write_registry(tmp_path / "reg", donors)


def test_search_json(files: tuple[Path, Path]) -> None:
    patient, registry = files
    result = CliRunner().invoke(app, ["search", "--patient", str(patient), "--registry", str(registry), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["donor_count"] == 1
    donor = data["donors"][0]
    assert donor["overall"]["scored_match_count"] == 10
    assert set(donor["loci"]["A"]["positions"][0]) >= {"grade", "confidence", "is_antigen_match"}
    assert donor["rank_reasons"][0] == "10/10"


def test_search_table_with_mismatch(files: tuple[Path, Path]) -> None:
    patient, registry = files
    args = ["search", "--patient", str(patient), "--registry", str(registry), "--mismatches", "1", "--limit", "5"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 donor(s) match" in result.output
    assert "9/10" in result.output
    bad = CliRunner().invoke(app, [*args, "--patient-cmv", "maybe"])
    assert bad.exit_code != 0
    assert isinstance(bad.exception, RequestError)
    assert bad.exception.problems[0][0] == "patient_cmv"


def test_search_cord(files: tuple[Path, Path]) -> None:
    patient, registry = files
    args = ["search", "--patient", str(patient), "--registry", str(registry), "--donor-type", "cord", "--json"]
    result = CliRunner().invoke(app, args)
    data = json.loads(result.output)
    assert data["filter_denominator"] == 8
    assert [d["donor_type"] for d in data["donors"]] == ["cord"]


def test_score_pair(tmp_path: Path, files: tuple[Path, Path]) -> None:
    patient, _ = files
    donor = tmp_path / "donor.json"
    donor.write_text(json.dumps({"A": ["A*01:01"], "B": ["B7", "B8"], "DRB1": ["DRB1*03:XX", "DRB1*15:01"]}))
    args = ["score", "--patient", str(patient), "--donor", str(donor), "--release", "3.58.0", "--loci", "A,B,DRB1"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["loci"]["A"]["match_count"] == 1  # donor homozygous A*01:01 vs patient A*01:01, A*02:01
    assert data["loci"]["B"]["positions"][0]["grade"] == "Split"
    assert data["overall"]["denominator"] == 6


def test_invalid_input_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    patient = tmp_path / "p.json"
    patient.write_text(json.dumps({"A": ["A*99:99", "A*01:01"], "X": ["1"]}))
    with pytest.raises(SystemExit) as exit_info:
        run_cli(app, ["score", "--patient", str(patient), "--donor", str(patient), "--release", "3.58.0", "--json"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "patient.X" in err


def test_score_table_shows_what_the_json_holds(tmp_path: Path, files: tuple[Path, Path]) -> None:
    patient, _ = files
    donor = tmp_path / "donor.json"
    donor.write_text(
        json.dumps({"A": ["A*01:01"], "B": ["B7", "B8"], "DRB1": ["DRB1*15:01"], "DPB1": ["DPB1*04:01", "DPB1*09:01"]})
    )
    args = ["score", "--patient", str(patient), "--donor", str(donor), "--release", "3.58.0"]
    data = json.loads(CliRunner().invoke(app, [*args, "--json"]).output)
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    out = result.output
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)
    assert max(len(line) for line in out.splitlines()) <= 80
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == 2 * len(data["loci"])  # one row per locus and position
    for locus, lr in data["loci"].items():
        first, second = (r.split("│")[1:-1] for r in rows[:2])
        rows = rows[2:]
        assert first[0].strip() == locus
        for cells, pos in zip((first, second), lr["positions"], strict=True):
            antigen = {True: "yes", False: "no", None: "—"}[pos["is_antigen_match"]]
            assert [c.strip() for c in cells[2:5]] == [pos["grade"], pos["confidence"], antigen]
        assert first[5].strip() == lr["category"]
        assert second[5].strip() == f"{lr['match_count']}/2 match"
    dpb1 = data["loci"]["DPB1"]
    assert dpb1["category"] == "Mismatch"
    assert f"DPB1: non-permissive, {dpb1['mismatch_direction']} direction" in out
    overall = data["overall"]
    assert f"scored match count {overall['scored_match_count']}/{overall['denominator']}" in out
    assert f"overall category: {overall['category']}" in out
