"""Donor import (matching.md §10): every path, malformed files, the report, and that no valid record is lost."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pytest

from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.registry import GeneratorConfig, Registry, Status
from graftwise.registry.export import export_donors
from graftwise.registry.importer import CSV_COLUMNS, ImportReport, import_donors
from graftwise.registry.store import DONOR_SCHEMA

UPLOAD = dt.datetime(2026, 1, 10, 12, 0)


def donor(record_id: str, change_type: str = "N", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "record_id": record_id,
        "change_type": change_type,
        "donor_type": "D",
        "registry": "9991",
        "ethnicity": "EUR",
        "sex": "F",
        "birth_date": "1990-05-17",
        "abo": "A",
        "rh": "+",
        "cmv": "N",
        "weight_kg": 64.5,
        "hla": {
            "A": {"dna": {"field1": "A*01:01", "field2": "A*02:01"}},
            "B": {"dna": {"field1": "B*08:01", "field2": "B*07:02"}},
            "C": {"dna": {"field1": "C*07:01", "field2": "C*07:02"}},
            "DRB1": {"dna": {"field1": "DRB1*03:01", "field2": "DRB1*15:01"}},
            "DQB1": {"dna": {"field1": "DQB1*02:01", "field2": "DQB1*06:02"}},
        },
    }
    base.update(extra)
    return base


def write_json(path: Path, donors: list[dict[str, Any]], mode: str = "diff") -> Path:
    path.write_text(json.dumps({"update_mode": mode, "donors": donors}), encoding="utf-8")
    return path


@pytest.fixture
def reg(tmp_path: Path, nom: Nomenclature) -> Registry:
    return Registry.create(tmp_path / "reg", nom.release)


def run(reg: Registry, path: Path, nom: Nomenclature, **kw: Any) -> ImportReport:
    kw.setdefault("uploaded_at", UPLOAD)
    return import_donors(reg, path, nom, **kw)


def codes(report: ImportReport) -> set[tuple[str | None, str | None, str]]:
    return {(f.record_id, f.property, f.error_code) for f in report.failures if f.severity == "error"}


def ids(reg: Registry) -> list[str]:
    return [r.donor_id for r in reg.records(range(reg.arrays.n))]


def test_valid_file_loads_every_donor_into_store_and_arrays(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    cord = donor("C-1", donor_type="C", tnc=150.5, cd34=4.2, volume_ml=95, collection_date="2020-03-01")
    del cord["weight_kg"]
    report = run(reg, write_json(tmp_path / "a.json", [donor("D-1"), donor("D-2"), cord]), nom)
    assert (report.new, report.failed, report.records) == (3, 0, 3)
    assert report.generation == 2
    a = reg.arrays
    assert a.n == 3
    assert a.typings("A")[a.hla("A")[0, 0]] == "A*01:01"
    assert list(a.column("searchable")) == [True, True, True]
    assert list(a.column("donor_type")) == [0, 0, 1]
    assert a.column("tnc")[2] == pytest.approx(150.5)
    rec = reg.records([2])[0]
    assert (rec.donor_id, rec.tnc, rec.volume_ml, rec.collection_date) == ("C-1", 150.5, 95.0, dt.date(2020, 3, 1))
    first = reg.records([0])[0]
    assert first.age(dt.date(2026, 5, 16)) == 35
    assert first.age(dt.date(2026, 5, 17)) == 36


def test_bad_records_are_reported_and_valid_ones_still_load(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    donors = [
        donor("OK-1"),
        donor("BAD-DATE", birth_date="1990-02-30"),
        donor("BAD-DATE-2", birth_date="17/05/1990"),
        donor("UNKNOWN", favourite_colour="blue"),
        donor("BAD-ENUM", abo="Z", change_type="X"),
        donor("OK-2"),
        donor("OK-1"),  # duplicate id
        donor("CORD-FIELDS-ON-ADULT", tnc=100.0),
        {"record_id": "MISSING"},
        "not an object",
    ]
    report = run(reg, write_json(tmp_path / "b.json", donors), nom)
    assert report.new == 2
    assert report.failed == 8
    assert ids(reg) == ["OK-1", "OK-2"]
    found = codes(report)
    assert ("BAD-DATE", "birth_date", "invalid_value") in found
    assert ("BAD-DATE-2", "birth_date", "invalid_value") in found
    assert ("UNKNOWN", "favourite_colour", "unknown_property") in found
    assert ("BAD-ENUM", "change_type", "invalid_value") in found
    assert ("OK-1", "record_id", "duplicate_record") in found
    assert ("CORD-FIELDS-ON-ADULT", "tnc", "wrong_donor_type") in found
    assert ("MISSING", "change_type", "missing_property") in found
    assert (None, None, "bad_record") in found
    stored = reg.store.failures(report.import_id).to_pylist()
    assert len(stored) == len(report.failures)
    assert {r["file"] for r in stored} == {"b.json"}


def test_invalid_hla_is_stored_flagged_excluded_and_reported(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    bad = donor("BAD-HLA")
    bad["hla"]["A"] = {"dna": {"field1": "A*01:9999", "field2": "B*07:02"}}
    report = run(reg, write_json(tmp_path / "c.json", [bad, donor("GOOD")]), nom)
    assert (report.new, report.hla_invalid, report.failed) == (2, 1, 0)
    found = codes(report)
    assert ("BAD-HLA", "hla.A.dna.field1", "not_in_release") in found
    assert ("BAD-HLA", "hla.A.dna.field2", "wrong_locus") in found
    rec = reg.records([0])[0]
    assert rec.hla_invalid
    assert rec.hla["A"] == ("A*01:9999", "B*07:02")
    assert rec.hla_errors is not None
    assert "A*01:9999" in rec.hla_errors
    a = reg.arrays
    assert list(a.column("searchable")) == [False, True]
    assert a.hla("A")[0].tolist() == [0, 0]  # invalid typings never reach the search arrays
    assert "A*01:9999" not in a.typings("A")


def test_hla_field_rules(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    homozygous = donor("HOMO")
    homozygous["hla"]["A"] = {"dna": {"field1": "*02:01"}}
    precedence = donor("PREC")
    precedence["hla"]["B"] = {
        "dna": {"field1": "B*08:01", "field2": "B*07:02"},
        "ser": {"field1": "51", "field2": "52"},
    }
    serology = donor("SER")
    serology["hla"]["A"] = {"ser": {"field1": "2", "field2": "A24"}}
    serology["hla"]["C"] = {"ser": {"field1": "10", "field2": "Cw9"}}
    mixed = donor("MAC")
    mixed["hla"]["A"] = {"dna": {"field1": "A*01:AB", "field2": "02:01/02:02"}}
    renamed = donor("RENAMED")
    renamed["hla"]["C"] = {"dna": {"field1": "C*15:20", "field2": "C*07:01"}}
    field1_empty = donor("F1-EMPTY")
    field1_empty["hla"]["A"] = {"dna": {"field2": "A*01:01"}}
    dp_serology = donor("DP-SER")
    dp_serology["hla"]["DPB1"] = {"ser": {"field1": "1"}}
    no_drb1 = donor("NO-DRB1")
    del no_drb1["hla"]["DRB1"]
    gl_operator = donor("PLUS")
    gl_operator["hla"]["A"] = {"dna": {"field1": "A*01:01+A*02:01"}}
    donors = [homozygous, precedence, serology, mixed, renamed, field1_empty, dp_serology, no_drb1, gl_operator]
    report = run(reg, write_json(tmp_path / "h.json", donors), nom)
    recs = {r.donor_id: r for r in reg.records(range(reg.arrays.n))}
    assert set(recs) == {"HOMO", "PREC", "SER", "MAC", "RENAMED", "PLUS"}
    assert recs["HOMO"].hla["A"] == ("A*02:01", "A*02:01")
    assert recs["PREC"].hla["B"] == ("B*08:01", "B*07:02")
    assert recs["SER"].hla["A"] == ("A2", "A24")
    assert recs["SER"].hla["C"] == ("Cw10", "Cw9")
    assert recs["MAC"].hla["A"] == ("A*01:AB", "A*02:01/A*02:02")
    assert not recs["RENAMED"].hla_invalid
    assert any(f.record_id == "RENAMED" and f.severity == "warning" and "renamed" in f.message for f in report.failures)
    assert recs["PLUS"].hla_invalid
    found = codes(report)
    assert ("F1-EMPTY", "hla.A.dna.field1", "field1_empty") in found
    assert ("DP-SER", "hla.DPB1.ser", "dpb1_serology") in found
    assert ("NO-DRB1", "hla.DRB1", "missing_locus") in found
    assert ("PLUS", "hla.A.dna.field1", "not_one_position") in found


@pytest.mark.parametrize(
    ("field", "ok", "bad"),
    [("weight_kg", 20, 19.9), ("weight_kg", 300, 300.5), ("parity", 0, -1), ("parity", 30, 31)],
)
def test_numeric_bounds_on_both_sides(
    reg: Registry, nom: Nomenclature, tmp_path: Path, field: str, ok: float, bad: float
) -> None:
    report = run(reg, write_json(tmp_path / "n.json", [donor("OK", **{field: ok}), donor("BAD", **{field: bad})]), nom)
    assert ids(reg) == ["OK"]
    assert ("BAD", field, "invalid_value") in codes(report)


def test_dates_in_the_future_are_refused(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    today, tomorrow = UPLOAD.date().isoformat(), (UPLOAD.date() + dt.timedelta(days=1)).isoformat()
    report = run(
        reg,
        write_json(tmp_path / "d.json", [donor("TODAY", birth_date=today), donor("TMRW", birth_date=tomorrow)]),
        nom,
    )
    assert ids(reg) == ["TODAY"]
    assert ("TMRW", "birth_date", "invalid_value") in codes(report)


def test_change_types(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    run(reg, write_json(tmp_path / "1.json", [donor("A-1"), donor("A-2")]), nom)
    later = UPLOAD + dt.timedelta(days=1)
    donors = [
        donor("A-1", "N"),  # exists
        donor("ZZ-1", "U"),  # missing
        donor("ZZ-2", "D"),  # missing
        donor("A-2", "U", weight_kg=70.0),
        donor("A-3", "NU"),  # upsert creates
        donor("A-1", "NU", abo="B"),  # upsert updates — duplicate id within the file is refused
    ]
    report = run(reg, write_json(tmp_path / "2.json", donors), nom, uploaded_at=later)
    found = codes(report)
    assert ("A-1", "change_type", "already_exists") in found
    assert ("ZZ-1", "change_type", "not_found") in found
    assert ("ZZ-2", "change_type", "not_found") in found
    assert ("A-1", "record_id", "duplicate_record") in found
    assert (report.new, report.updated, report.failed) == (1, 1, 4)
    recs = {r.donor_id: r for r in reg.records(range(reg.arrays.n))}
    assert recs["A-2"].weight_kg == 70.0
    assert recs["A-1"].abo.name == "A"
    report = run(reg, write_json(tmp_path / "3.json", [donor("A-1", "NU", abo="B")]), nom, uploaded_at=later)
    assert report.updated == 1
    assert reg.records([0])[0].abo.name == "B"


def test_reimporting_the_same_file_changes_nothing(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    path = write_json(tmp_path / "same.json", [donor("X-1"), donor("X-2", "NU"), donor("X-3", sex="M")])
    first = run(reg, path, nom)
    before = reg.store.lookup(["X-1", "X-2", "X-3"]).to_pylist()
    arrays_before = {locus: np.array(reg.arrays.hla(locus)) for locus in ("A", "B", "DRB1")}
    second = run(reg, path, nom)
    assert first.new == 3
    assert (second.new, second.updated, second.deleted) == (0, 0, 0)
    assert second.unchanged == 1  # the NU record
    assert {f.error_code for f in second.failures} == {"already_exists"}  # N twice is refused, with no change
    assert second.generation == first.generation
    assert reg.store.lookup(["X-1", "X-2", "X-3"]).to_pylist() == before
    for locus, arr in arrays_before.items():
        assert np.array_equal(reg.arrays.hla(locus), arr)
    # an import looks only among the donors stored before it (rows below their count)
    assert [r["donor_id"] for r in reg.store.lookup(["X-1", "X-2", "X-3"], rows_below=2).to_pylist()] == ["X-1", "X-2"]
    assert reg.store.lookup(["X-1"], rows_below=0).num_rows == 0


def test_delete_marks_unavailable_and_keeps_record_and_history(
    reg: Registry, nom: Nomenclature, tmp_path: Path
) -> None:
    run(reg, write_json(tmp_path / "1.json", [donor("DEL-1"), donor("KEEP")]), nom)
    later = UPLOAD + dt.timedelta(days=3)
    # A delete names the donor only: no attributes, no HLA.
    deletion = {"record_id": "DEL-1", "change_type": "D", "donor_type": "D", "registry": "9991", "ethnicity": None}
    report = run(reg, write_json(tmp_path / "2.json", [deletion]), nom, uploaded_at=later)
    assert report.deleted == 1
    rec = reg.records([0])[0]
    assert rec.donor_id == "DEL-1"
    assert rec.status is Status.UNAVAILABLE
    assert rec.status_date == later.date()
    assert rec.hla["A"] == ("A*01:01", "A*02:01")  # the record is kept whole
    assert list(reg.arrays.column("searchable")) == [False, True]
    history = reg.store.history("DEL-1").to_pylist()
    assert [h["change_type"] for h in history] == ["N", "D"]
    assert json.loads(history[1]["previous"])["status"] == 0
    again = run(reg, write_json(tmp_path / "3.json", [deletion]), nom, uploaded_at=later)
    assert (again.deleted, again.unchanged) == (0, 1)


def test_an_update_older_than_the_last_one_is_skipped_and_logged(
    reg: Registry, nom: Nomenclature, tmp_path: Path
) -> None:
    run(reg, write_json(tmp_path / "1.json", [donor("S-1")]), nom)
    report = run(
        reg,
        write_json(tmp_path / "2.json", [donor("S-1", "U", abo="O")]),
        nom,
        uploaded_at=UPLOAD - dt.timedelta(hours=1),
    )
    assert report.skipped == 1
    assert report.failures[0].severity == "skipped"
    assert reg.records([0])[0].abo.name == "A"


def test_full_mode_needs_the_override_and_never_deletes(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    run(reg, write_json(tmp_path / "1.json", [donor("F-1"), donor("F-2")], mode="full"), nom)
    path = write_json(tmp_path / "2.json", [donor("F-1"), donor("F-3")], mode="full")
    with pytest.raises(ValidationError, match="full mode"):
        run(reg, path, nom)
    report = run(reg, path, nom, allow_full=True)
    assert (report.new, report.unchanged, report.deleted) == (1, 1, 1)
    recs = {r.donor_id: r for r in reg.records(range(reg.arrays.n))}
    assert set(recs) == {"F-1", "F-2", "F-3"}
    assert recs["F-2"].status is Status.UNAVAILABLE
    assert (
        run(reg, write_json(tmp_path / "3.json", [donor("F-1", "U")], mode="full"), nom, allow_full=True)
        .failures[0]
        .error_code
        == "not_in_full_mode"
    )


def test_check_mode_compares_and_changes_nothing(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    run(reg, write_json(tmp_path / "1.json", [donor("K-1"), donor("K-2")]), nom)
    generation = reg.arrays.generation
    report = run(
        reg, write_json(tmp_path / "2.json", [donor("K-1"), donor("K-2", abo="AB"), donor("K-9")]), nom, mode="check"
    )
    assert report.check is not None
    assert report.check.absent == ["K-9"]
    assert report.check.differing == {"K-2": ["abo"]}
    assert reg.arrays.generation == generation
    assert reg.arrays.n == 2
    assert reg.store.imports().num_rows == 1
    assert reg.store.ids_not_in(["K-1"], "9991", 0) == ["K-2"]


def test_csv_wrong_columns_refuse_the_file(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("record_id,change_type,donor_type,registry,shoe_size\nX,N,D,9991,42\n")
    report = run(reg, path, nom)
    found = codes(report)
    assert (None, "shoe_size", "unknown_property") in found
    assert (None, "ethnicity", "missing_column") in found
    assert reg.arrays.n == 0


def test_truncated_files_keep_every_complete_record(reg: Registry, nom: Nomenclature, tmp_path: Path) -> None:
    text = json.dumps({"update_mode": "diff", "donors": [donor("T-1"), donor("T-2"), donor("T-3")]})
    cut = tmp_path / "t.json"
    cut.write_text(text[: text.index('"T-3"') + 20])
    report = run(reg, cut, nom)
    assert report.new == 2
    assert any(f.error_code == "truncated_file" for f in report.failures)
    cols = list(CSV_COLUMNS)
    values = ["T-8", "N", "D", "9991", "EUR"] + [""] * (len(cols) - 5)
    for name, value in (
        ("hla.A.dna.field1", "A*01:01"),
        ("hla.B.dna.field1", "B*08:01"),
        ("hla.DRB1.dna.field1", "DRB1*03:01"),
        ("birth_date", "1980-01-01"),
    ):
        values[cols.index(name)] = value
    csv_path = tmp_path / "t.csv"
    # The last line is cut after its fifth field, as a transfer that stopped mid-line would leave it.
    csv_path.write_text(",".join(cols) + "\n" + ",".join(values) + "\nT-9,N,D,9991,EUR\n")
    report = run(reg, csv_path, nom)
    assert report.new == 1
    assert report.failed == 1
    assert ("T-9", None, "field_count") in codes(report)
    assert reg.records([2])[0].hla["A"] == ("A*01:01", "A*01:01")


def test_export_import_round_trip(nom: Nomenclature, tmp_path: Path) -> None:
    small = Registry.generate(tmp_path / "src", GeneratorConfig(donors=1500, seed=11, cord_share=0.3), nom)
    # Every stored column but the import bookkeeping, float32 values compared bit for bit.
    content = [n for n in DONOR_SCHEMA.names if n not in ("updated_at", "import_id")]
    original = small.store.fetch_rows(range(1500)).select(content)
    assert 300 < pc.sum(original.column("donor_type")).as_py() < 600
    for fmt in ("json", "csv"):
        out = tmp_path / f"export.{fmt}"
        assert export_donors(small, out, fmt) == 1500
        copy = Registry.create(tmp_path / f"copy-{fmt}", nom.release)
        report = import_donors(copy, out, nom, mode="full")
        assert (report.new, report.failed, report.hla_invalid) == (1500, 0, 0)
        assert copy.records(range(1500)) == small.records(range(1500))
        assert copy.store.fetch_rows(range(1500)).select(content).equals(original)
        for locus in ("A", "B", "C", "DRB1", "DQB1", "DPB1"):
            a = np.array(small.arrays.typings(locus), dtype=object)[small.arrays.hla(locus)]
            b = np.array(copy.arrays.typings(locus), dtype=object)[copy.arrays.hla(locus)]
            assert (a == b).all()
        assert np.array_equal(copy.arrays.column("searchable"), small.arrays.column("searchable"))
