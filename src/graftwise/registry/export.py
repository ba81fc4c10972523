"""Donor export in the import format (matching.md §10.1): a full-mode JSON or CSV file that
:func:`graftwise.registry.importer.import_donors` reads back to the same donors.

:func:`export_record` is the definition, one :class:`DonorRecord` at a time. :func:`export_donors` writes the same
values column by column: each Arrow batch of the store becomes one text column per field (code columns through a
table of their letters, dates by an Arrow cast, float32 columns through their distinct values, strings quoted
only where JSON or CSV needs it), and the rows are joined by Arrow, so no Python object is made per donor.

JSON is laid out as the importer streams it: a first line ``{"update_mode": "full", "donors": [``, one donor object
per line separated by ``,\\n``, a last line ``]}``. CSV is what :func:`csv.writer` writes for these values (the
header :data:`CSV_COLUMNS`, minimal quoting, ``\\r\\n`` line ends).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from graftwise.errors import ValidationError
from graftwise.registry.importer import ATTRIBUTES, CODES, CSV_COLUMNS
from graftwise.registry.records import ADULT_FIELDS, ALL_LOCI, CORD_FIELDS, DONOR_ID_RE, DonorRecord, DonorType
from graftwise.registry.registry import Registry
from graftwise.registry.store import StoreError, shortest_float32

Progress = Callable[[int], None]

_SEX_OUT = {v: k for k, v in CODES["sex"].items()}
_ABO_OUT = {v: k for k, v in CODES["abo"].items()}
_RH_OUT = {v: k for k, v in CODES["rh"].items()}
_CMV_OUT = {v: k for k, v in CODES["cmv"].items()}
_STATUS_OUT = {v: k for k, v in CODES["status"].items()}
_DONOR_TYPE_OUT: dict[int, str] = {DonorType.ADULT: "D", DonorType.CORD: "C"}


def export_record(r: DonorRecord) -> dict[str, Any]:
    """One record in the import format (change type N)."""
    out: dict[str, Any] = {
        "record_id": r.donor_id,
        "change_type": "N",
        "donor_type": _DONOR_TYPE_OUT[r.donor_type],
        "registry": r.registry,
        "ethnicity": r.population,
        "sex": _SEX_OUT.get(r.sex),
        "birth_date": r.birth_date.isoformat() if r.birth_date else None,
        "abo": _ABO_OUT.get(r.abo),
        "rh": _RH_OUT.get(r.rh),
        "cmv": _CMV_OUT.get(r.cmv),
        "status": _STATUS_OUT[r.status],
        "status_date": r.status_date.isoformat() if r.status_date else None,
        "weight_kg": r.weight_kg,
        "parity": r.parity,
        "tnc": r.tnc,
        "cd34": r.cd34,
        "volume_ml": r.volume_ml,
        "collection_date": r.collection_date.isoformat() if r.collection_date else None,
    }
    for name in ADULT_FIELDS if r.donor_type is DonorType.CORD else CORD_FIELDS:
        out.pop(name)
    hla: dict[str, Any] = {}
    for locus, (first, second) in r.hla.items():
        hla[locus] = {_kind(first): {"field1": first, "field2": second}}
    out["hla"] = hla
    return out


def _kind(first: str | None) -> str:
    """``dna`` when the first typing is molecular (has ``*``), else ``ser``."""
    return "dna" if first and "*" in first else "ser"


# ---- column-wise export -------------------------------------------------------------------------------------------

BATCH = 65536
"""Donors per store batch: some 40 MB of JSON text, so memory stays flat however big the registry (1M donors:
131072 took as long with a quarter more peak memory)."""

_STORED = {"record_id": "donor_id", "ethnicity": "population"}
"""Export name → store column, where they differ."""
_CODED: dict[str, Mapping[int, str]] = {
    "donor_type": _DONOR_TYPE_OUT,
    "sex": _SEX_OUT,
    "abo": _ABO_OUT,
    "rh": _RH_OUT,
    "cmv": _CMV_OUT,
    "status": _STATUS_OUT,
}
_DATES = ("birth_date", "status_date", "collection_date")
_FLOATS = ("weight_kg", "tnc", "cd34", "volume_ml")
_FIELDS = ("record_id", "donor_type", "registry", "ethnicity", *ATTRIBUTES)
"""Every exported field but ``change_type`` (always N) and ``hla``, in :func:`export_record`'s order."""
_COLUMNS = (
    "row",
    *dict.fromkeys(_STORED.get(name, name) for name in _FIELDS),
    *(f"hla_{locus}_{pos}" for locus in ALL_LOCI for pos in (1, 2)),
)
_JSON_HEAD = b'{"update_mode": "full", "donors": [\n'
_JSON_TAIL = b"\n]}\n"
_TEXT = pa.large_string()


def export_donors(registry: Registry, out: Path, fmt: str, *, progress: Progress | None = None) -> int:
    """Write every donor as a full-mode import file, ``fmt`` ``json`` or ``csv``; returns the number written.

    ``progress`` is called with the number of donors written after each batch.
    """
    if fmt not in ("json", "csv"):
        raise ValidationError(f"format {fmt!r} must be json or csv", field="format")
    n = 0
    with out.open("wb") as fh:
        if fmt == "json":
            fh.write(_JSON_HEAD)
            for batch in _batches(registry):
                # Every object is made with a leading ",\n"; the file's first one goes without.
                fh.write(_bytes(_json_rows(batch))[0 if n else 2 :])
                n += batch.num_rows
                if progress:
                    progress(batch.num_rows)
            fh.write(_JSON_TAIL)
            return n
        fh.write((",".join(CSV_COLUMNS) + "\r\n").encode())
        for batch in _batches(registry):
            fh.write(_bytes(_csv_rows(batch)))
            n += batch.num_rows
            if progress:
                progress(batch.num_rows)
    return n


def _batches(registry: Registry) -> Iterator[pa.RecordBatch]:
    for batch in registry.store.scan(_COLUMNS, batch_rows=BATCH):
        if batch.num_rows:
            yield batch


def _json_rows(batch: pa.RecordBatch) -> pa.Array:
    """One ``,\\n{…}`` text per donor."""
    values = _values(batch, _json, '"', "null", keyed=True)
    cord = _is_cord(batch)
    parts: list[Any] = [',\n{"record_id":', values["record_id"], ',"change_type":"N"']
    for name in _FIELDS[1:]:
        piece = values[name]
        if name in ADULT_FIELDS:
            piece = pc.if_else(cord, _lit(""), piece)
        elif name in CORD_FIELDS:
            piece = pc.if_else(cord, piece, _lit(""))
        parts.append(piece)
    loci = [_json_locus(batch, locus) for locus in ALL_LOCI]
    # Each typed locus comes with a leading comma: drop the first one.
    parts += [',"hla":{', pc.utf8_slice_codeunits(_join(*loci), 1), "}}"]
    return _join(*parts)


def _json_locus(batch: pa.RecordBatch, locus: str) -> pa.Array:
    """``,"A":{"dna":{"field1":…,"field2":…}}``, or nothing when the locus is untyped."""
    first, second = _positions(batch, locus)
    head = _distinct(first, lambda v: f',"{locus}":{{"{_kind(v)}":{{"field1":{_json(v)}')
    tail = _distinct(second, lambda v: f',"field2":{_json(v)}}}}}').fill_null(_lit(',"field2":null}}'))
    return _join(head, tail).fill_null(_lit(""))


def _csv_rows(batch: pa.RecordBatch) -> pa.Array:
    """One ``…\\r\\n`` line per donor."""
    values = _values(batch, _csv, "", "", keyed=False)
    cord = _is_cord(batch)
    for name in ADULT_FIELDS:
        values[name] = pc.if_else(cord, _lit(""), values[name])
    for name in CORD_FIELDS:
        values[name] = pc.if_else(cord, values[name], _lit(""))
    cells = [_lit("N") if name == "change_type" else values[name] for name in CSV_COLUMNS[: len(_FIELDS) + 1]]
    cells += [_csv_locus(batch, locus) for locus in ALL_LOCI]
    return _join(pc.binary_join_element_wise(*cells, _lit(",")), "\r\n")


def _csv_locus(batch: pa.RecordBatch, locus: str) -> pa.Array:
    """The locus's four cells ``dna.field1,dna.field2,ser.field1,ser.field2``: ``q1,q2,,`` or ``,,q1,q2``."""
    first, second = _positions(batch, locus)
    head = _distinct(first, lambda v: f"{_csv(v)}," if _kind(v) == "dna" else f",,{_csv(v)},").fill_null(_lit(",,,"))
    tail = _distinct(second, _csv).fill_null(_lit(""))
    dna = pc.match_substring(first, "*").fill_null(False)
    return _join(head, pc.if_else(dna, _join(tail, ",,"), tail))


def _values(
    batch: pa.RecordBatch, string: Callable[[str], str], wrap: str, null: str, *, keyed: bool
) -> dict[str, pa.Array]:
    """Every field of :data:`_FIELDS` as text without nulls: free text through ``string``, letters, dates and donor
    ids (which never need escaping) between ``wrap``, None as ``null``. ``keyed``: each but the record id comes
    as its JSON member ``,"name":value`` (the key added to the few distinct texts, not row by row)."""
    out: dict[str, pa.Array] = {}
    for name in _FIELDS:
        key = f',"{name}":' if keyed and name != "record_id" else ""
        column = batch.column(_STORED.get(name, name))
        if name == "record_id":
            text = _join(wrap, _donor_ids(column, batch), wrap)
        elif name in _CODED:
            text = _letters(column, name, _CODED[name], key + wrap, wrap)
        elif name in _DATES:
            text = _join(key + wrap, column.cast(_TEXT), wrap)
        elif name in _FLOATS:
            text = _distinct(column, _float_text(name), key)
        elif name == "parity":
            text = _join(key, column.cast(_TEXT))
        else:
            text = _distinct(column, string, key)
        out[name] = text.fill_null(_lit(key + null))
    return out


def _donor_ids(column: pa.Array, batch: pa.RecordBatch) -> pa.Array:
    """The donor ids, each checked against the donor id rule (so none needs quoting or escaping)."""
    column = column.cast(_TEXT)
    ok = pc.match_substring_regex(column, DONOR_ID_RE.pattern).fill_null(False)
    if not pc.all(ok).as_py():
        bad = pc.index(ok, False).as_py()
        raise StoreError(
            f"stored donor at row {batch.column('row')[bad]} has donor id {column[bad].as_py()!r}, which is not "
            "1-25 letters, digits, '-' or '_'",
            field="donor_id",
        )
    return column


def _letters(column: pa.Array, name: str, letters: Mapping[int, str], before: str, after: str) -> pa.Array:
    """A code column as its letters (null where the code has none). A null code is the record's default."""
    default = int(DonorRecord.model_fields[name].default)
    codes = column.fill_null(default).to_numpy(zero_copy_only=False).astype(np.int64)
    known = np.array(sorted({int(c) for c in letters} | {default}), dtype=np.int64)
    bad = ~np.isin(codes, known)
    if bad.any():
        raise StoreError(
            f"stored column {name} holds code {codes[bad][0]}, expected one of {', '.join(map(str, known))}",
            field=name,
        )
    texts = [letters.get(int(code)) for code in known]
    table = pa.array([None if t is None else f"{before}{t}{after}" for t in texts], _TEXT)
    return table.take(pa.array(np.searchsorted(known, codes)))


def _float_text(name: str) -> Callable[[float], str]:
    """The float32 value as the shortest decimal that reads back to it (55.4, not 55.400001525878906), written as
    Python writes that float."""

    def text(value: float) -> str:
        if not math.isfinite(value):
            raise StoreError(f"stored column {name} holds {value}, not a number", field=name)
        return repr(shortest_float32(value))

    return text


def _positions(batch: pa.RecordBatch, locus: str) -> tuple[pa.Array, pa.Array]:
    """The locus's two typing columns, checked as :class:`DonorRecord` checks them (position 2 needs position 1)."""
    first, second = batch.column(f"hla_{locus}_1"), batch.column(f"hla_{locus}_2")
    orphan = pc.and_(pc.is_null(first), pc.is_valid(second))
    if pc.any(orphan).as_py():
        bad = pc.index(orphan, True).as_py()
        raise StoreError(
            f"stored donor at row {batch.column('row')[bad]}: hla {locus} position 2 is typed but position 1 is empty",
            field=f"hla_{locus}_1",
        )
    return first, second


def _distinct(column: pa.Array, text: Callable[[Any], str], prefix: str = "") -> pa.Array:
    """``prefix`` and ``text`` of every value, made once per distinct value; null stays null."""
    encoded = pc.dictionary_encode(column)
    texts = pa.array([prefix + text(v) for v in encoded.dictionary.to_pylist()], _TEXT)
    return texts.take(encoded.indices)


def _json(value: str) -> str:
    return orjson.dumps(value).decode()


def _csv(value: str) -> str:
    """A cell as :func:`csv.writer` writes it: quoted, its quotes doubled, only with a comma, quote or line break."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _is_cord(batch: pa.RecordBatch) -> pa.Array:
    return pc.equal(batch.column("donor_type").fill_null(int(DonorType.ADULT)), int(DonorType.CORD))


def _lit(text: str) -> pa.Scalar:
    return pa.scalar(text, _TEXT)


def _join(*parts: Any) -> pa.Array:
    """The parts (columns or literal strings) concatenated row by row; null if any part is null."""
    return pc.binary_join_element_wise(*(_lit(p) if isinstance(p, str) else p for p in parts), _lit(""))


def _bytes(rows: pa.Array) -> pa.Buffer:
    """The rows' texts back to back, straight from the array's data buffer."""
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset : rows.offset + len(rows) + 1]
    return rows.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
