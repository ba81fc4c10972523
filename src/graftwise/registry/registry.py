"""A donor registry on disk: the store, the search arrays and (for generated registries) the truth.

``Registry.open(path)`` is what search uses (registry ⇄ search contract); ``Registry.create`` starts an empty one
for import; ``Registry.generate`` writes a synthetic one (:mod:`graftwise.registry.generator`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.hla.frequencies import HFSet
from graftwise.hla.names import TokenKind, parse_token
from graftwise.registry import generator as gen
from graftwise.registry.arrays import (
    ArraysBuilder,
    RegistryArrays,
    RegistryFormatError,
    TruthArrays,
    current_generation,
    open_arrays,
    open_truth,
)
from graftwise.registry.records import ALL_LOCI, LOCI, REQUIRED_LOCI, DonorRecord
from graftwise.registry.store import DONOR_SCHEMA, DuckDBStore, RegistryStore, row_to_record
from graftwise.registry.typing_check import TypingValidator

STORE_FILE = "registry.duckdb"
BIRTH_DATE_UNKNOWN = int(np.iinfo(np.int32).min)
"""``birth_date.npy`` value of an unknown birth date (the contract leaves it open; recorded in ``meta.json``)."""

Progress = Callable[[int], None]


def _noop(_: int) -> None:
    return None


class Registry:
    """One registry folder: ``registry.duckdb``, ``arrays/`` and, when generated, ``truth/``."""

    def __init__(self, path: Path, store: RegistryStore) -> None:
        self.path = path
        self.store = store
        self._arrays: RegistryArrays | None = None
        self._truth: TruthArrays | None = None

    # ---- opening ------------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = True) -> Registry:
        """Open an existing registry (read-only by default, so several searches can share it)."""
        folder = Path(path)
        if not (folder / STORE_FILE).is_file():
            raise RegistryFormatError(f"{folder} is not a registry (no {STORE_FILE})", field=str(folder))
        return cls(folder, DuckDBStore(folder / STORE_FILE, read_only=read_only))

    @classmethod
    def create(cls, path: Path | str, release: str) -> Registry:
        """An empty registry for donor import, its typings validated against ``release``."""
        folder = Path(path)
        if folder.exists() and any(folder.iterdir()):
            raise ValidationError(f"{folder} exists and is not empty; choose a new folder", field="path")
        folder.mkdir(parents=True, exist_ok=True)
        reg = cls(folder, DuckDBStore(folder / STORE_FILE))
        reg.store.set_meta("release", release)
        reg._commit_arrays(
            ArraysBuilder(folder, 0), release, {locus: [""] for locus in LOCI}, registries=[], populations=[]
        )
        return reg

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the contract -------------------------------------------------------------------------------------------

    @property
    def arrays(self) -> RegistryArrays:
        if self._arrays is None or self._arrays.generation != current_generation(self.path):
            self._arrays = open_arrays(self.path)
        return self._arrays

    @property
    def truth(self) -> TruthArrays | None:
        if self._truth is None:
            self._truth = open_truth(self.path, self.arrays.n)
        return self._truth

    @property
    def release(self) -> str:
        release = self.store.get_meta("release")
        if release is None:
            raise RegistryFormatError(f"{self.path}: store has no release", field="release")
        return release

    def records(self, rows: Sequence[int]) -> list[DonorRecord]:
        """Full records of the donors at ``rows`` (array row numbers), in that order."""
        n = self.arrays.n
        bad = next((r for r in rows if not 0 <= int(r) < n), None)
        if bad is not None:
            raise ValidationError(f"row {bad} is outside 0..{n - 1}", field="rows")
        table = self.store.fetch_rows([int(r) for r in rows])
        return [row_to_record(r) for r in table.to_pylist()]

    # ---- generation ---------------------------------------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        path: Path | str,
        config: gen.GeneratorConfig,
        nom: Nomenclature,
        *,
        hf_sets: dict[str, HFSet] | None = None,
        progress: Progress = _noop,
    ) -> Registry:
        """Write a synthetic registry of ``config.donors`` donors to a new folder ``path``."""
        folder = Path(path)
        if folder.exists() and any(folder.iterdir()):
            raise ValidationError(f"{folder} exists and is not empty; choose a new folder", field="out")
        tables = gen.build_tables(nom, hf_sets or gen.load_hf_sets(), tuple(config.populations))
        folder.mkdir(parents=True, exist_ok=True)
        store = DuckDBStore(folder / STORE_FILE)
        n = config.donors
        arrays = ArraysBuilder(folder, n, LOCI)
        truth = ArraysBuilder(folder, n, (*gen.FIVE_LOCI, "DPB1"), truth=True)
        registries = list(config.registries)
        populations = list(tables.populations)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        try:
            # The store insert of one chunk (DuckDB, outside the GIL) overlaps the generation of the next.
            with store.transaction(), ThreadPoolExecutor(max_workers=1) as pool:
                pending: Future[None] | None = None
                for chunk in gen.chunks(config, tables):
                    for locus in LOCI:
                        arrays.write_hla(locus, chunk.hla[locus])
                    for locus, ids in chunk.truth.items():
                        truth.write_hla(locus, ids)
                    for name, values in chunk.columns.items():
                        arrays.write_column(name, values)
                    table = _chunk_table(chunk, tables, registries, populations, now)
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(store.append_donors, table)
                    progress(len(chunk.level))
                if pending is not None:
                    pending.result()
                store.set_meta("release", nom.release)
                store.set_meta("generator", json.dumps(_config_json(config)))
        except BaseException:
            arrays.abort()
            truth.abort()
            store.close()
            raise
        for locus in LOCI:
            arrays.set_typings(locus, tables.typings[locus].strings)
        for locus in truth.loci:
            truth.set_typings(locus, tables.truth[locus])
        truth.commit({"release": nom.release, "source": str(gen.HF_FILE), "generator": _config_json(config)})
        reg = cls(folder, store)
        reg._commit_arrays(
            arrays,
            nom.release,
            {locus: tables.typings[locus].strings for locus in LOCI},
            registries=registries,
            populations=populations,
            extra={"generator": _config_json(config)},
        )
        reg.close()  # hand back a read-only registry, like open(), so searches can share it
        return cls.open(folder)

    def _commit_arrays(
        self,
        builder: ArraysBuilder,
        release: str,
        typings: dict[str, list[str]],
        *,
        registries: list[str],
        populations: list[str],
        extra: dict[str, Any] | None = None,
    ) -> None:
        for locus in builder.loci:
            builder.set_typings(locus, typings[locus])
        generation = current_generation(self.path) + 1
        builder.commit(
            {
                "release": release,
                "registries": registries,
                "populations": populations,
                "generation": generation,
                "birth_date_unknown": BIRTH_DATE_UNKNOWN,
                **(extra or {}),
            }
        )
        self.store.set_meta("generation", str(generation))
        self._arrays = None

    # ---- rebuilding the arrays from the store -------------------------------------------------------------------

    def rebuild_arrays(self, validator: TypingValidator, progress: Progress = _noop) -> None:
        """Write a new generation of arrays from the store (after an import). Typing and code ids of the previous
        generation are kept, new ones appended, so ids stay stable while the release is unchanged."""
        old = self.arrays
        same_release = old.release == validator.release
        typings = {
            locus: list(old.typings(locus)) if same_release and locus in old.loci else [""] for locus in ALL_LOCI
        }
        ids = {locus: {t: i for i, t in enumerate(v)} for locus, v in typings.items()}
        registries = list(old.meta.get("registries", []))
        populations = list(old.meta.get("populations", []))
        n = self.store.donor_count()
        loci = ALL_LOCI
        builder = ArraysBuilder(self.path, n, loci)
        try:
            start = 0
            for batch in self.store.scan(DONOR_SCHEMA.names):
                size = batch.num_rows
                rows = _numpy(batch.column("row"))
                if not np.array_equal(rows, np.arange(start, start + size)):
                    raise RegistryFormatError(f"store rows are not in order at row {start}", field="row")
                start += size
                hla = {
                    locus: np.stack(
                        [
                            _typing_ids(
                                batch.column(f"hla_{locus}_{pos}"), locus, ids[locus], typings[locus], validator
                            )
                            for pos in (1, 2)
                        ],
                        axis=1,
                    )
                    for locus in loci
                }
                for locus in loci:
                    builder.write_hla(locus, hla[locus])
                cols = _attribute_columns(batch, registries, populations)
                typed = np.all([(hla[locus] > 0).all(axis=1) for locus in REQUIRED_LOCI], axis=0)
                invalid = _numpy(batch.column("hla_invalid").fill_null(False))
                cols["searchable"] = (cols["status"] == 0) & typed & ~invalid
                for name, values in cols.items():
                    builder.write_column(name, values)
                progress(size)
        except BaseException:
            builder.abort()
            raise
        self._commit_arrays(builder, validator.release, typings, registries=registries, populations=populations)
        self.store.set_meta("release", validator.release)

    # ---- statistics ---------------------------------------------------------------------------------------------

    def stats(self) -> RegistryStats:
        """Counts by donor type, registry, population, status, and typing resolution per locus."""
        a = self.arrays

        def labelled(name: str, labels: Sequence[str]) -> dict[str, int]:
            counts = Counter(np.asarray(a.column(name)).tolist())
            return {(labels[k] if 0 <= k < len(labels) else "unknown"): v for k, v in sorted(counts.items())}

        resolution: dict[str, dict[str, int]] = {}
        for locus in a.loci:
            kinds = np.asarray([_resolution_of(t) for t in a.typings(locus)], dtype=np.int8)
            per_id = np.bincount(np.asarray(a.hla(locus)).ravel(), minlength=len(kinds))
            totals = np.bincount(kinds, weights=per_id, minlength=len(RESOLUTIONS))
            resolution[locus] = {RESOLUTIONS[k]: int(v) for k, v in enumerate(totals) if v}
        return RegistryStats(
            n=a.n,
            release=a.release,
            generation=a.generation,
            searchable=int(np.count_nonzero(a.column("searchable"))),
            donor_type=labelled("donor_type", ("adult", "cord")),
            status=labelled("status", ("available", "reserved", "unavailable")),
            registry=labelled("registry", a.meta["registries"]),
            population=labelled("population", a.meta["populations"]),
            resolution=resolution,
        )


RESOLUTIONS = ("untyped", "allele", "G/P group", "allele string", "MAC", "XX", "serology", "other")


def _resolution_of(typing: str) -> int:
    """The resolution class of one typing string (an index into :data:`RESOLUTIONS`)."""
    if not typing:
        return 0
    if "/" in typing:
        return 3
    kind = parse_token(typing).kind
    return {
        TokenKind.ALLELE: 1,
        TokenKind.V2: 1,
        TokenKind.G_GROUP: 2,
        TokenKind.P_GROUP: 2,
        TokenKind.MAC: 4,
        TokenKind.XX: 5,
        TokenKind.SEROLOGY: 6,
    }.get(kind, 7)


@dataclasses.dataclass(frozen=True)
class RegistryStats:
    n: int
    release: str
    generation: int
    searchable: int
    donor_type: dict[str, int]
    status: dict[str, int]
    registry: dict[str, int]
    population: dict[str, int]
    resolution: dict[str, dict[str, int]]


def _typing_ids(
    column: pa.ChunkedArray | pa.Array,
    locus: str,
    ids: dict[str, int],
    typings: list[str],
    validator: TypingValidator,
) -> npt.NDArray[np.int32]:
    """Typing ids of one string column: distinct strings are checked once; invalid or missing → 0."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    mapping = np.zeros(len(encoded.dictionary) + 1, dtype=np.int32)
    for k, text in enumerate(encoded.dictionary.to_pylist()):
        if not validator.check(locus, text).ok:
            continue
        found = ids.get(text)
        if found is None:
            found = ids[text] = len(typings)
            typings.append(text)
        mapping[k] = found
    result: npt.NDArray[Any] = mapping[_numpy(encoded.indices.fill_null(len(encoded.dictionary)))]
    return result


def _numpy(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    return np.asarray(values.to_numpy(zero_copy_only=False))


def _codes(column: pa.ChunkedArray | pa.Array, labels: list[str]) -> npt.NDArray[np.int64]:
    """Indices of a string column into ``labels`` (new values appended); NULL → -1."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    known = {v: i for i, v in enumerate(labels)}
    mapping = np.full(len(encoded.dictionary) + 1, -1, dtype=np.int64)
    for k, value in enumerate(encoded.dictionary.to_pylist()):
        if value not in known:
            known[value] = len(labels)
            labels.append(value)
        mapping[k] = known[value]
    result: npt.NDArray[Any] = mapping[_numpy(encoded.indices.fill_null(len(encoded.dictionary)))]
    return result


def _attribute_columns(batch: pa.RecordBatch, registries: list[str], populations: list[str]) -> dict[str, Any]:
    def ints(name: str, missing: int) -> npt.NDArray[Any]:
        return _numpy(batch.column(name).cast(pa.int64()).fill_null(missing))

    def floats(name: str) -> npt.NDArray[Any]:
        return _numpy(batch.column(name).cast(pa.float32()).fill_null(np.nan))

    birth = batch.column("birth_date").cast(pa.int32()).fill_null(BIRTH_DATE_UNKNOWN)
    return {
        "donor_type": ints("donor_type", 0),
        "status": ints("status", 0),
        "registry": _codes(batch.column("registry"), registries),
        "population": _codes(batch.column("population"), populations),
        "sex": ints("sex", -1),
        "birth_date": _numpy(birth),
        "cmv": ints("cmv", -1),
        "abo": ints("abo", -1),
        "rh": ints("rh", -1),
        "parity": ints("parity", -1),
        "weight_kg": floats("weight_kg"),
        "tnc": floats("tnc"),
        "cd34": floats("cd34"),
    }


def _dates(days: npt.NDArray[np.int32], missing: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    return pa.array(days, pa.int32(), mask=missing).cast(pa.date32())


def _floats(values: npt.NDArray[np.float32]) -> pa.Array:
    return pa.array(values, pa.float32(), mask=np.isnan(values))


def _chunk_table(
    chunk: gen.Chunk, tables: gen.TypingTables, registries: list[str], populations: list[str], now: dt.datetime
) -> pa.Table:
    """A generated chunk as ``DONOR_SCHEMA`` rows (HLA as dictionary-encoded strings, so no Python loop)."""
    size = len(chunk.level)
    c = chunk.columns
    cord = c["donor_type"] == 1
    data: dict[str, Any] = {
        "row": pa.array(np.arange(chunk.start, chunk.start + size, dtype=np.int64)),
        "donor_id": chunk.donor_id,
        "registry": pa.DictionaryArray.from_arrays(pa.array(c["registry"].astype(np.int32)), pa.array(registries)),
        "donor_type": pa.array(c["donor_type"]),
        "sex": pa.array(c["sex"]),
        "birth_date": _dates(c["birth_date"]),
        "abo": pa.array(c["abo"]),
        "rh": pa.array(c["rh"]),
        "cmv": pa.array(c["cmv"]),
        "population": pa.DictionaryArray.from_arrays(pa.array(c["population"].astype(np.int32)), pa.array(populations)),
        "status": pa.array(c["status"]),
        "status_date": _dates(chunk.status_date),
        "weight_kg": _floats(c["weight_kg"]),
        "parity": pa.array(c["parity"], mask=c["parity"] < 0),
        "tnc": _floats(c["tnc"]),
        "cd34": _floats(c["cd34"]),
        "volume_ml": _floats(chunk.volume_ml),
        "collection_date": _dates(chunk.collection_date, ~cord),
        "hla_invalid": pa.array(np.zeros(size, dtype=np.bool_)),
        "hla_errors": pa.nulls(size, pa.string()),
        "updated_at": pa.array(np.full(size, np.datetime64(now, "us"))),
        "import_id": pa.nulls(size, pa.int32()),
    }
    for locus in ALL_LOCI:
        for pos in (1, 2):
            if locus in chunk.hla:
                ids = chunk.hla[locus][:, pos - 1]
                data[f"hla_{locus}_{pos}"] = pa.DictionaryArray.from_arrays(
                    pa.array(ids, mask=ids == 0), pa.array(tables.typings[locus].strings)
                )
            else:
                data[f"hla_{locus}_{pos}"] = pa.nulls(size, pa.string())
    return pa.table(data)


def _config_json(config: gen.GeneratorConfig) -> dict[str, Any]:
    return {
        "donors": config.donors,
        "seed": config.seed,
        "populations": dict(config.populations),
        "registries": dict(config.registries),
        "mix": dataclasses.asdict(config.mix),
        "cord_share": config.cord_share,
        "reference_date": config.reference_date.isoformat(),
        "chunk": gen.CHUNK,
    }
