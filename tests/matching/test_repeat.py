"""Repeat search (matching.md §8): new, updated and no-longer-matching donors after registry imports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graftwise.cli import app
from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.matching.repeat import (
    SearchStore,
    parse_cutoff,
    registry_updates,
    repeat_search,
    request_differences,
    save_search,
)
from graftwise.matching.request import SearchRequest, validate_request
from graftwise.matching.score import PairScorer
from graftwise.matching.search import DonorSearch
from graftwise.matching.typing import TypingInterpreter
from graftwise.registry import Registry
from graftwise.registry.importer import import_donors

PATIENT = {
    "A": ["A*01:01", "A*02:01"],
    "B": ["B*08:01", "B*07:02"],
    "C": ["C*07:01", "C*07:02"],
    "DRB1": ["DRB1*03:01", "DRB1*15:01"],
    "DQB1": ["DQB1*02:01", "DQB1*06:02"],
}
FIRST_UPLOAD = dt.datetime(2026, 1, 10, 12, 0)


def _donor(record_id: str, change_type: str = "N", drb1: str = "DRB1*15:01", **extra: Any) -> dict[str, Any]:
    hla = {locus: {"dna": {"field1": a, "field2": b}} for locus, (a, b) in PATIENT.items()}
    hla["DRB1"] = {"dna": {"field1": "DRB1*03:01", "field2": drb1}}
    return {
        "record_id": record_id,
        "change_type": change_type,
        "donor_type": "D",
        "registry": "9991",
        "ethnicity": "EUR",
        "cmv": "N",
        "hla": hla,
        **extra,
    }


def _import(reg: Registry, folder: Path, name: str, donors: list[dict[str, Any]], nom: Nomenclature, at: Any) -> None:
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"update_mode": "diff", "donors": donors}), encoding="utf-8")
    report = import_donors(reg, path, nom, uploaded_at=at)
    assert report.failed == 0, report.failures


def _engine(reg: Registry, interp: TypingInterpreter) -> DonorSearch:
    # A new engine per search: the registry's arrays change generation on every import.
    return DonorSearch(reg.arrays, interp, PairScorer(interp), cache=reg.path, records=reg.records)


def _request(interp: TypingInterpreter, total: int = 0) -> SearchRequest:
    raw = {
        "donor_type": "adult",
        "mismatches": {"total": total, "per_locus": {locus: min(2, total) for locus in PATIENT}},
        "scoring": {
            "loci_to_score": ["A", "B", "C", "DQB1", "DRB1", "DPB1"],
            "loci_excluded_from_aggregates": ["DPB1"],
        },
        "patient_hla": PATIENT,
        "run_match_prediction": False,
        "limit": 2,
    }
    return validate_request(raw, interp)


@pytest.fixture
def reg(tmp_path: Path, nom: Nomenclature) -> Registry:
    registry = Registry.create(tmp_path / "reg", nom.release)
    first = [_donor(f"D{i}") for i in range(1, 5)] + [_donor("D5", drb1="DRB1*04:01")]
    _import(registry, tmp_path, "first", first, nom, FIRST_UPLOAD)
    return registry


def test_repeat_reports_new_updated_and_no_longer_matching_donors(
    reg: Registry, tmp_path: Path, nom: Nomenclature, interp: TypingInterpreter
) -> None:
    store = SearchStore(reg.path / "searches")
    request = _request(interp)
    page, canonical = save_search(_engine(reg, interp), request, "s1", store, registry_updates(reg))
    assert len(page.donors) == 2  # the page
    assert canonical.donor_codes == ["D1", "D2", "D3", "D4"]  # the whole canonical set
    assert store.load("s1").matching_started_at == page.matching_started_at
    cutoff = parse_cutoff(page.matching_started_at)

    _import(reg, tmp_path, "early", [_donor("D4", "U", cmv="P")], nom, cutoff - dt.timedelta(hours=1))
    after = cutoff + dt.timedelta(microseconds=1)  # uploaded while nothing else runs: before the repeat starts
    second = [
        _donor("D6"),  # new and matching
        _donor("D5", "U"),  # existed, now matches
        _donor("D1", "U", cmv="P"),  # still matches, updated after the cut-off
        _donor("D2", "U", drb1="DRB1*04:01"),  # no longer matches
        {"record_id": "D3", "change_type": "D", "donor_type": "D", "registry": "9991", "ethnicity": "EUR"},
    ]
    _import(reg, tmp_path, "second", second, nom, after)

    diff = repeat_search(_engine(reg, interp), request, "s1", cutoff, store, registry_updates(reg))
    assert sorted(d.donor_id or "" for d in diff.new_matches) == ["D5", "D6"]
    assert [d.donor_id for d in diff.updated_matches] == ["D1"]  # D4 was updated before the cut-off
    assert diff.updated_matches[0].overall.scored_match_count == 10  # the full result
    assert diff.no_longer_matching == ["D2", "D3"]
    assert (diff.donor_count, diff.previous_donor_count) == (4, 4)
    assert store.load("s1").donor_codes == ["D1", "D4", "D5", "D6"]  # the canonical set was replaced
    assert store.load("s1").matching_started_at == diff.matching_started_at

    again = repeat_search(
        _engine(reg, interp), request, "s1", parse_cutoff(diff.matching_started_at), store, registry_updates(reg)
    )
    assert (again.new_matches, again.updated_matches, again.no_longer_matching) == ([], [], [])


def test_repeat_refuses_a_different_request_naming_the_difference(reg: Registry, interp: TypingInterpreter) -> None:
    store = SearchStore(reg.path / "searches")
    request = _request(interp)
    save_search(_engine(reg, interp), request, "s1", store, registry_updates(reg))
    other = _request(interp, total=1)
    assert request_differences(request, other) == [
        "mismatches.per_locus.A (original 0, now 1)",
        "mismatches.per_locus.B (original 0, now 1)",
        "mismatches.per_locus.C (original 0, now 1)",
        "mismatches.per_locus.DQB1 (original 0, now 1)",
        "mismatches.per_locus.DRB1 (original 0, now 1)",
        "mismatches.total (original 0, now 1)",
    ]
    with pytest.raises(ValidationError, match=r"mismatches\.total") as exc:
        repeat_search(_engine(reg, interp), other, "s1", dt.datetime(2026, 2, 1), store, registry_updates(reg))
    assert exc.value.field == "request"
    paged = request.model_copy(update={"offset": 1, "limit": 5})
    assert request_differences(request, paged) == []  # paging is not a criterion


def test_saved_search_ids_and_cutoffs_are_validated(reg: Registry, interp: TypingInterpreter) -> None:
    store = SearchStore(reg.path / "searches")
    request = _request(interp)
    save_search(_engine(reg, interp), request, "s1", store, registry_updates(reg))
    with pytest.raises(ValidationError) as exc:
        save_search(_engine(reg, interp), request, "s1", store, registry_updates(reg))
    assert exc.value.field == "search_id"
    with pytest.raises(ValidationError) as exc:
        store.load("../escape")
    assert exc.value.field == "search_id"
    with pytest.raises(ValidationError) as exc:
        repeat_search(_engine(reg, interp), request, "nope", dt.datetime(2026, 1, 1), store, registry_updates(reg))
    assert exc.value.field == "original_search_id"
    with pytest.raises(ValidationError) as exc:
        parse_cutoff("yesterday")
    assert exc.value.field == "cutoff"
    assert parse_cutoff("2026-01-10T13:00:00+01:00") == dt.datetime(2026, 1, 10, 12, 0)
    assert parse_cutoff("2026-01-10T12:00:00") == dt.datetime(2026, 1, 10, 12, 0)


def test_cli_save_as_and_repeat_of(reg: Registry, tmp_path: Path, nom: Nomenclature) -> None:
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps(PATIENT), encoding="utf-8")
    args = ["search", "--patient", str(patient), "--registry", str(reg.path), "--json"]
    reg.close()  # the CLI opens the store read-only; one process cannot hold it both ways
    saved = CliRunner().invoke(app, [*args, "--save-as", "cli1"])
    assert saved.exit_code == 0, saved.output
    started = json.loads(saved.output)["matching_started_at"]
    after = parse_cutoff(started) + dt.timedelta(microseconds=1)
    writer = Registry.open(reg.path, read_only=False)
    _import(writer, tmp_path, "second", [_donor("D6"), _donor("D2", "U", drb1="DRB1*04:01")], nom, after)
    writer.close()
    repeated = CliRunner().invoke(app, [*args, "--repeat-of", "cli1", "--cutoff", started])
    assert repeated.exit_code == 0, repeated.output
    diff = json.loads(repeated.output)
    assert [d["donor_id"] for d in diff["new_matches"]] == ["D6"]
    assert diff["updated_matches"] == []
    assert diff["no_longer_matching"] == ["D2"]
    table = CliRunner().invoke(app, [*args[:-1], "--repeat-of", "cli1", "--cutoff", diff["matching_started_at"]])
    assert table.exit_code == 0, table.output
    assert "0 new matches" in table.output
    both = CliRunner().invoke(app, [*args, "--repeat-of", "cli1"])
    assert both.exit_code != 0
    assert "--cutoff" in str(both.exception)


def test_results_at_rows_give_full_results_in_rank_order(reg: Registry, interp: TypingInterpreter) -> None:
    engine = _engine(reg, interp)
    request = _request(interp, total=1)
    columns = engine.run(request)
    everything = engine.page(columns).donors
    assert len(everything) == 5  # D5 has one DRB1 mismatch
    picked = engine.results_at_rows(columns, [everything[-1].row, everything[0].row])
    assert picked == [everything[0], everything[-1]]
    exact = engine.run(_request(interp))
    assert everything[-1].donor_id == "D5"  # ranked last: the only 9/10
    with pytest.raises(ValidationError) as exc:
        engine.results_at_rows(exact, [everything[-1].row])  # D5 does not pass a 10/10 search
    assert exc.value.field == "rows"
