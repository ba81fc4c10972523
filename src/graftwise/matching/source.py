"""How the search reads a registry: the array interface of the registry ⇄ search contract.

A registry folder holds ``arrays/`` (one row per donor; ``hla_<LOCUS>.npy`` typing ids, ``typings_<LOCUS>.txt``,
attribute columns and ``meta.json``). :class:`FolderArrays` reads exactly that layout, memory-mapped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from graftwise.errors import ValidationError
from graftwise.registry import Registry
from graftwise.registry.registry import STORE_FILE

HLA_LOCI = ("A", "B", "C", "DRB1", "DQB1", "DPB1")


class DonorArrays(Protocol):
    """The contract's ``reg.arrays`` object."""

    @property
    def n(self) -> int: ...

    @property
    def release(self) -> str: ...

    @property
    def meta(self) -> dict[str, Any]: ...

    def hla(self, locus: str) -> npt.NDArray[np.int32]: ...

    def typings(self, locus: str) -> list[str]: ...

    def column(self, name: str) -> npt.NDArray[Any]: ...


@dataclass
class FolderArrays:
    """The ``arrays/`` folder of a registry, memory-mapped (read-only)."""

    path: Path
    _meta: dict[str, Any] = field(default_factory=dict, repr=False)
    _typings: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, registry: Path) -> FolderArrays:
        folder = registry / "arrays"
        meta_path = folder / "meta.json"
        if not meta_path.is_file():
            raise ValidationError(f"{registry}: not a registry folder (no arrays/meta.json)", field="registry")
        return cls(folder, json.loads(meta_path.read_text(encoding="utf-8")))

    @property
    def n(self) -> int:
        return int(self._meta["n"])

    @property
    def release(self) -> str:
        return str(self._meta["release"])

    @property
    def meta(self) -> dict[str, Any]:
        return self._meta

    def hla(self, locus: str) -> npt.NDArray[np.int32]:
        path = self.path / f"hla_{locus}.npy"
        if not path.is_file():
            return np.zeros((self.n, 2), dtype=np.int32)
        return np.asarray(np.load(path, mmap_mode="r"))

    def typings(self, locus: str) -> list[str]:
        found = self._typings.get(locus)
        if found is None:
            path = self.path / f"typings_{locus}.txt"
            found = path.read_text(encoding="utf-8").split("\n") if path.is_file() else [""]
            if found and found[-1] == "" and len(found) > 1:
                found = found[:-1]
            self._typings[locus] = found
        return found

    def column(self, name: str) -> npt.NDArray[Any]:
        return np.asarray(np.load(self.path / f"{name}.npy", mmap_mode="r"))


Records = Callable[[Sequence[int]], Sequence[Any]]


def open_registry(path: Path) -> tuple[DonorArrays, Records | None]:
    """A registry's arrays and ``records`` through the contract (``Registry.open``); a bare contract-shaped folder
    (``arrays/`` without the store, e.g. an export) gives arrays only."""
    if not (path / STORE_FILE).is_file():
        return FolderArrays.open(path), None
    registry = Registry.open(path)
    return registry.arrays, registry.records
