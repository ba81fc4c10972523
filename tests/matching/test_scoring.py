"""§3.3 (null table), §4.7–§4.11 (confidence, antigen match, orientation, aggregation, overall), §5 (DPB1 TCE),
§6 (counts)."""

from __future__ import annotations

import itertools

import pytest

from graftwise.matching.confidence import MatchConfidence, confidence, is_antigen_match
from graftwise.matching.dpb1 import MismatchDirection, TceGroups, TceVersion, tce_group_value
from graftwise.matching.grades import LocusCategory, MatchGrade
from graftwise.matching.result import LocusResult, OverallCategory
from graftwise.matching.score import PairScorer, filter_locus_count
from graftwise.matching.typing import PositionTyping, TypingInterpreter


def pair(interp: TypingInterpreter, locus: str, a: str, b: str) -> tuple[PositionTyping, PositionTyping]:
    return interp.interpret(locus, a, lenient=True), interp.interpret(locus, b, lenient=True)


def locus(scorer: PairScorer, name: str, p: tuple[str, str], d: tuple[str, str]) -> LocusResult:
    i = scorer.interp
    return scorer.score_locus(name, pair(i, name, *p), pair(i, name, *d))


def conf(interp: TypingInterpreter, name: str, p: str, d: str) -> MatchConfidence:
    return confidence(interp.interpret(name, p, lenient=True), interp.interpret(name, d, lenient=True))


# ---- §4.7 confidence -------------------------------------------------------------------------------------------


def test_confidence_new(interp: TypingInterpreter) -> None:
    assert conf(interp, "A", "NEW", "NEW") is MatchConfidence.MISMATCH
    assert conf(interp, "A", "NEW", "A*01:01") is MatchConfidence.MISMATCH
    assert conf(interp, "A", "NEW", "") is MatchConfidence.POTENTIAL


def test_confidence_untyped_is_potential(interp: TypingInterpreter) -> None:
    assert conf(interp, "A", "", "A*01:01:01:01") is MatchConfidence.POTENTIAL
    assert conf(interp, "A", "A*01:01:01:01", "") is MatchConfidence.POTENTIAL


def test_confidence_serology_needs_shared_serology(interp: TypingInterpreter) -> None:
    assert conf(interp, "A", "A1", "A2") is MatchConfidence.MISMATCH
    assert conf(interp, "A", "A23", "A24") is MatchConfidence.MISMATCH  # only the broad is shared, indirectly both
    assert conf(interp, "A", "A9", "A24") is MatchConfidence.POTENTIAL  # patient direct – donor indirect
    assert conf(interp, "A", "A24", "A9") is MatchConfidence.POTENTIAL  # patient indirect – donor direct
    assert conf(interp, "A", "A1", "A*01:01:01:01") is MatchConfidence.POTENTIAL


def test_confidence_molecular_needs_shared_p_group(interp: TypingInterpreter) -> None:
    assert conf(interp, "A", "A*01:01", "A*02:01") is MatchConfidence.MISMATCH
    assert conf(interp, "A", "A*01:11N", "A*01:11N") is MatchConfidence.POTENTIAL  # no P groups on both: not Mismatch
    assert conf(interp, "A", "A*01:11N", "A*01:01") is MatchConfidence.MISMATCH


def test_confidence_definite_exact_potential(interp: TypingInterpreter) -> None:
    assert conf(interp, "A", "A*01:01:01:01", "A*01:01:01:01") is MatchConfidence.DEFINITE
    assert conf(interp, "A", "A*01:01:01:01", "A*01:01:10") is MatchConfidence.DEFINITE  # single alleles, any grade
    assert conf(interp, "A", "A*01:01", "A*01:01:01:01") is MatchConfidence.EXACT  # one P group each
    assert conf(interp, "A", "A*01:01P", "A*01:01") is MatchConfidence.EXACT
    assert conf(interp, "A", "A*01:XX", "A*01:01") is MatchConfidence.POTENTIAL  # several P groups


def test_confidence_example_two_field_names(scorer: PairScorer) -> None:
    r = locus(scorer, "A", ("A*31:01", "A*32:01"), ("A*31:01", "A*32:01"))
    assert [p.grade for p in r.positions] == [MatchGrade.GDNA, MatchGrade.GDNA]
    assert [p.confidence for p in r.positions] == [MatchConfidence.EXACT, MatchConfidence.EXACT]


# ---- §4.8 antigen match -----------------------------------------------------------------------------------------


def am(interp: TypingInterpreter, name: str, p: str, d: str) -> bool | None:
    return is_antigen_match(interp.interpret(name, p, lenient=True), interp.interpret(name, d, lenient=True))


def test_antigen_match_rules(interp: TypingInterpreter) -> None:
    assert am(interp, "A", "", "A*01:01") is None
    assert am(interp, "A", "A*01:01", "A*01:01:01:01") is True  # shared P group
    assert am(interp, "A", "A9", "A24") is True  # patient indirect ∩ donor direct
    assert am(interp, "A", "A24", "A9") is True  # patient direct ∩ donor direct? no: A9 direct, A24 reaches A9
    assert am(interp, "A", "A23", "A24") is False
    assert am(interp, "A", "A*01:01", "A*02:01") is False
    assert am(interp, "A", "A*01:06", "A*01:01") is True  # both map to A1 in rel_dna_ser


def test_antigen_match_dpb1_is_null_without_serology(interp: TypingInterpreter) -> None:
    assert am(interp, "DPB1", "DPB1*04:01", "DPB1*03:01") is None
    assert am(interp, "DPB1", "DPB1*04:01", "DPB1*04:01:01:01") is True


# ---- §4.9 orientation ------------------------------------------------------------------------------------------


def test_orientation_cross_wins_and_positions_follow_the_donor(scorer: PairScorer) -> None:
    r = locus(scorer, "A", ("A*01:01:01:01", "A*02:01:01:01"), ("A*02:01:01:01", "A*03:01"))
    assert r.orientation == "cross"
    assert r.positions[0].grade is MatchGrade.GDNA  # donor position 1 (A*02:01:01:01) vs patient position 2
    assert r.positions[1].grade is MatchGrade.MISMATCH
    direct = locus(scorer, "A", ("A*01:01:01:01", "A*02:01:01:01"), ("A*03:01", "A*02:01:01:01"))
    assert direct.orientation == "direct"
    assert direct.positions[1].grade is MatchGrade.GDNA


def test_orientation_confidence_breaks_a_grade_tie(scorer: PairScorer) -> None:
    # both orientations grade GDna + GDna; the crossed one pairs the two single alleles (Definite), so it wins
    r = locus(scorer, "A", ("A*01:01", "A*01:01:01:01"), ("A*01:01:01:01", "A*01:01"))
    assert [p.grade for p in r.positions] == [MatchGrade.GDNA, MatchGrade.GDNA]
    assert r.orientation == "cross"
    assert [p.confidence for p in r.positions] == [MatchConfidence.DEFINITE, MatchConfidence.EXACT]


# ---- §3.3 null alleles (the summary table) ---------------------------------------------------------------------


def test_null_table_row1_patient_x_null_vs_donor_x_x(scorer: PairScorer) -> None:
    for donor in (("A*03:01", "A*03:01"), ("A*03:20", "A*03:112"), ("A*03:411", "A*02:43N")):
        assert (
            filter_locus_count(pair(scorer.interp, "A", "A*03:01", "A*01:11N"), pair(scorer.interp, "A", *donor)) == 2
        )
    r = locus(scorer, "A", ("A*03:01", "A*01:11N"), ("A*03:01", "A*03:01"))
    assert r.match_count == 2
    assert {p.grade for p in r.positions} == {MatchGrade.GDNA, MatchGrade.EXPRESSING_VS_NULL}
    assert all(p.confidence is not MatchConfidence.MISMATCH for p in r.positions)
    assert r.category is LocusCategory.MATCH


def test_null_table_row2_patient_y_null_vs_donor_x_x(scorer: PairScorer) -> None:
    i = scorer.interp
    assert filter_locus_count(pair(i, "A", "A*02:01", "A*01:11N"), pair(i, "A", "A*03:01", "A*03:01")) == 0
    r = locus(scorer, "A", ("A*02:01", "A*01:11N"), ("A*03:01", "A*03:01"))
    assert r.match_count == 0
    assert sorted(p.grade.value for p in r.positions) == ["ExpressingVsNull", "Mismatch"]
    assert [p.confidence for p in r.positions] == [MatchConfidence.MISMATCH] * 2
    assert r.category is LocusCategory.MISMATCH


def test_null_table_row3_same_null_and_same_expressing(scorer: PairScorer) -> None:
    r = locus(scorer, "B", ("B*07:02:01:01", "B*07:44N"), ("B*07:02:01:01", "B*07:44N"))
    assert r.match_count == 2
    assert [p.grade for p in r.positions] == [MatchGrade.GDNA, MatchGrade.NULL_GDNA]
    assert [p.confidence for p in r.positions] == [MatchConfidence.DEFINITE] * 2  # both sides single alleles
    assert r.category is LocusCategory.MATCH


def test_both_positions_null_count_as_potential_match(scorer: PairScorer) -> None:
    i = scorer.interp
    assert filter_locus_count(pair(i, "A", "A*01:11N", "A*01:11N"), pair(i, "A", "A*01:15N", "A*01:15N")) == 2
    assert filter_locus_count(pair(i, "A", "A*01:01", "A*01:01"), pair(i, "A", "A*01:15N", "A*01:15N")) == 0


def test_one_position_typed_is_homozygous(scorer: PairScorer) -> None:
    i = scorer.interp
    assert filter_locus_count(pair(i, "A", "A*01:01", "A*02:01"), pair(i, "A", "A*01:01", "")) == 1
    assert filter_locus_count(pair(i, "A", "A*01:01", "A*01:01"), pair(i, "A", "", "A*01:01")) == 2


# ---- §4.10 aggregation and §4.11 overall -------------------------------------------------------------------------


def test_locus_counts(scorer: PairScorer) -> None:
    r = locus(scorer, "A", ("A*01:01", "A*02:01"), ("A*01:XX", "A*03:01"))
    assert r.match_count == 1
    assert r.potential_count == 1
    assert r.exact_count == 0
    assert r.category is LocusCategory.MISMATCH
    assert r.confidence is MatchConfidence.MISMATCH


def test_overall_categories(scorer: PairScorer) -> None:
    i = scorer.interp
    p = {"A": pair(i, "A", "A*01:01:01:01", "A*02:01:01:01"), "B": pair(i, "B", "B*07:02:01:01", "B*08:01:01:01")}
    definite = scorer.score(p, p, ["A", "B"])
    assert definite.overall.category is OverallCategory.DEFINITE
    exact = scorer.score(p, {**p, "B": pair(i, "B", "B*07:02", "B*08:01")}, ["A", "B"])
    assert exact.overall.category is OverallCategory.EXACT
    potential = scorer.score(p, {**p, "B": pair(i, "B", "B*07:XX", "B*08:01")}, ["A", "B"])
    assert potential.overall.category is OverallCategory.POTENTIAL
    mismatch = scorer.score(p, {**p, "B": pair(i, "B", "B*07:02", "B*44:02")}, ["A", "B"])
    assert mismatch.overall.category is OverallCategory.MISMATCH
    assert mismatch.overall.scored_match_count == 3
    assert mismatch.overall.denominator == 4


def test_overall_permissive_mismatch_and_excluded_dpb1(scorer: PairScorer) -> None:
    i = scorer.interp
    p = {"A": pair(i, "A", "A*01:01:01:01", "A*01:01:01:01"), "DPB1": pair(i, "DPB1", "DPB1*04:01", "DPB1*04:02")}
    d_perm = {**p, "DPB1": pair(i, "DPB1", "DPB1*04:01", "DPB1*01:01")}  # 3+3 vs 3+3
    r = scorer.score(p, d_perm, ["A", "DPB1"])
    assert r.loci["DPB1"].category is LocusCategory.PERMISSIVE_MISMATCH
    assert r.overall.category is OverallCategory.PERMISSIVE_MISMATCH
    d_non = {**p, "DPB1": pair(i, "DPB1", "DPB1*04:01", "DPB1*09:01")}  # donor carries group 1
    assert scorer.score(p, d_non, ["A", "DPB1"]).overall.category is OverallCategory.MISMATCH
    excluded = scorer.score(p, d_non, ["A", "DPB1"], ["DPB1"])
    assert excluded.overall.category is OverallCategory.DEFINITE  # an excluded DPB1 mismatch changes nothing
    assert excluded.overall.denominator == 2
    assert excluded.antigen_match_denominator == 4


# ---- §5 DPB1 TCE -------------------------------------------------------------------------------------------------


def test_tce_value_parsing() -> None:
    assert tce_group_value("2a") == 2
    assert tce_group_value("3$") == 3
    assert tce_group_value("2a$") == 2
    assert tce_group_value("0") is None
    assert tce_group_value("") is None


def test_tce_version_setting(interp: TypingInterpreter) -> None:
    assert TceGroups(interp, TceVersion.V2).allele_group("DPB1*06:01:01:01") == 2  # V2 "2a"
    assert TceGroups(interp, TceVersion.V1).allele_group("DPB1*06:01:01:01") == 3


@pytest.mark.parametrize(
    ("patient", "donor", "category", "direction"),
    [
        (("DPB1*03:01", "DPB1*04:01"), ("DPB1*04:01", "DPB1*04:01"), "Mismatch", "GvH"),  # 2+3 vs 3+3
        (("DPB1*04:01", "DPB1*04:01"), ("DPB1*03:01", "DPB1*04:01"), "Mismatch", "HvG"),  # 3+3 vs 2+3
        (("DPB1*09:01", "DPB1*04:01"), ("DPB1*03:01", "DPB1*04:01"), "Mismatch", "GvH"),  # 1+3 vs 2+3
        (("DPB1*09:01", "DPB1*09:01"), ("DPB1*03:01", "DPB1*03:01"), "Mismatch", "GvH"),  # 1+1 vs 2+2
        (("DPB1*03:01", "DPB1*03:01"), ("DPB1*09:01", "DPB1*09:01"), "Mismatch", "HvG"),  # 2+2 vs 1+1
        (("DPB1*09:01", "DPB1*04:01"), ("DPB1*09:01", "DPB1*03:01"), "PermissiveMismatch", None),  # 1+3 vs 1+2
        (("DPB1*04:01", "DPB1*02:01"), ("DPB1*04:01", "DPB1*04:02"), "PermissiveMismatch", None),  # 3+3 vs 3+3
        (("DPB1*04:01", "DPB1*03:01"), ("DPB1*04:01", "DPB1*03:01"), "Match", None),  # allele-matched
        (("DPB1*04:01", "DPB1*03:01"), ("", ""), "Unknown", None),  # untyped
        (("DPB1*04:01", "DPB1*03:01"), ("NEW", "DPB1*04:01"), "Unknown", None),  # NEW
        (("DPB1*61:01N", "DPB1*61:01N"), ("DPB1*64:01N", "DPB1*64:01N"), "Unknown", None),  # both null
    ],
)
def test_tce_rule(
    scorer: PairScorer, patient: tuple[str, str], donor: tuple[str, str], category: str, direction: str | None
) -> None:
    r = locus(scorer, "DPB1", patient, donor)
    assert r.category.value == category
    assert (r.mismatch_direction.value if r.mismatch_direction else None) == direction


def test_tce_null_takes_partner_group(scorer: PairScorer) -> None:
    # patient 2 + null: the null takes group 2, so donor 2+2 (different allele) is permissive
    r = locus(scorer, "DPB1", ("DPB1*03:01", "DPB1*04:01:01:24N"), ("DPB1*14:01", "DPB1*14:01"))
    assert r.category is LocusCategory.PERMISSIVE_MISMATCH


def test_tce_min_rule_reproduces_all_36_cells(scorer: PairScorer) -> None:
    """Every donor pair × patient pair of groups {1, 2, 3}: equal lowest → permissive; donor lower → HvG."""
    rep = {1: "DPB1*09:01", 2: "DPB1*03:01", 3: "DPB1*04:01"}
    alt = {1: "DPB1*10:01", 2: "DPB1*14:01", 3: "DPB1*02:01"}
    pairs = list(itertools.combinations_with_replacement((1, 2, 3), 2))
    assert len(pairs) ** 2 == 36
    for pg in pairs:
        for dg in pairs:
            r = locus(scorer, "DPB1", (rep[pg[0]], rep[pg[1]]), (alt[dg[0]], alt[dg[1]]))
            if min(pg) == min(dg):
                assert r.category is LocusCategory.PERMISSIVE_MISMATCH, (pg, dg)
            else:
                want = MismatchDirection.HVG if min(dg) < min(pg) else MismatchDirection.GVH
                assert (r.category, r.mismatch_direction) == (LocusCategory.MISMATCH, want), (pg, dg)


# ---- §6 counts ------------------------------------------------------------------------------------------------


def test_count_names_in_json(scorer: PairScorer) -> None:
    i = scorer.interp
    p = {"A": pair(i, "A", "A*01:01", "A*02:01"), "B": pair(i, "B", "B*07:02", "")}
    data = scorer.score(p, p, ["A", "B", "C"]).model_dump(mode="json")
    assert set(data["overall"]) >= {
        "scored_match_count",
        "scored_potential_count",
        "scored_exact_count",
        "category",
        "denominator",
    }
    assert set(data["loci"]["A"]) >= {"match_count", "potential_count", "category", "mismatch_direction"}
    assert set(data["loci"]["A"]["positions"][0]) >= {"grade", "confidence", "is_antigen_match"}
    assert data["typed_loci_count"] == 2  # C is missing; B typed at one position counts as homozygous
    assert data["overall"]["denominator"] == 6


def test_high_resolution_patient_null_is_treated_as_hap_e_does(scorer: PairScorer) -> None:
    """Atlas #982 / spec §11 row 6: patient C*08:02 + C*04:09N (04:09N sits in G group C*04:01:01G). HAP-E treats
    the patient as homozygous C*08:02, so a donor C*08:02 + C*04:01 has one mismatch; graftwise's P-group filter
    already does (a null has no P group), so no separate option is needed for matching."""
    i = scorer.interp
    assert i.ggroup("C*04:09N") == i.ggroup("C*04:01:01:01")
    patient = pair(i, "C", "C*08:02", "C*04:09N")
    assert filter_locus_count(patient, pair(i, "C", "C*08:02", "C*04:01")) == 1
    assert filter_locus_count(patient, pair(i, "C", "C*08:02", "C*08:02")) == 2
    assert filter_locus_count(patient, pair(i, "C", "C*08:02", "C*04:09N")) == 2


def test_serology_disagreement_is_flagged_and_explained(scorer: PairScorer) -> None:
    """§4.5: B62 reaches B*15:02 through the broad B15's alleles (P-group filter: match), but B*15:02 is B75, a
    sibling split of B62 (scoring: Mismatch). The flag and the path say so."""
    r = locus(scorer, "B", ("B*15:02:01:01", "B*15:02:01:01"), ("B62", "B62"))
    position = r.positions[0]
    assert position.confidence is MatchConfidence.MISMATCH
    assert position.serology_disagreement is True
    assert "B15 (indirect)" in position.explanation
    assert "P-group filter: match" in position.explanation
    agree = locus(scorer, "B", ("B*07:02:01:01", "B*07:02:01:01"), ("B7", "B7"))
    assert agree.positions[0].serology_disagreement is False
    molecular = locus(scorer, "B", ("B*07:02", "B*07:02"), ("B*07:02", "B*07:02"))
    assert molecular.positions[0].serology_disagreement is False


def test_filter_orientation_and_new(scorer: PairScorer) -> None:
    i = scorer.interp
    assert filter_locus_count(pair(i, "A", "A*01:01", "A*02:01"), pair(i, "A", "A*02:01", "A*01:01")) == 2  # crossed
    assert filter_locus_count(pair(i, "A", "A*01:01", "A*02:01"), pair(i, "A", "NEW", "A*01:01")) == 1
    assert filter_locus_count(pair(i, "C", "", ""), pair(i, "C", "NEW", "NEW")) == 2  # untyped patient locus


def test_tce_unknown_for_ambiguous_or_unassigned(scorer: PairScorer) -> None:
    # an allele string whose alleles are in different groups (2 and 3) cannot be classified
    r = locus(scorer, "DPB1", ("DPB1*03:01/DPB1*04:01", "DPB1*04:01"), ("DPB1*09:01", "DPB1*09:01"))
    assert r.category is LocusCategory.UNKNOWN
    assert r.mismatch_direction is None
    # an allele without an assignment (blank in the V1 column) makes the locus Unknown under V1
    i = scorer.interp
    blank = next(a for a, (v1, _) in i.nom.tables.tce.items() if v1 == "" and not a.endswith("N"))
    v1 = PairScorer(i, tce_version=TceVersion.V1)
    r1 = v1.score_locus("DPB1", pair(i, "DPB1", blank, blank), pair(i, "DPB1", "DPB1*09:01", "DPB1*09:01"))
    assert r1.category is LocusCategory.UNKNOWN
    r2 = scorer.score_locus("DPB1", pair(i, "DPB1", blank, blank), pair(i, "DPB1", "DPB1*09:01", "DPB1*09:01"))
    assert r2.category is not LocusCategory.UNKNOWN  # the same pair is classified with V2
