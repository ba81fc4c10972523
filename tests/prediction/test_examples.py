"""match-prediction.md §7: the worked examples, reproduced exactly."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from graftwise.prediction import impute
from graftwise.prediction.probabilities import (
    MatchProbabilities,
    assemble,
    locus_category,
    mismatch_distributions,
    orient,
    percentage,
    positional_categories,
    summarise,
)

from .helpers import LOCI, group_set, subject

EX1_ROWS = [
    (("23:01:01G", "08:01:01G", "03:05:01G", "02:01:01G", "11:06:01G"), 8e-5),
    (("01:01:01G", "15:12:01G", "01:03:01G", "03:01:01G", "03:01:01G"), 7e-5),
    (("02:01:01G", "08:01:01G", "01:03:01G", "03:01:01G", "03:01:01G"), 6e-5),
    (("02:01:01G", "15:12:01G", "04:01:01G", "03:01:01G", "03:01:01G"), 5e-5),
    (("02:01:01G", "15:12:01G", "01:03:01G", "06:04:01G", "03:01:01G"), 4e-5),
    (("02:01:01G", "15:12:01G", "01:03:01G", "03:01:01G", "11:06:01G"), 3e-5),
    (("02:01:01G", "15:12:01G", "01:03:01G", "03:01:01G", "03:01:01G"), 2e-5),
    (("11:03:01G", "08:01:01G", "03:05:01G", "02:01:01G", "11:06:01G"), 1e-5),
]
EX1_PATIENT = {
    "A": (("02:01:01G", "01:01:01G"), ("11:03:01G", "23:01:01G")),
    "B": (("15:12:01G", "08:01:01G"), "08:01:01G"),
    "C": (("01:03:01G", "04:01:01G"), "03:05:01G"),
    "DQB1": (("03:01:01G", "06:04:01G"), "02:01:01G"),
    "DRB1": (("03:01:01G", "11:06:01G"), "11:06:01G"),
}
EX1_DONOR = {
    "A": ("02:01:01G", "11:03:01G"),
    "B": ("15:12:01G", "08:01:01G"),
    "C": ("01:03:01G", "03:05:01G"),
    "DQB1": ("03:01:01G", "02:01:01G"),
    "DRB1": ("03:01:01G", "11:06:01G"),
}


def close(value: float | None, exact: Fraction) -> bool:
    """Equal to the exact fraction up to double rounding (a few ulps)."""
    return value is not None and abs(Fraction(value) - exact) <= Fraction(1, 10**15) * max(1, abs(exact))


def predict(hfset_p, patient, donor, loci=LOCI, hfset_d=None) -> MatchProbabilities:  # type: ignore[no-untyped-def]
    dp = impute(patient, hfset_p, loci)
    dd = impute(donor, hfset_d or hfset_p, loci)
    overall, per_locus = mismatch_distributions(dp, [dd])
    return assemble(loci, overall[0], per_locus[0], summarise(dp, None), summarise(dd, None))


def test_example1_patient_imputation() -> None:
    hs = group_set(EX1_ROWS)
    dist = impute(subject(EX1_PATIENT), hs, LOCI)
    assert not dist.shortcut
    assert len(dist.pairs) == 12
    # Likelihoods in units of 1e-10, ranked: H1+H2 112, H1+H3 96, ..., H7+H8 4 (12 diplotypes, Σ = 486).
    expected = sorted([112, 96, 80, 64, 48, 32, 14, 12, 10, 8, 6, 4], reverse=True)
    assert [round(x * 1e10, 9) for x in dist.likelihoods] == expected
    assert (
        close(dist.total_likelihood, Fraction(486, 10**10) * Fraction(10**10) / 10**10)
        or abs(dist.total_likelihood - 4.86e-8) < 1e-22
    )
    assert dist.kept_mass == pytest.approx(1.0, abs=1e-15)


def test_example1_donor_imputation_without_shortcut() -> None:
    hs = group_set(EX1_ROWS)
    donor = replace(subject(EX1_DONOR), shortcut=None)
    dist = impute(donor, hs, LOCI)
    assert len(dist.pairs) == 1
    names = [hs.groups[0][hs.codes[i, 0]] for i in dist.pairs[0]]
    assert sorted(names) == ["A*02:01:01G", "A*11:03:01G"]  # H7 + H8
    assert dist.likelihoods[0] == pytest.approx(4e-10, rel=1e-15)


@pytest.mark.parametrize("shortcut", [True, False])
def test_example1_probabilities(shortcut: bool) -> None:
    hs = group_set(EX1_ROWS)
    donor = subject(EX1_DONOR) if shortcut else replace(subject(EX1_DONOR), shortcut=None)
    r = predict(hs, subject(EX1_PATIENT), donor)
    assert r.p_mismatch is not None
    assert close(r.p_mismatch[0], Fraction(2, 243))
    assert close(r.p_mismatch[1], Fraction(41, 243))
    assert close(r.p_mismatch[2], Fraction(200, 243))
    assert r.p_mismatch[3] == 0
    assert r.p_mismatch[4] == 0
    assert r.p_mismatch_more == 0
    # The spec's decimals, to the digits it gives.
    assert round(r.p_mismatch[0], 17) == 0.00823045267489712
    assert round(r.p_mismatch[1], 15) == 0.168724279835391
    assert round(r.p_mismatch[2], 15) == 0.823045267489712
    expected = {
        "A": (Fraction(20, 243), Fraction(167, 243), Fraction(56, 243)),
        "B": (Fraction(7, 9), Fraction(2, 9), Fraction(0)),
        "C": (Fraction(22, 27), Fraction(5, 27), Fraction(0)),
        "DQB1": (Fraction(23, 27), Fraction(4, 27), Fraction(0)),
        "DRB1": (Fraction(8, 9), Fraction(1, 9), Fraction(0)),
    }
    for locus, fractions in expected.items():
        got = r.per_locus[locus].p_mismatch
        assert got is not None
        assert all(close(g, f) for g, f in zip(got, fractions, strict=True)), locus
    assert r.percentages is not None
    assert r.percentages[:3] == (1, 17, 82)
    assert r.overall_category == "Potential"
    assert r.per_locus["A"].category == "Potential"
    assert r.per_locus["A"].positional_categories == ("Potential", "Potential")
    for locus in ("B", "C", "DQB1", "DRB1"):
        assert r.per_locus[locus].category == "Potential"
        assert r.per_locus[locus].positional_categories == ("Potential", "Exact")
    assert (r.predicted_exact_count, r.predicted_potential_count, r.predicted_match_count) == (4, 6, 10)


def test_example1_variant_untyped_loci_are_imputed() -> None:
    hs = group_set([row for k, row in enumerate(EX1_ROWS) if k not in (3, 4)])  # minus H4, H5
    patient = {k: v for k, v in EX1_PATIENT.items() if k != "DQB1"}
    donor = {k: v for k, v in EX1_DONOR.items() if k != "C"}
    r = predict(hs, subject(patient), subject(donor))
    assert r.p_mismatch is not None
    assert close(r.p_mismatch[0], Fraction(1, 81))
    assert close(r.p_mismatch[1], Fraction(16, 81))
    assert close(r.p_mismatch[2], Fraction(64, 81))
    expected = {
        "A": (Fraction(11, 162), Fraction(95, 162), Fraction(28, 81)),
        "B": (Fraction(2, 3), Fraction(1, 3), Fraction(0)),
        "C": (Fraction(1), Fraction(0), Fraction(0)),
        "DQB1": (Fraction(1), Fraction(0), Fraction(0)),
        "DRB1": (Fraction(5, 6), Fraction(1, 6), Fraction(0)),
    }
    for locus, fractions in expected.items():
        got = r.per_locus[locus].p_mismatch
        assert got is not None
        assert all(close(g, f) for g, f in zip(got, fractions, strict=True)), locus


EX2_ROWS = [
    (("01:01g", "08:01g", "07:01g", "02:01g", "03:01g"), 0.40),
    (("03:01g", "07:02g", "07:02g", "06:02g", "15:01g"), 0.30),
    (("02:01g", "07:02g", "07:02g", "06:02g", "15:01g"), 0.20),
    (("02:01g", "44:02g", "05:01g", "03:01g", "04:01g"), 0.10),
]
EX2_PATIENT = {
    "A": ("01:01g", "03:01g"),
    "B": ("08:01g", "07:02g"),
    "C": ("07:01g", "07:02g"),
    "DRB1": ("03:01g", "15:01g"),
}
EX2_DONOR = {
    "A": (("01:01g", "02:01g"), ("02:01g", "03:01g")),
    "B": (("08:01g", "07:02g"), "07:02g"),
    "DRB1": (("03:01g", "15:01g"), "15:01g"),
}


def test_example2_ten_of_ten() -> None:
    hs = group_set(EX2_ROWS, category="small_g")
    dp = impute(subject(EX2_PATIENT), hs, LOCI)
    assert not dp.shortcut  # DQB1 untyped
    assert len(dp.pairs) == 1
    assert dp.likelihoods[0] == pytest.approx(0.24, rel=1e-15)
    dd = impute(subject(EX2_DONOR), hs, LOCI)
    assert [round(x, 12) for x in dd.likelihoods] == [0.24, 0.16, 0.12, 0.04]
    assert dd.total_likelihood == pytest.approx(0.56, rel=1e-15)
    homozygous = dd.pairs[3]
    assert homozygous[0] == homozygous[1]  # K3+K3, factor 1
    r = predict(hs, subject(EX2_PATIENT), subject(EX2_DONOR))
    assert r.p_mismatch is not None
    assert r.p_mismatch_more is not None
    assert close(r.p_mismatch[0], Fraction(3, 7))
    assert close(r.p_mismatch[1], Fraction(2, 7))
    assert r.p_mismatch[2:] == (0.0, 0.0, 0.0)
    assert close(r.p_mismatch_more, Fraction(2, 7))
    assert close(sum(r.p_mismatch[:3]), Fraction(5, 7))  # the Atlas-style report hides 2/7
    a = r.per_locus["A"].p_mismatch
    assert a is not None
    assert all(close(g, f) for g, f in zip(a, (Fraction(3, 7), Fraction(1, 2), Fraction(1, 14)), strict=True))
    for locus in ("B", "C", "DQB1", "DRB1"):
        got = r.per_locus[locus].p_mismatch
        assert got is not None
        assert all(close(g, f) for g, f in zip(got, (Fraction(5, 7), Fraction(2, 7), Fraction(0)), strict=True))
    assert r.percentages is not None
    assert r.percentages[:3] == (43, 29, 0)
    assert r.overall_category == "Potential"


def test_example2_eight_of_eight_uses_the_shortcut() -> None:
    hs = group_set(EX2_ROWS, category="small_g")
    loci = ("A", "B", "C", "DRB1")
    dp = impute(subject(EX2_PATIENT), hs, loci)
    assert dp.shortcut
    assert dp.kept_mass == 1.0
    r = predict(hs, subject(EX2_PATIENT), subject(EX2_DONOR), loci=loci)
    assert r.p_mismatch is not None
    assert r.p_mismatch_more is not None
    expected = (Fraction(3, 7), Fraction(2, 7), Fraction(0), Fraction(0), Fraction(3, 14))
    assert all(close(g, f) for g, f in zip(r.p_mismatch, expected, strict=True))
    assert close(r.p_mismatch_more, Fraction(1, 14))
    assert close(sum(r.p_mismatch), Fraction(13, 14))  # P(≤ 4 mismatches) for a cord 4/8 search


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.285, 28),
        (0.295, 30),
        (0.005, 0),
        (0.015, 2),
        (0.0049, 0),
        (0.0051, 1),
        (0.995, 100),
        (0.9949, 99),
        (1.0, 100),
    ],
)
def test_percentage_rounds_half_to_even_like_dotnet(p: float, expected: int) -> None:
    """§6: decimal × 100, round-half-to-even (0.285 → 28.5 → 28; 0.295 → 29.5 → 30), both sides of each half."""
    assert percentage(p) == expected


def test_locus_category_thresholds_both_sides() -> None:
    assert locus_category(0.995) == "Exact"  # 99.5 → 100 (half to even)
    assert locus_category(0.9949) == "Potential"
    assert locus_category(0.005) == "Mismatch"  # 0.5 → 0
    assert locus_category(0.0051) == "Potential"


def test_positional_categories_table_and_orientation() -> None:
    assert positional_categories("Exact", 0.0) == ("Exact", "Exact")
    assert positional_categories("Mismatch", 0.996) == ("Mismatch", "Mismatch")
    assert positional_categories("Mismatch", 0.004) == ("Mismatch", "Exact")
    assert positional_categories("Mismatch", 0.5) == ("Mismatch", "Potential")
    assert positional_categories("Potential", 0.004) == ("Potential", "Exact")
    assert positional_categories("Potential", 0.006) == ("Potential", "Potential")
    # Re-oriented so that the position scoring calls a mismatch gets the worse category (Atlas #996).
    assert orient(("Potential", "Exact"), (False, True)) == ("Exact", "Potential")
    assert orient(("Potential", "Exact"), (True, False)) == ("Potential", "Exact")
    assert orient(("Potential", "Exact"), (False, False)) == ("Potential", "Exact")
