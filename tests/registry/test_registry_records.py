"""The donor record, GRID checksums, the arrays contract (atomic generations, mmap) and statistics."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError as PydanticValidationError

from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.registry import DonorRecord, DonorType, Registry, RegistryFormatError, Status
from graftwise.registry.arrays import ArraysBuilder, current_generation
from graftwise.registry.importer import IdCheckRequest, check_ids, import_donors
from graftwise.registry.records import LOCI, grid, is_grid, iso7064_mod37_2


def test_iso7064_mod37_2_matches_the_isbt_128_worked_example() -> None:
    # transfusionguidelines.org Red Book Annex 2, Table A2.2: G123498654321 → 17 ('H').
    assert iso7064_mod37_2("G123498654321") == 17


def test_grid_shape_and_checksum() -> None:
    g = grid("9991", "0000000000042")
    assert len(g) == 19
    assert g.startswith("99910000000000042")
    assert is_grid(g)
    wrong = g[:-2] + f"{(int(g[-2:]) + 1) % 37:02d}"
    assert not is_grid(wrong)
    assert not is_grid("999100000000000421")
    with pytest.raises(ValueError, match="ION"):
        grid("999", "0000000000042")
    with pytest.raises(ValueError, match="13 characters"):
        grid("9991", "42")


def test_generated_ids_are_valid_grids(generated: Registry) -> None:
    assert all(is_grid(r.donor_id) for r in generated.records(range(0, 20_000, 997)))


def test_record_rules() -> None:
    adult = DonorRecord(
        donor_id="D-1",
        birth_date=dt.date(2000, 2, 29),
        hla={"A": ("A*01:01", "A*02:01"), "B": ("B7", "B8"), "DRB1": ("DR15", None)},
    )
    assert adult.age(dt.date(2026, 2, 28)) == 25
    assert adult.age(dt.date(2026, 3, 1)) == 26
    assert not adult.searchable  # DRB1 typed at one position only
    full = adult.model_copy(update={"hla": {**adult.hla, "DRB1": ("DR15", "DR4")}})
    assert full.searchable
    assert not full.model_copy(update={"status": Status.RESERVED}).searchable
    assert not full.model_copy(update={"hla_invalid": True}).searchable
    with pytest.raises(PydanticValidationError, match="cord blood unit field"):
        DonorRecord(donor_id="D-2", tnc=100.0)
    with pytest.raises(PydanticValidationError, match="adult donor field"):
        DonorRecord(donor_id="C-1", donor_type=DonorType.CORD, weight_kg=70.0)
    with pytest.raises(PydanticValidationError, match="position 2 is typed"):
        DonorRecord(donor_id="D-3", hla={"A": (None, "A*01:01")})
    with pytest.raises(PydanticValidationError, match="unknown HLA locus"):
        DonorRecord(donor_id="D-4", hla={"Q": ("x", "y")})
    with pytest.raises(PydanticValidationError, match="donor_id"):
        DonorRecord(donor_id="has space")
    with pytest.raises(PydanticValidationError):
        DonorRecord(donor_id="D-5", weight_kg=19.99)
    assert DonorRecord(donor_id="D-6", weight_kg=20).weight_kg == 20


def test_open_is_read_only_and_arrays_are_memory_maps(generated: Registry) -> None:
    reg = Registry.open(generated.path)
    try:
        a = reg.arrays
        assert isinstance(a.hla("A"), np.memmap)
        assert not a.hla("A").flags.writeable
        assert a.typings("A")[0] == ""
        assert set(a.meta) >= {"n", "release", "registries", "populations", "loci", "generation", "created_at"}
        assert a.meta["loci"] == list(LOCI)
        with pytest.raises(ValidationError, match="unknown column"):
            a.column("shoe_size")
        with pytest.raises(RegistryFormatError, match="DRB3"):
            a.hla("DRB3")
        with pytest.raises(ValidationError, match="outside"):
            reg.records([20_000])
        truth = reg.truth
        assert truth is not None
        assert truth.hla("DPB1").shape == (20_000, 2)
    finally:
        reg.close()
    with pytest.raises(RegistryFormatError, match="not a registry"):
        Registry.open(generated.path / "arrays")


def test_a_change_makes_a_new_generation_and_readers_keep_the_old_one(tmp_path: Path, nom: Nomenclature) -> None:
    reg = Registry.create(tmp_path / "r", nom.release)
    assert current_generation(reg.path) == 1
    hla = {"A": {"dna": {"field1": "A*01:01"}}, "B": {"ser": {"field1": "B7"}}, "DRB1": {"ser": {"field1": "DR4"}}}
    donor = {"record_id": "G-1", "change_type": "N", "donor_type": "D", "registry": "9991", "ethnicity": "EUR"}
    donor["hla"] = hla
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"donors": [donor]}))
    old = reg.arrays
    old_a = old.hla("A")
    import_donors(reg, path, nom, uploaded_at=dt.datetime(2026, 1, 1))
    assert current_generation(reg.path) == 2
    assert reg.arrays.n == 1
    assert old_a.shape == (0, 2)  # the old generation's map still reads
    assert sorted(p.name for p in reg.path.glob("arrays*")) == ["arrays", "arrays-2"]
    assert not list(reg.path.glob(".arrays-tmp-*"))


def test_an_interrupted_build_leaves_no_arrays(tmp_path: Path) -> None:
    builder = ArraysBuilder(tmp_path, 3)
    builder.write_hla("A", np.zeros((2, 2), dtype=np.int32))
    for locus in LOCI:
        builder.set_typings(locus, [""])
    with pytest.raises(ValidationError, match="rows written"):
        builder.commit({"release": "3.58.0", "generation": 1})
    builder.abort()
    assert not (tmp_path / "arrays").exists()
    assert not list(tmp_path.iterdir())


def test_stats_count_what_the_arrays_hold(generated: Registry) -> None:
    s = generated.stats()
    assert s.n == 20_000
    assert sum(s.donor_type.values()) == sum(s.population.values()) == sum(s.registry.values()) == 20_000
    assert s.searchable == int(np.count_nonzero(generated.arrays.column("searchable")))
    for locus, per in s.resolution.items():
        assert sum(per.values()) == 40_000, locus
    assert s.resolution["A"]["serology"] > 0
    assert s.resolution["DPB1"]["untyped"] > 0


def test_id_checker_lists_orphans(generated: Registry) -> None:
    first = generated.records([0])[0]
    others = generated.records(range(1, 20_000))
    same = [r.donor_id for r in others if r.registry == first.registry and r.donor_type is DonorType.ADULT]
    orphans = check_ids(generated, IdCheckRequest(registry=first.registry, donor_type="D", donors=same))
    assert orphans == ([first.donor_id] if first.donor_type is DonorType.ADULT else [])
