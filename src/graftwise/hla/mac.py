"""NMDP multiple allele codes: the code table (hla-nomenclature.md §8).

Two file formats are read: the NMDP distribution ``numer.v3.txt``/``alpha.v3.txt`` (3 header lines, then
``CODE<TAB>EXPANSION``) and the Atlas Azure-table export (``Code,…,HLA,…,IsGeneric,…``), in which the records before
the comment that announces the genuine subset are fake test codes and are skipped. The table is independent of the
IMGT release; decoding filters expansions against the release in use (:mod:`graftwise.hla.nomenclature`).
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from graftwise.data import DataRoot, cache_dir
from graftwise.data.cache import read_cached, write_cached
from graftwise.errors import ReferenceDataError

_CODE_RE = re.compile(r"^[A-Z]{2,5}$")
_ELEMENT_RE = re.compile(r"^\d{2,4}(:\d{2,4})?[A-Z]?$")
_GENUINE_MARKER = "genuine subset"


@dataclass(frozen=True)
class MACTable:
    """Code → its expansion elements: second fields (generic, ``("01", "02")``) or ``F1:F2`` names (specific)."""

    codes: dict[str, tuple[str, ...]]
    source: str

    def is_generic(self, code: str) -> bool:
        """A generic code lists second fields only; an allele-specific one lists whole ``F1:F2`` names."""
        return code in self._generic

    @cached_property
    def _generic(self) -> frozenset[str]:
        return frozenset(code for code, elements in self.codes.items() if all(":" not in e for e in elements))

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __len__(self) -> int:
        return len(self.codes)


def _check(path: Path, lineno: int, code: str, expansion: str) -> tuple[str, ...]:
    if not _CODE_RE.match(code):
        raise ReferenceDataError(f"{path}:{lineno}: bad code {code!r} (2 to 5 capital letters)", code="bad_record")
    elements = tuple(expansion.split("/"))
    if not elements or not all(_ELEMENT_RE.match(e) for e in elements):
        raise ReferenceDataError(f"{path}:{lineno}: bad expansion {expansion!r} of {code}", code="bad_record")
    return elements


def read_nmdp(path: Path) -> MACTable:
    """Read the NMDP ``numer.v3.txt`` (or ``alpha.v3.txt``) format."""
    codes: dict[str, tuple[str, ...]] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.strip()
            if lineno <= 3 or not line:
                continue
            parts = line.split("\t")
            if len(parts) == 3 and parts[0] == "*":  # MAC-service listing: '*' flags allele-specific codes
                parts = parts[1:]
            if len(parts) != 2:
                raise ReferenceDataError(f"{path}:{lineno}: expected CODE<TAB>EXPANSION", code="field_count")
            codes[parts[0]] = _check(path, lineno, parts[0], parts[1])
    return MACTable(codes, str(path))


def read_atlas_csv(path: Path) -> MACTable:
    """Read an Atlas MAC dictionary export, keeping only the records after the 'genuine subset' comment (if any)."""
    text = path.read_text(encoding="utf-8").splitlines()
    genuine_from = next((i for i, line in enumerate(text) if _GENUINE_MARKER in line), -1) + 1
    codes: dict[str, tuple[str, ...]] = {}
    header: list[str] | None = None
    for lineno, row in enumerate(csv.reader(text), start=1):
        if not row or row[0].startswith("#"):
            continue
        if header is None:
            header = row
            if "Code" not in header or "HLA" not in header:
                raise ReferenceDataError(f"{path}: expected columns Code and HLA", code="bad_header")
            continue
        if lineno <= genuine_from:
            continue
        record = dict(zip(header, row, strict=False))
        codes[record["Code"]] = _check(path, lineno, record["Code"], record["HLA"])
    return MACTable(codes, str(path))


def load_mac_table(root: DataRoot | None = None) -> MACTable:
    """The MAC table of the data root: ``mac/numer.v3.txt`` if present, else the Atlas subset; cached by content."""
    folder = (root or DataRoot.discover()).path / "mac"
    for name, reader in (("numer.v3.txt", read_nmdp), ("alpha.v3.txt", read_nmdp)):
        if (folder / name).is_file():
            return _cached(folder / name, reader)
    atlas = folder / "atlas-LargeMacDictionary.csv"
    if atlas.is_file():
        return _cached(atlas, read_atlas_csv)
    return MACTable({}, "")


def _cached(path: Path, reader: Callable[[Path], MACTable]) -> MACTable:
    digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    cached = cache_dir() / "compiled" / "mac" / f"{path.name}-{digest}.pickle"
    table = read_cached(cached, MACTable)
    if table is None:
        table = reader(path)
        write_cached(cached, table, stale_glob=f"{path.name}-*.pickle")
    return table
