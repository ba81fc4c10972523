"""HF sets in a release's groups (§2.3), name validation, and selection (§3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from graftwise.data import DataRoot
from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.hla.frequencies import HFSet, HFSetError, read_atlas, read_grimm
from graftwise.prediction import GroupScheme, HFSetStore, convert_set
from graftwise.prediction.hfsets import Category, comparison_category, read_hf_file

from .helpers import group_set

HF = Path("haplotype-frequencies")


def test_nmdp_2007_eur_converts_at_lgx(nmdp_store: HFSetStore) -> None:
    eur = nmdp_store.by_population["EUR"]
    assert len(eur) == 3380
    assert eur.info.category == "lgx"
    assert eur.info.release == "3.58.0"
    assert eur.loci == ("A", "C", "B", "DRB1", "DQB1")
    assert abs(eur.freqs.sum() - eur.info.total_mass) < 1e-12  # frequencies stored exactly as given
    # The 2007 lowercase g is stripped: A*01:01g is compared as lgx A*01:01.
    assert "A*01:01" in eur.groups[0]
    assert not any(g.endswith("g") for gs in eur.groups for g in gs)
    assert set(nmdp_store.by_population) == {"AFA", "API", "EUR", "HIS"}


def test_grimm_example_equals_nmdp_eur(
    nom: Nomenclature, schemes: dict[Category, GroupScheme], data_root: DataRoot
) -> None:
    grimm = convert_set(read_grimm(data_root.path / HF / "grimm-example/CAU.freqs.gz"), nom, schemes["lgx"])
    eur = read_hf_file(data_root.path / HF / "nmdp-2007/NMDP_2007_FiveLocus_Freqs.csv", population="EUR")[0]
    eur_set = convert_set(eur, nom, schemes["lgx"])
    as_dict = lambda s: {  # noqa: E731
        tuple(s.groups[li][c] for li, c in enumerate(row)): f for row, f in zip(s.codes.tolist(), s.freqs, strict=True)
    }
    assert as_dict(grimm) == pytest.approx(as_dict(eur_set))


def test_renamed_and_regrouped_names_convert_and_merge(
    nom: Nomenclature, schemes: dict[Category, GroupScheme], data_root: DataRoot
) -> None:
    # Encoded at 3.48.0 with small-g names A*43:01 and A*43:02N, which are one small-g group (A*43:01g) at 3.58.0.
    hf = read_atlas(data_root.path / HF / "atlas/hf-set-for-testing-transformer.json")
    converted = convert_set(hf, nom, schemes["small_g"])
    assert converted.info.source_release == "3.48.0"
    assert converted.info.release == "3.58.0"
    assert converted.info.merged_haplotypes == 1
    assert len(converted) == len(hf) - 1
    assert "A*43:01g" in converted.groups[0]
    assert abs(converted.freqs.sum() - hf.total_mass) < 1e-15


def test_lgx_name_regrouped_at_the_release(nom: Nomenclature, schemes: dict[Category, GroupScheme]) -> None:
    hf = HFSet("t", "grimm", "two_field", None, ("A", "C"), (("A*01:01", "C*15:20"),), (0.5,))
    converted = convert_set(hf, nom, schemes["lgx"])
    assert converted.groups[1] == ("C*15:27",)  # C*15:20 lies in the C*15:27 G group at 3.58.0


def test_g_group_set_names_are_valid(
    nom: Nomenclature, schemes: dict[Category, GroupScheme], data_root: DataRoot
) -> None:
    hf = read_atlas(data_root.path / HF / "atlas/initial-hf-set.json")
    converted = convert_set(hf, nom, schemes["G"])
    assert len(converted) == 301
    assert all(g in schemes["G"].p_key_of_group for gs in converted.groups for g in gs)


def _atlas(tmp_path: Path, name: str, category: str = "LargeGGroup") -> Path:
    row = {"a": name, "b": "08:01:01G", "c": "07:01:01G", "dqb1": "02:01:01G", "drb1": "03:01:01G", "frequency": 0.1}
    doc = {"nomenclatureVersion": "3580", "populationId": 1, "typingCategory": category, "frequencies": [row]}
    path = tmp_path / "set.json"
    path.write_text(json.dumps(doc))
    return path


def test_unknown_name_is_an_import_error_naming_it(
    nom: Nomenclature, schemes: dict[Category, GroupScheme], tmp_path: Path
) -> None:
    hf = read_atlas(_atlas(tmp_path, "99:99:99G"))
    with pytest.raises(HFSetError, match=r"haplotype 1.*A\*99:99:99G"):
        convert_set(hf, nom, schemes["G"])


def test_a_first_field_is_rejected(nom: Nomenclature, schemes: dict[Category, GroupScheme], tmp_path: Path) -> None:
    # A first field alone names no group in any category.
    with pytest.raises(HFSetError, match=r"A\*01\b"):
        convert_set(read_atlas(_atlas(tmp_path, "01")), nom, schemes["G"])


def test_scheme_must_match_the_set(nom: Nomenclature, schemes: dict[Category, GroupScheme], tmp_path: Path) -> None:
    hf = read_atlas(_atlas(tmp_path, "01:01:01G"))
    with pytest.raises(ValidationError, match="scheme"):
        convert_set(hf, nom, schemes["small_g"])
    assert comparison_category("g2007") == "lgx"
    assert comparison_category("small_g") == "small_g"


def test_read_hf_file_errors(tmp_path: Path, data_root: DataRoot) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        read_hf_file(tmp_path / "missing.json")
    other = tmp_path / "set.txt"
    other.write_text("x")
    with pytest.raises(ValidationError, match=r"\.json"):
        read_hf_file(other)
    with pytest.raises(ValidationError, match="NAM"):
        read_hf_file(data_root.path / HF / "nmdp-2007/NMDP_2007_FiveLocus_Freqs.csv", population="NAM")


def test_marginal_sums_haplotypes_agreeing_on_the_kept_loci() -> None:
    rows = [(("01", "01", "01"), 0.2), (("01", "01", "02"), 0.3), (("02", "01", "01"), 0.5)]
    hs = group_set(rows, loci=("A", "B", "DRB1"))
    m = hs.marginal(("B", "A"))
    got = {(m.groups[0][b], m.groups[1][a]): f for (b, a), f in zip(m.codes.tolist(), m.freqs, strict=True)}
    assert got == pytest.approx({("B*01", "A*01"): 0.5, ("B*01", "A*02"): 0.5})
    assert hs.marginal(("B", "A")) is m  # cached
    with pytest.raises(ValidationError, match="DQB1"):
        hs.marginal(("A", "DQB1"))


def _store() -> tuple[HFSetStore, dict[str, object]]:
    rows = [(("01", "01", "01"), 1.0)]
    sets = {
        "exact": group_set(rows, loci=("A", "B", "DRB1"), set_id="exact", registries=("R1",), ethnicities=("E1",)),
        "registry": group_set(rows, loci=("A", "B", "DRB1"), set_id="registry", registries=("R1",)),
        "population": group_set(rows, loci=("A", "B", "DRB1"), set_id="population", ethnicities=("EUR",)),
        "global": group_set(rows, loci=("A", "B", "DRB1"), set_id="global"),
    }
    store = HFSetStore()
    for s in sets.values():
        store.add(s)
    return store, sets  # type: ignore[return-value]


def test_selection_chain_order_and_steps() -> None:
    store, _ = _store()
    chain = store.chain("R1", "E1")
    assert [(c.set.info.id, c.step) for c in chain] == [
        ("exact", "exact"),
        ("registry", "registry_any_ethnicity"),
        ("global", "global"),
    ]
    assert [(c.set.info.id, c.step) for c in store.chain("R2", "CAU")] == [
        ("population", "population"),
        ("global", "global"),
    ]
    assert [c.step for c in store.chain(None, "NAM")] == ["global"]  # NAM has no 2007 set


def test_selection_without_any_set_is_an_error() -> None:
    with pytest.raises(ValidationError, match="no haplotype frequency set"):
        HFSetStore().chain("R1", "E1")


def test_a_multi_key_set_is_indexed_under_each_key_and_superseding_keeps_the_old() -> None:
    rows = [(("01", "01", "01"), 1.0)]
    multi = group_set(rows, loci=("A", "B", "DRB1"), set_id="m", registries=("R1", "R2"), ethnicities=("E1", "E2"))
    store = HFSetStore()
    store.add(multi)
    assert {k for k, v in store.by_key.items() if v is multi} == {
        ("R1", "E1"),
        ("R1", "E2"),
        ("R2", "E1"),
        ("R2", "E2"),
    }
    newer = group_set(rows, loci=("A", "B", "DRB1"), set_id="n", registries=("R1",), ethnicities=("E1",))
    store.add(newer)
    assert store.by_key[("R1", "E1")] is newer
    assert multi in store.superseded
    assert np.isclose(store.by_key[("R2", "E2")].freqs.sum(), 1.0)


def test_retired_names_follow_their_successor(nom: Nomenclature, schemes: dict[Category, GroupScheme]) -> None:
    """hla-nomenclature.md §3: A*11:53 was deleted ("Sequence identical") with successor A*11:02:01:01."""
    hf = HFSet(
        "old", "grimm", "two_field", None, ("A", "B"), (("A*11:53", "B*07:02"), ("A*11:02", "B*07:02")), (0.1, 0.2)
    )
    converted = convert_set(hf, nom, schemes["lgx"])
    assert converted.groups[0] == ("A*11:02",)
    assert len(converted) == 1  # both haplotypes are A*11:02~B*07:02 now: merged, frequencies summed
    assert converted.freqs[0] == pytest.approx(0.3)
    assert converted.info.merged_haplotypes == 1


def test_an_explicit_set_ends_every_chain() -> None:
    store, _ = _store()
    explicit = group_set([(("01", "01", "01"), 1.0)], loci=("A", "B", "DRB1"), set_id="explicit")
    store.explicit = explicit
    assert [(c.set.info.id, c.step) for c in store.chain("R9", "NAM")] == [
        ("global", "global"),
        ("explicit", "explicit"),
    ]
    only = HFSetStore(explicit=explicit)
    assert [c.step for c in only.chain(None, None)] == ["explicit"]


def test_every_group_has_one_p_key_at_3_58(nom: Nomenclature, schemes: dict[Category, GroupScheme]) -> None:
    from graftwise.hla.names import is_null_name

    for scheme in schemes.values():
        seen: dict[str, set[str]] = {}
        for allele, group in scheme.group_of.items():
            if not is_null_name(allele):
                seen.setdefault(group, set()).add(nom.p_group_of.get(allele, allele))
        assert all(len(keys) == 1 for keys in seen.values()), scheme.category
        assert all(scheme.p_key_of_group[g] in keys for g, keys in seen.items())
    # A null-only group has a null key: A*01:11N shares no ABD with an expressed allele.
    assert schemes["G"].p_key_of_group[schemes["G"].group_of["A*01:11N"]].startswith("null:")
    # A null inside an expressed G group takes the group's P key (Atlas #982, match-prediction.md §5.1).
    assert schemes["G"].p_key_of_group[schemes["G"].group_of["C*04:09N"]] == "C*04:01P"
