"""The columnar arrays the search scans (the registry ⇄ search contract, ``/work/briefs/registry-contract.md``).

A registry folder holds ``arrays``: a symbolic link to the current generation's folder ``arrays-<generation>/``.
A new generation is built in a hidden temporary folder, renamed into place, and the link is swapped with one atomic
``rename``; readers that still hold memory maps of the previous generation keep working (its files stay valid
until they are closed). An interrupted build leaves only a temporary folder, never a half-written ``arrays``.

Layout of one generation: ``hla_<LOCUS>.npy`` int32 (n, 2) typing ids (0 = untyped), ``typings_<LOCUS>.txt``
(line k is id k, line 0 empty), the attribute columns of :data:`COLUMNS`, and ``meta.json``. Typing files only
ever hold typings that are valid in ``meta["release"]``; a position whose typing is invalid is stored as 0 and its
donor is not searchable (the raw string stays in the store).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from graftwise.errors import GraftwiseError, ValidationError
from graftwise.registry.records import LOCI

COLUMNS: dict[str, np.dtype[Any]] = {
    "donor_type": np.dtype(np.int8),
    "status": np.dtype(np.int8),
    "searchable": np.dtype(np.bool_),
    "registry": np.dtype(np.int16),
    "population": np.dtype(np.int8),
    "sex": np.dtype(np.int8),
    "birth_date": np.dtype(np.int32),
    "cmv": np.dtype(np.int8),
    "abo": np.dtype(np.int8),
    "rh": np.dtype(np.int8),
    "parity": np.dtype(np.int8),
    "weight_kg": np.dtype(np.float32),
    "tnc": np.dtype(np.float32),
    "cd34": np.dtype(np.float32),
}
"""Attribute column → dtype, exactly as the contract lists them."""

ARRAYS_LINK = "arrays"
TRUTH_DIR = "truth"


class RegistryFormatError(GraftwiseError):
    """A registry folder that does not follow the contract (missing file, wrong shape or dtype)."""

    code = "registry_format"


def _read_typings(path: Path) -> list[str]:
    if not path.is_file():
        raise RegistryFormatError(f"missing typing list {path}", field=str(path))
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != "":
        raise RegistryFormatError(f"{path}: line 0 must be the empty string (untyped)", field=str(path))
    return lines


def _write_typings(path: Path, typings: Sequence[str]) -> None:
    if not typings or typings[0] != "":
        raise ValidationError("typing list must start with the empty string (id 0 = untyped)", field=str(path))
    bad = next((t for t in typings[1:] if not t or "\n" in t), None)
    if bad is not None:
        raise ValidationError(f"typing {bad!r} is empty or contains a line break", field=str(path))
    path.write_text("\n".join(typings) + "\n", encoding="utf-8")


class _HLAFolder:
    """Shared reading of ``<prefix>hla_<LOCUS>.npy`` + ``<prefix>typings_<LOCUS>.txt`` (arrays and truth)."""

    def __init__(self, folder: Path, n: int, prefix: str) -> None:
        self.folder = folder
        self.n = n
        self._prefix = prefix
        self._typings: dict[str, list[str]] = {}

    def hla(self, locus: str) -> npt.NDArray[np.int32]:
        """(n, 2) int32 typing ids of ``locus``, memory-mapped read-only."""
        path = self.folder / f"{self._prefix or 'hla_'}{locus}.npy"
        if not path.is_file():
            raise RegistryFormatError(f"no typings for locus {locus!r} ({path.name} missing)", field=locus)
        arr = np.load(path, mmap_mode="r")
        if arr.dtype != np.int32 or arr.shape != (self.n, 2):
            raise RegistryFormatError(f"{path}: expected int32 ({self.n}, 2), found {arr.dtype} {arr.shape}")
        return arr  # type: ignore[no-any-return]

    def typings(self, locus: str) -> list[str]:
        """The distinct typing strings of ``locus``; index k is typing id k, index 0 is ``""`` (untyped)."""
        if locus not in self._typings:
            self._typings[locus] = _read_typings(self.folder / f"{self._prefix}typings_{locus}.txt")
        return self._typings[locus]


class RegistryArrays(_HLAFolder):
    """One generation of a registry's arrays (``Registry.open(path).arrays``)."""

    def __init__(self, folder: Path) -> None:
        meta_path = folder / "meta.json"
        if not meta_path.is_file():
            raise RegistryFormatError(f"{folder} has no meta.json; not a registry arrays folder", field=str(folder))
        self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        super().__init__(folder.resolve(), int(self.meta["n"]), "")

    @property
    def release(self) -> str:
        return str(self.meta["release"])

    @property
    def generation(self) -> int:
        return int(self.meta["generation"])

    @property
    def loci(self) -> tuple[str, ...]:
        return tuple(self.meta["loci"])

    def column(self, name: str) -> npt.NDArray[Any]:
        """An attribute column (see :data:`COLUMNS`), memory-mapped read-only."""
        dtype = COLUMNS.get(name)
        if dtype is None:
            raise ValidationError(f"unknown column {name!r}; expected one of {', '.join(COLUMNS)}", field="name")
        arr = np.load(self.folder / f"{name}.npy", mmap_mode="r")
        if arr.dtype != dtype or arr.shape != (self.n,):
            raise RegistryFormatError(f"{name}.npy: expected {dtype} ({self.n},), found {arr.dtype} {arr.shape}")
        return arr  # type: ignore[no-any-return]


class TruthArrays(_HLAFolder):
    """The genotype each generated donor was sampled from (``truth/``); position 1 of every locus is haplotype 1."""

    def __init__(self, folder: Path, n: int) -> None:
        super().__init__(folder.resolve(), n, "truth_")
        self.meta: dict[str, Any] = json.loads((folder / "meta.json").read_text(encoding="utf-8"))

    @property
    def loci(self) -> tuple[str, ...]:
        return tuple(self.meta["loci"])


def open_arrays(registry_dir: Path) -> RegistryArrays:
    link = registry_dir / ARRAYS_LINK
    if not link.exists():
        raise RegistryFormatError(f"{registry_dir} has no arrays folder; not a registry", field=str(registry_dir))
    return RegistryArrays(link)


def open_truth(registry_dir: Path, n: int) -> TruthArrays | None:
    folder = registry_dir / TRUTH_DIR
    return TruthArrays(folder, n) if (folder / "meta.json").is_file() else None


class ArraysBuilder:
    """Writes one new generation of arrays, row-ordered chunk by chunk, then :meth:`commit` swaps it in atomically.

    Chunks are appended to ``.npy`` files whose header already names the final shape, with plain file writes
    (no memory map), so memory stays bounded by the chunk whatever the registry size. With ``truth=True`` it
    writes the ``truth/`` folder instead (``truth_<LOCUS>.npy``, no attribute columns).
    """

    def __init__(self, registry_dir: Path, n: int, loci: Sequence[str] = LOCI, *, truth: bool = False) -> None:
        if n < 0:
            raise ValidationError("the number of donors must be >= 0", field="n")
        self.registry_dir = registry_dir
        self.n = n
        self.loci = tuple(loci)
        self.truth = truth
        registry_dir.mkdir(parents=True, exist_ok=True)
        self.tmp = registry_dir / f".{'truth' if truth else 'arrays'}-tmp-{uuid.uuid4().hex[:12]}"
        self.tmp.mkdir()
        self._files: dict[str, _NpyAppender] = {}
        self._typings: dict[str, Sequence[str]] = {}
        self._max_id: dict[str, int] = dict.fromkeys(self.loci, 0)
        prefix = "truth_" if truth else "hla_"
        for locus in self.loci:
            self._files[f"hla:{locus}"] = _NpyAppender(self.tmp / f"{prefix}{locus}.npy", np.dtype(np.int32), (n, 2))
        if not truth:
            for name, dtype in COLUMNS.items():
                self._files[name] = _NpyAppender(self.tmp / f"{name}.npy", dtype, (n,))

    def write_hla(self, locus: str, ids: npt.NDArray[np.integer[Any]]) -> None:
        """Append the next rows' (k, 2) typing ids of ``locus``."""
        if len(ids):
            if int(ids.min()) < 0:
                raise ValidationError(f"locus {locus}: negative typing id", field=locus)
            self._max_id[locus] = max(self._max_id[locus], int(ids.max()))
        self._files[f"hla:{locus}"].append(ids)

    def write_column(self, name: str, values: npt.NDArray[Any]) -> None:
        """Append the next rows of attribute column ``name``."""
        self._files[name].append(values)

    def set_typings(self, locus: str, typings: Sequence[str]) -> None:
        self._typings[locus] = typings

    def abort(self) -> None:
        for f in self._files.values():
            f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def commit(self, meta: dict[str, Any]) -> Path:
        """Check row counts and ids against typing lists, write typing files and ``meta.json``, swap it in."""
        prefix = "truth_" if self.truth else ""
        for name, f in self._files.items():
            f.close()
            if f.rows != self.n:
                raise ValidationError(f"{name}: {f.rows} rows written, expected {self.n}", field=name)
        for locus in self.loci:
            typings = self._typings.get(locus)
            if typings is None:
                raise ValidationError(f"no typing list set for locus {locus}", field=locus)
            if self._max_id[locus] >= len(typings):
                raise ValidationError(f"locus {locus}: typing ids outside 0..{len(typings) - 1}", field=locus)
            _write_typings(self.tmp / f"{prefix}typings_{locus}.txt", typings)
        full = {**meta, "n": self.n, "loci": list(self.loci)}
        full.setdefault("created_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        (self.tmp / "meta.json").write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
        if self.truth:
            return self._commit_truth()
        return self._commit_generation(int(full["generation"]))

    def _commit_truth(self) -> Path:
        final = self.registry_dir / TRUTH_DIR
        if final.exists():
            shutil.rmtree(final)
        os.replace(self.tmp, final)
        return final

    def _commit_generation(self, generation: int) -> Path:
        final = self.registry_dir / f"arrays-{generation}"
        if final.exists():
            raise RegistryFormatError(f"{final} already exists; generations are never rewritten", field=str(final))
        os.replace(self.tmp, final)
        link = self.registry_dir / ARRAYS_LINK
        previous = link.resolve() if link.is_symlink() else None
        tmp_link = self.registry_dir / f".arrays-link-{uuid.uuid4().hex[:12]}"
        os.symlink(final.name, tmp_link)
        os.replace(tmp_link, link)
        if previous is not None and previous != final.resolve():
            shutil.rmtree(previous, ignore_errors=True)
        return final


class _NpyAppender:
    """A ``.npy`` file of known final shape, filled by appending rows in order."""

    def __init__(self, path: Path, dtype: np.dtype[Any], shape: tuple[int, ...]) -> None:
        self.dtype = dtype
        self.shape = shape
        self.rows = 0
        self.fh = path.open("wb")
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(self.fh, header)

    def append(self, values: npt.NDArray[Any]) -> None:
        arr = np.ascontiguousarray(values, dtype=self.dtype)
        if arr.shape[1:] != self.shape[1:]:
            raise ValidationError(f"{self.fh.name}: rows of shape {arr.shape[1:]}, expected {self.shape[1:]}")
        if self.rows + len(arr) > self.shape[0]:
            raise ValidationError(f"{self.fh.name}: more than {self.shape[0]} rows written")
        self.fh.write(arr.tobytes())
        self.rows += len(arr)

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.close()


def current_generation(registry_dir: Path) -> int:
    """The generation of the arrays in place, or 0 when there are none yet."""
    meta = registry_dir / ARRAYS_LINK / "meta.json"
    if not meta.is_file():
        return 0
    return int(json.loads(meta.read_text(encoding="utf-8"))["generation"])
