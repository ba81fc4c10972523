"""The search index: per locus, each distinct donor typing's P-group set as a bitset (matching.md §2, §11 row 2).

Built once from the registry arrays and cached on disk beside them under ``index/<release>-g<generation>/``, so it
is rebuilt when the release or the registry changes. A search turns the patient's two positions into one small
``uint8`` table per locus (bit 0: matches patient position 1, bit 1: matches position 2, bit 2: the typing is a
null), indexed by typing id: the only thing the donor scan reads besides the donor arrays.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from graftwise.errors import ValidationError
from graftwise.hla import HLAError
from graftwise.matching.source import DonorArrays
from graftwise.matching.typing import PositionTyping, TypingInterpreter

INDEX_FORMAT = 1

BIT_P1 = 1
BIT_P2 = 2
BIT_NULL = 4


@dataclass(frozen=True)
class LocusIndex:
    """One locus: typing id → P-group bitset, null flag, validity, and donor frequency (for selectivity)."""

    locus: str
    pgroups: tuple[str, ...]
    bits: npt.NDArray[np.uint64]
    """(typings, words) bitset over ``pgroups``."""
    is_null: npt.NDArray[np.bool_]
    valid: npt.NDArray[np.bool_]
    """False for strings the release cannot read (their donors are not searchable)."""
    frequency: npt.NDArray[np.int64]
    """How many donor positions carry each typing id."""

    @property
    def words(self) -> int:
        return int(self.bits.shape[1])

    def patient_bits(self, typing: PositionTyping) -> npt.NDArray[np.uint64]:
        where = {p: i for i, p in enumerate(self.pgroups)}
        out = np.zeros(self.words, dtype=np.uint64)
        for p in typing.pgroups:
            i = where.get(p)
            if i is not None:
                out[i >> 6] |= np.uint64(1) << np.uint64(i & 63)
        return out

    def match_column(self, typing: PositionTyping) -> npt.NDArray[np.bool_]:
        """For every typing id: does it match this (null-substituted) patient position (§3.1, §3.3, §3.4)?"""
        n = len(self.is_null)
        out: npt.NDArray[np.bool_]
        if typing.is_untyped:
            out = np.ones(n, dtype=bool)
        else:
            pb = self.patient_bits(typing)
            out = np.asarray((self.bits & pb).any(axis=1)) if self.words else np.zeros(n, dtype=bool)
            if typing.is_null:
                out |= self.is_null
        out &= self.valid
        out[0] = True  # untyped donor position: a potential match
        return out

    def table(self, patient: tuple[PositionTyping, PositionTyping]) -> npt.NDArray[np.uint8]:
        """The per-search lookup table (bits P1, P2, NULL) for null-substituted patient positions."""
        table = self.match_column(patient[0]).astype(np.uint8) * BIT_P1
        table |= self.match_column(patient[1]).astype(np.uint8) * BIT_P2
        table |= self.is_null.astype(np.uint8) * BIT_NULL
        return table

    def pass_fraction(self, table: npt.NDArray[np.uint8]) -> float:
        """Share of donor positions matching either patient position: orders loci most selective first."""
        total = int(self.frequency.sum())
        if total == 0:
            return 1.0
        return float(self.frequency[(table & (BIT_P1 | BIT_P2)) != 0].sum()) / total


def build_locus_index(
    interp: TypingInterpreter, locus: str, typings: Sequence[str], hla: npt.NDArray[np.int32]
) -> LocusIndex:
    parsed: list[PositionTyping | None] = []
    for text in typings:
        try:
            parsed.append(interp.interpret(locus, text, lenient=True))
        except (HLAError, ValidationError):
            parsed.append(None)
    names = sorted({p for t in parsed if t is not None for p in t.pgroups})
    where = {p: i for i, p in enumerate(names)}
    words = (len(names) + 63) // 64
    bits = np.zeros((len(typings), words), dtype=np.uint64)
    for row, t in enumerate(parsed):
        if t is None:
            continue
        for p in t.pgroups:
            i = where[p]
            bits[row, i >> 6] |= np.uint64(1) << np.uint64(i & 63)
    is_null = np.array([t is not None and t.is_null for t in parsed], dtype=bool)
    valid = np.array([t is not None for t in parsed], dtype=bool)
    frequency = np.bincount(np.asarray(hla).ravel(), minlength=len(typings)).astype(np.int64)
    return LocusIndex(locus, tuple(names), bits, is_null, valid, frequency)


@dataclass(frozen=True)
class MatchIndex:
    release: str
    generation: int
    loci: dict[str, LocusIndex]

    @property
    def nbytes(self) -> int:
        return sum(i.bits.nbytes + i.is_null.nbytes + i.valid.nbytes + i.frequency.nbytes for i in self.loci.values())


def index_dir(registry: Path, release: str, generation: int) -> Path:
    return registry / "index" / f"{release}-g{generation}-v{INDEX_FORMAT}"


def load_or_build_index(
    arrays: DonorArrays, interp: TypingInterpreter, loci: Sequence[str], cache: Path | None
) -> MatchIndex:
    """The index of ``loci``, read from ``cache`` (a registry folder) when it was built for this release and registry
    generation, else built (and written there atomically when ``cache`` is given)."""
    generation = int(arrays.meta.get("generation", 0))
    folder = index_dir(cache, interp.release, generation) if cache is not None else None
    found: dict[str, LocusIndex] = {}
    missing = []
    for locus in loci:
        loaded = _read(folder, locus) if folder is not None else None
        if loaded is None:
            missing.append(locus)
        else:
            found[locus] = loaded
    for locus in missing:
        found[locus] = build_locus_index(interp, locus, arrays.typings(locus), arrays.hla(locus))
    if folder is not None and missing:
        try:
            _write(folder, [found[locus] for locus in missing])
        except OSError as exc:  # a read-only registry still searches; it just rebuilds the index next time
            warnings.warn(f"search index not cached in {folder}: {exc}", stacklevel=2)
    return MatchIndex(interp.release, generation, {locus: found[locus] for locus in loci})


def _read(folder: Path, locus: str) -> LocusIndex | None:
    path = folder / f"{locus}.npz"
    if not path.is_file():
        return None
    with np.load(path) as data:
        return LocusIndex(
            locus,
            tuple(str(x) for x in data["pgroups"]),
            data["bits"],
            data["is_null"],
            data["valid"],
            data["frequency"],
        )


def _write(folder: Path, indices: Sequence[LocusIndex]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in indices:
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
        os.close(fd)
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                pgroups=np.array(index.pgroups, dtype=str),
                bits=index.bits,
                is_null=index.is_null,
                valid=index.valid,
                frequency=index.frequency,
            )
        os.replace(tmp, folder / f"{index.locus}.npz")
    release = folder.name.split("-g")[0]
    for stale in folder.parent.iterdir():
        if stale != folder and stale.is_dir() and stale.name.startswith(f"{release}-g"):
            shutil.rmtree(stale, ignore_errors=True)
