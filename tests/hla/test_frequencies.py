from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from graftwise.data import DataRoot
from graftwise.hla.frequencies import HFSetError, read_atlas, read_grimm, read_nmdp2007


def _hf(root: DataRoot) -> Path:
    return root.path / "haplotype-frequencies"


def test_nmdp_2007_five_locus_sets(data_root: DataRoot) -> None:
    sets = read_nmdp2007(_hf(data_root) / "nmdp-2007" / "NMDP_2007_FiveLocus_Freqs.csv")
    assert {k: len(v) for k, v in sets.items()} == {"AFA": 2012, "API": 1629, "EUR": 3380, "HIS": 1821}
    eur = sets["EUR"]
    assert eur.loci == ("A", "C", "B", "DRB1", "DQB1")
    assert eur.typing_category == "g2007"
    assert 0.996 < eur.total_mass < 1.004
    for hap in eur.haplotypes:
        assert tuple(name.partition("*")[0] for name in hap) == eur.loci


def test_grimm_example_equals_nmdp_eur(data_root: DataRoot) -> None:
    grimm = read_grimm(_hf(data_root) / "grimm-example" / "CAU.freqs.gz")
    eur = read_nmdp2007(_hf(data_root) / "nmdp-2007" / "NMDP_2007_FiveLocus_Freqs.csv")["EUR"]
    pairs = zip(eur.haplotypes, eur.frequencies, strict=True)
    strip = {tuple(n.removesuffix("g") for n in hap): f for hap, f in pairs}
    assert dict(zip(grimm.haplotypes, grimm.frequencies, strict=False)) == pytest.approx(strip)
    assert grimm.population_id == "CAU"


def test_atlas_sets(data_root: DataRoot) -> None:
    g = read_atlas(_hf(data_root) / "atlas" / "initial-hf-set.json")
    assert (len(g), g.typing_category, g.release) == (301, "G", None)
    assert g.total_mass == pytest.approx(0.4498, abs=1e-4)
    small = read_atlas(_hf(data_root) / "atlas" / "hf-set-for-testing-transformer.json")
    assert small.typing_category == "small_g"
    assert small.release == "3.48.0"
    assert small.registries == ("123", "456", "789")
    assert ("A*43:02N", "B*15:10g", "C*04:01g", "DQB1*03:02g", "DRB1*04:01g") in small.haplotypes


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("EUR,HLA-A*01:01~HLA-C*01:02,0.0,1", "must be positive"),
        ("EUR,HLA-A*01:01~HLA-C*01:02,-1e-4,1", "must be positive"),
        ("EUR,HLA-A*01:01~HLA-C*01:02,abc,1", "not a number"),
        ("EUR,HLA-A*01:01~HLA-Z*01:02,1e-4,1", "unknown locus"),
        ("EUR,HLA-A*01:01~01:02,1e-4,1", "not an allele name"),
        ("EUR,HLA-A*01:01~HLA-C*01:02,1e-4", "expected 4 columns"),
        ("EUR,HLA-A*01:01~HLA-C*01:02,1e-4,1\nEUR,HLA-A*01:01~HLA-C*01:02,2e-4,2", "duplicate haplotype"),
        ("EUR,HLA-A*01:01~HLA-C*01:02,1e-4,1\nEUR,HLA-A*01:01~HLA-B*08:01,2e-4,2", "differ from"),
    ],
)
def test_bad_nmdp_lines_are_refused_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("EUR,HLA-A*02:01~HLA-C*07:01,1e-3,1\n" + line + "\n")
    with pytest.raises(HFSetError, match=message) as err:
        read_nmdp2007(path)
    assert err.value.field is not None
    assert err.value.field.startswith("bad.csv:")


def test_bad_grimm_and_atlas(tmp_path: Path) -> None:
    gz = tmp_path / "X.freqs.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write("A*01:01~C*01:02,1\n")
    with pytest.raises(HFSetError, match="expected 3 columns"):
        read_grimm(gz)
    atlas = tmp_path / "a.json"
    atlas.write_text(
        '{"nomenclatureVersion": 3480, "donPool": null, "ethn": ["UK"], "typingCategory": "small_g",'
        ' "frequencies": [{"a":"01:01g","b":"08:01g","c":"07:01g","dqb1":"02:01g","drb1":"03:01g",'
        '"frequency": 0.1}]}'
    )
    with pytest.raises(HFSetError, match="requires a registry"):
        read_atlas(atlas)
    atlas.write_text('{"nomenclatureVersion": 3480, "typingCategory": "small_g", "frequencies": [{"a":"01:01g"}]}')
    with pytest.raises(HFSetError, match=r"frequencies\[1\]\.b is missing"):
        read_atlas(atlas)
