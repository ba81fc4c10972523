"""``graftwise search --predict``: probabilities added to every search result (issue 5 §3)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from graftwise.cli import app
from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.matching.repeat import SearchStore, parse_cutoff, registry_updates, save_search
from graftwise.matching.request import SearchRequest, validate_request
from graftwise.matching.score import PairScorer
from graftwise.matching.search import DonorSearch
from graftwise.matching.source import FolderArrays
from graftwise.matching.typing import TypingInterpreter
from graftwise.prediction import EIGHT_OF_EIGHT, Predictor
from graftwise.prediction.search import repeat, search
from graftwise.registry import Registry
from graftwise.registry.importer import import_donors

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


def _engine(nom: Nomenclature, registry: Path) -> tuple[DonorSearch, TypingInterpreter]:
    interp = TypingInterpreter(nom)
    return DonorSearch(FolderArrays.open(registry), interp, PairScorer(interp)), interp


def _request(interp: TypingInterpreter, **extra: object) -> SearchRequest:
    raw = {
        "donor_type": "adult",
        "mismatches": {"total": 1, "per_locus": {"A": 1, "B": 1, "C": 1, "DQB1": 1, "DRB1": 1}},
        "scoring": {"loci_to_score": ["A", "B", "C", "DQB1", "DRB1"]},
        "patient_hla": HIGH_RES,
        "patient_ethnicity": "EUR",
        **extra,
    }
    return validate_request(raw, interp)


@pytest.fixture
def registry_with_unrepresented(tmp_path: Path) -> Path:
    full = {k: tuple(v) for k, v in HIGH_RES.items()}
    donors = [
        {"hla": full},
        {"hla": {**full, "A": ("A*80:01", "A*02:XX")}},  # A*80:01 is absent from the NMDP 2007 EUR set
        {"hla": {**full, "DRB1": ("DRB1*03:01", "DRB1*04:01")}},
    ]
    return Path(_registry_folder().write_registry(tmp_path / "reg", donors))


def test_run_match_prediction_defaults_to_true_and_adds_probabilities(
    nom: Nomenclature, predictor: Predictor, registry_with_unrepresented: Path
) -> None:
    engine, interp = _engine(nom, registry_with_unrepresented)
    request = _request(interp)
    assert request.run_match_prediction is True
    result = search(engine, request, predictor)
    assert result.donor_count == 3
    by_row = {d.row: d.match_prediction for d in result.donors}
    assert all(p is not None for p in by_row.values())
    first, unrepresented = by_row[0], by_row[1]
    assert first is not None
    assert first["p_mismatch"][0] == 1.0
    assert unrepresented is not None
    assert unrepresented["p_mismatch"] is None
    assert unrepresented["donor_unrepresented_reason"] == "allele_not_in_hf_set"
    assert result.unrepresented_donor_count == 1
    assert all(d.p0_rank is None for d in result.donors)


def test_rank_by_p0_puts_unrepresented_donors_last(
    nom: Nomenclature, predictor: Predictor, registry_with_unrepresented: Path
) -> None:
    engine, interp = _engine(nom, registry_with_unrepresented)
    result = search(engine, _request(interp), predictor, rank_by_p0=True)
    assert [d.row for d in result.donors] == [0, 2, 1]
    assert [d.p0_rank for d in result.donors] == [1, 2, 3]


def test_run_match_prediction_false_gives_matching_and_scoring_only(
    nom: Nomenclature, registry_with_unrepresented: Path
) -> None:
    engine, interp = _engine(nom, registry_with_unrepresented)
    result = search(engine, _request(interp, run_match_prediction=False))
    assert result.donor_count == 3
    assert result.unrepresented_donor_count is None
    assert all(d.match_prediction is None for d in result.donors)
    with pytest.raises(ValidationError) as exc:
        search(engine, _request(interp, run_match_prediction=False), rank_by_p0=True)
    assert exc.value.field == "rank_by_p0"


def test_prediction_requests_are_refused_without_what_they_need(
    nom: Nomenclature, predictor: Predictor, registry_with_unrepresented: Path
) -> None:
    engine, interp = _engine(nom, registry_with_unrepresented)
    with pytest.raises(ValidationError) as exc:
        search(engine, _request(interp))
    assert exc.value.field == "run_match_prediction"
    with pytest.raises(ValidationError) as exc:
        search(engine, _request(interp, patient_ethnicity=None), predictor)
    assert exc.value.field == "patient_ethnicity"
    eight = Predictor(nom, predictor.store, EIGHT_OF_EIGHT, schemes=predictor.schemes)
    with pytest.raises(ValidationError) as exc:
        search(engine, _request(interp), eight)
    assert "predicts A, B, C, DQB1, DRB1" in str(exc.value)


def _import(reg: Registry, path: Path, nom: Nomenclature, donors: list[dict[str, object]], at: dt.datetime) -> None:
    path.write_text(json.dumps({"update_mode": "diff", "donors": donors}), encoding="utf-8")
    assert import_donors(reg, path, nom, uploaded_at=at).failed == 0


def _donor(record_id: str, change_type: str, hla: dict[str, list[str]]) -> dict[str, object]:
    return {
        "record_id": record_id,
        "change_type": change_type,
        "donor_type": "D",
        "registry": "DE",
        "ethnicity": "EUR",
        "hla": {locus: {"dna": {"field1": a, "field2": b}} for locus, (a, b) in hla.items()},
    }


def test_repeat_search_predicts_new_and_updated_matches(
    nom: Nomenclature, predictor: Predictor, tmp_path: Path
) -> None:
    reg = Registry.create(tmp_path / "reg", nom.release)
    _import(reg, tmp_path / "one.json", nom, [_donor("D1", "N", HIGH_RES)], dt.datetime(2026, 1, 10))
    interp = TypingInterpreter(nom)
    request = _request(interp)
    store = SearchStore(tmp_path / "searches")

    def engine() -> DonorSearch:
        return DonorSearch(reg.arrays, interp, PairScorer(interp), records=reg.records)

    page, _ = save_search(engine(), request, "s1", store, registry_updates(reg))
    cutoff = parse_cutoff(page.matching_started_at)
    _import(reg, tmp_path / "two.json", nom, [_donor("D2", "N", HIGH_RES)], cutoff)  # at the cut-off: new anyway
    homozygous_c = {**HIGH_RES, "C": ["C*07:01", "C*07:01"]}
    after = cutoff + dt.timedelta(microseconds=1)
    _import(reg, tmp_path / "three.json", nom, [_donor("D1", "U", homozygous_c)], after)
    diff = repeat(engine(), request, "s1", cutoff, store, registry_updates(reg), predictor)
    new, updated = diff.new_matches, diff.updated_matches
    assert [d.donor_id for d in new] == ["D2"]
    assert [d.donor_id for d in updated] == ["D1"]
    assert new[0].match_prediction is not None
    assert new[0].match_prediction["p_mismatch"][0] == 1.0
    assert updated[0].match_prediction is not None
    assert updated[0].match_prediction["p_mismatch"][1] == 1.0  # unambiguous: exactly the C mismatch
    assert updated[0].match_prediction["per_locus"]["C"]["category"] == "Mismatch"
    with pytest.raises(ValidationError) as exc:
        repeat(engine(), request, "s1", cutoff, store, registry_updates(reg))
    assert exc.value.field == "run_match_prediction"
