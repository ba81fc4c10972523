"""§8.3 steps 2 and 3 (fallback.py) against the NMDP 2007 EUR set at 3.58.0."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest
from typer.testing import CliRunner

from graftwise.cli import app
from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.prediction import GroupScheme, Predictor
from graftwise.prediction import predictor as predictor_module
from graftwise.prediction.fallback import CIWD_RANK, ciwd_substitute, convert_name
from graftwise.prediction.hfsets import Category, HFSetStore

from .helpers import HIGH_RES, LOW_RES

Typing = Mapping[str, Sequence[str | None]]
HOMOZYGOUS_A1_B7_DR3: Typing = {"A": ["A*01:01", "A*01:01"], "B": ["B*07:02", "B*07:02"], "DRB1": ["DR3", "DR3"]}
NO_FALLBACK = {"step": None, "method": None, "conversions": [], "substituted": [], "failed_steps": []}


def with_locus(base: Typing, locus: str, pair: list[str | None]) -> dict[str, Sequence[str | None]]:
    return {**base, locus: pair}


def same_distribution(pr: Predictor, a: Typing, b: Typing) -> None:
    da, db = pr.impute(a, None, "EUR").distribution, pr.impute(b, None, "EUR").distribution
    assert da.is_represented
    assert db.is_represented
    np.testing.assert_array_equal(da.genotypes, db.genotypes)
    np.testing.assert_allclose(da.weights, db.weights, rtol=0, atol=0)


def fallback_of(pr: Predictor, typing: Typing) -> dict[str, object]:
    info = pr.impute(typing, None, "EUR").hf_set()
    assert info is not None
    record = info["fallback"]
    assert isinstance(record, dict)
    return record


def recovered(pr: Predictor, typing: Typing, step: int, method: str) -> dict[str, object]:
    """The fallback record of a subject made represented by ``step``."""
    assert pr.impute(typing, None, "EUR").distribution.is_represented
    record = fallback_of(pr, typing)
    assert record["step"] == step
    assert record["method"] == method
    return record


LOW_A_DR: Typing = {locus: LOW_RES[locus] for locus in ("A", "DRB1")}


@pytest.mark.parametrize(
    ("base", "locus", "typed", "other", "method", "change", "equivalent"),
    [
        # C*02:10 (lgx) is absent from NMDP 2007 EUR; its small-g group C*02:02g is the set's C*02:02 (same ABD).
        (LOW_RES, "C", "C*02:10:01:01", "C*07:02", "ard_equivalence", ("C*02:10", "C*02:02"), "C*02:02"),
        # A 4-field name of a later release: same protein as A*01:01.
        (LOW_RES, "A", "A*01:01:01:999", "A*02:01", "name_conversion", ("A*01:01:01:999", "A*01:01"), "A*01:01"),
        # C*04:09L (3.59 and later) is C*04:09N at 3.58.0 (hla-nomenclature.md §3). B untyped: C*04:01 (lgx of the
        # null) never occurs with B8 or B7 in the EUR set.
        (LOW_A_DR, "C", "C*04:09L", "C*07:02", "name_conversion", ("C*04:09L", "C*04:09N"), "C*04:09N"),
    ],
)
def test_step2_converts_and_is_p_level_identical(
    predictor: Predictor,
    base: Typing,
    locus: str,
    typed: str,
    other: str,
    method: str,
    change: tuple[str, str],
    equivalent: str,
) -> None:
    typing = with_locus(base, locus, [typed, other])
    record = recovered(predictor, typing, 2, "conversion")
    assert record["substituted"] == []
    assert record["conversions"] == [
        {"locus": locus, "position": 1, "method": method, "from": [change[0]], "to": [change[1]]}
    ]
    # The same distribution as a subject typed with the converted name or the set's group.
    same_distribution(predictor, typing, with_locus(base, locus, [equivalent, other]))


def test_convert_name(nom: Nomenclature) -> None:
    assert convert_name(nom, "A", "A*01:01:01:999") == "A*01:01"
    assert convert_name(nom, "A", "01:01:01:999") == "A*01:01"
    # The rename of hla-nomenclature.md §3 read at 3.58.0, where the allele is still C*04:09N; a missing suffix.
    assert convert_name(nom, "C", "C*04:09L") == "C*04:09N"
    assert convert_name(nom, "A", "A*24:329") == "A*24:329Q"
    # A deleted name is followed to its successor (hla_nom.txt).
    assert convert_name(nom, "A", "A*02:01:08") == "A*02:1040"
    # A new protein (unknown 2-field name) has no ABD we know of; NEW has no name at all.
    assert convert_name(nom, "A", "A*02:9999") is None
    assert convert_name(nom, "A", "A*02:9999:01") is None
    assert convert_name(nom, "A", "NEW") is None


def test_step3_ciwd_substitution_is_flagged(predictor: Predictor) -> None:
    # DQB1*02:180 (small g DQB1*02:03g) has no ABD-identical group in EUR: the most common DQB1*02 the set knows.
    typing = with_locus(LOW_RES, "DQB1", ["DQB1*02:180:01", "DQB1*06:02"])
    record = recovered(predictor, typing, 3, "ciwd_substitution")
    sub = {"locus": "DQB1", "position": 1, "method": "ciwd_substitution", "from": ["DQB1*02:180"]}
    assert record["substituted"] == [{**sub, "to": ["DQB1*02:01"], "allele": "DQB1*02:01:01:01", "ciwd_status": "C"}]
    found = predictor.impute(typing, None, "EUR").fallback
    assert found is not None
    assert len(found.substituted) == 1
    same_distribution(predictor, typing, with_locus(LOW_RES, "DQB1", ["DQB1*02:01", "DQB1*06:02"]))


def test_step3_unknown_protein_substituted_within_its_allele_group(predictor: Predictor) -> None:
    typing = with_locus(HIGH_RES, "A", ["A*02:9999", "A*01:01"])
    record = recovered(predictor, typing, 3, "ciwd_substitution")
    (sub,) = record["substituted"]  # type: ignore[misc]
    assert sub["from"] == ["A*02:9999"]
    assert sub["to"] == ["A*02:01"]
    assert sub["ciwd_status"] == "C"


def test_ciwd_substitute_takes_the_best_status(
    nom: Nomenclature, nmdp_store: HFSetStore, schemes: dict[Category, GroupScheme]
) -> None:
    eur = nmdp_store.by_population["EUR"]
    found = ciwd_substitute(nom, "B*44", eur, schemes["lgx"])
    assert found is not None
    allele, group, status = found
    assert group in eur.groups[eur.loci.index("B")]
    assert allele.startswith("B*44:")
    # No allele of the family with a group in the set has a better CIWD (EURO) status.
    best = min(
        CIWD_RANK.get(getattr(nom.cwd_status(a, "ciwd", "EURO"), "status", ""), len(CIWD_RANK))
        for a, g in schemes["lgx"].group_of.items()
        if a.startswith("B*44:") and g in eur.groups[eur.loci.index("B")]
    )
    assert CIWD_RANK[status or ""] == best == 0
    assert ciwd_substitute(nom, "B*83", eur, schemes["lgx"]) is None


@pytest.mark.parametrize(
    ("locus", "pair", "reason", "step_reasons"),
    [
        ("B", ["B*08:01", "B*83:01"], "allele_not_in_hf_set", ["allele_not_in_hf_set", "allele_not_in_hf_set"]),
        ("A", ["NEW", "A*01:01"], "new_allele", ["new_allele", "new_allele"]),
        ("B", ["B*08:01", "B*83:9999"], "allele_not_in_release", ["allele_not_in_release", "allele_not_in_hf_set"]),
        # Every group is in the set but no two haplotypes fit: nothing to convert or substitute.
        ("C", ["C*07:01", "C*07:01"], "no_consistent_pair", ["no_consistent_pair", "no_consistent_pair"]),
    ],
)
def test_every_step_failing_gives_the_reason_code(
    predictor: Predictor, locus: str, pair: list[str | None], reason: str, step_reasons: list[str]
) -> None:
    base = HOMOZYGOUS_A1_B7_DR3 if reason == "no_consistent_pair" else LOW_RES
    typing = with_locus(base, locus, pair)
    imp = predictor.impute(typing, None, "EUR")
    assert imp.distribution.unrepresented == reason
    record = fallback_of(predictor, typing)
    assert record["step"] is None
    assert record["failed_steps"] == [{"step": 2, "reason": step_reasons[0]}, {"step": 3, "reason": step_reasons[1]}]
    result = predictor.predict(typing, HIGH_RES, patient_keys=(None, "EUR"), donor_keys=(None, "EUR"))
    assert result.patient.unrepresented
    assert result.patient.unrepresented_reason == reason
    assert result.p_mismatch is None


def test_represented_subjects_are_unaffected(predictor: Predictor, monkeypatch: pytest.MonkeyPatch) -> None:
    typings = [HIGH_RES, LOW_RES, with_locus(LOW_RES, "C", ["C*07:01", "C*07:02"])]
    before = [predictor._impute_chain(t, None, "EUR") for t in typings]

    def never(*_: object) -> None:
        raise AssertionError("fallback steps 2-3 tried for a represented subject")

    monkeypatch.setattr(predictor_module, "recover", never)
    for typing, old in zip(typings, before, strict=True):
        new = predictor.impute(typing, None, "EUR")
        np.testing.assert_array_equal(new.distribution.genotypes, old.distribution.genotypes)
        np.testing.assert_array_equal(new.distribution.weights, old.distribution.weights)
        assert new.fallback is None
        info = new.hf_set()
        assert info is not None
        assert info["fallback"] == NO_FALLBACK
    results = predictor.predict_many(
        LOW_RES, [HIGH_RES, LOW_RES], patient_keys=(None, "EUR"), donor_keys=[(None, "EUR")] * 2
    )
    assert all(r.p_mismatch is not None for r in results)


def test_a_malformed_position_after_an_unknown_name_is_an_error(predictor: Predictor) -> None:
    typing = {**LOW_RES, "A": ["A*01:999", "A*02:XX"], "B": ["B*08:ZZZZ", "B7"]}
    with pytest.raises(ValidationError, match=r"B\[1\]"):
        predictor.impute(typing, None, "EUR")


def test_convert_name_refuses_a_2_field_name_spanning_several_small_g_groups(nom: Nomenclature) -> None:
    # No such name exists at 3.58.0 (checked over A, B, C, DQB1, DRB1), so the release is altered: A*01:01:01:01
    # put in a small-g group of its own makes A*01:01 span two groups, and the ABD of a new A*01:01 allele unknown.
    split = {**nom.small_g_of, "A*01:01:01:01": "A*01:01:01:01"}
    altered = SimpleNamespace(tables=nom.tables, typing=nom.typing, small_g_of=split)
    assert convert_name(cast(Nomenclature, altered), "A", "A*01:01:01:999") is None
    assert convert_name(cast(Nomenclature, altered), "A", "A*02:01:01:999") == "A*02:01"


def test_predict_json_says_which_fallback_was_used(tmp_path: Path) -> None:
    patient = tmp_path / "p.json"
    patient.write_text(json.dumps(with_locus(LOW_RES, "DQB1", ["DQB1*02:180:01", "DQB1*06:02"])))
    donor = tmp_path / "d.json"
    donor.write_text(json.dumps(HIGH_RES))
    args = ["predict", "--patient", str(patient), "--donor", str(donor), "--population", "EUR", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["patient_unrepresented"] is False
    assert out["patient_hf_set"]["fallback_step"] == "population"
    assert out["patient_hf_set"]["fallback"]["step"] == 3
    assert [s["allele"] for s in out["patient_hf_set"]["fallback"]["substituted"]] == ["DQB1*02:01:01:01"]
    assert out["donor_hf_set"]["fallback"]["step"] is None
    assert len(out["p_mismatch"]) == 5
