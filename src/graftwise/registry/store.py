"""The registry store: donor records, import history and import failures (matching.md §10; ARCHITECTURE "Data at
rest").

:class:`RegistryStore` is the interface; :class:`DuckDBStore` keeps everything in one embedded ``registry.duckdb``
file per registry, no server needed. A PostgreSQL store can implement the same interface later: search never sees
the store, only the arrays built from it (:mod:`graftwise.registry.arrays`).

Donors travel as Arrow tables in :data:`DONOR_SCHEMA` (columnar, so millions of rows move without Python loops).
Attribute codes are the contract's small integers; HLA is one string column per locus and position.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from graftwise.errors import GraftwiseError
from graftwise.registry.records import ALL_LOCI, DonorRecord

HLA_COLUMNS: tuple[str, ...] = tuple(f"hla_{locus}_{pos}" for locus in ALL_LOCI for pos in (1, 2))

DONOR_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("donor_id", pa.string()),
        ("registry", pa.string()),
        ("donor_type", pa.int8()),
        ("sex", pa.int8()),
        ("birth_date", pa.date32()),
        ("abo", pa.int8()),
        ("rh", pa.int8()),
        ("cmv", pa.int8()),
        ("population", pa.string()),
        ("status", pa.int8()),
        ("status_date", pa.date32()),
        ("weight_kg", pa.float32()),
        ("parity", pa.int8()),
        ("tnc", pa.float32()),
        ("cd34", pa.float32()),
        ("volume_ml", pa.float32()),
        ("collection_date", pa.date32()),
        *((name, pa.string()) for name in HLA_COLUMNS),
        ("hla_invalid", pa.bool_()),
        ("hla_errors", pa.string()),
        ("updated_at", pa.timestamp("us")),
        ("import_id", pa.int32()),
    ]
)
"""One donor per row. ``row`` is the donor's fixed row in the arrays; unknown values are NULL."""

FAILURE_SCHEMA = pa.schema(
    [
        ("import_id", pa.int32()),
        ("file", pa.string()),
        ("record_id", pa.string()),
        ("property", pa.string()),
        ("error_code", pa.string()),
        ("message", pa.string()),
        ("severity", pa.string()),
        ("failed_at", pa.timestamp("us")),
    ]
)
"""``donor_import_failures``: one row per error (matching.md §10.2 item 1). ``severity`` (an addition) is ``error``
for a rejected record or value, ``warning`` for a record that loaded with a remark (e.g. a renamed allele
followed), ``skipped`` for an update older than the donor's last one."""

HISTORY_SCHEMA = pa.schema(
    [
        ("import_id", pa.int32()),
        ("donor_id", pa.string()),
        ("change_type", pa.string()),
        ("changed_at", pa.timestamp("us")),
        ("changed_fields", pa.string()),
        ("previous", pa.string()),
    ]
)
"""``donor_history``: every applied change; ``previous`` is a JSON object of the changed fields' old values."""


class StoreError(GraftwiseError):
    code = "store"


def _table(result: Any) -> pa.Table:
    """A DuckDB result as an Arrow table (``to_arrow_table`` in DuckDB 2, ``fetch_arrow_table`` before)."""
    fetch = getattr(result, "to_arrow_table", None) or result.arrow
    return fetch()


def _reader(result: Any, batch_rows: int) -> Any:
    fetch = getattr(result, "to_arrow_reader", None) or result.fetch_arrow_reader
    return fetch(batch_rows)


def _ddl_type(t: pa.DataType) -> str:
    mapping = {
        pa.int64(): "BIGINT",
        pa.int32(): "INTEGER",
        pa.int8(): "TINYINT",
        pa.string(): "VARCHAR",
        pa.date32(): "DATE",
        pa.float32(): "FLOAT",
        pa.bool_(): "BOOLEAN",
        pa.timestamp("us"): "TIMESTAMP",
    }
    return mapping[t]


def _create(table: str, schema: pa.Schema) -> str:
    cols = ", ".join(f"{f.name} {_ddl_type(f.type)}" for f in schema)
    return f"CREATE TABLE IF NOT EXISTS {table} ({cols})"


class RegistryStore(ABC):
    """Where a registry's records live. Implementations must make :meth:`transaction` all-or-nothing."""

    @abstractmethod
    def get_meta(self, key: str) -> str | None: ...

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None: ...

    @abstractmethod
    def donor_count(self) -> int: ...

    @abstractmethod
    def append_donors(self, table: pa.Table) -> None:
        """Add donors (``DONOR_SCHEMA``; rows must be new)."""

    @abstractmethod
    def replace_donors(self, table: pa.Table) -> None:
        """Replace the stored donors that have the same ``row`` by these versions."""

    @abstractmethod
    def lookup(self, donor_ids: Sequence[str], rows_below: int | None = None) -> pa.Table:
        """The stored donors among ``donor_ids`` (``DONOR_SCHEMA``; absent ids are not returned), only among the
        rows below ``rows_below`` when given (the rows stored before an import: what it appends is never read)."""

    @abstractmethod
    def fetch_rows(self, rows: Sequence[int]) -> pa.Table:
        """The donors at ``rows`` (``DONOR_SCHEMA``), in the order asked."""

    @abstractmethod
    def scan(self, columns: Sequence[str], batch_rows: int = 1 << 20) -> Iterator[pa.RecordBatch]:
        """Every donor in row order, ``columns`` only, in batches (``row`` must be among the columns)."""

    @abstractmethod
    def ids_not_in(self, donor_ids: Sequence[str], registry: str | None, donor_type: int | None) -> list[str]:
        """Stored donor ids (of that registry and type, when given) that are not in ``donor_ids`` (orphans)."""

    @abstractmethod
    def start_import(self, file: str, digest: str, mode: str, uploaded_at: dt.datetime) -> int: ...

    @abstractmethod
    def finish_import(self, import_id: int, summary: dict[str, Any]) -> None: ...

    @abstractmethod
    def add_failures(self, table: pa.Table) -> None: ...

    @abstractmethod
    def add_history(self, table: pa.Table) -> None: ...

    @abstractmethod
    def failures(self, import_id: int | None = None) -> pa.Table: ...

    @abstractmethod
    def history(self, donor_id: str) -> pa.Table: ...

    @abstractmethod
    def imports(self) -> pa.Table: ...

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]: ...

    @abstractmethod
    def close(self) -> None: ...


_IMPORT_COLUMNS = (
    "import_id INTEGER, file VARCHAR, sha256 VARCHAR, mode VARCHAR, uploaded_at TIMESTAMP, started_at TIMESTAMP, "
    "finished_at TIMESTAMP, n_records INTEGER, n_new INTEGER, n_updated INTEGER, n_deleted INTEGER, "
    "n_unchanged INTEGER, n_skipped INTEGER, n_failed INTEGER, generation INTEGER"
)


class DuckDBStore(RegistryStore):
    """The embedded store: one ``registry.duckdb`` file."""

    def __init__(self, path: Path, *, read_only: bool = False, memory_limit: str = "3GB") -> None:
        if read_only and not path.is_file():
            raise StoreError(f"{path} does not exist; not a registry", field=str(path))
        self.path = path
        try:
            self.con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(
                f"cannot open {path} {'read-only' if read_only else 'for writing'}: {exc} (an import holds it for "
                "writing, or this process already opened it the other way)",
                field=str(path),
            ) from None
        self.con.execute("SET enable_progress_bar = false").fetchall()
        self.con.execute(f"SET memory_limit = '{memory_limit}'").fetchall()
        if not read_only:
            self.con.execute(_create("donors", DONOR_SCHEMA)).fetchall()
            self.con.execute(_create("donor_import_failures", FAILURE_SCHEMA)).fetchall()
            self.con.execute(_create("donor_history", HISTORY_SCHEMA)).fetchall()
            self.con.execute(f"CREATE TABLE IF NOT EXISTS imports ({_IMPORT_COLUMNS})").fetchall()
            self.con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)").fetchall()

    def get_meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return str(row[0][0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value]).fetchall()

    def donor_count(self) -> int:
        row = self.con.execute("SELECT count(*) FROM donors").fetchall()
        return int(row[0][0])

    def append_donors(self, table: pa.Table) -> None:
        incoming = table.select(DONOR_SCHEMA.names)  # noqa: F841 - read by DuckDB's replacement scan
        self.con.execute("INSERT INTO donors SELECT * FROM incoming").fetchall()

    def replace_donors(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        incoming = table.select(DONOR_SCHEMA.names)  # noqa: F841
        # UPDATE in place keeps the physical order equal to the row order, so scans need no sort.
        sets = ", ".join(f"{name} = incoming.{name}" for name in DONOR_SCHEMA.names if name != "row")
        self.con.execute(f"UPDATE donors SET {sets} FROM incoming WHERE donors.row = incoming.row").fetchall()

    def lookup(self, donor_ids: Sequence[str], rows_below: int | None = None) -> pa.Table:
        wanted = pa.table({"donor_id": pa.array(list(donor_ids), pa.string())})  # noqa: F841
        # Rows are appended in row order, so the filter skips whole row groups by their min/max.
        below = "" if rows_below is None else f"WHERE d.row < {int(rows_below)}"
        return _table(self.con.sql(f"SELECT d.* FROM donors d SEMI JOIN wanted w ON d.donor_id = w.donor_id {below}"))

    def fetch_rows(self, rows: Sequence[int]) -> pa.Table:
        wanted = pa.table(  # noqa: F841
            {"row": pa.array(list(rows), pa.int64()), "k": pa.array(range(len(rows)), pa.int64())}
        )
        return _table(self.con.sql("SELECT d.* FROM donors d JOIN wanted w ON d.row = w.row ORDER BY w.k"))

    def scan(self, columns: Sequence[str], batch_rows: int = 1 << 20) -> Iterator[pa.RecordBatch]:
        unknown = [c for c in columns if c not in DONOR_SCHEMA.names]
        if unknown:
            raise StoreError(f"unknown donor column {unknown[0]!r}", field="columns")
        # Rows are appended in order and updated in place, and DuckDB keeps insertion order, so no ORDER BY (a sort
        # of tens of millions of wide rows would spill); the caller checks the order through the row column.
        reader = _reader(self.con.sql(f"SELECT {', '.join(columns)} FROM donors"), batch_rows)
        yield from reader

    def ids_not_in(self, donor_ids: Sequence[str], registry: str | None, donor_type: int | None) -> list[str]:
        given = pa.table({"donor_id": pa.array(list(donor_ids), pa.string())})  # noqa: F841
        sql = "SELECT d.donor_id FROM donors d ANTI JOIN given g ON d.donor_id = g.donor_id WHERE true"
        params: list[Any] = []
        if registry is not None:
            sql += " AND d.registry = ?"
            params.append(registry)
        if donor_type is not None:
            sql += " AND d.donor_type = ?"
            params.append(donor_type)
        return [r[0] for r in self.con.execute(sql + " ORDER BY d.donor_id", params).fetchall()]

    def start_import(self, file: str, digest: str, mode: str, uploaded_at: dt.datetime) -> int:
        row = self.con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()
        import_id = int(row[0][0])
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.con.execute(
            "INSERT INTO imports (import_id, file, sha256, mode, uploaded_at, started_at) VALUES (?, ?, ?, ?, ?, ?)",
            [import_id, file, digest, mode, uploaded_at, now],
        ).fetchall()
        return import_id

    def finish_import(self, import_id: int, summary: dict[str, Any]) -> None:
        keys = ("n_records", "n_new", "n_updated", "n_deleted", "n_unchanged", "n_skipped", "n_failed", "generation")
        sets = ", ".join(f"{k} = ?" for k in keys)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.con.execute(
            f"UPDATE imports SET finished_at = ?, {sets} WHERE import_id = ?",
            [now, *(summary.get(k) for k in keys), import_id],
        ).fetchall()

    def add_failures(self, table: pa.Table) -> None:
        if table.num_rows:
            incoming = table.select(FAILURE_SCHEMA.names)  # noqa: F841
            self.con.execute("INSERT INTO donor_import_failures SELECT * FROM incoming").fetchall()

    def add_history(self, table: pa.Table) -> None:
        if table.num_rows:
            incoming = table.select(HISTORY_SCHEMA.names)  # noqa: F841
            self.con.execute("INSERT INTO donor_history SELECT * FROM incoming").fetchall()

    def failures(self, import_id: int | None = None) -> pa.Table:
        if import_id is None:
            return _table(self.con.sql("SELECT * FROM donor_import_failures ORDER BY import_id"))
        return _table(self.con.sql("SELECT * FROM donor_import_failures WHERE import_id = ?", params=[import_id]))

    def history(self, donor_id: str) -> pa.Table:
        return _table(
            self.con.sql(
                "SELECT * FROM donor_history WHERE donor_id = ? ORDER BY import_id, changed_at", params=[donor_id]
            )
        )

    def imports(self) -> pa.Table:
        return _table(self.con.sql("SELECT * FROM imports ORDER BY import_id"))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION").fetchall()
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK").fetchall()
            raise
        self.con.execute("COMMIT").fetchall()

    def close(self) -> None:
        self.con.close()


def record_to_row(record: DonorRecord, row: int, updated_at: dt.datetime, import_id: int | None) -> dict[str, Any]:
    """One :class:`DonorRecord` as a ``DONOR_SCHEMA`` row."""
    out: dict[str, Any] = {
        "row": row,
        "donor_id": record.donor_id,
        "registry": record.registry,
        "donor_type": int(record.donor_type),
        "sex": int(record.sex),
        "birth_date": record.birth_date,
        "abo": int(record.abo),
        "rh": int(record.rh),
        "cmv": int(record.cmv),
        "population": record.population,
        "status": int(record.status),
        "status_date": record.status_date,
        "weight_kg": record.weight_kg,
        "parity": record.parity,
        "tnc": record.tnc,
        "cd34": record.cd34,
        "volume_ml": record.volume_ml,
        "collection_date": record.collection_date,
        "hla_invalid": record.hla_invalid,
        "hla_errors": record.hla_errors,
        "updated_at": updated_at,
        "import_id": import_id,
    }
    for locus in ALL_LOCI:
        first, second = record.hla.get(locus, (None, None))
        out[f"hla_{locus}_1"] = first
        out[f"hla_{locus}_2"] = second
    return out


def row_to_record(row: dict[str, Any]) -> DonorRecord:
    """A ``DONOR_SCHEMA`` row (as a dict) back into a :class:`DonorRecord`."""
    hla = {
        locus: (row[f"hla_{locus}_1"], row[f"hla_{locus}_2"])
        for locus in ALL_LOCI
        if row[f"hla_{locus}_1"] is not None or row[f"hla_{locus}_2"] is not None
    }
    fields = {k: shortest_float32(row[k]) for k in _RECORD_FIELDS if row.get(k) is not None}
    return DonorRecord(**fields, hla=hla)


_RECORD_FIELDS = tuple(name for name in DonorRecord.model_fields if name != "hla" and name in DONOR_SCHEMA.names)


def shortest_float32(value: Any) -> Any:
    """FLOAT columns hold float32: give back the shortest decimal that round-trips (55.4, not 55.400001525878906)."""
    return float(str(np.float32(value))) if isinstance(value, float) else value
