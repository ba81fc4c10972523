"""Donor import that loses nothing (matching.md §10; issue 3 §2); export, in the same format, is in :mod:`.export`.

File formats. JSON: ``{"update_mode": "full" | "diff" | "check", "donors": [ … ]}`` with the donor fields of
matching.md §10.1 (``record_id``, ``change_type``, ``donor_type``, ``registry``, ``ethnicity``, ``hla``) plus the
record attributes of :data:`ATTRIBUTES`. CSV: one donor per line, the same fields as columns, HLA as
``hla.<LOCUS>.<dna|ser>.<field1|field2>`` columns; an empty cell is null.

Behaviour (matching.md §10.2):

* every record is validated, HLA included (against the registry's release, through a cache of distinct typing
  strings); an invalid record never aborts the file; each problem is one row of ``donor_import_failures``
  (file, record id, property, error code, message);
* a donor whose HLA is invalid is stored, flagged ``hla_invalid`` with the errors, excluded from search and reported;
* ``N`` for an existing donor and ``U``/``D`` for a missing one fail with no change; ``NU`` creates or updates;
  ``D`` marks the donor unavailable and keeps the record and its history (never a hard delete);
* an update older than the donor's last applied one (by upload time) is skipped and logged;
* identical content is not a change, so re-importing a file changes nothing;
* ``full`` is refused on a non-empty registry unless ``allow_full`` (the admin override): it makes the store equal
  to the file, marking donors absent from the file unavailable (never deleting them); ``check`` compares and changes
  nothing.

After a change the search arrays are rebuilt as a new generation, so imported donors are never left unindexed.

Speed: each batch is first checked column by column (:meth:`_Checker.columns`: every distinct value once, by the
record check's own code); records that pass with no failure and no warning are written as Arrow tables, and every
other record takes the record-by-record check (:meth:`_Checker.record`), so the failure rows are the same either way.
A plain CSV file (:func:`_plain_csv`) is read by Arrow; a JSON file opening with ``update_mode`` and ``donors`` is
streamed, line by line (:class:`_JsonLines`) or object by object (:class:`_JsonObjects`), and read by Arrow where
Arrow and orjson agree; each batch is written by a thread while the next is checked.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO, TypeVar

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
from pydantic import BaseModel, ConfigDict, Field

from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.registry.records import (
    ABO,
    ADULT_FIELDS,
    ALL_LOCI,
    CORD_FIELDS,
    LIMITS,
    REQUIRED_LOCI,
    DonorType,
    Serostatus,
    Sex,
    Status,
    donor_id_problem,
    type_field_problems,
)
from graftwise.registry.registry import Registry
from graftwise.registry.store import (
    DONOR_SCHEMA,
    FAILURE_SCHEMA,
    HISTORY_SCHEMA,
)
from graftwise.registry.typing_check import TypingCheck, TypingValidator, normalise_dna, normalise_serology

_T = TypeVar("_T")
_U = TypeVar("_U")

Mode = Literal["full", "diff", "check"]
Severity = Literal["error", "warning", "skipped"]
Progress = Callable[[int], None]

# ---- the file's donor fields -------------------------------------------------------------------------------------

ATTRIBUTES: tuple[str, ...] = (
    "sex",
    "birth_date",
    "abo",
    "rh",
    "cmv",
    "status",
    "status_date",
    "weight_kg",
    "parity",
    "tnc",
    "cd34",
    "volume_ml",
    "collection_date",
)
"""Record attributes beside the matching.md §10.1 fields; each may be absent or null."""
REQUIRED: tuple[str, ...] = ("record_id", "change_type", "donor_type", "registry", "ethnicity")
"""Required properties (``registry`` and ``ethnicity`` may be null; matching.md §10.1)."""
PROPERTIES = frozenset((*REQUIRED, "hla", *ATTRIBUTES))
CSV_COLUMNS: tuple[str, ...] = (
    *REQUIRED,
    *ATTRIBUTES,
    *(f"hla.{locus}.{kind}.field{i}" for locus in ALL_LOCI for kind in ("dna", "ser") for i in (1, 2)),
)

_CHANGE_TYPES = frozenset({"N", "U", "D", "NU"})
_DONOR_TYPES = {"D": DonorType.ADULT, "C": DonorType.CORD, "B": DonorType.CORD}
"""``D`` adult donor, ``C`` cord blood unit, ``B`` banked (stored as a cord unit)."""
_SEX = {"F": Sex.FEMALE, "M": Sex.MALE}
_ABO = {"O": ABO.O, "A": ABO.A, "B": ABO.B, "AB": ABO.AB}
_RH = {"+": Serostatus.POSITIVE, "-": Serostatus.NEGATIVE}
_CMV = {"P": Serostatus.POSITIVE, "N": Serostatus.NEGATIVE}
_STATUS = {"available": Status.AVAILABLE, "reserved": Status.RESERVED, "unavailable": Status.UNAVAILABLE}
CODES: dict[str, dict[str, Any]] = {"sex": _SEX, "abo": _ABO, "rh": _RH, "cmv": _CMV, "status": _STATUS}
_DATES = frozenset({"birth_date", "status_date", "collection_date"})
_INTEGERS = frozenset({"parity"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_TEXT = 200

_NEW_ROW: dict[str, Any] = {
    **dict.fromkeys(DONOR_SCHEMA.names),
    "sex": int(Sex.UNKNOWN),
    "abo": int(ABO.UNKNOWN),
    "rh": int(Serostatus.UNKNOWN),
    "cmv": int(Serostatus.UNKNOWN),
    "status": int(Status.AVAILABLE),
    "hla_invalid": False,
}
"""A new donor's row before the record's fields are applied."""
_UNTYPED = dict.fromkeys(f"hla_{locus}_{pos}" for locus in ALL_LOCI for pos in (1, 2))


# ---- the report ---------------------------------------------------------------------------------------------------


class ImportFailure(BaseModel):
    """One row of ``donor_import_failures``. ``record`` is the record's 1-based position in the file (CSV: line)."""

    record_id: str | None
    record: int | None
    property: str | None
    error_code: str
    message: str
    severity: Severity = "error"


class CheckResult(BaseModel):
    """``check`` mode: donors of the file absent from the store, and stored donors whose fields differ."""

    absent: list[str]
    differing: dict[str, list[str]]


class ImportReport(BaseModel):
    """The result summary of one file (matching.md §10.2 item 1)."""

    import_id: int | None
    file: str
    mode: Mode
    records: int
    new: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    hla_invalid: int = 0
    generation: int
    seconds: float = 0.0
    failures: list[ImportFailure] = Field(default_factory=list)
    check: CheckResult | None = None


# ---- reading files ------------------------------------------------------------------------------------------------


@dataclass
class _Parsed:
    mode: str | None
    records: Iterable[_Raw]
    """(position, raw record or None when unreadable, failures found while reading), read lazily."""
    file_failures: list[ImportFailure]
    layout: _CsvLayout | None = None
    """CSV: where the cells sit (the records are then rows of cells); JSON: None (the records are dicts)."""
    header: list[str] | None = None
    batches: Iterator[_JsonBatch | list[_Raw]] | None = None
    """An export-layout JSON file: its records, already in batches (``records`` is then empty)."""


_Raw = tuple[int, Any, list[ImportFailure]]
"""(position, payload, failures found while reading): the payload is a dict (JSON), a row of cells (CSV) or None."""


def _file_failure(code: str, message: str, prop: str | None = None) -> ImportFailure:
    return ImportFailure(record_id=None, record=None, property=prop, error_code=code, message=message)


def _read_json(data: bytes) -> _Parsed:
    try:
        doc = orjson.loads(data)
    except json.JSONDecodeError as exc:
        return _salvage_json(data.decode("utf-8", errors="replace"), exc)
    if not isinstance(doc, dict) or not isinstance(doc.get("donors"), list):
        return _Parsed(None, [], [_file_failure("bad_file", 'expected an object {"update_mode": …, "donors": [ … ]}')])
    unknown = sorted(set(doc) - {"update_mode", "donors"})
    failures = [_file_failure("unknown_property", f"unknown top-level property {k!r}", k) for k in unknown]
    if failures:
        return _Parsed(None, [], failures)
    mode = doc.get("update_mode")
    return _Parsed(mode if isinstance(mode, str) else None, _json_records(doc.pop("donors")), [])


_JSON_HEAD = re.compile(rb'^\s*\{\s*"update_mode"\s*:\s*"(full|diff|check)"\s*,\s*"donors"\s*:\s*\[\s*$')
_JSON_OPEN = re.compile(rb'\s*\{\s*"update_mode"\s*:\s*"(full|diff|check)"\s*,\s*"donors"\s*:\s*\[')
_WHITESPACE = b" \t\n\r"
"""JSON's whitespace (``bytes.strip`` would also take vertical tab and form feed)."""

Layout = Literal["lines", "objects", "whole"]
"""How a JSON file is read: streamed line by line (the export layout), streamed object by object (any layout that
opens with ``{"update_mode": …, "donors": [``), or parsed whole."""


_STREAMED: tuple[Layout, ...] = ("lines", "objects")
"""The layouts tried, in order, before the whole-file reading."""


class _NotStreamedError(Exception):
    """The JSON file is not in the layout being streamed after all (found on its first bytes or later)."""


def _read_json_file(fh: BinaryIO, layout: Layout) -> _Parsed:
    """The export layout (a first line ``{"update_mode": …, "donors": [``, one donor object per line, a last line
    ``]}``) and any layout opening with those two properties are streamed in blocks, so memory stays bounded by the
    block. A file that turns out not to be in the layout — on its first bytes or later (:class:`_NotStreamedError`,
    after which the caller rolls back and tries the next layout) — ends with the whole-file reading and its exact
    failures (unknown top-level property, truncated file, …)."""
    if layout == "whole":
        return _read_json(fh.read())
    if layout == "lines":
        head = _JSON_HEAD.match(fh.readline(1 << 16))
        if head is None:
            raise _NotStreamedError
        return _Parsed(head.group(1).decode(), [], [], batches=_JsonLines(fh).batches())
    opening = _JSON_OPEN.match(fh.read(1 << 16))
    if opening is None:
        raise _NotStreamedError
    fh.seek(opening.end())
    return _Parsed(opening.group(1).decode(), [], [], batches=_JsonObjects(fh).batches())


_JSON_BLOCK = 1 << 24
"""Bytes of donor lines read at a time."""
_NULL = b"null"
"""Arrow cannot tell null from a left-out property, so a donor holding ``null`` takes the record-by-record path, read
by orjson; so does a donor where Arrow read NaN or Infinity (which orjson refuses)."""


def _parsed_ahead(pieces: Iterator[_T], parse: Callable[[_T], _U]) -> Iterator[tuple[_T, _U]]:
    """Each piece with ``parse(piece)``, computed in a thread one piece ahead (Arrow releases the GIL)."""
    with ThreadPoolExecutor(1) as pool:
        pending: tuple[_T, Future[_U]] | None = None
        for piece in pieces:
            parsing = pool.submit(parse, piece)
            if pending is not None:
                yield pending[0], pending[1].result()
            pending = piece, parsing
        if pending is not None:
            yield pending[0], pending[1].result()


class _JsonLines:
    """The donor lines of an export-layout file, block by block. A block whose lines all read ``{…},`` is parsed by
    Arrow against :data:`_JSON_SCHEMA` (a :class:`_JsonBatch`); a block Arrow refuses (an unknown property, a value of
    another JSON type, a line that is not one object, …) and the last lines are read line by line by orjson, as
    before, so a record's outcome never depends on which reader took it."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.position = 0
        self.last = False
        """A donor line without the separating comma was read: only the closing line may follow."""
        self.closed = False

    def batches(self) -> Iterator[_JsonBatch | list[_Raw]]:
        for block, parsed in _parsed_ahead(self._blocks(), _json_arrow_lines):
            if parsed is not None and not self.last and not self.closed:
                table, body, cut = parsed
                batch = _JsonBatch(table, body, self.position + 1, body.split(b"\n")[:-1])
                self.position += len(batch)
                yield batch
                block = block[cut:]
            yield from _batches(self._lines(block.split(b"\n")), BATCH)
        if not self.closed:
            raise _NotStreamedError  # no closing line: truncated

    def _blocks(self) -> Iterator[bytes]:
        """The rest of the file in blocks of whole lines, with LF line ends (a carriage return before a line end is
        whitespace in a valid line, and an invalid line stays invalid without it)."""
        tail = b""
        while chunk := self.fh.read(_JSON_BLOCK):
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            tail = data[cut:]
            yield data[:cut].replace(b"\r\n", b"\n") if b"\r" in data else data[:cut]
        if tail:
            yield tail

    def _lines(self, lines: list[bytes]) -> list[_Raw]:
        out: list[_Raw] = []
        for line in lines:
            text = line.strip(_WHITESPACE)
            if not text:
                continue
            if self.closed:  # more after the closing line
                raise _NotStreamedError
            if text in (b"]}", b"] }"):
                if self.position and not self.last:  # a comma after the last donor
                    raise _NotStreamedError
                self.closed = True
                continue
            if self.last or not text.startswith(b"{"):
                raise _NotStreamedError
            self.last = not text.endswith(b",")
            self.position += 1
            out.append((self.position, _json_object(text if self.last else text[:-1]), []))
        return out


def _json_arrow_lines(block: bytes) -> tuple[pa.Table, bytes, int] | None:
    """The block's donor lines ``{…},`` up to its last one, read by Arrow: the table, the lines without their commas,
    and where they end in the block; None when there are none or Arrow refuses them."""
    cut = block.rfind(b"},\n") + 3
    n = block.count(b"\n", 0, cut)
    body = block[:cut].replace(b"},\n", b"}\n")  # a raw line end is never inside a JSON string
    if cut < 3 or not block.startswith(b"{") or cut - len(body) != n:  # a line that does not end with "},"
        return None
    table = _arrow_read(body, n, _JSON_PARSE)
    return None if table is None else (table, body, cut)


class _JsonObjects:
    """The donor objects of a JSON file in any layout, after its opening ``{"update_mode": …, "donors": [``. Each
    block is scanned for the objects at the top of the donors array (:func:`_top_level`), whose text Arrow parses as
    for lines (a batch Arrow refuses is read object by object by orjson). Anything but whitespace and single commas
    between the objects, an element that is not an object, a missing ``]`` or anything after the closing ``}``
    stops the streaming."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.position = 0

    def batches(self) -> Iterator[_JsonBatch | list[_Raw]]:
        for objects, table in _parsed_ahead(self._objects(), _json_arrow_objects):
            first = self.position + 1
            self.position += len(objects)
            if table is not None:
                yield _JsonBatch(table, b"\n".join(objects), first, objects)
            else:
                yield from _batches([(first + k, _json_object(o), []) for k, o in enumerate(objects)], BATCH)

    def _objects(self) -> Iterator[list[bytes]]:
        pending = b""
        seen = False
        while True:
            chunk = self.fh.read(_JSON_BLOCK)
            data = pending + chunk
            starts, ends, close = _top_level(data)
            objects: list[bytes] = []
            at = 0
            for start, end in zip(starts.tolist(), ends.tolist(), strict=False):
                if data[at:start].strip(_WHITESPACE) != (b"," if seen else b""):
                    raise _NotStreamedError
                objects.append(data[start : end + 1])
                at, seen = end + 1, True
            if close >= 0:
                rest = data[close + 1 :].strip(_WHITESPACE)
                while len(rest) <= 1 and (more := self.fh.read(_JSON_BLOCK)):  # read on only while it can be "}"
                    rest = (rest + more).strip(_WHITESPACE)
                if data[at:close].strip(_WHITESPACE) or rest != b"}":
                    raise _NotStreamedError  # a trailing comma, or anything but "}" after the donors
                if objects:
                    yield objects
                return
            if not chunk:
                raise _NotStreamedError  # no closing "]": truncated
            pending = data[at:]
            if objects:
                yield objects


_SPECIAL = np.zeros(256, dtype=bool)
_SPECIAL[list(b'"\\{}[]')] = True


def _top_level(data: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """Where the complete objects at the top of an array start and end (inclusive), and where the array closes (-1
    when it does not close here), in text that starts between two elements of the array. Found on the quotes,
    backslashes, braces and brackets only: a quote preceded by an odd run of backslashes is escaped, and a brace or
    bracket inside a string is text. Raises :class:`_NotStreamedError` when an element is not an object."""
    text = np.frombuffer(data, np.uint8)
    at = np.flatnonzero(_SPECIAL[text])
    char = text[at]
    quote = char == ord('"')
    if b"\\" in data:
        backslash = char == ord("\\")
        follows = np.zeros(len(at), dtype=bool)  # the previous special character is a backslash right before this
        follows[1:] = backslash[:-1] & (at[:-1] == at[1:] - 1)
        index = np.arange(len(at))
        run_start = np.maximum.accumulate(np.where(follows, 0, index))
        run = index - run_start + 1  # the run of backslashes a backslash ends
        escaped = np.zeros(len(at), dtype=bool)
        escaped[1:] = follows[1:] & (run[:-1] % 2 == 1)
        quote &= ~escaped
    outside = np.cumsum(quote) % 2 == 0
    opening = outside & ((char == ord("{")) | (char == ord("[")))
    closing = outside & ((char == ord("}")) | (char == ord("]")))
    depth = np.cumsum(opening.astype(np.int64) - closing)
    closes = np.flatnonzero(closing & (depth < 0))
    close = int(at[closes[0]]) if len(closes) else -1
    end = close if close >= 0 else len(text)
    starts = at[opening & (depth == 1)]
    ends = at[closing & (depth == 0)]
    starts, ends = starts[starts < end], ends[ends < end]
    if (
        not np.all(text[starts] == ord("{"))
        or not np.all(text[ends] == ord("}"))
        or (close >= 0 and text[close] != ord("]"))
    ):
        raise _NotStreamedError
    return starts[: len(ends)], ends, close


def _json_arrow_objects(objects: list[bytes]) -> pa.Table | None:
    """Donor objects read by Arrow (they may span lines), or None when Arrow refuses them."""
    return _arrow_read(b"\n".join(objects), len(objects), _JSON_PARSE_OBJECTS)


def _arrow_read(body: bytes, n: int, options: pajson.ParseOptions) -> pa.Table | None:
    """``n`` donor objects read by Arrow, or None when Arrow refuses them or reads another number of objects."""
    try:
        if not body.isascii():
            body.decode("utf-8")  # Arrow does not check that its strings are UTF-8
        table = pajson.read_json(pa.py_buffer(body), parse_options=options)
    except (UnicodeDecodeError, pa.ArrowInvalid):
        return None
    return table.combine_chunks() if table.num_rows == n else None


def _json_object(text: bytes) -> dict[str, Any]:
    try:
        donor = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _NotStreamedError from None
    if type(donor) is not dict:
        raise _NotStreamedError
    return donor


def _attribute_type(name: str) -> pa.DataType:
    if name in _INTEGERS:
        return pa.int64()
    return pa.string() if name in CODES or name in _DATES else pa.float64()


_PAIR = pa.struct([("field1", pa.string()), ("field2", pa.string())])
_JSON_SCHEMA = pa.schema(
    [
        *((name, pa.string()) for name in REQUIRED),
        *((name, _attribute_type(name)) for name in ATTRIBUTES),
        ("hla", pa.struct([(locus, pa.struct([("dna", _PAIR), ("ser", _PAIR)])) for locus in ALL_LOCI])),
    ]
)
"""The donor object as Arrow reads it: any other property, or a value of another JSON type, fails the block."""
_JSON_PARSE = pajson.ParseOptions(explicit_schema=_JSON_SCHEMA, unexpected_field_behavior="error")
_JSON_PARSE_OBJECTS = pajson.ParseOptions(
    explicit_schema=_JSON_SCHEMA, unexpected_field_behavior="error", newlines_in_values=True
)


class _JsonBatch:
    """Donor objects read by Arrow (``body``: their text, ``objects``: each one's); object ``k`` is donor
    ``first + k``."""

    def __init__(self, table: pa.Table, body: bytes, first: int, objects: list[bytes]) -> None:
        self.table = table
        self.body = body
        self.first = first
        self.objects = objects

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def __getitem__(self, k: int) -> _Raw:
        return self.first + k, _json_object(self.objects[k]), []

    def columns(self) -> _Columns:
        """The batch column by column, as :func:`_json_columns` gives it: Arrow's nulls are left-out properties
        (a donor holding ``null`` is not clean, see :data:`_NULL`)."""
        n = len(self)
        values = {name: _shared(self.table.column(name).chunk(0), _ABSENT) for name in REQUIRED}
        attributes: dict[str, list[Any] | _Coded] = {
            name: _arrow_coded_values(self.table.column(name).chunk(0), _ABSENT) for name in ATTRIBUTES
        }
        hla = self.table.column("hla").chunk(0)
        ok = hla.is_valid().to_numpy(zero_copy_only=False)
        if _NULL in self.body:
            ok &= np.array([_NULL not in text for text in self.objects], dtype=bool)
        for name in ATTRIBUTES:
            if pa.types.is_floating(_JSON_SCHEMA.field(name).type):
                ok &= pc.is_finite(self.table.column(name).chunk(0)).fill_null(True).to_numpy(zero_copy_only=False)
        loci: dict[str, _Coded] = {}
        for locus, given in zip(ALL_LOCI, hla.flatten(), strict=True):
            if given.null_count == n:
                loci[locus] = (np.zeros(n, np.intp), [_ABSENT])
                continue
            codes, keys = _arrow_coded([cell for pair in given.flatten() for cell in pair.flatten()], None)
            absent = ~given.is_valid().to_numpy(zero_copy_only=False)
            if absent.any():
                codes[absent] = len(keys)
                keys.append(_ABSENT)
            loci[locus] = (codes, keys)
        return _Columns(n, values, attributes, loci, ok.tolist(), csv=False)


def _json_records(donors: list[Any]) -> Iterator[_Raw]:
    for i in range(len(donors)):
        d = donors[i]
        donors[i] = None  # release each parsed donor once it is handed on: memory falls as the import proceeds
        yield i + 1, d if isinstance(d, dict) else None, _not_object(i + 1, d)


def _not_object(i: int, value: Any) -> list[ImportFailure]:
    if isinstance(value, dict):
        return []
    return [
        ImportFailure(
            record_id=None, record=i, property=None, error_code="bad_record", message="a donor must be a JSON object"
        )
    ]


def _salvage_json(text: str, exc: json.JSONDecodeError) -> _Parsed:
    """A truncated or damaged file: keep every complete donor object before the damage, report the rest."""
    where = f"line {exc.lineno} column {exc.colno}: {exc.msg}"
    m = re.search(r'"donors"\s*:\s*\[', text)
    if m is None:
        return _Parsed(None, [], [_file_failure("bad_json", f"not valid JSON ({where})")])
    mode_match = re.search(r'"update_mode"\s*:\s*"(\w+)"', text[: m.start()])
    decoder = json.JSONDecoder()
    pos = m.end()
    records: list[_Raw] = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
        records.append(
            (len(records) + 1, value if isinstance(value, dict) else None, _not_object(len(records) + 1, value))
        )
    failure = _file_failure(
        "truncated_file",
        f"not valid JSON ({where}); the {len(records)} complete donor records before that point were read, "
        "anything after it was not",
    )
    return _Parsed(mode_match.group(1) if mode_match else None, records, [failure])


def _read_csv(fh: TextIO) -> _Parsed:
    reader = csv.reader(fh)
    header = next(reader, None)
    if header is None:
        return _Parsed(None, [], [_file_failure("empty_file", "the file is empty")])
    header = [h.strip() for h in header]
    problems = [_file_failure("unknown_property", f"unknown column {h!r}", h) for h in header if h not in CSV_COLUMNS]
    problems += [
        _file_failure("missing_column", f"required column {c!r} is missing", c) for c in REQUIRED if c not in header
    ]
    dupes = {h for h in header if header.count(h) > 1}
    problems += [_file_failure("duplicate_column", f"column {h!r} appears more than once", h) for h in sorted(dupes)]
    if problems:
        return _Parsed(None, [], problems)
    return _Parsed(None, _csv_records(reader, header), [], _CsvLayout(header), header)


def _csv_records(reader: Any, header: list[str]) -> Iterator[_Raw]:
    """(line, the row's cells plus one empty cell for loci without a column, failures); the raw record dict is only
    built for records the column-wise check cannot pass (:class:`_CsvLayout`)."""
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            failure = ImportFailure(
                record_id=row[0] if row else None,
                record=line,
                property=None,
                error_code="field_count",
                message=f"expected {len(header)} fields, found {len(row)} (truncated or malformed line)",
            )
            yield line, None, [failure]
            continue
        row.append("")
        yield line, row, []


class _CsvLayout:
    """Where each property and locus cell sits in a CSV row."""

    def __init__(self, header: list[str]) -> None:
        self.names = header
        self.width = len(header)
        self.plain = [(i, name) for i, name in enumerate(header) if not name.startswith("hla.")]
        absent = len(header)  # the extra empty cell each row gets, so a locus without a column reads it
        loci: dict[str, list[int]] = {}
        for i, name in enumerate(header):
            if name.startswith("hla."):
                _, locus, rest = name.split(".", 2)
                loci.setdefault(locus, [absent] * 4)[_CSV_CELLS.index(rest)] = i
        self.loci = loci
        self.getters = [(locus, itemgetter(*idx)) for locus, idx in loci.items()]

    def raw(self, row: list[str]) -> dict[str, Any]:
        """The record of one row as the record-by-record check reads it."""
        out: dict[str, Any] = {name: row[i].strip() or None for i, name in self.plain}
        if self.getters:
            hla: dict[str, Any] = {}
            for locus, getter in self.getters:
                cells = getter(row)
                if any(cells):
                    hla[locus] = cells  # a tuple: the checker caches on it and builds the locus object once
            out["hla"] = hla
        return out

    def columns(self, rows: list[list[str]]) -> _Columns:
        """The columns of rows read by the csv module: made into Arrow string columns (in C) and read as Arrow's own
        (each row holds one cell per header column and the extra empty one, which Arrow does not need)."""
        cells = list(zip(*rows, strict=True))[: self.width]
        return self.arrow_columns(pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in cells], self.names))

    def arrow_columns(self, batch: pa.RecordBatch) -> _Columns:
        """The same columns from an Arrow batch of string cells: each column is dictionary-encoded, so only its
        distinct cells become Python strings (rows share them)."""
        plain: dict[str, _Coded] = {}
        for i, name in self.plain:
            codes, distinct = _arrow_coded_values(batch.column(i), None)
            plain[name] = codes, [d.strip() or None for d in distinct[:-1]]  # no null cell (the last value)
        values = {name: _expand(plain[name]) for name in REQUIRED}
        attributes: dict[str, list[Any] | _Coded] = {name: plain[name] for name in ATTRIBUTES if name in plain}
        empty = pa.array([""] * batch.num_rows, pa.string())
        loci: dict[str, _Coded] = {}
        for locus, idx in self.loci.items():
            codes, keys = _arrow_coded([batch.column(i) if i < batch.num_columns else empty for i in idx], "")
            loci[locus] = (codes, [_ABSENT if k == _NO_CELLS else k for k in keys])
        ok = [bool(self.getters)] * batch.num_rows
        return _Columns(batch.num_rows, values, attributes, loci, ok, csv=True)


def _arrow_coded_values(column: pa.Array, missing: Any) -> _Coded:
    """The column dictionary-encoded: only its distinct values become Python objects (``missing`` for null)."""
    encoded = column.dictionary_encode()
    distinct = [*encoded.dictionary.to_pylist(), missing]
    return encoded.indices.fill_null(len(distinct) - 1).to_numpy().astype(np.intp), distinct


def _expand(coded: _Coded) -> list[Any]:
    """Each record's value of a coded column."""
    codes, distinct = coded
    values = np.empty(len(distinct), dtype=object)
    values[:] = distinct
    result: list[Any] = values[codes].tolist()
    return result


def _shared(column: pa.Array, missing: Any = None) -> list[Any]:
    """Each record's value of an Arrow column (``missing`` for null); records share the distinct values."""
    return _expand(_arrow_coded_values(column, missing))


class _ArrowBatch:
    """A batch of CSV rows read by Arrow (a plain file: see :func:`_plain_csv`); row ``k`` is on line ``first + k``."""

    def __init__(self, batch: pa.RecordBatch, first: int) -> None:
        self.batch = batch
        self.first = first

    def __len__(self) -> int:
        return int(self.batch.num_rows)

    def __getitem__(self, k: int) -> _Raw:
        row = [self.batch.column(i)[k].as_py() for i in range(self.batch.num_columns)]
        row.append("")
        return self.first + k, row, []


def _plain_csv(file: Path, fields: int) -> bool:
    """True when every line of the file has exactly ``fields`` cells, with no quote, empty line, invalid UTF-8 or
    carriage return other than in a CRLF line end. Arrow then reads exactly the cells ``csv.reader`` reads, one line
    per record."""
    with file.open("rb") as fh:
        tail = b""
        while block := fh.read(1 << 23):
            block = tail + block
            cut = block.rfind(b"\n") + 1
            block, tail = block[:cut], block[cut:]
            if not _plain_block(block, fields):
                return False
    return not tail or _plain_block(tail + b"\n", fields)


def _plain_block(block: bytes, fields: int) -> bool:
    if b'"' in block or block.count(b"\r") != block.count(b"\r\n"):
        return False
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    data = np.frombuffer(block, dtype=np.uint8)
    commas = np.cumsum(data == ord(","), dtype=np.int64)[np.flatnonzero(data == ord("\n"))]
    return bool(np.all(np.diff(commas, prepend=0) == fields - 1))


def _arrow_batches(file: Path, header: list[str]) -> Iterator[_ArrowBatch]:
    reader = pacsv.open_csv(
        file,
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=header, block_size=1 << 24),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string())),
    )
    line = 2
    for batch in reader:
        yield _ArrowBatch(batch, line)
        line += batch.num_rows


_NO_CELLS = ("", "", "", "")


class _Absent:
    """A property the record leaves out (JSON), as opposed to null."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT: Any = _Absent()
_BAD: Any = object()
"""A locus object the column-wise check does not read (malformed): its record takes the record-by-record path."""
_LOCUS_NAMES = frozenset(ALL_LOCI)
_KINDS = frozenset({"dna", "ser"})
_FIELDS = frozenset({"field1", "field2"})


@dataclass
class _Columns:
    """One batch of records column by column: property values (``_ABSENT`` when left out), per locus a hashable
    key of the locus's cells (``_ABSENT`` untyped, ``_BAD`` unreadable), and per record whether the record's shape
    (properties, hla object) allows the column-wise check."""

    n: int
    values: dict[str, list[Any]]
    """The required properties, record by record."""
    attributes: dict[str, list[Any] | _Coded]
    """The attributes (a column the file lacks is left out), record by record or coded."""
    loci: dict[str, _Coded]
    shape_ok: list[bool]
    csv: bool


_Coded = tuple[np.ndarray, list[Any]]
"""A column as each record's code and the distinct values (a locus: the keys of its cells) the codes index."""


def _coded(values: list[Any]) -> _Coded:
    index = {value: i for i, value in enumerate(dict.fromkeys(values))}
    return np.fromiter(map(index.__getitem__, values), np.intp, len(values)), list(index)


def _typed_coded(values: list[Any]) -> _Coded:
    """A column of JSON or CSV values coded by type and value (1, 1.0 and True are equal but not the same value);
    an unhashable value (a list, an object) is coded as ``_BAD``, which no check passes."""
    try:
        codes, keys = _coded(list(zip(map(type, values), values, strict=True)))
    except TypeError:
        return _typed_coded([v if type(v) in _SCALARS else _BAD for v in values])
    return codes, [value for _, value in keys]


def _arrow_coded(cells: list[pa.Array], missing: Any) -> _Coded:
    """The four cells of a locus as one code per record and the distinct tuples of cells (``missing`` for null),
    computed on the cells' dictionary codes, so only the distinct tuples become Python objects."""
    columns = []
    combined = np.zeros(len(cells[0]), np.int64)
    size = 1
    for cell in cells:
        encoded = cell.dictionary_encode()
        values = np.array([*encoded.dictionary.to_pylist(), missing], dtype=object)
        index = encoded.indices.fill_null(len(values) - 1).to_numpy()
        if size * len(values) >= 1 << 62:  # keep the mixed-radix code inside int64: renumber densely first
            _, combined = np.unique(combined, return_inverse=True)
            size = int(combined.max()) + 1
        combined = combined * len(values) + index
        size *= len(values)
        columns.append((values, index))
    _, rows, codes = np.unique(combined, return_index=True, return_inverse=True)
    keys = list(zip(*(values[index[rows]].tolist() for values, index in columns), strict=True))
    return codes, keys


def _json_columns(donors: list[dict[str, Any]]) -> _Columns:
    # One pass over the records (they are scattered over a large heap): each is merged onto a template holding every
    # property as absent, so a longer merge means an unknown property, and the values come out in a fixed order.
    template = dict.fromkeys(_JSON_NAMES, _ABSENT)
    pick = itemgetter(*_JSON_NAMES)
    rows = [(*pick(merged), len(merged)) for merged in ({**template, **d} for d in donors)]
    columns = list(zip(*rows, strict=True))
    values = dict(zip(_JSON_NAMES, columns, strict=False))
    hlas = values.pop("hla")
    names = _LOCUS_NAMES
    ok = [
        size == len(_JSON_NAMES) and type(h) is dict and h.keys() <= names  # an unknown locus: record by record
        for size, h in zip(columns[-1], hlas, strict=True)
    ]
    objects = [h if good else {} for h, good in zip(hlas, ok, strict=True)]
    loci = {locus: _coded(_json_locus_column(locus, objects)) for locus in ALL_LOCI}
    required = {name: list(values[name]) for name in REQUIRED}
    attributes: dict[str, list[Any] | _Coded] = {name: list(values[name]) for name in ATTRIBUTES}
    return _Columns(len(donors), required, attributes, loci, ok, csv=False)


def _json_locus_column(locus: str, hlas: list[dict[str, Any]]) -> list[Any]:
    """One locus of a batch as its cells per record. Each locus object is serialised back (in C) to a hashable key,
    so only the distinct objects are read by :func:`_json_cells`; equal bytes are equal objects."""
    absent, dumps = _ABSENT, orjson.dumps
    try:
        keys = [dumps(h[locus]) if locus in h else absent for h in hlas]
    except orjson.JSONEncodeError:  # nested deeper than orjson writes: read each object directly
        return [_json_cells(h.get(locus, absent)) for h in hlas]
    cells = {k: k if k is absent else _json_cells(orjson.loads(k)) for k in set(keys)}
    return list(map(cells.__getitem__, keys))


_JSON_NAMES = (*REQUIRED, *ATTRIBUTES, "hla")


def _json_cells(given: Any) -> Any:
    """A JSON locus object as its four cells (dna field1, field2, ser field1, field2), or ``_BAD``."""
    if given is _ABSENT:
        return given
    if type(given) is not dict or given.keys() - _KINDS:
        return _BAD
    if len(given) == 1:  # the usual shape, one kind with both fields: read directly
        kind, part = next(iter(given.items()))
        if type(part) is dict and len(part) == 2:
            first, second = part.get("field1", _BAD), part.get("field2", _BAD)
            if type(first) is str and (second is None or type(second) is str):
                return (first, second, None, None) if kind == "dna" else (None, None, first, second)
    cells: list[str | None] = []
    for kind in ("dna", "ser"):
        part = given.get(kind)
        if part is None:
            cells += (None, None)
            continue
        if type(part) is not dict or part.keys() - _FIELDS:
            return _BAD
        for name in ("field1", "field2"):
            value = part.get(name)
            if value is not None and type(value) is not str:
                return _BAD
            cells.append(value)
    return tuple(cells)


_CSV_CELLS = ("dna.field1", "dna.field2", "ser.field1", "ser.field2")


def _csv_locus_object(cells: tuple[str, str, str, str]) -> dict[str, Any]:
    """The JSON locus object of one CSV locus's cells (dna field1, dna field2, ser field1, ser field2)."""
    out: dict[str, Any] = {}
    for kind, pair in (("dna", cells[:2]), ("ser", cells[2:])):
        part = {k: v.strip() for k, v in zip(("field1", "field2"), pair, strict=True) if v.strip()}
        if part:
            out[kind] = part
    return out


# ---- validating one record ----------------------------------------------------------------------------------------


@dataclass
class _Valid:
    position: int
    record_id: str
    change_type: str
    fields: dict[str, Any]
    """``DONOR_SCHEMA`` columns the record sets (a JSON record leaves absent attributes as they are stored)."""


class _Checker:
    """Validates raw records; distinct dates and typing strings are checked once (caches)."""

    def __init__(self, typings: TypingValidator, today: dt.date, from_csv: bool) -> None:
        self.typings = typings
        self.today = today
        self.from_csv = from_csv
        self._dates: dict[str, dt.date | str] = {}
        self._loci: dict[tuple[str, Any], tuple[tuple[str, str] | None, tuple[_Problem, ...]]] = {}
        self._values: dict[tuple[str, type, Any], tuple[Any, str | None]] = {}
        self._texts: dict[tuple[str, str, str], tuple[str, TypingCheck]] = {}
        self._cell_outcomes: dict[tuple[str, bool], dict[Any, tuple[tuple[str, str] | None, tuple[_Problem, ...]]]] = {}

    def record(self, pos: int, raw: dict[str, Any]) -> tuple[_Valid | None, list[ImportFailure]]:
        rid_value = raw.get("record_id")
        rid = rid_value if isinstance(rid_value, str) else None
        out: list[ImportFailure] = []

        def fail(prop: str | None, code: str, message: str, severity: Severity = "error") -> None:
            out.append(
                ImportFailure(
                    record_id=rid, record=pos, property=prop, error_code=code, message=message, severity=severity
                )
            )

        extra = raw.keys() - PROPERTIES
        for key in sorted(extra):
            fail(key, "unknown_property", f"unknown property {key!r}")
        for key in REQUIRED:
            if key not in raw or (raw[key] is None and key in ("record_id", "change_type", "donor_type")):
                fail(key, "missing_property", f"{key} is required")
        if out:
            return None, out
        problem = donor_id_problem(rid_value) if isinstance(rid_value, str) else "record_id must be text"
        if problem:
            fail("record_id", "invalid_value", problem)
        change_type, donor_type = raw["change_type"], raw["donor_type"]
        if change_type not in _CHANGE_TYPES:
            fail("change_type", "invalid_value", f"{change_type!r} is not one of N, U, D, NU")
        if donor_type not in _DONOR_TYPES:
            fail("donor_type", "invalid_value", f"{donor_type!r} is not one of D (adult), C (cord), B (banked)")
        fields: dict[str, Any] = {}
        for key, column in (("registry", "registry"), ("ethnicity", "population")):
            value = raw[key]
            if value is not None and (not isinstance(value, str) or not 0 < len(value) <= _MAX_TEXT):
                fail(key, "invalid_value", f"{key} must be null or text of 1 to {_MAX_TEXT} characters")
            fields[column] = value
        if out:
            return None, out
        assert isinstance(rid_value, str)
        if change_type == "D":
            return _Valid(pos, rid_value, change_type, {}), out
        kind = _DONOR_TYPES[donor_type]
        fields["donor_type"] = int(kind)
        cache = self._values
        for name in ATTRIBUTES:
            if name in raw:
                given = raw[name]
                try:
                    found = cache.get((name, type(given), given))
                except TypeError:  # unhashable: never cached, always invalid
                    found = None
                value, message = found if found is not None else self._cached_attribute(name, given)
                if message:
                    fail(name, "invalid_value", message)
                fields[name] = value
        foreign = [k for k in (CORD_FIELDS if kind is DonorType.ADULT else ADULT_FIELDS) if fields.get(k) is not None]
        if foreign:
            for name, message in type_field_problems(kind, foreign):
                fail(name, "wrong_donor_type", message)
        hla = raw.get("hla")
        if hla is None:
            fail("hla", "missing_property", "hla is required (A, B and DRB1)")
        elif not isinstance(hla, dict):
            fail("hla", "invalid_value", "hla must be an object keyed by locus")
        if out and any(f.severity == "error" for f in out):
            return None, out
        assert isinstance(hla, dict)
        schema_ok = self._hla_fields(hla, fields, fail)
        if not schema_ok:
            return None, out
        return _Valid(pos, rid_value, change_type, fields), out

    def _cached_attribute(self, name: str, value: Any) -> tuple[Any, str | None]:
        try:
            key = (name, type(value), value)
            found = self._values.get(key)
        except TypeError:  # an unhashable value (list, object) is simply invalid
            return self._attribute(name, value)
        if found is None:
            found = self._values[key] = self._attribute(name, value)
        return found

    def _attribute(self, name: str, value: Any) -> tuple[Any, str | None]:
        if value is None:
            return None, None
        codes = CODES.get(name)
        if codes is not None:
            if value not in codes:
                return None, f"{value!r} is not one of {', '.join(codes)}"
            return int(codes[value]), None
        if name in _DATES:
            return self._date(name, value)
        return self._number(name, value)

    def _date(self, name: str, value: Any) -> tuple[Any, str | None]:
        if not isinstance(value, str):
            return None, "expected a date as YYYY-MM-DD"
        found = self._dates.get(value)
        if found is None:
            found = self._dates[value] = _parse_date(value)
        if isinstance(found, str):
            return None, found
        if found > self.today:
            return None, f"{value} is in the future (upload date {self.today})"
        return found, None

    def _number(self, name: str, value: Any) -> tuple[Any, str | None]:
        integer = name in _INTEGERS
        if isinstance(value, str) and self.from_csv:
            try:
                value = int(value) if integer else float(value)
            except ValueError:
                return None, f"{value!r} is not {'an integer' if integer else 'a number'}"
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
            return None, f"expected {'an integer' if integer else 'a number'}"
        low, high = LIMITS[name]
        if not low <= value <= high:
            return None, f"{value} is outside the plausible range {low:g} to {high:g}"
        return (value if integer else float(np.float32(value))), None

    def _hla_fields(self, hla: dict[str, Any], fields: dict[str, Any], fail: Callable[..., None]) -> bool:
        """Put the record's typings (and their verdicts) into ``fields``; False when the HLA object is malformed."""
        ok = True
        typed: dict[str, tuple[str, str]] = {}
        errors: list[str] = []
        for locus, given in hla.items():
            # A CSV locus is a tuple of its cells; a JSON locus object is small, so its repr is a cheap exact key.
            csv_cells = type(given) is tuple  # JSON never yields tuples
            key = (locus, given if csv_cells else repr(given))
            outcome = self._loci.get(key)
            if outcome is None:
                outcome = self._loci[key] = self._locus(locus, _csv_locus_object(given) if csv_cells else given)
            pair, problems = outcome
            for prop, code, message, severity in problems:
                fail(prop, code, message, severity)
                if severity == "error":
                    if pair is None:
                        ok = False
                    else:
                        errors.append(message)
            if pair is not None:
                typed[locus] = pair
        for locus in REQUIRED_LOCI:
            if locus not in typed and locus not in hla:
                fail(f"hla.{locus}", "missing_locus", f"HLA-{locus} is required")
                ok = False
        fields.update(_UNTYPED)
        for locus, (first_text, second_text) in typed.items():
            fields[f"hla_{locus}_1"] = first_text
            fields[f"hla_{locus}_2"] = second_text
        fields["hla_invalid"] = bool(errors)
        fields["hla_errors"] = "; ".join(errors) or None
        return ok

    def _locus(self, locus: str, given: Any) -> tuple[tuple[str, str] | None, tuple[_Problem, ...]]:
        """One locus object → its two typing strings (None when malformed) and its problems."""
        if locus not in ALL_LOCI:
            return None, (
                (f"hla.{locus}", "unknown_locus", f"unknown locus; expected one of {', '.join(ALL_LOCI)}", "error"),
            )
        pairs = _locus_pairs(given)
        if isinstance(pairs, str):
            return None, ((f"hla.{locus}", "invalid_value", pairs, "error"),)
        return self._pairs(locus, *pairs)

    def _pairs(
        self, locus: str, dna: tuple[str | None, str | None], ser: tuple[str | None, str | None]
    ) -> tuple[tuple[str, str] | None, tuple[_Problem, ...]]:
        """The outcome of a known locus from its DNA and serology pairs."""
        if locus == "DPB1" and any(ser):
            return None, (("hla.DPB1.ser", "dpb1_serology", "DPB1 has DNA typing only", "error"),)
        kind, (first, second) = ("dna", dna) if any(dna) else ("ser", ser)
        if not first:
            if not second:
                return None, ((f"hla.{locus}", "missing_locus", f"HLA-{locus} has no typing", "error"),)
            return None, (
                (f"hla.{locus}.{kind}.field1", "field1_empty", "field1 is empty while field2 is typed", "error"),
            )
        texts: list[str] = []
        problems: list[_Problem] = []
        for i, raw in enumerate((first, second or first), start=1):
            key = (locus, kind, raw)
            found = self._texts.get(key)
            if found is None:
                text = normalise_dna(locus, raw) if kind == "dna" else normalise_serology(locus, raw)
                found = self._texts[key] = (text, self.typings.check(locus, text))
            text, verdict = found
            prop = f"hla.{locus}.{kind}.field{i}"
            problems += [(prop, code, message, "error") for code, message in verdict.errors]
            problems += [(prop, "hla_warning", warning, "warning") for warning in verdict.warnings]
            texts.append(text)
        return (texts[0], texts[1]), tuple(problems)

    def columns(self, cols: _Columns) -> tuple[np.ndarray, dict[str, list[Any]]]:
        """The column-wise check of one batch: per record whether it passes with no failure and no warning at all,
        and the ``_Valid.fields`` columns (``_ABSENT`` where a JSON record leaves an attribute out).

        Each distinct value of a column is checked once, by the same code as :meth:`record`; a record that is not
        clean here (a failure, a warning, a delete, an odd shape) goes through :meth:`record`, so its failure rows
        are exactly the record-by-record ones."""
        values = cols.values
        ok = np.array(cols.shape_ok, dtype=bool)
        rids = values["record_id"]
        cts = values["change_type"]
        dts = values["donor_type"]
        _and(ok, [type(r) is str and donor_id_problem(r) is None for r in rids])
        _and(ok, [type(c) is str and c in _FAST_CHANGES for c in cts])
        _and(ok, [type(d) is str and d in _DONOR_TYPES for d in dts])
        fields: dict[str, list[Any]] = {}
        for key, column in (("registry", "registry"), ("ethnicity", "population")):
            col = values[key]
            _and(ok, [v is None or (type(v) is str and 0 < len(v) <= _MAX_TEXT) for v in col])
            fields[column] = col
        kinds = {d: int(k) for d, k in _DONOR_TYPES.items()}
        fields["donor_type"] = [kinds.get(d) if type(d) is str else None for d in dts]
        adult = np.array([d == "D" for d in dts], dtype=bool)
        for name in ATTRIBUTES:
            checked, good, given = self._column(name, cols.attributes.get(name, (np.zeros(cols.n, np.intp), [_ABSENT])))
            ok &= good
            if name in ADULT_FIELDS:
                ok &= adult | ~given
            elif name in CORD_FIELDS:
                ok &= ~adult | ~given
            fields[name] = checked
        self._hla_columns(cols, ok, fields)
        return ok, fields

    def _column(self, name: str, col: list[Any] | _Coded) -> tuple[list[Any], np.ndarray, np.ndarray]:
        """One attribute column, each distinct value checked once: the checked values, whether each is valid, and
        whether each is given (neither null nor left out)."""
        codes, distinct = col if isinstance(col, tuple) else _typed_coded(col)
        verdicts = [self._verdict(name, value) for value in distinct]
        checked = np.empty(len(verdicts), dtype=object)
        checked[:] = [value for value, _ in verdicts]
        passed = np.array([message is None for _, message in verdicts], dtype=bool)
        given = np.array([value is not None and value is not _ABSENT for value, _ in verdicts], dtype=bool)
        return checked[codes].tolist(), passed[codes], given[codes]

    def _verdict(self, name: str, value: Any) -> tuple[Any, str | None]:
        return (_ABSENT, None) if value is _ABSENT else self._cached_attribute(name, value)

    def _hla_columns(self, cols: _Columns, ok: np.ndarray, fields: dict[str, list[Any]]) -> None:
        """The typing columns; a record whose loci have any problem (or lacks a required locus) is not clean."""
        nothing = [None] * cols.n
        for locus in ALL_LOCI:
            coded = cols.loci.get(locus)
            if coded is None:
                fields[f"hla_{locus}_1"] = fields[f"hla_{locus}_2"] = nothing
                if locus in REQUIRED_LOCI:
                    ok[:] = False
                continue
            codes, keys = coded
            required = locus in REQUIRED_LOCI
            outcomes = self._cell_outcomes.setdefault((locus, cols.csv), {})
            first: list[str | None] = []
            second: list[str | None] = []
            good: list[bool] = []
            for key in keys:
                if key is _ABSENT or key is _BAD:
                    pair, passed = None, key is _ABSENT and not required
                else:
                    outcome = outcomes.get(key)
                    if outcome is None:
                        outcome = outcomes[key] = self._cells(locus, key, cols.csv)
                    pair, passed = outcome[0], outcome[0] is not None and not outcome[1]
                good.append(passed)
                first.append(pair[0] if passed and pair else None)
                second.append(pair[1] if passed and pair else None)
            if not all(good):
                ok &= np.array(good, dtype=bool)[codes]
            fields[f"hla_{locus}_1"] = np.array(first, dtype=object)[codes].tolist()
            fields[f"hla_{locus}_2"] = np.array(second, dtype=object)[codes].tolist()
        fields["hla_invalid"] = [False] * cols.n
        fields["hla_errors"] = nothing

    def _cells(self, locus: str, cells: tuple[str | None, ...], csv_cells: bool) -> tuple[Any, tuple[_Problem, ...]]:
        """The outcome of one locus written as its four cells (the caller caches it per locus)."""
        if locus in _LOCUS_NAMES and all(not c or c.strip() == c for c in cells):
            # trimmed cells: the pairs are the cells themselves (what both locus objects below would give)
            d1, d2, s1, s2 = cells
            return self._pairs(locus, (d1 or None, d2 or None), (s1 or None, s2 or None))
        if csv_cells:
            given = _csv_locus_object(cells)  # type: ignore[arg-type]
        else:
            given = {"dna": dict(zip(("field1", "field2"), cells[:2], strict=True))}
            given["ser"] = dict(zip(("field1", "field2"), cells[2:], strict=True))
        return self._locus(locus, given)


def _and(ok: np.ndarray, more: list[bool]) -> None:
    ok &= np.asarray(more, dtype=bool)


_FAST_CHANGES = frozenset({"N", "U", "NU"})
"""``D`` records take the record-by-record path (few, and their fields are not applied)."""
_SCALARS = frozenset({str, int, float, bool, type(None), _Absent})


_Problem = tuple[str, str, str, Severity]


def _parse_date(value: str) -> dt.date | str:
    if not _ISO_DATE.match(value):
        return f"{value!r} is not a date as YYYY-MM-DD"
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a calendar date"


def _locus_pairs(given: Any) -> tuple[tuple[str | None, str | None], tuple[str | None, str | None]] | str:
    """(dna pair, ser pair) of one locus object, or the reason it is malformed."""
    if not isinstance(given, dict) or set(given) - {"dna", "ser"}:
        return "expected an object with 'dna' and/or 'ser'"
    pairs = []
    for kind in ("dna", "ser"):
        part = given.get(kind)
        if part is None:
            pairs.append((None, None))
            continue
        if not isinstance(part, dict) or set(part) - {"field1", "field2"}:
            return f"{kind}: expected an object with 'field1' and/or 'field2'"
        values = (part.get("field1") or None, part.get("field2") or None)
        if any(v is not None and not isinstance(v, str) for v in values):
            return f"{kind}: typings must be text"
        pairs.append(values)
    return pairs[0], pairs[1]


# ---- applying a file ----------------------------------------------------------------------------------------------

_COMPARED = [n for n in DONOR_SCHEMA.names if n not in ("row", "updated_at", "import_id")]


BATCH = 65536
"""Records validated and applied at a time: memory stays bounded by the batch, not the file."""


def import_donors(
    registry: Registry,
    file: Path,
    nom: Nomenclature,
    *,
    mode: str | None = None,
    allow_full: bool = False,
    uploaded_at: dt.datetime | None = None,
    progress: Progress = lambda _: None,
) -> ImportReport:
    """Import one donor file into ``registry`` (see the module docstring for the rules)."""
    # The cyclic garbage collector would walk every parsed record again and again as the checks allocate; the import
    # makes no reference cycles worth collecting, so it is paused for the import.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for layout in _STREAMED:
            try:
                return _import(registry, file, nom, mode, allow_full, uploaded_at, progress, layout)
            except _NotStreamedError:  # nothing was committed (the transaction rolled back): try the next layout
                continue
        return _import(registry, file, nom, mode, allow_full, uploaded_at, progress, "whole")
    finally:
        if collecting:
            gc.enable()


def _import(
    registry: Registry,
    file: Path,
    nom: Nomenclature,
    mode: str | None,
    allow_full: bool,
    uploaded_at: dt.datetime | None,
    progress: Progress,
    layout: Layout,
) -> ImportReport:
    started = time.perf_counter()
    if not file.is_file():
        raise ValidationError(f"{file} does not exist", field="file")
    suffix = file.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise ValidationError(f"{file}: expected a .json or .csv file", field="file")
    if nom.release != registry.release:
        raise ValidationError(
            f"the registry validates typings against release {registry.release}, not {nom.release}", field="release"
        )
    digest = _sha256(file)
    with ExitStack() as stack:
        if suffix == ".json":
            fh = stack.enter_context(file.open("rb"))
            parsed = _read_json_file(fh, layout)
        else:
            parsed = _read_csv(stack.enter_context(file.open(encoding="utf-8", errors="replace", newline="")))
        chosen = _mode(file, mode, parsed.mode)
        store = registry.store
        if chosen == "full" and store.donor_count() > 0 and not allow_full:
            raise ValidationError(
                "full mode replaces the store and is refused on a registry that already holds donors; use diff mode, "
                "or the admin override (allow_full) when the service is not live",
                field="mode",
            )
        uploaded = uploaded_at or dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC).replace(tzinfo=None)
        typings = TypingValidator(nom)
        checker = _Checker(typings, uploaded.date(), from_csv=suffix == ".csv")
        report = ImportReport(
            import_id=None, file=str(file), mode=chosen, records=0, generation=registry.arrays.generation
        )
        applier = _Applier(registry, report, list(parsed.file_failures), uploaded, chosen)
        if chosen != "check":
            stack.enter_context(store.transaction())
            applier.begin(file.name, digest)
            applier.writer = stack.enter_context(ThreadPoolExecutor(1))  # shut down (the write done) before commit
        seen: dict[str, int] = {}
        batches: Iterable[_Batch] = parsed.batches or _batches(parsed.records, BATCH)
        if parsed.header is not None and _plain_csv(file, len(parsed.header)):
            batches = _arrow_batches(file, parsed.header)
        for batch in batches:
            fast = _fast_records(checker, parsed.layout, batch, seen)
            valid = []
            for k in np.flatnonzero(~fast.clean).tolist():
                pos, payload, read_failures = batch[k]
                applier.failures += read_failures
                found: list[ImportFailure] = []
                if payload is None:
                    item = None
                else:
                    raw = parsed.layout.raw(payload) if parsed.layout is not None else payload
                    item, found = checker.record(pos, raw)
                applier.failures += found
                if item is not None and item.record_id in seen:
                    applier.failures.append(
                        ImportFailure(
                            record_id=item.record_id,
                            record=pos,
                            property="record_id",
                            error_code="duplicate_record",
                            message=f"record_id already used by record {seen[item.record_id]} of this file",
                        )
                    )
                    item = None
                if item is None:
                    report.failed += 1
                    continue
                seen[item.record_id] = pos
                report.hla_invalid += bool(item.fields.get("hla_invalid"))
                valid.append(item)
            seen.update(zip(fast.ids, fast.positions, strict=True))
            report.records += len(batch)
            applier.batch(valid, fast)
            progress(len(batch))
        if chosen != "check":
            applier.end(list(seen))
    if chosen != "check":
        applier.publish(typings)
    report.failures = applier.failures
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _sha256(file: Path) -> str:
    h = hashlib.sha256()
    with file.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _mode(file: Path, asked: str | None, written: str | None) -> Mode:
    for value, field in ((written, "update_mode"), (asked, "mode")):
        if value is not None and value not in ("full", "diff", "check"):
            raise ValidationError(f"{file}: {field} {value!r} must be full, diff or check", field=field)
    if asked is not None and written is not None and asked not in (written, "check"):
        raise ValidationError(f"{file} says update_mode {written!r} but mode {asked!r} was asked", field="mode")
    chosen = asked or written or "diff"
    assert chosen in ("full", "diff", "check")
    return chosen  # type: ignore[return-value]


def _batches(records: Iterable[_Raw], size: int) -> Iterator[list[_Raw]]:
    batch: list[_Raw] = []
    for item in records:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class _Fast:
    """The records of one batch that passed the column-wise check, column by column."""

    clean: np.ndarray
    """Per batch item: True when the record is here (it then has no failure and no warning)."""
    positions: list[int]
    ids: list[str]
    change_types: list[str]
    columns: dict[str, list[Any]]
    """``_Valid.fields`` columns; ``_ABSENT`` where a JSON record leaves an attribute out."""

    def valid(self, rows: Iterable[int]) -> list[_Valid]:
        """Records as :class:`_Valid` (for the record-by-record apply: updates, check mode)."""
        cols = self.columns.items()
        return [
            _Valid(
                self.positions[i],
                self.ids[i],
                self.change_types[i],
                {k: col[i] for k, col in cols if col[i] is not _ABSENT},
            )
            for i in rows
        ]

    def new_rows(self, rows: list[int], uploaded: dt.datetime, import_id: int) -> pa.Table:
        """``DONOR_SCHEMA`` rows of new donors (``row`` still 0), as :meth:`_Applier._target` would build them."""
        n = len(rows)
        if not n:
            return DONOR_SCHEMA.empty_table()
        data: dict[str, Any] = {"row": np.zeros(n, np.int64), "donor_id": _pick(self.ids, rows)}
        for name in DONOR_SCHEMA.names[2:]:
            if name == "updated_at":
                data[name] = [uploaded] * n
            elif name == "import_id":
                data[name] = [import_id] * n
            elif name == "status":
                available = int(Status.AVAILABLE)
                data[name] = [available if v is None or v is _ABSENT else v for v in _pick(self.columns[name], rows)]
            elif name in ATTRIBUTES:  # the only columns a JSON record can leave out
                default = _NEW_ROW[name]
                data[name] = [default if v is _ABSENT else v for v in _pick(self.columns[name], rows)]
            else:
                data[name] = _pick(self.columns[name], rows)
        return pa.table(data, schema=DONOR_SCHEMA)


_Batch = list[_Raw] | _ArrowBatch | _JsonBatch


def _pick(col: list[Any], rows: list[int]) -> list[Any]:
    return col if len(rows) == len(col) else list(map(col.__getitem__, rows))


def _fast_records(checker: _Checker, layout: _CsvLayout | None, batch: _Batch, seen: dict[str, int]) -> _Fast:
    """The column-wise check of one batch; a record whose id repeats (in the batch or an earlier one) is left to the
    record-by-record path, which reports the duplicate exactly."""
    clean = np.zeros(len(batch), dtype=bool)
    if isinstance(batch, _ArrowBatch):
        assert layout is not None
        items = list(range(len(batch)))
        cols = layout.arrow_columns(batch.batch)
    elif isinstance(batch, _JsonBatch):
        items = list(range(len(batch)))
        cols = batch.columns()
    else:
        items = [k for k, item in enumerate(batch) if item[1] is not None]
        payloads = [batch[k][1] for k in items]
        cols = layout.columns(payloads) if layout is not None else _json_columns(payloads)
    if not items:
        return _Fast(clean, [], [], [], {})
    ok, fields = checker.columns(cols)
    rids = cols.values["record_id"]
    text_ids = [r for r in rids if type(r) is str]
    if len(set(text_ids)) != len(text_ids) or not seen.keys().isdisjoint(text_ids):
        counts = Counter(text_ids)
        _and(ok, [type(r) is not str or (counts[r] == 1 and r not in seen) for r in rids])
    chosen = np.flatnonzero(ok)
    clean[np.asarray(items)[chosen]] = True
    rows = chosen.tolist()
    return _Fast(
        clean,
        [batch.first + i for i in rows] if not isinstance(batch, list) else [batch[items[i]][0] for i in rows],
        _pick(rids, rows),
        _pick(cols.values["change_type"], rows),
        {name: _pick(col, rows) for name, col in fields.items()},
    )


class _Applier:
    """Applies validated records batch by batch inside one store transaction (or only compares, in check mode)."""

    def __init__(
        self,
        registry: Registry,
        report: ImportReport,
        failures: list[ImportFailure],
        uploaded: dt.datetime,
        mode: Mode,
    ) -> None:
        self.registry = registry
        self.store = registry.store
        self.report = report
        self.failures = failures
        self.uploaded = uploaded
        self.mode = mode
        self.import_id = 0
        self.stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.stored = self.store.donor_count()
        """Donors in the store before this import."""
        self.next_row = self.stored
        self.changed = False
        self.writer: ThreadPoolExecutor | None = None
        """When set, each batch is written by this one thread while the next is checked (DuckDB releases the GIL);
        every other use of the store first waits for that write (:meth:`settle`)."""
        self._writing: Future[None] | None = None
        if mode == "check":
            report.check = CheckResult(absent=[], differing={})

    def _fail(self, v: _Valid, prop: str, code: str, message: str, severity: Severity = "error") -> None:
        self.failures.append(
            ImportFailure(
                record_id=v.record_id,
                record=v.position,
                property=prop,
                error_code=code,
                message=message,
                severity=severity,
            )
        )

    def _target(self, v: _Valid, old: dict[str, Any] | None) -> dict[str, Any] | None:
        """The donor's row as this record would leave it (None, with a failure, when it cannot be applied)."""
        fields = dict(v.fields)
        if v.change_type == "D":
            if old is None:
                return None
            fields = {"status": int(Status.UNAVAILABLE)}
            if old["status"] != int(Status.UNAVAILABLE):
                fields["status_date"] = self.uploaded.date()
        elif old is not None and fields.get("status", old["status"]) != old["status"]:
            fields.setdefault("status_date", self.uploaded.date())
        row = {**(old if old is not None else _NEW_ROW), **fields, "donor_id": v.record_id}
        if row["status"] is None:
            row["status"] = int(Status.AVAILABLE)
        if old is None or v.change_type == "D":
            return row  # a new record's fields were checked together already; a delete changes only the status
        present = [k for k in ATTRIBUTES if row.get(k) is not None]
        problems = type_field_problems(DonorType(row["donor_type"]), present)
        for name, message in problems:
            self._fail(v, name, "wrong_donor_type", message)
        return None if problems else row

    def begin(self, file: str, digest: str) -> None:
        self.import_id = self.store.start_import(file, digest, self.mode, self.uploaded)
        self.report.import_id = self.import_id

    def batch(self, valid: list[_Valid], fast: _Fast) -> None:
        """``valid`` passed the record-by-record check, ``fast`` the column-wise one; new donors of ``fast`` are
        written column by column, every other record is applied one by one, in file order."""
        ids = [v.record_id for v in valid] + fast.ids
        existing: dict[str, dict[str, Any]] = {}
        if self.stored:  # a file's records are new to each other (a repeated id fails): only earlier donors match
            self.settle()
            existing = {r["donor_id"]: r for r in self.store.lookup(ids, rows_below=self.stored).to_pylist()}
        if self.mode == "check":
            self._check(_in_file_order(valid, fast.valid(range(len(fast.ids)))), existing)
            return
        new = [
            i
            for i, (rid, ct) in enumerate(zip(fast.ids, fast.change_types, strict=True))
            if ct != "U" and rid not in existing
        ]
        if len(new) < len(fast.ids):
            taken = set(new)
            valid = _in_file_order(valid, fast.valid(i for i in range(len(fast.ids)) if i not in taken))
        self._apply(valid, existing, fast, new)

    def _check(self, valid: list[_Valid], existing: dict[str, dict[str, Any]]) -> None:
        check = self.report.check
        assert check is not None
        for v in valid:
            old = existing.get(v.record_id)
            if old is None:
                check.absent.append(v.record_id)
                continue
            target = self._target(v, old)
            changed = _changed(target, old) if target is not None else []
            if changed:
                check.differing[v.record_id] = changed

    def _apply(
        self, valid: list[_Valid], existing: dict[str, dict[str, Any]], fast: _Fast, fast_new: list[int]
    ) -> None:
        report = self.report
        new_rows: list[dict[str, Any]] = []
        new_at: list[int] = []
        history_at: list[int] = []
        changed_rows: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for v in valid:
            ct = v.change_type
            old = existing.get(v.record_id)
            if self.mode == "full" and ct in ("U", "D"):
                self._fail(v, "change_type", "not_in_full_mode", "a full-mode file holds N or NU records only")
                report.failed += 1
                continue
            if ct == "N" and old is not None and self.mode != "full":
                self._fail(v, "change_type", "already_exists", "N (new) for a donor that already exists")
                report.failed += 1
                continue
            if ct in ("U", "D") and old is None:
                self._fail(v, "change_type", "not_found", f"{ct} for a donor that does not exist")
                report.failed += 1
                continue
            if old is not None and old["updated_at"] is not None and old["updated_at"] > self.uploaded:
                self._fail(
                    v,
                    "change_type",
                    "stale_update",
                    f"uploaded {self.uploaded:%Y-%m-%d %H:%M:%S}, before the donor's last applied update "
                    f"({old['updated_at']:%Y-%m-%d %H:%M:%S}); skipped",
                    "skipped",
                )
                report.skipped += 1
                continue
            target = self._target(v, old)
            if target is None:
                report.failed += 1
                continue
            if old is None:
                new_rows.append({**target, "row": 0, "updated_at": self.uploaded, "import_id": self.import_id})
                new_at.append(v.position)
                history.append(_history(self.import_id, v.record_id, "N", self.stamp, [], {}))
                history_at.append(v.position)
                report.new += 1
                continue
            changed = _changed(target, old)
            if not changed:
                report.unchanged += 1
                continue
            changed_rows.append({**target, "updated_at": self.uploaded, "import_id": self.import_id})
            previous = {k: old[k] for k in changed}
            history.append(_history(self.import_id, v.record_id, ct, self.stamp, changed, previous))
            history_at.append(v.position)
            if ct == "D":
                report.deleted += 1
            else:
                report.updated += 1
        report.new += len(fast_new)
        positions = [fast.positions[i] for i in fast_new]
        new_table = pa.concat_tables(
            [
                pa.Table.from_pylist(new_rows, schema=DONOR_SCHEMA),
                fast.new_rows(fast_new, self.uploaded, self.import_id),
            ]
        ).take(_order(new_at + positions))
        rows = np.arange(self.next_row, self.next_row + len(new_table), dtype=np.int64)
        self.next_row += len(new_table)
        new_table = new_table.set_column(0, DONOR_SCHEMA.field("row"), pa.array(rows))
        fast_history = pa.table(
            {
                "import_id": [self.import_id] * len(fast_new),
                "donor_id": _pick(fast.ids, fast_new),
                "change_type": ["N"] * len(fast_new),
                "changed_at": [self.stamp] * len(fast_new),
                "changed_fields": [None] * len(fast_new),
                "previous": [None] * len(fast_new),
            },
            schema=HISTORY_SCHEMA,
        )
        history_table = pa.concat_tables([pa.Table.from_pylist(history, schema=HISTORY_SCHEMA), fast_history])
        self._write(new_table, changed_rows, history_table.take(_order(history_at + positions)))

    def _write(self, new_rows: pa.Table, changed_rows: list[dict[str, Any]], history: pa.Table) -> None:
        self.changed = self.changed or bool(len(new_rows) or changed_rows)
        changed = pa.Table.from_pylist(changed_rows, schema=DONOR_SCHEMA)
        self.settle()
        if self.writer is None:
            self._store(new_rows, changed, history)
        else:
            self._writing = self.writer.submit(self._store, new_rows, changed, history)

    def _store(self, new_rows: pa.Table, changed: pa.Table, history: pa.Table) -> None:
        self.store.append_donors(new_rows)
        self.store.replace_donors(changed)
        self.store.add_history(history)

    def settle(self) -> None:
        """Wait for the batch being written (and raise what it raised)."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def end(self, ids: list[str]) -> None:
        """Inside the transaction: full mode retires absent donors; the failures are written."""
        self.settle()
        if self.mode == "full":
            self._retire_absent(ids)
            self.settle()
        self.store.add_failures(_failure_table(self.import_id, Path(self.report.file).name, self.failures, self.stamp))

    def publish(self, typings: TypingValidator) -> None:
        """After the commit: rebuild the search arrays when anything changed, and close the import's history row."""
        report = self.report
        if self.changed:
            self.registry.rebuild_arrays(typings)
        report.generation = self.registry.arrays.generation
        self.store.finish_import(
            self.import_id,
            {
                "n_records": report.records,
                "n_new": report.new,
                "n_updated": report.updated,
                "n_deleted": report.deleted,
                "n_unchanged": report.unchanged,
                "n_skipped": report.skipped,
                "n_failed": report.failed,
                "generation": report.generation,
            },
        )

    def _retire_absent(self, ids: list[str]) -> None:
        """Full mode: stored donors absent from the file become unavailable (never deleted)."""
        changed_rows = []
        history = []
        absent = self.store.ids_not_in(ids, None, None)
        for old in self.store.lookup(absent).to_pylist():
            if old["status"] == int(Status.UNAVAILABLE):
                continue
            changed_rows.append(
                {
                    **old,
                    "status": int(Status.UNAVAILABLE),
                    "status_date": self.uploaded.date(),
                    "updated_at": self.uploaded,
                    "import_id": self.import_id,
                }
            )
            previous = {"status": old["status"], "status_date": old["status_date"]}
            history.append(
                _history(self.import_id, old["donor_id"], "D", self.stamp, ["status", "status_date"], previous)
            )
            self.report.deleted += 1
        self._write(DONOR_SCHEMA.empty_table(), changed_rows, pa.Table.from_pylist(history, schema=HISTORY_SCHEMA))


def _in_file_order(a: list[_Valid], b: list[_Valid]) -> list[_Valid]:
    return sorted(a + b, key=lambda v: v.position) if b else a


def _order(positions: list[int]) -> pa.Array:
    """Indices that put rows in file order (positions are unique)."""
    return pa.array(np.argsort(np.asarray(positions, dtype=np.int64), kind="stable"))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.float32(a) == np.float32(b))
    return bool(a == b)


def _changed(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    return [k for k in _COMPARED if not _same(new[k], old[k])]


def _history(
    import_id: int, donor_id: str, change: str, stamp: dt.datetime, changed: list[str], previous: dict[str, Any]
) -> dict[str, Any]:
    return {
        "import_id": import_id,
        "donor_id": donor_id,
        "change_type": change,
        "changed_at": stamp,
        "changed_fields": ",".join(changed) or None,
        "previous": json.dumps(previous, default=str) if previous else None,
    }


def _failure_table(import_id: int, file: str, failures: list[ImportFailure], stamp: dt.datetime) -> pa.Table:
    rows = [
        {
            "import_id": import_id,
            "file": file,
            "record_id": f.record_id,
            "property": f.property,
            "error_code": f.error_code,
            "message": f.message,
            "severity": f.severity,
            "failed_at": stamp,
        }
        for f in failures
    ]
    return pa.Table.from_pylist(rows, schema=FAILURE_SCHEMA)


# ---- the ID checker (check mode) ----------------------------------------------------------------------------------


class IdCheckRequest(BaseModel):
    """The companion "ID checker" request of check mode (matching.md §10.1): every id the source registry holds."""

    model_config = ConfigDict(extra="forbid")

    registry: str | None
    donor_type: Literal["D", "C", "B"]
    donors: list[str]


def check_ids(registry: Registry, request: IdCheckRequest) -> list[str]:
    """Orphans: donors of that registry and type in the store but not in the request. Changes nothing."""
    return registry.store.ids_not_in(request.donors, request.registry, int(_DONOR_TYPES[request.donor_type]))
