"""Donor export (matching.md §10.1): the column-wise writer gives exactly what :func:`export_record` defines, in the
layout the importer streams, and CSV byte for byte what :func:`csv.writer` writes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticError

import graftwise.registry.export as export
from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.registry import GeneratorConfig, Registry
from graftwise.registry.export import export_donors, export_record
from graftwise.registry.importer import CSV_COLUMNS
from graftwise.registry.records import ABO, DonorRecord, DonorType, Serostatus, Sex, Status
from graftwise.registry.store import DONOR_SCHEMA, StoreError, record_to_row, row_to_record

STAMP = dt.datetime(2026, 1, 1)


def reference_csv(records: list[DonorRecord]) -> bytes:
    """The slow, plain definition: every record through export_record, one csv.writer row each."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        d = export_record(record)
        flat = {k: v for k, v in d.items() if k != "hla"}
        for locus, kinds in d["hla"].items():
            for kind, pair in kinds.items():
                flat[f"hla.{locus}.{kind}.field1"] = pair["field1"]
                flat[f"hla.{locus}.{kind}.field2"] = pair["field2"]
        writer.writerow(["" if flat.get(c) is None else flat[c] for c in CSV_COLUMNS])
    return buf.getvalue().encode()


def stored(reg: Registry) -> list[DonorRecord]:
    n = reg.store.donor_count()
    return [row_to_record(row) for row in reg.store.fetch_rows(range(n)).to_pylist()]


def store_registry(path: Path, nom: Nomenclature, rows: list[dict[str, Any]]) -> Registry:
    """A registry whose store holds exactly these DONOR_SCHEMA rows (written as the store takes them, unchecked)."""
    reg = Registry.create(path, nom.release)
    full = [{**dict.fromkeys(DONOR_SCHEMA.names), **row, "row": i} for i, row in enumerate(rows)]
    reg.store.append_donors(pa.Table.from_pylist(full, schema=DONOR_SCHEMA))
    return reg


def rows_of(records: list[DonorRecord]) -> list[dict[str, Any]]:
    return [record_to_row(r, i, STAMP, None) for i, r in enumerate(records)]


def check_both(reg: Registry, tmp_path: Path) -> dict[str, Any]:
    """Export JSON and CSV and compare each with the per-record definition; returns the parsed JSON."""
    records = stored(reg)
    out = tmp_path / "out.json"
    assert export_donors(reg, out, "json") == len(records)
    doc = orjson.loads(out.read_bytes())
    assert doc == {"update_mode": "full", "donors": [export_record(r) for r in records]}
    out = tmp_path / "out.csv"
    assert export_donors(reg, out, "csv") == len(records)
    assert out.read_bytes() == reference_csv(records)
    return dict(doc)


@pytest.fixture(scope="module")
def cords(tmp_path_factory: pytest.TempPathFactory, nom: Nomenclature) -> Registry:
    path = tmp_path_factory.mktemp("export") / "reg"
    return Registry.generate(path, GeneratorConfig(donors=3000, seed=23, cord_share=0.3), nom)


def test_json_is_export_record_of_every_donor_in_the_streamed_layout(
    cords: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "BATCH", 1000)  # several batches: the ",\n" between them is the delicate part
    calls: list[int] = []
    out = tmp_path / "e.json"
    assert export_donors(cords, out, "json", progress=calls.append) == 3000
    assert len(calls) > 1
    assert sum(calls) == 3000
    lines = out.read_bytes().split(b"\n")
    assert lines[0] == b'{"update_mode": "full", "donors": ['
    assert lines[-2:] == [b"]}", b""]
    assert all(line.endswith(b"},") for line in lines[1:-3])
    assert lines[-3].endswith(b"}")
    assert not lines[-3].endswith(b",")
    donors = orjson.loads(out.read_bytes())["donors"]
    records = cords.records(range(3000))
    assert donors == [export_record(r) for r in records]
    kinds = {d["donor_type"] for d in donors}
    assert kinds == {"D", "C"}
    for d in donors:
        assert ("tnc" in d) == (d["donor_type"] == "C")
        assert ("weight_kg" in d) == (d["donor_type"] == "D")


def test_floats_read_back_to_the_stored_float32(cords: Registry, tmp_path: Path) -> None:
    out = tmp_path / "e.json"
    export_donors(cords, out, "json")
    donors = orjson.loads(out.read_bytes())["donors"]
    table = cords.store.fetch_rows(range(3000))
    for name in ("weight_kg", "tnc", "cd34", "volume_ml"):
        column = table.column(name).to_pylist()
        written = [d.get(name) for d in donors]
        assert any(v is not None for v in written)
        for want, got in zip(column, written, strict=True):
            assert (want is None) == (got is None)
            if want is not None:
                assert np.float32(got) == np.float32(want)
                assert len(repr(got)) <= len(repr(float(np.float32(want))))


def test_csv_is_byte_for_byte_what_csv_writer_writes(
    cords: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "BATCH", 1000)
    out = tmp_path / "e.csv"
    assert export_donors(cords, out, "csv") == 3000
    assert out.read_bytes() == reference_csv(cords.records(range(3000)))


def test_text_that_needs_quoting_or_escaping(tmp_path: Path, nom: Nomenclature) -> None:
    odd = ['a"b', "c,d", "line\nbreak", "cr\rx", "back\\slash", "tab\tctl\x01", "Zoë 🧬", " lead", ""]
    records = [
        DonorRecord(
            donor_id=f"X-{i}",
            registry=text,
            population=odd[-1 - i],
            donor_type=DonorType.CORD if i % 2 else DonorType.ADULT,
            hla={"A": (f"A*01:01{text}", text or None), "DRB3": (text or "DRB3*01:01", None)},
        )
        for i, text in enumerate(odd)
    ]
    check_both(store_registry(tmp_path / "reg", nom, rows_of(records)), tmp_path)


def test_every_attribute_value_and_none(tmp_path: Path, nom: Nomenclature) -> None:
    records = [
        DonorRecord(donor_id="EMPTY"),
        DonorRecord(donor_id="CORD-EMPTY", donor_type=DonorType.CORD, status=Status.UNAVAILABLE),
        DonorRecord(
            donor_id="ADULT",
            registry="9991",
            population="EUR",
            sex=Sex.MALE,
            birth_date=dt.date(999, 1, 2),
            abo=ABO.AB,
            rh=Serostatus.NEGATIVE,
            cmv=Serostatus.POSITIVE,
            status=Status.RESERVED,
            status_date=dt.date(2025, 12, 31),
            weight_kg=300.0,
            parity=0,
            hla={"A": ("A2", "A24"), "B": ("B*07:02", None), "DPB1": ("DPB1*04:01", "DPB1*04:01")},
        ),
        DonorRecord(
            donor_id="CORD",
            donor_type=DonorType.CORD,
            sex=Sex.FEMALE,
            abo=ABO.O,
            rh=Serostatus.POSITIVE,
            cmv=Serostatus.NEGATIVE,
            tnc=0.01,
            cd34=0.00001,
            volume_ml=1000.0,
            collection_date=dt.date(2020, 2, 29),
        ),
        *(DonorRecord(donor_id=f"ABO-{abo.name}", abo=abo, sex=Sex.FEMALE, weight_kg=55.4, parity=30) for abo in ABO),
    ]
    doc = check_both(store_registry(tmp_path / "reg", nom, rows_of(records)), tmp_path)
    first, _, adult, cord = doc["donors"][:4]
    assert first == {
        "record_id": "EMPTY",
        "change_type": "N",
        "donor_type": "D",
        "registry": None,
        "ethnicity": None,
        "sex": None,
        "birth_date": None,
        "abo": None,
        "rh": None,
        "cmv": None,
        "status": "available",
        "status_date": None,
        "weight_kg": None,
        "parity": None,
        "hla": {},
    }
    assert adult["birth_date"] == "0999-01-02"
    assert adult["hla"]["A"] == {"ser": {"field1": "A2", "field2": "A24"}}
    assert adult["hla"]["B"] == {"dna": {"field1": "B*07:02", "field2": None}}
    assert (cord["tnc"], cord["cd34"], cord["volume_ml"]) == (0.01, 0.00001, 1000.0)
    assert b"1e-05" in (tmp_path / "out.csv").read_bytes()


def test_a_null_code_is_the_record_default(tmp_path: Path, nom: Nomenclature) -> None:
    row = record_to_row(DonorRecord(donor_id="N-1"), 0, STAMP, None)
    row.update(donor_type=None, sex=None, abo=None, rh=None, cmv=None, status=None)
    doc = check_both(store_registry(tmp_path / "reg", nom, [row]), tmp_path)
    d = doc["donors"][0]
    assert (d["donor_type"], d["sex"], d["status"]) == ("D", None, "available")


@settings(max_examples=15, deadline=None)
@given(
    weights=st.lists(st.floats(20, 300, width=32), min_size=1, max_size=20),
    cd34=st.lists(st.floats(0, 10000, width=32), min_size=1, max_size=20),
)
def test_any_float32_is_written_shortest_and_reads_back(
    tmp_path_factory: pytest.TempPathFactory, nom: Nomenclature, weights: list[float], cd34: list[float]
) -> None:
    records = [DonorRecord(donor_id=f"W{i}", weight_kg=w) for i, w in enumerate(weights)]
    records += [DonorRecord(donor_id=f"C{i}", donor_type=DonorType.CORD, cd34=c) for i, c in enumerate(cd34)]
    tmp = tmp_path_factory.mktemp("floats")
    doc = check_both(store_registry(tmp / "reg", nom, rows_of(records)), tmp)
    written = [d.get("weight_kg", d.get("cd34")) for d in doc["donors"]]
    assert [np.float32(v) for v in written] == [np.float32(v) for v in weights + cd34]


def test_empty_registry(tmp_path: Path, nom: Nomenclature) -> None:
    reg = store_registry(tmp_path / "reg", nom, [])
    assert check_both(reg, tmp_path) == {"update_mode": "full", "donors": []}


def test_unknown_format_is_refused(cords: Registry, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="xml") as err:
        export_donors(cords, tmp_path / "e.xml", "xml")
    assert err.value.field == "format"
    assert not (tmp_path / "e.xml").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sex": 2}, "sex"),
        ({"status": -1}, "status"),
        ({"donor_type": 2}, "donor_type"),
        ({"donor_id": "has space"}, "donor_id"),
        ({"donor_id": None}, "donor_id"),
        ({"hla_A_1": None, "hla_A_2": "A*01:01"}, "hla_A_1"),
        ({"weight_kg": float("nan")}, "weight_kg"),
        ({"weight_kg": float("inf")}, "weight_kg"),
    ],
)
def test_a_store_row_no_record_can_have_is_an_error(
    tmp_path: Path, nom: Nomenclature, change: dict[str, Any], field: str
) -> None:
    good = record_to_row(DonorRecord(donor_id="OK-1", sex=Sex.MALE, hla={"A": ("A*01:01", None)}), 0, STAMP, None)
    # The edge values themselves are fine: the last valid code, a one-character id, position 1 alone.
    edge = DonorRecord(donor_id="E", donor_type=DonorType.CORD, sex=Sex.MALE, status=Status.UNAVAILABLE)
    reg = store_registry(tmp_path / "reg", nom, [good, record_to_row(edge, 1, STAMP, None), {**good, **change}])
    for fmt in ("json", "csv"):
        with pytest.raises(StoreError) as err:
            export_donors(reg, tmp_path / f"e.{fmt}", fmt)
        assert err.value.field == field
    with pytest.raises(PydanticError):  # the per-record path refuses the same row
        stored(reg)
