"""The caches that make a cold prediction fast must not change any result."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from graftwise.hla import Nomenclature
from graftwise.prediction import GroupScheme, build_schemes
from graftwise.prediction.hfsets import Category
from graftwise.prediction.probabilities import percentage, percentages


def test_small_g_read_back_from_the_compiled_cache(
    nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFTWISE_CACHE", str(tmp_path))
    built = Nomenclature(nom.tables, nom.macs)
    assert not list(tmp_path.rglob("small-g-*.pickle"))
    groups, of = built.small_g_groups, built.small_g_of
    [path] = tmp_path.rglob("small-g-*.pickle")
    assert path.name == f"small-g-{nom.tables.digest}.pickle"
    reread = Nomenclature(nom.tables, nom.macs)
    assert reread.small_g_groups == groups == nom._build_small_g_groups()
    assert reread.small_g_of == of == {a: g for g, members in groups.items() for a in members}
    own = {id(a) for a in nom.tables.alleles}
    assert all(id(a) in own for a in reread.small_g_of)
    assert all(id(a) in own for members in reread.small_g_groups.values() for a in members)


def test_small_g_without_a_digest_is_built_and_not_cached(
    nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = nom.small_g_groups
    monkeypatch.setenv("GRAFTWISE_CACHE", str(tmp_path))
    plain = Nomenclature(dataclasses.replace(nom.tables, digest=""), nom.macs)
    assert plain.small_g_groups == expected
    assert not list(tmp_path.rglob("*.pickle"))


@pytest.mark.parametrize("category", ["lgx", "G", "small_g"])
def test_scheme_groups_of_equals_the_per_allele_maps(
    schemes: dict[Category, GroupScheme], nom: Nomenclature, category: Category
) -> None:
    scheme = schemes[category]
    for token in ("A*02:XX", "B*07:02", "DRB1*03:01", "A*01:AB", "DQB1*06:XX"):
        alleles = nom.typing(token, lenient=True).alleles
        assert scheme.groups_of(alleles) == (
            frozenset(scheme.group_of[a] for a in alleles),
            frozenset(scheme.small_g_of[a] for a in alleles),
        )
    # a name outside the scheme stands for itself
    assert scheme.groups_of(frozenset({"A*99:99:99"})) == (frozenset({"A*99:99:99"}), frozenset({"A*99:99:99"}))


def test_scheme_groups_of_many_equals_one_at_a_time(schemes: dict[Category, GroupScheme], nom: Nomenclature) -> None:
    scheme = schemes["lgx"]
    sets = [nom.typing(t, lenient=True).alleles for t in ("A*02:XX", "A*01:AB", "B*07:02", "A*02:XX", "DRB1*04:XX")]
    expected = [(frozenset(scheme.group_of[a] for a in s), frozenset(scheme.small_g_of[a] for a in s)) for s in sets]
    assert scheme.groups_of_many(sets) == expected
    assert scheme.groups_of_many([]) == []
    odd = frozenset({"A*99:99:99", "A*01:01:01:01"})
    assert scheme.groups_of_many([sets[2], odd]) == [
        expected[2],
        (frozenset({"A*99:99:99", scheme.group_of["A*01:01:01:01"]}), frozenset({"A*99:99:99", "A*01:01g"})),
    ]


@pytest.mark.parametrize(
    "p",
    [0.0, 1.0, 0.285, 0.125, 0.005, 0.015, 0.994999999, 0.995, 0.5, 1e-17, 0.7349999999999999, 0.99999999],
)
def test_percentages_equal_percentage(p: float) -> None:
    values = np.array([[p, 1 - p], [p / 2, p]])
    assert percentages(values).tolist() == [[percentage(float(v)) for v in row] for row in values]


def test_percentages_of_nan_is_zero() -> None:
    assert percentages(np.array([np.nan, 0.5])).tolist() == [0, 50]


def test_schemes_read_back_from_the_compiled_cache(
    nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFTWISE_CACHE", str(tmp_path))
    built = build_schemes(nom, ("lgx", "small_g"))
    [path] = tmp_path.rglob("schemes-*.pickle")
    assert path.name.endswith(f"-{nom.tables.digest}.pickle")
    reread = build_schemes(nom, ("lgx", "small_g"))
    assert reread.keys() == built.keys()
    for category, scheme in reread.items():
        fresh = built[category]
        assert scheme.group_of == fresh.group_of
        assert scheme.small_g_of == fresh.small_g_of
        assert scheme.p_key_of_group == fresh.p_key_of_group
        assert scheme.p_key_of_small_g == fresh.p_key_of_small_g
        assert scheme.vocab.names == fresh.vocab.names
        # keyed by the release tables' own name objects (bulk lookups hit on identity)
        own = {id(a) for a in nom.tables.alleles}
        assert all(id(a) in own for a in scheme.group_of)
    other = build_schemes(nom, ("G",))
    assert set(other) == {"G"}
    assert len(list(tmp_path.rglob("schemes-*.pickle"))) == 2


def test_schemes_without_a_digest_are_not_cached(
    nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = Nomenclature(dataclasses.replace(nom.tables, digest=""), nom.macs)
    plain.__dict__["_small_g"] = (nom.small_g_groups, nom.small_g_of)
    monkeypatch.setenv("GRAFTWISE_CACHE", str(tmp_path))
    assert build_schemes(plain, ("lgx",))["lgx"].group_of == build_schemes(nom, ("lgx",))["lgx"].group_of
    assert [p.name for p in tmp_path.rglob("*.pickle")] == [p.name for p in tmp_path.rglob("schemes-v*-lgx.*")]
