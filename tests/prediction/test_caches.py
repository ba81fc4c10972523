"""The caches that make a cold prediction fast must not change any result."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from graftwise.hla import Nomenclature
from graftwise.prediction import GroupScheme
from graftwise.prediction.hfsets import Category


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
