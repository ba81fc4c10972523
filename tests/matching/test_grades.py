"""§4.1–§4.4 and §4.6: grades, one test per rule, both sides."""

from __future__ import annotations

from graftwise.hla.names import fields_of
from graftwise.matching.grades import LocusCategory, MatchGrade, grade, grade_category
from graftwise.matching.typing import PositionTyping, TypingInterpreter


def g(interp: TypingInterpreter, locus: str, p: str, d: str) -> MatchGrade:
    return grade(interp, interp.interpret(locus, p, lenient=True), interp.interpret(locus, d, lenient=True))


def _status(interp: TypingInterpreter, allele: str) -> tuple[bool, bool]:
    s = interp.nom.tables.status[allele]
    return s.full, s.gdna


def _pgroup_only_pair(interp: TypingInterpreter) -> tuple[str, str]:
    """Two expressing alleles in one P group but different G groups and different 2-field names."""
    for members in interp.nom.tables.p_groups.values():
        for a in members:
            for b in members:
                if fields_of(a, 2) != fields_of(b, 2) and interp.ggroup(a) != interp.ggroup(b):
                    return a, b
    raise AssertionError("release has no such pair")


# ---- §4.1 choosing the calculator -------------------------------------------------------------------------------


def test_rule1_new_is_mismatch(interp: TypingInterpreter) -> None:
    assert g(interp, "A", "NEW", "A*01:01") is MatchGrade.MISMATCH
    assert g(interp, "A", "A*01:01", "NEW") is MatchGrade.MISMATCH


def test_rule2_serology_uses_serology_calculator(interp: TypingInterpreter) -> None:
    assert g(interp, "A", "A1", "A*01:01:01:01") is MatchGrade.SPLIT  # not GDna: serology decides
    assert g(interp, "A", "A*01:01:01:01", "A*01:01:01:01") is MatchGrade.GDNA


def test_rule3_expressing_vs_single_null(interp: TypingInterpreter) -> None:
    assert g(interp, "A", "A*01:01:01:02N", "A*01:01:01:01") is MatchGrade.EXPRESSING_VS_NULL
    assert g(interp, "A", "A*03:01", "A*01:11N") is MatchGrade.EXPRESSING_VS_NULL
    # a MAC's nulls are ignored, so it is "the other side" and rule 3 still fires
    assert g(interp, "A", "A*01:XX", "A*01:11N") is MatchGrade.EXPRESSING_VS_NULL
    # both single nulls: not rule 3
    assert g(interp, "A", "A*01:11N", "A*01:11N") is not MatchGrade.EXPRESSING_VS_NULL


def test_rule4_multiple_allele_typings(interp: TypingInterpreter) -> None:
    assert g(interp, "A", "A*01:XX", "A*01:XX") is MatchGrade.G_GROUP  # identical information
    assert g(interp, "A", "A*01:01:01G", "A*01:01:01:01") is MatchGrade.G_GROUP  # shared G group
    a, b = _pgroup_only_pair(interp)
    locus = a.split("*")[0]
    assert g(interp, locus, f"{a}/{a}", b) is MatchGrade.P_GROUP  # shared P group only
    assert g(interp, "A", "A*01:XX", "A*02:01") is MatchGrade.MISMATCH


def test_rule5_truncation_takes_the_maximum_over_allele_pairs(interp: TypingInterpreter) -> None:
    # A*31:01 means several alleles; the identical pair A*31:01:02:01 with gDNA gives the maximum (§4.7 example)
    assert g(interp, "A", "A*31:01", "A*31:01") is MatchGrade.GDNA
    assert g(interp, "A", "A*01:01", "A*01:01:01:01") is MatchGrade.GDNA
    assert g(interp, "A", "A*01:01", "A*02:01") is MatchGrade.MISMATCH


# ---- §4.2 single expressing alleles ----------------------------------------------------------------------------


def test_gdna_needs_same_name_and_full_gdna(interp: TypingInterpreter) -> None:
    assert _status(interp, "A*01:01:01:01") == (True, True)
    assert g(interp, "A", "A*01:01:01:01", "A*01:01:01:01") is MatchGrade.GDNA
    cdna_only = "A*01:02:02"
    assert _status(interp, cdna_only) == (True, False)
    assert g(interp, "A", cdna_only, cdna_only) is MatchGrade.CDNA  # same name, full but cDNA only


def test_cdna_needs_both_full_and_same_three_fields(interp: TypingInterpreter) -> None:
    assert _status(interp, "A*01:01:01:03") == (True, True)
    assert g(interp, "A", "A*01:01:01:01", "A*01:01:01:03") is MatchGrade.CDNA
    full, partial = _same_three_fields_full_and_partial(interp)
    assert g(interp, full.split("*")[0], full, partial) in (MatchGrade.G_GROUP, MatchGrade.P_GROUP)  # never above


def _same_three_fields_full_and_partial(interp: TypingInterpreter) -> tuple[str, str]:
    status = interp.nom.tables.status
    full_by_three: dict[str, str] = {}
    for a in interp.nom.tables.alleles:
        if not a.endswith("N") and status[a].full:
            full_by_three.setdefault(fields_of(a, 3), a)
    for a in interp.nom.tables.alleles:
        if not a.endswith("N") and not status[a].full and fields_of(a, 3) in full_by_three:
            other = full_by_three[fields_of(a, 3)]
            if interp.pgroup(a) == interp.pgroup(other):
                return other, a
    raise AssertionError("release has no such pair")


def test_protein_needs_same_two_fields_and_both_full(interp: TypingInterpreter) -> None:
    assert _status(interp, "A*01:01:10") == (True, True)
    assert g(interp, "A", "A*01:01:01:01", "A*01:01:10") is MatchGrade.PROTEIN
    partial = next(
        a
        for a in interp.nom.tables.alleles
        if fields_of(a, 2) == "A*01:01" and fields_of(a, 3) != "A*01:01:01" and not interp.nom.tables.status[a].full
    )
    assert g(interp, "A", "A*01:01:01:01", partial) in (MatchGrade.G_GROUP, MatchGrade.P_GROUP)


def test_g_group_and_p_group_and_mismatch(interp: TypingInterpreter) -> None:
    assert interp.ggroup("A*01:32") == interp.ggroup("A*01:01:01:01")
    assert g(interp, "A", "A*01:01:01:01", "A*01:32") is MatchGrade.G_GROUP
    a, b = _pgroup_only_pair(interp)
    assert g(interp, a.split("*")[0], a, b) is MatchGrade.P_GROUP
    assert g(interp, "A", "A*01:01:01:01", "A*02:01:01:01") is MatchGrade.MISMATCH


# ---- §4.3 nulls ----------------------------------------------------------------------------------------------------


def test_null_grades(interp: TypingInterpreter) -> None:
    assert _status(interp, "B*07:44N") == (True, True)
    assert g(interp, "B", "B*07:44N", "B*07:44N") is MatchGrade.NULL_GDNA
    assert _status(interp, "A*02:250N") == (True, False)
    assert g(interp, "A", "A*02:250N", "A*02:250N") is MatchGrade.NULL_CDNA
    assert _status(interp, "A*01:15N") == (False, False)
    assert g(interp, "A", "A*01:15N", "A*01:15N") is MatchGrade.NULL_PARTIAL
    assert g(interp, "A", "A*01:15N", "A*01:11N") is MatchGrade.NULL_MISMATCH


# ---- §4.4 serology ------------------------------------------------------------------------------------------------


def test_serology_associated(interp: TypingInterpreter) -> None:
    assert g(interp, "A", "A2403", "A*24:03:01:01") is MatchGrade.ASSOCIATED
    assert g(interp, "A", "A2403", "A2403") is MatchGrade.ASSOCIATED


def test_serology_split(interp: TypingInterpreter) -> None:
    assert g(interp, "A", "A24", "A24") is MatchGrade.SPLIT  # same direct split
    assert g(interp, "A", "A1", "A1") is MatchGrade.SPLIT  # same direct not-split
    assert g(interp, "A", "A24", "A2403") is MatchGrade.SPLIT  # split reached through the associated antigen
    assert g(interp, "A", "A2403", "A24") is MatchGrade.SPLIT


def test_serology_broad(interp: TypingInterpreter) -> None:
    assert g(interp, "A", "A9", "A9") is MatchGrade.BROAD
    assert g(interp, "A", "A9", "A24") is MatchGrade.BROAD  # broad vs its split
    assert g(interp, "A", "A2403", "A9") is MatchGrade.BROAD  # associated antigen relates to the broad
    assert g(interp, "B", "B*38:09", "B39") is MatchGrade.BROAD  # B*38:09 maps to the broad B16


def test_serology_mismatch(interp: TypingInterpreter) -> None:
    assert g(interp, "A", "A23", "A24") is MatchGrade.MISMATCH  # sibling splits
    assert g(interp, "A", "A1", "A2") is MatchGrade.MISMATCH


# ---- §4.6 scale, categories, untyped defaults ---------------------------------------------------------------------


def test_grade_order() -> None:
    order = [g.value for g in sorted(MatchGrade, key=lambda x: x.ordinal)]
    assert order == [
        "Mismatch",
        "ExpressingVsNull",
        "Broad",
        "Split",
        "Associated",
        "NullMismatch",
        "NullPartial",
        "NullCDna",
        "NullGDna",
        "PGroup",
        "GGroup",
        "Protein",
        "CDna",
        "GDna",
        "Unknown",
    ]


def test_grade_categories() -> None:
    assert grade_category(MatchGrade.EXPRESSING_VS_NULL) is LocusCategory.MATCH
    assert grade_category(MatchGrade.BROAD) is LocusCategory.MATCH
    assert grade_category(MatchGrade.NULL_PARTIAL) is LocusCategory.MATCH
    assert grade_category(MatchGrade.NULL_MISMATCH) is LocusCategory.MISMATCH
    assert grade_category(MatchGrade.MISMATCH) is LocusCategory.MISMATCH
    assert grade_category(MatchGrade.UNKNOWN) is LocusCategory.UNKNOWN


def test_untyped_default_grade(interp: TypingInterpreter) -> None:
    assert g(interp, "A", "A*01:01", "") is MatchGrade.P_GROUP
    assert g(interp, "C", "", "C*07:01") is MatchGrade.P_GROUP
    assert g(interp, "DPB1", "DPB1*04:01", "") is MatchGrade.UNKNOWN


def test_fast_maximum_equals_the_maximum_over_every_pair(interp: TypingInterpreter) -> None:
    import dataclasses

    from graftwise.matching.grades import _allele_grade, _max_allele_grade

    def sample(locus: str, text: str, step: int) -> PositionTyping:
        # every step-th allele: keeps the brute force small while mixing full, partial, cDNA-only and gDNA alleles
        t = interp.interpret(locus, text)
        picked = frozenset(sorted(t.expressing)[::step])
        return dataclasses.replace(
            t,
            text=f"{text}[::{step}]",
            alleles=picked,
            expressing=picked,
            pgroups=frozenset(interp.pgroup(a) for a in picked),
            ggroups=frozenset(interp.ggroup(a) for a in picked),
        )

    cases = [
        ("A", "A*01:01", "A*01:01"),
        ("A", "A*01:01", "A*01:XX"),
        ("A", "A*02:01", "A*02:XX"),
        ("B", "B*07:02", "B*07:XX"),
    ]
    for locus, p_text, d_text in cases:
        for step in (7, 11):
            patient, donor = sample(locus, p_text, step), sample(locus, d_text, step + 2)
            brute = max(
                (_allele_grade(interp, p, d) for p in patient.expressing for d in donor.expressing),
                key=lambda x: x.ordinal,
            )
            assert _max_allele_grade(interp, patient, donor) is brute, (p_text, d_text, step)
