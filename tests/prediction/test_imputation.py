"""Imputation and prediction at release 3.58.0 with the NMDP 2007 sets (§§3, 4, 5.1, 8.3)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.hla.frequencies import HFSet
from graftwise.prediction import GroupScheme, HFSetStore, Predictor, convert_set, impute, mismatch_distributions
from graftwise.prediction.hfsets import Category
from graftwise.prediction.imputation import unphased_genotypes

from .helpers import HIGH_RES, LOW_RES, group_set, subject


def test_unambiguous_subject_takes_the_shortcut_even_when_absent_from_the_set(predictor: Predictor) -> None:
    rare = {**HIGH_RES, "A": ["A*80:01", "A*02:01"]}  # A*80:01 is in no EUR 2007 haplotype
    imp = predictor.impute(rare, None, "EUR")
    assert imp.distribution.shortcut
    assert imp.distribution.is_represented
    assert imp.distribution.kept_mass == 1.0
    assert imp.choice is not None
    assert imp.choice.step == "population"


def test_an_ambiguous_subject_with_an_allele_absent_from_the_set_is_unrepresented(predictor: Predictor) -> None:
    imp = predictor.impute({**LOW_RES, "A": ["A*80:01", "A*02:XX"]}, None, "EUR")
    assert imp.distribution.unrepresented == "allele_not_in_hf_set"
    assert "A*80:01" in imp.distribution.detail
    assert imp.choice is not None
    assert imp.choice.set.info.id == "NMDP_2007_FiveLocus_Freqs:EUR"  # the last (here the only) set tried
    assert imp.tried == ()


def test_new_and_unknown_alleles_are_unrepresented_with_their_reason(predictor: Predictor) -> None:
    assert predictor.impute({**LOW_RES, "B": ["NEW", "B7"]}, None, "EUR").distribution.unrepresented == "new_allele"
    # A*01:999 would now be substituted (§8.3 step 3); no A*80 allele is in the EUR set, so every step fails.
    unknown = predictor.impute({**LOW_RES, "A": ["A*80:999", "A2"]}, None, "EUR").distribution
    assert unknown.unrepresented == "allele_not_in_release"


def test_malformed_typings_are_validation_errors(predictor: Predictor) -> None:
    with pytest.raises(ValidationError, match="DPA1"):
        predictor.impute({**LOW_RES, "DPA1": ["DPA1*01:03", "DPA1*01:03"]}, None, "EUR")
    with pytest.raises(ValidationError, match="two position"):
        predictor.impute({**LOW_RES, "A": ["A*01:01"]}, None, "EUR")
    with pytest.raises(ValidationError, match="locus A"):
        predictor.impute({**LOW_RES, "A": ["B*08:01", "A*01:01"]}, None, "EUR")
    with pytest.raises(ValidationError):
        predictor.impute({**LOW_RES, "A": ["A*01:QQQQ", "A*01:01"]}, None, "EUR")


def test_low_resolution_imputation_is_normalised_and_ranked(predictor: Predictor) -> None:
    dist = predictor.impute(LOW_RES, None, "EUR").distribution
    assert not dist.shortcut
    assert dist.kept_mass == pytest.approx(1.0, abs=1e-12)
    assert abs(dist.weights.sum() - 1) < 1e-12
    assert (dist.likelihoods[:-1] >= dist.likelihoods[1:]).all()
    hs = dist.hfset
    assert hs is not None
    # The most likely diplotype carries the A1-B8-DR3 ancestral haplotype.
    top = {hs.groups[li][hs.codes[int(dist.pairs[0][0]), li]] for li in range(len(hs.loci))}
    top |= {hs.groups[li][hs.codes[int(dist.pairs[0][1]), li]] for li in range(len(hs.loci))}
    assert {"A*01:01", "B*08:01", "DRB1*03:01"} <= top


def test_truncation_reports_kept_mass_and_normalises_over_kept(
    nom: Nomenclature, schemes: dict[Category, GroupScheme], nmdp_store: HFSetStore
) -> None:
    typing = {"A": ["A2", "A24"], "B": ["B44", "B35"], "DRB1": ["DR4", "DR11"]}
    full = Predictor(nom, nmdp_store, max_diplotypes=None, schemes=schemes).impute(typing, None, "EUR").distribution
    cut = Predictor(nom, nmdp_store, max_diplotypes=50, schemes=schemes).impute(typing, None, "EUR").distribution
    assert len(full.pairs) > 50
    assert len(cut.pairs) == 50
    assert cut.total_likelihood == pytest.approx(full.total_likelihood, rel=1e-12)
    assert cut.kept_mass == pytest.approx(full.likelihoods[:50].sum() / full.total_likelihood, rel=1e-12)
    assert cut.kept_mass is not None
    assert cut.kept_mass < 1
    assert abs(cut.weights.sum() - 1) < 1e-12  # the normaliser is the kept likelihood (Atlas-compatible)
    adaptive_predictor = Predictor(nom, nmdp_store, max_diplotypes=50, target_mass=0.999, schemes=schemes)
    adaptive = adaptive_predictor.impute(typing, None, "EUR")
    assert adaptive.distribution.kept_mass is not None
    assert adaptive.distribution.kept_mass >= 0.999


def test_fallback_to_a_less_specific_set_is_recorded(
    nom: Nomenclature, schemes: dict[Category, GroupScheme], nmdp_store: HFSetStore
) -> None:
    # A registry set that lacks the subject's B alleles; the EUR population set is the fallback.
    small = HFSet(
        "registry-set",
        "grimm",
        "two_field",
        None,
        ("A", "C", "B", "DRB1", "DQB1"),
        (("A*01:01", "C*07:01", "B*44:02", "DRB1*03:01", "DQB1*02:01"),),
        (0.5,),
        registries=("R1",),
    )
    store = HFSetStore()
    store.add(convert_set(small, nom, schemes["lgx"]))
    for s in nmdp_store.by_population.values():
        store.add(s)
    predictor = Predictor(nom, store, schemes=schemes)
    imp = predictor.impute(LOW_RES, "R1", "EUR")
    assert imp.distribution.is_represented
    assert imp.choice is not None
    assert imp.choice.step == "population"
    assert imp.tried == (("registry-set", "allele_not_in_hf_set"),)
    assert imp.hf_set() is not None
    assert imp.hf_set()["fallback_step"] == "population"  # type: ignore[index]
    assert imp.hf_set()["fallback"]["step"] == 1  # type: ignore[index]  # §8.3 step 1: the next set
    # Unrepresented in every set: the last set tried is reported, with the ones tried before it.
    nowhere = predictor.impute({**LOW_RES, "A": ["A*80:01", "A*02:XX"]}, "R1", "EUR")
    assert nowhere.distribution.unrepresented == "allele_not_in_hf_set"
    assert nowhere.choice is not None
    assert nowhere.choice.step == "population"
    assert nowhere.tried == (("registry-set", "allele_not_in_hf_set"),)


def test_identical_high_resolution_pair_is_a_certain_match(predictor: Predictor) -> None:
    r = predictor.predict(HIGH_RES, HIGH_RES, patient_keys=(None, "EUR"), donor_keys=(None, "EUR"))
    assert r.p_mismatch == (1.0, 0.0, 0.0, 0.0, 0.0)
    assert r.overall_category == "Exact"
    assert r.predicted_match_count == 10
    assert r.predicted_exact_count == 10


def test_low_resolution_donor_against_high_resolution_patient(predictor: Predictor) -> None:
    r = predictor.predict(HIGH_RES, LOW_RES, patient_keys=(None, "EUR"), donor_keys=(None, "EUR"))
    assert r.p_mismatch is not None
    assert r.p_mismatch_more is not None
    assert abs(sum(r.p_mismatch) + r.p_mismatch_more - 1) < 1e-12
    assert 0.9 < r.p_mismatch[0] < 1
    assert r.overall_category == "Potential"
    for locus, lp in r.per_locus.items():
        assert lp.p_mismatch is not None
        assert abs(sum(lp.p_mismatch) - 1) < 1e-12, locus
    assert r.donor.kept_mass == pytest.approx(1.0, abs=1e-12)


def test_unrepresented_donor_nulls_every_probability(predictor: Predictor) -> None:
    r = predictor.predict(
        HIGH_RES, {**LOW_RES, "B": ["NEW", "B7"]}, patient_keys=(None, "EUR"), donor_keys=(None, "EUR")
    )
    assert r.p_mismatch is None
    assert r.p_mismatch_more is None
    assert r.predicted_match_count is None
    assert r.overall_category is None
    assert r.donor.unrepresented
    assert r.donor.unrepresented_reason == "new_allele"
    assert all(lp.category is None for lp in r.per_locus.values())


def test_eight_of_eight_marginalises_dqb1(
    nom: Nomenclature, schemes: dict[Category, GroupScheme], nmdp_store: HFSetStore
) -> None:
    p8 = Predictor(nom, nmdp_store, loci=("A", "B", "C", "DRB1"), schemes=schemes)
    r = p8.predict(HIGH_RES, LOW_RES, patient_keys=(None, "EUR"), donor_keys=(None, "EUR"))
    assert set(r.per_locus) == {"A", "B", "C", "DRB1"}
    assert r.patient.shortcut


def test_predictor_rejects_unpredictable_loci(
    nom: Nomenclature, schemes: dict[Category, GroupScheme], nmdp_store: HFSetStore
) -> None:
    with pytest.raises(ValidationError, match="DPB1"):
        Predictor(nom, nmdp_store, loci=("A", "B", "DPB1"), schemes=schemes)


def test_many_donors_share_one_computation_per_distinct_typing(predictor: Predictor) -> None:
    donors = [LOW_RES, HIGH_RES, LOW_RES, {**LOW_RES, "B": ["NEW", "B7"]}]
    results = predictor.predict_many(HIGH_RES, donors, patient_keys=(None, "EUR"), donor_keys=[(None, "EUR")] * 4)
    assert results[0] is results[2]
    single = predictor.predict(HIGH_RES, LOW_RES, patient_keys=(None, "EUR"), donor_keys=(None, "EUR"))
    assert results[0].p_mismatch == single.p_mismatch
    assert results[1].p_mismatch == (1.0, 0.0, 0.0, 0.0, 0.0)
    assert results[3].p_mismatch is None


def test_null_position_counts_as_its_expressing_partner() -> None:
    """§5.1 / matching.md §3.3: a patient A*03:01, null is homozygous 03:01 for counting."""
    rows = [(("03:01", "07:02"), 0.5), (("01:11N", "08:01"), 0.5)]
    loci = ("A", "B")
    hs = group_set(rows, loci=loci, p_keys={"A*01:11N": "null:A*01:11N"})
    assert hs.vocab.is_null["A"].sum() == 1
    null_key = {"A*01:11N": "null:A*01:11N"}
    patient = impute(subject({"A": ("03:01", "01:11N"), "B": ("07:02", "08:01")}, null_key), hs, loci)
    donor_homozygous = impute(subject({"A": ("03:01", "03:01"), "B": ("07:02", "08:01")}), hs, loci)
    overall, per_locus = mismatch_distributions(patient, [donor_homozygous])
    assert per_locus[0, 0, 0] == 1.0  # A: 0 mismatches
    assert overall[0, 0] == 1.0
    assert Fraction(1) == Fraction(float(overall[0].sum()))
    # Without the substitution the patient would be 03:01 + null, one mismatch against 03:01 + 03:01.
    donor_other = impute(subject({"A": ("01:11N", "01:11N"), "B": ("07:02", "08:01")}, null_key), hs, loci)
    _, per_locus_other = mismatch_distributions(patient, [donor_other])
    assert per_locus_other[0, 0, 2] == 1.0  # 03:01 (twice) against a double null: both positions mismatch


def test_impute_many_equals_impute_one_by_one(
    nom: Nomenclature, schemes: dict[Category, GroupScheme], nmdp_store: HFSetStore
) -> None:
    typings = [
        HIGH_RES,
        LOW_RES,
        {**LOW_RES, "B": ["NEW", "B7"]},
        {**LOW_RES, "A": ["A*80:01", "A*02:XX"]},
        {"A": ["A2", "A24"], "B": ["B44", "B35"], "DRB1": ["DR4", "DR11"]},
        LOW_RES,
    ]
    keys: list[tuple[str | None, str | None]] = [(None, "EUR")] * len(typings)
    many = Predictor(nom, nmdp_store, schemes=schemes).impute_many(typings, keys)
    one = Predictor(nom, nmdp_store, schemes=schemes)
    for typing, got in zip(typings, many, strict=True):
        want = one.impute(typing, None, "EUR")
        assert got.distribution.unrepresented == want.distribution.unrepresented
        assert got.distribution.shortcut == want.distribution.shortcut
        assert unphased_genotypes(got.distribution) == unphased_genotypes(want.distribution)
        assert got.distribution.kept_mass == want.distribution.kept_mass
    assert many[1] is many[5]


def test_truncation_parameters_are_validated() -> None:
    hs = group_set([(("01", "01"), 0.5), (("02", "02"), 0.5)], loci=("A", "B"))
    subj = subject({"A": ("01", "02")})
    with pytest.raises(ValidationError, match="max_diplotypes"):
        impute(subj, hs, ("A", "B"), max_diplotypes=0)
    with pytest.raises(ValidationError, match="target_mass"):
        impute(subj, hs, ("A", "B"), target_mass=1.5)
    with pytest.raises(ValidationError, match="target_mass"):
        impute(subj, hs, ("A", "B"), target_mass=0.0)
    assert impute(subj, hs, ("A", "B"), max_diplotypes=1, target_mass=1.0).kept_mass == 1.0
