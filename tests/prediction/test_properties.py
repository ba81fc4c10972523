"""Property tests against a naive reference (§4 and §5.2 written out as plain loops over every pair)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.prediction import GroupedHFSet, SubjectGroups, impute, mismatch_distributions
from graftwise.prediction.imputation import impute_batch

from .helpers import group_set, subject

LOCI3 = ("A", "B", "DRB1")
ALPHABET = ("01", "02", "03")


@st.composite
def hf_rows(draw: st.DrawFn) -> list[tuple[tuple[str, ...], float]]:
    haps = draw(st.lists(st.tuples(*[st.sampled_from(ALPHABET)] * 3), min_size=2, max_size=8, unique=True))
    freqs = draw(st.lists(st.integers(1, 50), min_size=len(haps), max_size=len(haps)))
    return [(h, f / 100) for h, f in zip(haps, freqs, strict=True)]


position = st.one_of(st.none(), st.sets(st.sampled_from(ALPHABET), min_size=1, max_size=2))


@st.composite
def typings(draw: st.DrawFn) -> dict[str, tuple[object, object]]:
    out: dict[str, tuple[object, object]] = {}
    for locus in LOCI3:
        if draw(st.booleans()):
            out[locus] = (draw(position), draw(position))
    return out


def naive(hs: GroupedHFSet, subj: SubjectGroups) -> dict[tuple[int, int], float]:
    """Every unordered pair (self-pairs included) consistent per locus in some phase, with its likelihood."""
    out = {}
    n = len(hs)
    for i, j in itertools.combinations_with_replacement(range(n), 2):
        ok = True
        for li, locus in enumerate(hs.loci):
            pair = subj.positions.get(locus)
            if pair is None:
                continue
            a, b = hs.groups[li][hs.codes[i, li]], hs.groups[li][hs.codes[j, li]]

            def fits(g: str, pos: frozenset[str] | None) -> bool:
                return pos is None or g in pos

            if not ((fits(a, pair[0]) and fits(b, pair[1])) or (fits(a, pair[1]) and fits(b, pair[0]))):
                ok = False
        if ok:
            out[(i, j)] = hs.freqs[i] * hs.freqs[j] * (2.0 if i != j else 1.0)
    return out


def naive_probabilities(
    hs: GroupedHFSet, p: Mapping[tuple[int, int], float], d: Mapping[tuple[int, int], float]
) -> np.ndarray:
    dist = np.zeros(2 * len(hs.loci) + 1)
    for (pi, pj), lp in p.items():
        for (di, dj), ld in d.items():
            m = 0
            for li in range(len(hs.loci)):
                a1, a2 = int(hs.codes[pi, li]), int(hs.codes[pj, li])
                b1, b2 = int(hs.codes[di, li]), int(hs.codes[dj, li])
                m += 2 - max(int(a1 == b1) + int(a2 == b2), int(a1 == b2) + int(a2 == b1))
            dist[m] += lp * ld
    return dist / (sum(p.values()) * sum(d.values()))


def _subject(t: dict[str, tuple[object, object]]) -> SubjectGroups:
    s = subject(t)  # type: ignore[arg-type]
    return SubjectGroups(s.positions, None)  # no shortcut: compare the imputation itself


@settings(max_examples=60, deadline=None)
@given(hf_rows(), typings(), typings())
def test_engine_equals_naive_double_sum(rows, pt, dt) -> None:  # type: ignore[no-untyped-def]
    hs = group_set(rows, loci=LOCI3)
    ps, ds = _subject(pt), _subject(dt)
    p_ref, d_ref = naive(hs, ps), naive(hs, ds)
    dp = impute(ps, hs, LOCI3, max_diplotypes=None)
    dd = impute(ds, hs, LOCI3, max_diplotypes=None)
    assert dp.is_represented == bool(p_ref)
    assert dd.is_represented == bool(d_ref)
    if not (p_ref and d_ref):
        return
    got = {(int(i), int(j)): float(x) for (i, j), x in zip(dp.pairs.tolist(), dp.likelihoods, strict=True)}
    assert got.keys() == p_ref.keys()
    assert all(abs(got[k] - p_ref[k]) <= 1e-15 for k in got)
    assert abs(dp.total_likelihood - sum(p_ref.values())) <= 1e-12
    overall, per_locus = mismatch_distributions(dp, [dd])
    ref = naive_probabilities(hs, p_ref, d_ref)
    assert np.allclose(overall[0, :5], ref[:5], atol=1e-12)
    assert abs(overall[0, 5] - ref[5:].sum()) <= 1e-12
    # §5.2: overall and per-locus distributions sum to 1.
    assert abs(overall[0].sum() - 1) <= 1e-12
    assert np.allclose(per_locus[0].sum(axis=1), 1, atol=1e-12)
    # Symmetry: swapping patient and donor leaves the mismatch distributions unchanged.
    back, back_locus = mismatch_distributions(dd, [dp])
    assert np.allclose(back, overall, atol=1e-12)
    assert np.allclose(back_locus, per_locus, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(hf_rows(), typings(), st.integers(1, 6))
def test_truncation_keeps_the_top_diplotypes_and_reports_their_mass(rows, pt, n) -> None:  # type: ignore[no-untyped-def]
    hs = group_set(rows, loci=LOCI3)
    subj = _subject(pt)
    full = impute(subj, hs, LOCI3, max_diplotypes=None)
    cut = impute(subj, hs, LOCI3, max_diplotypes=n)
    if not full.is_represented:
        assert not cut.is_represented
        return
    assert len(cut.pairs) == min(n, len(full.pairs))
    assert np.allclose(cut.likelihoods, full.likelihoods[: len(cut.pairs)], rtol=1e-15)
    assert cut.total_likelihood == full.total_likelihood
    expected = full.likelihoods[: len(cut.pairs)].sum() / full.total_likelihood
    assert cut.kept_mass is not None
    assert abs(cut.kept_mass - min(1.0, expected)) <= 1e-12
    assert (cut.kept_mass < 1 - 1e-12) == (len(cut.pairs) < len(full.pairs))


@settings(max_examples=40, deadline=None)
@given(hf_rows())
def test_identical_fully_typed_subjects_have_p0_one(rows) -> None:  # type: ignore[no-untyped-def]
    hs = group_set(rows, loci=LOCI3)
    h1, h2 = rows[0][0], rows[-1][0]
    typing = {locus: (h1[i], h2[i]) for i, locus in enumerate(LOCI3)}
    dist = impute(subject(typing), hs, LOCI3)
    assert dist.shortcut
    overall, per_locus = mismatch_distributions(dist, [dist])
    assert overall[0, 0] == 1.0
    assert (per_locus[0, :, 0] == 1.0).all()


@settings(max_examples=40, deadline=None)
@given(hf_rows(), st.lists(typings(), min_size=1, max_size=6), st.one_of(st.none(), st.integers(1, 5)))
def test_batch_imputation_equals_one_by_one(rows, many, limit) -> None:  # type: ignore[no-untyped-def]
    hs = group_set(rows, loci=LOCI3)
    subjects = [_subject(t) for t in many]
    batch = impute_batch(subjects, hs, LOCI3, max_diplotypes=limit)
    for subj, got in zip(subjects, batch, strict=True):
        want = impute(subj, hs, LOCI3, max_diplotypes=limit)
        assert got.unrepresented == want.unrepresented
        if not want.is_represented:
            continue
        assert abs(got.total_likelihood - want.total_likelihood) <= 1e-15 * want.total_likelihood * len(rows)
        assert np.array_equal(np.sort(got.likelihoods), np.sort(want.likelihoods))
        if limit is None:
            assert np.array_equal(got.pairs, want.pairs)
            assert np.array_equal(got.genotypes, want.genotypes)
            assert np.allclose(got.weights, want.weights, rtol=1e-14)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=4, max_size=4), min_size=1, max_size=40))
def test_unique_rows_equals_numpy_unique_including_on_hash_collisions(rows) -> None:  # type: ignore[no-untyped-def]
    import graftwise.prediction.imputation as imputation

    a = np.array(rows, dtype=np.int64)
    want, want_inverse = np.unique(a, axis=0, return_inverse=True)
    got, inverse = imputation._unique_rows(a)
    assert np.array_equal(got, want)
    assert np.array_equal(inverse, want_inverse.reshape(-1))
    saved = imputation._ROW_HASH
    imputation._ROW_HASH = np.zeros_like(saved)  # every row collides: the exact fallback must take over
    try:
        got, inverse = imputation._unique_rows(a)
    finally:
        imputation._ROW_HASH = saved
    assert np.array_equal(got, want)
    assert np.array_equal(inverse, want_inverse.reshape(-1))
