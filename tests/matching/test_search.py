"""§1 (request validation), §3.4–§3.6 (filter), §7 (ranking and reasons), the index cache and the result shape,
through the whole engine on small contract-shaped registries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from registry_folder import write_registry

from graftwise.errors import ValidationError
from graftwise.matching.index import index_dir
from graftwise.matching.ranking import RankingConfig, abo_class
from graftwise.matching.request import RequestError, validate_request
from graftwise.matching.score import PairScorer
from graftwise.matching.search import DonorSearch
from graftwise.matching.source import FolderArrays
from graftwise.matching.typing import TypingInterpreter

PATIENT = {
    "A": ["A*01:01", "A*02:01"],
    "B": ["B*08:01", "B*07:02"],
    "C": ["C*07:01", "C*07:02"],
    "DRB1": ["DRB1*03:01", "DRB1*15:01"],
    "DQB1": ["DQB1*02:01", "DQB1*06:02"],
    "DPB1": ["DPB1*04:01", "DPB1*03:01"],
}
AS_OF = dt.date(2026, 1, 1)


def request(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "donor_type": "adult",
        "mismatches": {"total": 0, "per_locus": {"A": 0, "B": 0, "DRB1": 0, "C": 0, "DQB1": 0}},
        "scoring": {
            "loci_to_score": ["A", "B", "C", "DRB1", "DQB1", "DPB1"],
            "loci_excluded_from_aggregates": ["DPB1"],
        },
        "patient_hla": PATIENT,
    }
    base.update(changes)
    return base


def donor(**hla: tuple[str, str]) -> dict[str, Any]:
    return {"hla": {**{k: tuple(v) for k, v in PATIENT.items()}, **hla}}


def engine(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer, donors: list[dict[str, Any]]) -> DonorSearch:
    folder = write_registry(tmp_path / "reg", donors)
    return DonorSearch(FolderArrays.open(folder), interp, scorer, cache=folder, ranking=RankingConfig(as_of=AS_OF))


def rows(e: DonorSearch, interp: TypingInterpreter, raw: dict[str, Any]) -> list[int]:
    return sorted(int(r) for r in e.run(validate_request(raw, interp)).rows)


# ---- §1 request validation --------------------------------------------------------------------------------------


def test_request_reports_every_problem(interp: TypingInterpreter) -> None:
    raw = request(
        mismatches={"total": 1, "per_locus": {"A": 3, "DPB1": 0, "C": 1}},
        scoring={"loci_to_score": ["A", "X"], "loci_excluded_from_aggregates": ["B"]},
        patient_hla={"A": ["A*99:99", "A*01:01"], "B": ["B*07:02", None]},
    )
    with pytest.raises(RequestError) as err:
        validate_request(raw, interp)
    fields = [f for f, _ in err.value.problems]
    assert "mismatches.per_locus.A" in fields  # 3 > 2
    assert "mismatches.per_locus.DPB1" in fields  # DPB1 is never matched
    assert "mismatches.per_locus.B" in fields
    assert "mismatches.per_locus.DRB1" in fields
    assert "scoring.loci_to_score" in fields
    assert "scoring.loci_excluded_from_aggregates" in fields
    assert "patient_hla.A[0]" in fields  # invalid typing
    assert "patient_hla.DRB1" in fields  # patient untyped at a required locus
    assert len(err.value.problems) >= 7


def test_request_structure_errors_are_all_reported(interp: TypingInterpreter) -> None:
    with pytest.raises(RequestError) as err:
        validate_request({"donor_type": "child", "mismatches": {"total": 9, "per_locus": {}}}, interp)
    fields = {f for f, _ in err.value.problems}
    assert {"donor_type", "mismatches.total", "scoring", "patient_hla"} <= fields


def test_request_accepts_a_valid_request(interp: TypingInterpreter) -> None:
    r = validate_request(request(), interp)
    assert r.filter_denominator == 10
    assert r.scoring_denominator == 10
    assert r.matched_loci == ("A", "B", "C", "DQB1", "DRB1")


def test_request_release_must_be_the_matching_release(interp: TypingInterpreter) -> None:
    validate_request(request(release=interp.release), interp)
    with pytest.raises(RequestError, match=r"release 3\.44\.0"):
        validate_request(request(release="3.44.0"), interp)


def test_request_total_bounds(interp: TypingInterpreter) -> None:
    validate_request(request(mismatches={"total": 5, "per_locus": {"A": 2, "B": 2, "DRB1": 2}}), interp)
    with pytest.raises(RequestError):
        validate_request(request(mismatches={"total": 6, "per_locus": {"A": 2, "B": 2, "DRB1": 2}}), interp)


# ---- §3 filter through the engine ------------------------------------------------------------------------------


def test_per_locus_limit_both_sides(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer) -> None:
    donors = [donor(), donor(A=("A*01:01", "A*03:01")), donor(A=("A*03:01", "A*11:01"))]
    e = engine(tmp_path, interp, scorer, donors)
    one_at_a = {"total": 1, "per_locus": {"A": 1, "B": 0, "DRB1": 0, "C": 0, "DQB1": 0}}
    assert rows(e, interp, request(mismatches=one_at_a)) == [0, 1]
    assert rows(e, interp, request()) == [0]
    two_at_a = {"total": 2, "per_locus": {"A": 2, "B": 0, "DRB1": 0, "C": 0, "DQB1": 0}}
    assert rows(e, interp, request(mismatches=two_at_a)) == [0, 1, 2]


def test_total_limit_and_exact_mismatch_count(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer) -> None:
    donors = [donor(), donor(A=("A*01:01", "A*03:01")), donor(A=("A*01:01", "A*03:01"), B=("B*08:01", "B*44:02"))]
    e = engine(tmp_path, interp, scorer, donors)
    per = {"A": 1, "B": 1, "DRB1": 1, "C": 1, "DQB1": 1}
    assert rows(e, interp, request(mismatches={"total": 1, "per_locus": per})) == [0, 1]
    assert rows(e, interp, request(mismatches={"total": 2, "per_locus": per})) == [0, 1, 2]
    exactly_one = request(mismatches={"total": 1, "per_locus": per}, include_better_matches=False)
    assert rows(e, interp, exactly_one) == [1]


def test_untyped_optional_locus_is_a_potential_match(
    tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer
) -> None:
    e = engine(tmp_path, interp, scorer, [donor(C=("", ""), DQB1=("", ""))])
    result = e.search(validate_request(request(), interp))
    d = result.donors[0]
    assert d.filter_match_count == 10
    assert d.typed_loci_count == 4
    assert d.loci["C"].typed is False
    assert d.loci["C"].potential_count == 2
    assert d.population == "EUR"
    assert result.antigen_match_denominator == 12


def test_c_not_in_criteria_is_not_matched(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer) -> None:
    e = engine(tmp_path, interp, scorer, [donor(C=("C*04:01", "C*05:01"))])
    six = {"total": 0, "per_locus": {"A": 0, "B": 0, "DRB1": 0}}
    assert rows(e, interp, request(mismatches=six)) == [0]
    assert rows(e, interp, request()) == []


def test_donor_type_registry_and_availability(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer) -> None:
    donors = [
        {**donor(), "donor_type": "cord"},
        {**donor(), "registry": "UK"},
        {**donor(), "searchable": False},
        donor(),
    ]
    e = engine(tmp_path, interp, scorer, donors)
    assert rows(e, interp, request()) == [1, 3]
    assert rows(e, interp, request(donor_type="cord")) == [0]
    assert rows(e, interp, request(registry_filter=["UK"])) == [1]
    assert rows(e, interp, request(registry_filter=[])) == []


def test_xx_typed_donors_are_found(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer) -> None:
    """Regression for Atlas #1079 (§11 row 5): XX-typed donors must not go missing."""
    e = engine(tmp_path, interp, scorer, [donor(A=("A*01:XX", "A*02:XX"), DRB1=("DRB1*03:XX", "DRB1*15:XX"))])
    assert rows(e, interp, request()) == [0]


def test_serology_typed_donor_via_relations(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer) -> None:
    e = engine(tmp_path, interp, scorer, [donor(A=("A1", "A2"), DRB1=("DR17", "DR15"))])
    result = e.search(validate_request(request(), interp))
    assert [d.row for d in result.donors] == [0]
    position = result.donors[0].loci["A"].positions[0]
    assert position.grade.value == "Split"
    assert "serology" in position.explanation


# ---- §7 ranking --------------------------------------------------------------------------------------------------


def test_default_ranking_and_reasons(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer) -> None:
    days = {age: (dt.date(2026 - age, 1, 1) - dt.date(1970, 1, 1)).days for age in (24, 45)}
    donors = [
        {**donor(), "birth_date": days[45], "sex": 1, "cmv": 0},  # older
        {**donor(A=("A*01:01", "A*03:01")), "birth_date": days[24], "sex": 1},  # 9/10
        {**donor(), "birth_date": days[24], "sex": 0, "parity": 2, "cmv": 0},  # young, parous female
        {**donor(), "birth_date": days[24], "sex": 1, "cmv": 1},  # young male, CMV mismatch
        {**donor(), "birth_date": days[24], "sex": 1, "cmv": 0, "abo": 0},  # young male, CMV matched
    ]
    e = engine(tmp_path, interp, scorer, donors)
    per = {"A": 1, "B": 1, "DRB1": 1, "C": 1, "DQB1": 1}
    raw = request(mismatches={"total": 1, "per_locus": per}, patient_cmv="negative", patient_abo="A")
    result = e.search(validate_request(raw, interp))
    assert [d.row for d in result.donors] == [4, 2, 3, 0, 1]  # CMV before sex: row 2 (CMV matched) before row 3
    top = result.donors[0]
    assert top.rank_reasons[0] == "10/10"
    assert "DPB1 matched" in top.rank_reasons
    assert "24-year-old male" in top.rank_reasons
    assert "CMV matched" in top.rank_reasons
    assert "ABO minor" in top.rank_reasons
    assert result.donors[-1].rank_reasons[0] == "9/10"


def test_ranking_is_configurable(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer) -> None:
    days = {age: (dt.date(2026 - age, 1, 1) - dt.date(1970, 1, 1)).days for age in (24, 45)}
    donors = [{**donor(), "birth_date": days[45]}, {**donor(A=("A*01:01", "A*03:01")), "birth_date": days[24]}]
    e = engine(tmp_path, interp, scorer, donors)
    per = {"A": 1, "B": 1, "DRB1": 1, "C": 1, "DQB1": 1}
    raw = validate_request(request(mismatches={"total": 1, "per_locus": per}), interp)
    assert [d.row for d in e.search(raw).donors] == [0, 1]
    e.ranking = RankingConfig(order=("age", "match_count"), as_of=AS_OF)  # e.g. PTCy: age may outrank one mismatch
    assert [d.row for d in e.search(raw).donors] == [1, 0]


def test_ranking_order_is_validated() -> None:
    with pytest.raises(ValidationError, match="each key at most once"):
        RankingConfig(order=("age", "age"))
    with pytest.raises(ValidationError, match="each key at most once"):
        RankingConfig(order=("height",))  # type: ignore[arg-type]


def test_abo_classes() -> None:
    o, a, b, ab = 0, 1, 2, 3
    assert abo_class(a, a) == "compatible"
    assert abo_class(o, a) == "major"
    assert abo_class(a, o) == "minor"
    assert abo_class(ab, a) == "minor"
    assert abo_class(a, b) == "bidirectional"
    assert abo_class(a, -1) is None


def test_paging(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer) -> None:
    e = engine(tmp_path, interp, scorer, [donor() for _ in range(5)])
    result = e.search(validate_request(request(offset=1, limit=2), interp))
    assert result.donor_count == 5
    assert [d.rank for d in result.donors] == [2, 3]


# ---- index cache ---------------------------------------------------------------------------------------------------


def test_index_is_cached_by_release_and_generation(
    tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer
) -> None:
    folder = write_registry(tmp_path / "reg", [donor()], generation=3)
    e = DonorSearch(FolderArrays.open(folder), interp, scorer, cache=folder)
    e.run(validate_request(request(), interp))
    cached = index_dir(folder, interp.release, 3)
    assert sorted(p.name for p in cached.iterdir()) == ["A.npz", "B.npz", "C.npz", "DQB1.npz", "DRB1.npz"]
    write_registry(folder, [donor(A=("A*03:01", "A*03:01"))], generation=4)
    e2 = DonorSearch(FolderArrays.open(folder), interp, scorer, cache=folder)
    assert rows(e2, interp, request()) == []  # a stale index would still say A*01:01
    assert not cached.exists()
    assert index_dir(folder, interp.release, 4).is_dir()


def test_read_only_registry_still_searches(tmp_path: Path, interp: TypingInterpreter, scorer: PairScorer) -> None:
    folder = write_registry(tmp_path / "reg", [donor()])
    (folder / "index").write_text("not a folder")  # the cache cannot be written
    e = DonorSearch(FolderArrays.open(folder), interp, scorer, cache=folder)
    with pytest.warns(UserWarning, match="search index not cached"):
        assert rows(e, interp, request()) == [0]
