"""The column-wise import check gives exactly what the record-by-record check gives (failure rows in order, stored
rows, history, arrays), on files mixing valid and malformed records, in JSON, plain CSV (read by Arrow) and quoted
CSV (read by the csv module)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_registry_import import donor, write_json  # the same donor records as the record-path tests

from graftwise.hla import Nomenclature
from graftwise.registry import Registry, importer
from graftwise.registry.importer import CSV_COLUMNS, ImportReport, import_donors
from graftwise.registry.records import ALL_LOCI
from graftwise.registry.store import DONOR_SCHEMA

UPLOAD = dt.datetime(2026, 1, 10, 12, 0)
LATER = dt.datetime(2026, 2, 10, 12, 0)


def mixed_donors() -> list[dict[str, Any]]:
    """Valid records of many shapes around malformed ones (every kind of failure the checks know)."""
    out = [donor(f"OK-{i}", weight_kg=50 + i, sex="MF"[i % 2]) for i in range(30)]
    out.append(donor("CORD-1", donor_type="C", weight_kg=None, tnc=150.5, cd34=4.2, volume_ml=95))
    out.append(donor("BANKED", donor_type="B", weight_kg=None, collection_date="2020-03-01"))
    out.append(donor("NULLS", sex=None, abo=None, rh=None, cmv=None, birth_date=None, registry=None))
    hla_variants: dict[str, dict[str, Any]] = {
        "HOMO": {"A": {"dna": {"field1": "*02:01"}}},
        "SER": {"A": {"ser": {"field1": "2", "field2": "A24"}}, "C": {"ser": {"field1": "10", "field2": "Cw9"}}},
        "PREC": {"B": {"dna": {"field1": "B*08:01"}, "ser": {"field1": "51", "field2": "52"}}},
        "MAC": {"A": {"dna": {"field1": "A*01:AB", "field2": "02:01/02:02"}}},
        "SPACED": {"B": {"dna": {"field1": " B*08:01 ", "field2": "B*07:02"}}},
        "RENAMED": {"C": {"dna": {"field1": "C*15:20", "field2": "C*07:01"}}},  # a warning: loaded, reported
        "BAD-HLA": {"A": {"dna": {"field1": "A*99:99", "field2": "A*01:01"}}},  # stored, flagged
        "WRONG-LOCUS": {"A": {"dna": {"field1": "B*08:01"}}},
        "F1-EMPTY": {"A": {"dna": {"field2": "A*01:01"}}},
        "DP-SER": {"DPB1": {"ser": {"field1": "1"}}},
        "PLUS": {"A": {"dna": {"field1": "A*01:01+A*02:01"}}},
        "NO-DRB1": {"DRB1": None},
    }
    for record_id, loci in hla_variants.items():
        record = donor(record_id)
        for locus, given in loci.items():
            if given is None:
                del record["hla"][locus]
            else:
                record["hla"][locus] = given
        out.append(record)
    out += [
        donor("BAD-DATE", birth_date="1990-02-30"),
        donor("FUTURE", birth_date="2030-01-01"),
        donor("BAD-SEX", sex="X"),
        donor("HEAVY", weight_kg=301),
        donor("LIGHT", weight_kg=19.9),
        donor("CORD-WEIGHT", donor_type="C"),
        donor("ADULT-TNC", tnc=100.0),
        donor("bad id!"),
        donor("BAD-CHANGE", change_type="X"),
        donor("BAD-TYPE", donor_type="Z"),
        donor("LONG-REG", registry="R" * 201),
        donor("OK-3"),  # a duplicate of a valid record
        donor("BAD-HLA"),  # a duplicate of a stored (flagged) record
        donor("OK-5", change_type="D"),
        donor("MISSING", change_type="U"),
    ]
    return out


def write_csv(path: Path, donors: list[dict[str, Any]], quote_all: bool = False) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        writer.writerow(CSV_COLUMNS)
        for d in donors:
            flat = {k: v for k, v in d.items() if k != "hla"}
            for locus, kinds in d["hla"].items():
                for kind, pair in kinds.items():
                    for name, value in pair.items():
                        flat[f"hla.{locus}.{kind}.{name}"] = value
            writer.writerow(["" if flat.get(c) is None else flat[c] for c in CSV_COLUMNS])
    return path


def record_by_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the column-wise check and the Arrow CSV reader off: every record is read by the csv module (CSV) and takes
    the record-by-record path."""
    monkeypatch.setattr(importer._Checker, "columns", lambda self, cols: (np.zeros(cols.n, dtype=bool), {}))
    monkeypatch.setattr(importer, "_plain_csv", lambda file, fields: False)


def state(reg: Registry, report: ImportReport) -> dict[str, Any]:
    con = reg.store.con  # type: ignore[attr-defined]
    donors = con.sql(f"SELECT {', '.join(DONOR_SCHEMA.names)} FROM donors ORDER BY row").fetchall()
    history = con.sql(
        "SELECT import_id, donor_id, change_type, changed_fields, previous FROM donor_history ORDER BY rowid"
    ).fetchall()
    failures = con.sql(
        "SELECT import_id, record_id, property, error_code, message, severity FROM donor_import_failures ORDER BY rowid"
    ).fetchall()
    arrays = {locus: reg.arrays.hla(locus).copy() for locus in ALL_LOCI if locus in reg.arrays.loci}
    typings = {locus: reg.arrays.typings(locus) for locus in arrays}
    summary = report.model_dump(exclude={"seconds", "file"})
    return {"donors": donors, "history": history, "failures": failures, "report": summary, "typings": typings} | {
        f"hla_{k}": v.tolist() for k, v in arrays.items()
    }


def two_imports(
    tmp_path: Path, nom: Nomenclature, name: str, write: Any, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    """A first file of new donors, then a second of updates, upserts, re-sent and new records."""
    folder = tmp_path / ("fast" if fast else "slow")
    folder.mkdir()
    clean: list[tuple[str, int]] = []
    with monkeypatch.context() as patch:
        if fast:
            real = importer._fast_records

            def spy(*args: Any) -> Any:
                found = real(*args)
                clean.append((type(args[2]).__name__, int(found.clean.sum())))
                return found

            patch.setattr(importer, "_fast_records", spy)
        else:
            record_by_record(patch)
        reg = Registry.create(folder / "reg", nom.release)
        first = write(folder / f"first.{name}", mixed_donors())
        second_donors = [donor("OK-1", "U", abo="B"), donor("OK-2", "NU", weight_kg=70), donor("OK-4")]
        second_donors += [donor("NEW-1", "NU"), donor("NEW-2"), donor("OK-6", "U", rh="-")]
        second_donors += [donor("OK-7", "U")]  # unchanged
        second_donors += [donor("OK-8", "U", sex=None), {k: v for k, v in donor("OK-9", "U").items() if k != "abo"}]
        second = write(folder / f"second.{name}", second_donors)
        out = []
        with reg:
            for path, when in ((first, UPLOAD), (second, LATER), (second, LATER)):
                report = import_donors(reg, path, nom, uploaded_at=when)
                out.append(state(reg, report))
    if fast:  # the column-wise check really ran, and read the plain CSV file and the export-layout JSON with Arrow
        assert clean[0][1] > 30
        assert clean[0][0] == ("list" if name == "quoted.csv" else "_ArrowBatch" if name == "csv" else "_JsonBatch")
    return out


@pytest.mark.parametrize(
    "name",
    ["json", "lines.json", "pretty.json", "csv", "quoted.csv"],
)
def test_columns_give_the_record_by_record_result(
    name: str, nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name == "json":
        write: Any = write_json
    elif name == "lines.json":
        write = by_line
    elif name == "pretty.json":
        write = pretty
    elif name == "csv":
        write = write_csv
    else:
        write = lambda path, donors: write_csv(path, donors, quote_all=True)  # noqa: E731
    fast = two_imports(tmp_path, nom, name, write, True, monkeypatch)
    slow = two_imports(tmp_path, nom, name, write, False, monkeypatch)
    first = fast[0]["report"]
    assert first["new"] > 30
    assert first["failed"] > 10
    assert first["hla_invalid"] == 3
    assert any(f[5] == "warning" for f in fast[0]["failures"])
    assert fast[1]["report"]["updated"] >= 3
    assert fast[2]["report"]["unchanged"] == 7
    for got, want in zip(fast, slow, strict=True):
        assert got.keys() == want.keys()
        for key in got:
            assert got[key] == want[key], key


def test_plain_csv_detection(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_bytes(b"a,b,c\r\n1,2,3\r\n4,5,6\r\n")
    assert importer._plain_csv(plain, 3)
    for body in (b"a,b,c\n1,2\n", b'a,b,c\n1,"2",3\n', b"a,b,c\n\n1,2,3\n", b"a,b,c\n1,2\r3\n", b"a,b,c\n1,\xff,3\n"):
        plain.write_bytes(body)
        assert not importer._plain_csv(plain, 3), body
    plain.write_bytes(b"a,b,c\n1,2,3")  # no final line end
    assert importer._plain_csv(plain, 3)


def pretty(path: Path, donors: list[dict[str, Any]]) -> Path:
    """A JSON file as ``json.dumps(indent=2)`` writes it: every donor spread over many lines."""
    path.write_text(json.dumps({"update_mode": "diff", "donors": donors}, indent=2), encoding="utf-8")
    return path


def by_line(
    path: Path, donors: list[dict[str, Any]], head: str = '{"update_mode": "diff", "donors": [', tail: str = "]}"
) -> Path:
    """A JSON file laid out as export writes it: one donor per line."""
    body = ",\n".join(json.dumps(d) for d in donors)
    path.write_text(f"{head}\n{body}\n{tail}\n", encoding="utf-8")
    return path


def streamed_and_whole(
    tmp_path: Path, nom: Nomenclature, monkeypatch: pytest.MonkeyPatch, body: bytes
) -> list[dict[str, Any]]:
    """The state after importing a JSON file into a new registry, streamed (as import_donors chooses) and read whole."""
    results = []
    for streamed in (True, False):
        folder = tmp_path / str(streamed)
        folder.mkdir()
        with monkeypatch.context() as patch:
            if not streamed:
                patch.setattr(importer, "_STREAMED", ())
            path = folder / "donors.json"
            path.write_bytes(body)
            reg = Registry.create(folder / "reg", nom.release)
            with reg:
                results.append(state(reg, import_donors(reg, path, nom, uploaded_at=UPLOAD)))
    return results


@pytest.mark.parametrize(
    "tail",
    [
        "]}",  # streamed line by line
        '], "extra": 1}',  # an unknown top-level property after the donors: the whole file is refused
        "]",  # truncated: the complete records before the damage are kept
        "]}\n{}",  # more after the document
    ],
)
def test_json_streamed_by_line_gives_the_whole_file_result(
    tail: str, nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = by_line(tmp_path / "donors.json", mixed_donors(), tail=tail).read_bytes()
    results = streamed_and_whole(tmp_path, nom, monkeypatch, body)
    assert results[0] == results[1]
    report = results[0]["report"]
    if tail == "]}":
        assert report["new"] > 30
    elif "extra" in tail:
        assert report["records"] == 0
        assert [f[3] for f in results[0]["failures"]] == ["unknown_property"]
    else:
        assert any(f[3] == "truncated_file" for f in results[0]["failures"])
        assert report["new"] > 30


def test_json_by_line_streams(nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The export layout is read line by line (never whole)."""
    monkeypatch.setattr(importer, "_read_json", lambda data: pytest.fail("read whole"))
    reg = Registry.create(tmp_path / "reg", nom.release)
    with reg:
        report = import_donors(reg, by_line(tmp_path / "d.json", mixed_donors()), nom, uploaded_at=UPLOAD)
    assert report.new > 30


def nested(depth: int) -> Any:
    value: Any = "A*01:01"
    for _ in range(depth):
        value = {"field1": value}
    return value


def json_shape_donors() -> list[dict[str, Any]]:
    """Valid records next to values the column-wise JSON reading keys specially: numbers equal across types
    (1, 1.0, True), locus objects equal up to key order, odd locus objects (null, list, a number, nested deeper than
    orjson writes), an unknown locus, an hla that is not an object."""
    out = [donor(f"OK-{i}", weight_kg=[70, 70.0, 71.5][i % 3], parity=[1, 1.0, 0][i % 3]) for i in range(9)]
    out += [donor("PARITY-TRUE", parity=True), donor("WEIGHT-TRUE", weight_kg=True), donor("PARITY-ONE", parity=1)]
    odd: dict[str, tuple[str, Any]] = {
        "REORDERED": ("A", {"dna": {"field2": "A*02:01", "field1": "A*01:01"}}),
        "KINDS": ("B", {"ser": {"field1": "B8", "field2": "B7"}, "dna": {"field1": "B*08:01", "field2": "B*07:02"}}),
        "NULL-LOCUS": ("C", None),
        "LIST-LOCUS": ("A", [{"dna": {"field1": "A*01:01"}}]),
        "NUMBER-CELL": ("A", {"dna": {"field1": 1, "field2": "A*02:01"}}),
        "DEEP": ("A", {"dna": nested(300)}),
        "UNKNOWN-LOCUS": ("X", {"dna": {"field1": "X*01:01"}}),
    }
    for record_id, (locus, given) in odd.items():
        record = donor(record_id)
        record["hla"][locus] = given
        out.append(record)
    not_object = donor("HLA-TEXT")
    not_object["hla"] = "A*01:01"
    return [*out, not_object]


def test_json_shapes_give_the_record_by_record_result(
    nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = []
    for fast in (True, False):
        folder = tmp_path / str(fast)
        folder.mkdir()
        with monkeypatch.context() as patch:
            if not fast:
                record_by_record(patch)
            reg = Registry.create(folder / "reg", nom.release)
            with reg:
                path = by_line(folder / "donors.json", json_shape_donors())
                results.append(state(reg, import_donors(reg, path, nom, uploaded_at=UPLOAD)))
    assert results[0] == results[1]
    report = results[0]["report"]
    assert (report["new"], report["failed"]) == (9, 11)  # 6 OK-*, PARITY-ONE, REORDERED, KINDS are loaded
    failed = {(f[1], f[2]) for f in results[0]["failures"]}
    assert ("OK-1", "parity") in failed  # 1.0 is not an integer although it equals 1
    assert ("WEIGHT-TRUE", "weight_kg") in failed  # True is not a number although it equals 1
    assert ("DEEP", "hla.A") in failed


def test_json_locus_column_keys_equal_objects_once() -> None:
    hlas = [
        {"A": {"dna": {"field1": "A*01:01", "field2": "A*02:01"}}},
        {"A": {"dna": {"field1": "A*01:01", "field2": "A*02:01"}}},
        {"A": {"dna": {"field2": "A*02:01", "field1": "A*01:01"}}},
        {"B": {"dna": {"field1": "B*08:01"}}},
        {"A": {"dna": nested(300)}},
        {"A": None},
    ]
    want = [importer._json_cells(h.get("A", importer._ABSENT)) for h in hlas]
    assert importer._json_locus_column("A", hlas) == want
    assert importer._json_locus_column("A", hlas[:4]) == want[:4]
    assert want[0] == ("A*01:01", "A*02:01", None, None)
    assert want[3] is importer._ABSENT
    assert want[4] is importer._BAD
    assert want[5] is importer._BAD


LINE = json.dumps(donor("EDGE"))[1:-1]
"""The properties of a valid donor object, to be completed into edge-case lines."""


C_LOCUS = '"C": {"dna": {"field1": "C*07:01", "field2": "C*07:02"}}'


@pytest.mark.parametrize(
    ("line", "arrow"),
    [
        ('{"weight_kg": NaN, ' + LINE.replace('"weight_kg": 64.5, ', "") + "}", True),  # orjson refuses NaN
        ('{"weight_kg": Infinity, ' + LINE.replace('"weight_kg": 64.5, ', "") + "}", True),
        ('{"parity": null, ' + LINE + "}", True),  # null: not a left-out property
        ("{" + LINE.replace(C_LOCUS, '"C": null') + "}", True),  # a null locus
        ("{" + LINE.replace('"9991"', '"\\u00399\\u003991"') + ', "parity": -0}', True),  # escapes, minus zero
        ("{" + LINE.replace('"EUR"', '"E\\u00dcR"') + "}", True),  # non-ASCII text
        ("{" + LINE.replace('"EUR"', '"null"') + "}", True),  # "null" inside a string
        ('{"sex": "M", ' + LINE + "}", False),  # given twice: orjson keeps the last one, Arrow refuses the block
        ("{" + LINE + "}, {" + LINE.replace("EDGE", "EDGE-2") + "}", False),  # two objects on one line
        ("{" + LINE.replace('"F"', '"\\ud800"') + "}", False),  # a lone surrogate
        ("{" + LINE + ', "parity": 1.0}', False),  # a float where an integer is expected
        ("{" + LINE + ', "weight_kg": 1e400}', False),
    ],
)
def test_json_lines_read_by_arrow_give_the_orjson_result(
    line: str, arrow: bool, nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An odd line among valid ones: the block read by Arrow gives what the whole-file reading (orjson) gives."""
    valid = [json.dumps(d) for d in mixed_donors()[:20]]
    body = ",\n".join([*valid[:10], line, *valid[10:]])
    read = importer._json_arrow_lines
    by_arrow: list[bool] = []

    def spy(block: bytes) -> Any:
        batch = read(block)
        by_arrow.append(batch is not None)
        return batch

    monkeypatch.setattr(importer, "_json_arrow_lines", spy)
    document = f'{{"update_mode": "diff", "donors": [\n{body}\n]}}\n'.encode()
    results = streamed_and_whole(tmp_path, nom, monkeypatch, document)
    assert by_arrow == [arrow]
    assert results[0] == results[1]
    assert results[0]["report"]["new"] >= 20


def test_json_lines_null_clears_and_left_out_keeps(nom: Nomenclature, tmp_path: Path) -> None:
    """In an update, a null attribute is cleared and a left-out one is kept, in a block read by Arrow."""
    reg = Registry.create(tmp_path / "reg", nom.release)
    with reg:
        first = import_donors(reg, by_line(tmp_path / "a.json", [donor(f"D-{i}") for i in range(5)]), nom)
        updates = [donor("D-0", "U", sex=None), {k: v for k, v in donor("D-1", "U", abo="B").items() if k != "sex"}]
        second = import_donors(reg, by_line(tmp_path / "b.json", [*updates, donor("D-2", "U")]), nom)
        records = {r.donor_id: r for r in reg.records(range(reg.arrays.n))}
    assert (first.new, second.updated, second.unchanged) == (5, 2, 1)
    assert records["D-0"].sex.name == "UNKNOWN"
    assert records["D-1"].sex.name == "FEMALE"
    assert records["D-1"].abo.name == "B"


def test_a_slow_write_is_waited_for(nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch is written by a thread while the next is checked: with slow writes and small batches every other
    use of the store (the next batch's look-up, retiring absent donors, the failure rows) still waits for the write,
    and the result is the one of quick writes."""
    monkeypatch.setattr(importer, "BATCH", 8)
    first = mixed_donors()
    second = [donor(f"OK-{i}", "NU", abo="AB") for i in range(0, 30, 2)] + [donor("NEW-1"), donor("bad id!")]
    results = []
    store = importer._Applier._store
    for slow in (False, True):
        folder = tmp_path / str(slow)
        folder.mkdir()
        with monkeypatch.context() as patch:
            if slow:

                def slow_store(self: Any, *args: Any) -> None:
                    time.sleep(0.05)
                    store(self, *args)

                patch.setattr(importer._Applier, "_store", slow_store)
            reg = Registry.create(folder / "reg", nom.release)
            with reg:
                one = import_donors(reg, write_json(folder / "1.json", first), nom, uploaded_at=UPLOAD)
                path = write_json(folder / "2.json", second, mode="full")
                two = import_donors(reg, path, nom, uploaded_at=LATER, allow_full=True)
                results.append([state(reg, one), state(reg, two)])
    assert results[0] == results[1]
    assert results[1][1]["report"]["deleted"] > 10


TRICKY_TEXT = ['{"a}": "[{"}', '"\\\\"', '"\\"}{"', '"\\\\\\"]"']
"""Strings holding braces, brackets, an escaped backslash before a closing quote and an escaped quote."""


def tricky_donors() -> list[str]:
    """Valid donors spread over lines in odd ways, with text the structural scan must step over."""
    out = []
    for i, d in enumerate(mixed_donors()[:24]):
        text = json.dumps(d, indent=[None, 1, "\t"][i % 3])
        if i % 4 == 0:
            text = text.replace("\n", "\r\n")
        if i % 5 == 0:  # a registry code holding braces, quotes and backslashes (too long or odd: reported)
            text = text.replace('"registry": "9991"', f'"registry": {TRICKY_TEXT[i % 4]}')
        out.append(text)
    return out


@pytest.mark.parametrize(
    ("name", "texts", "head", "tail", "streamed"),
    [
        ("tricky", tricky_donors(), '{"update_mode": "diff", "donors": [', "]}", True),
        ("spaced", tricky_donors(), ' {\n "update_mode" :\n "diff" , "donors":\n\n[ ', " ]\n}\n\n", True),
        ("empty", [], '{"update_mode": "diff", "donors": [', "]}", True),
        ("trailing comma", tricky_donors(), '{"update_mode": "diff", "donors": [', ",]}", False),
        (
            "a number element",
            [*tricky_donors()[:3], "7", *tricky_donors()[3:]],
            '{"update_mode": "diff", "donors": [',
            "]}",
            False,
        ),
        ("a list element", [*tricky_donors()[:3], "[{}]"], '{"update_mode": "diff", "donors": [', "]}", False),
        (
            "two commas",
            [*tricky_donors()[:3], "", *tricky_donors()[3:]],
            '{"update_mode": "diff", "donors": [',
            "]}",
            False,
        ),
        ("more after", tricky_donors(), '{"update_mode": "diff", "donors": [', '], "extra": {"a": [1]}}', False),
        ("mode after", tricky_donors(), '{"donors": [', '], "update_mode": "diff"}', False),
        ("truncated", tricky_donors(), '{"update_mode": "diff", "donors": [', "", False),
        ("form feed", tricky_donors(), '{"update_mode": "diff", "donors": [', "]\f}", False),
    ],
)
@pytest.mark.parametrize("block", [1 << 24, 300])
def test_json_objects_streamed_give_the_whole_file_result(
    name: str,
    texts: list[str],
    head: str,
    tail: str,
    streamed: bool,
    block: int,
    nom: Nomenclature,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A JSON file in any layout is streamed object by object (blocks of 300 bytes split donors and their strings)
    and gives what the whole-file reading gives; a file that is not one ``donors`` array of objects, or holds more,
    falls back to the whole-file reading."""
    monkeypatch.setattr(importer, "_JSON_BLOCK", block)
    read = importer._read_json_file
    layouts: list[str] = []

    def spy(fh: Any, layout: Any) -> Any:
        layouts.append(layout)
        return read(fh, layout)

    monkeypatch.setattr(importer, "_read_json_file", spy)
    body = f"{head}\n{','.join(texts)}\n{tail}\n".encode()
    results = streamed_and_whole(tmp_path, nom, monkeypatch, body)
    assert results[0] == results[1]
    assert layouts[-1] == "whole"
    assert ("whole" not in layouts[:-1]) is streamed, layouts  # the first import: read whole only if not streamed
    if name in ("tricky", "spaced"):
        assert layouts[:-1] == ["lines", "objects"]
        report = results[0]["report"]
        assert (report["new"], report["failed"]) == (22, 2)  # the registry codes that are objects are refused
        assert {r[2] for r in results[0]["donors"]} >= {"\\", '"}{', '\\"]'}  # strings stored as written


def test_json_lines_with_crlf_are_read_by_arrow(
    nom: Nomenclature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export-layout file written with CRLF line ends (as on Windows) still takes the Arrow path."""
    read = importer._json_arrow_lines
    by_arrow: list[bool] = []

    def spy(block: bytes) -> Any:
        batch = read(block)
        by_arrow.append(batch is not None)
        return batch

    monkeypatch.setattr(importer, "_json_arrow_lines", spy)
    body = by_line(tmp_path / "lf.json", mixed_donors()).read_bytes().replace(b"\n", b"\r\n")
    results = streamed_and_whole(tmp_path, nom, monkeypatch, body)
    assert by_arrow == [True]
    assert results[0] == results[1]
    assert results[0]["report"]["new"] > 30
