"""Haplotype frequency (HF) sets: the canonical model and the three file formats (match-prediction.md §2).

Formats: NMDP 2007 CSV (``POP,HAPLOTYPE,freq,rank``, no header; Maiers, Gragert & Klitz, Hum Immunol
2007;68:779), GRIMM ``.freqs``/``.freqs.gz`` (``HAPLOTYPE,count,freq``) and Atlas HF-set JSON. Names are kept as
the file writes them, with the locus added where the format omits it; frequencies are stored exactly as given
(normalisation is implicit in the probability formulas). Converting names into a release's groups needs the
nomenclature and is done by :mod:`graftwise.prediction`.

Structural validation happens here, at import: unknown or missing loci, zero or negative frequencies, duplicate
haplotypes, malformed lines — each error names the file and line. A set whose mass is far from 1 is accepted but
flagged (``total_mass`` is reported), because trimmed and top-N sets are legitimate.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from graftwise.errors import ValidationError

TypingCategory = Literal["g2007", "G", "small_g", "lgx", "two_field"]
SourceFormat = Literal["nmdp2007", "grimm", "atlas"]

FIVE_LOCI = ("A", "C", "B", "DRB1", "DQB1")
"""The locus order of the NMDP 2007 five-locus sets (A~C~B~DRB1~DQB1)."""

_ATLAS_KEYS = {"a": "A", "b": "B", "c": "C", "dqb1": "DQB1", "drb1": "DRB1"}
_ATLAS_CATEGORIES: dict[str, TypingCategory] = {
    "LargeGGroup": "G",
    "G": "G",
    "small_g": "small_g",
    "SmallGGroup": "small_g",
}
_KNOWN_LOCI = frozenset({"A", "B", "C", "DRB1", "DRB3", "DRB4", "DRB5", "DQA1", "DQB1", "DPA1", "DPB1"})


class HFSetError(ValidationError):
    """A haplotype frequency file that cannot be imported; ``field`` names the file and line."""

    code = "invalid_hf_set"


@dataclass(frozen=True)
class HFSet:
    """One haplotype frequency set (match-prediction.md §2.2).

    ``haplotypes[i]`` is a tuple of allele names with locus (``A*01:01g``), in the order of ``loci``;
    ``frequencies[i]`` its frequency exactly as the file gives it.
    """

    id: str
    source_format: SourceFormat
    typing_category: TypingCategory
    release: str | None
    loci: tuple[str, ...]
    haplotypes: tuple[tuple[str, ...], ...]
    frequencies: tuple[float, ...]
    registries: tuple[str, ...] = ()
    ethnicities: tuple[str, ...] = ()
    population_id: str | None = None
    provenance: str = ""
    licence: str = ""

    @property
    def total_mass(self) -> float:
        return float(sum(self.frequencies))

    def __len__(self) -> int:
        return len(self.haplotypes)


def _fail(path: Path, lineno: int | None, message: str) -> HFSetError:
    where = f"{path.name}:{lineno}" if lineno is not None else path.name
    return HFSetError(f"{where}: {message}", field=where)


def _split_haplotype(path: Path, lineno: int, text: str, strip_prefix: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names = []
    loci = []
    for part in text.split("~"):
        name = part.removeprefix("HLA-") if strip_prefix else part
        locus, star, rest = name.partition("*")
        if not star or not rest:
            raise _fail(path, lineno, f"{part!r} is not an allele name with locus (e.g. A*01:01)")
        if locus not in _KNOWN_LOCI:
            raise _fail(path, lineno, f"unknown locus {locus!r} in {part!r}")
        names.append(name)
        loci.append(locus)
    return tuple(names), tuple(loci)


def _frequency(path: Path, lineno: int, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _fail(path, lineno, f"frequency {text!r} is not a number") from None
    if not value > 0:
        raise _fail(path, lineno, f"frequency {text} must be positive")
    return value


class _Collector:
    """Accumulates one population's haplotypes, refusing inconsistent loci and duplicates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loci: tuple[str, ...] | None = None
        self.haplotypes: list[tuple[str, ...]] = []
        self.frequencies: list[float] = []
        self.seen: dict[tuple[str, ...], int] = {}

    def add(self, lineno: int, names: tuple[str, ...], loci: tuple[str, ...], freq: float) -> None:
        if self.loci is None:
            self.loci = loci
        elif loci != self.loci:
            raise _fail(self.path, lineno, f"loci {'~'.join(loci)} differ from {'~'.join(self.loci)} of earlier lines")
        if names in self.seen:
            raise _fail(self.path, lineno, f"duplicate haplotype {'~'.join(names)} (first on line {self.seen[names]})")
        self.seen[names] = lineno
        self.haplotypes.append(names)
        self.frequencies.append(freq)


def read_nmdp2007(path: Path) -> dict[str, HFSet]:
    """An NMDP 2007 CSV file: one :class:`HFSet` per population (``AFA``, ``API``, ``EUR``, ``HIS``)."""
    by_pop: dict[str, _Collector] = defaultdict(lambda: _Collector(path))
    with path.open(encoding="utf-8") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row:
                continue
            if len(row) != 4:
                raise _fail(path, lineno, f"expected 4 columns POP,HAPLOTYPE,freq,rank; found {len(row)}")
            pop, hap, freq, _rank = row
            names, loci = _split_haplotype(path, lineno, hap, strip_prefix=True)
            by_pop[pop].add(lineno, names, loci, _frequency(path, lineno, freq))
    if not by_pop:
        raise _fail(path, None, "no haplotypes")
    return {
        pop: HFSet(
            id=f"{path.stem}:{pop}",
            source_format="nmdp2007",
            typing_category="g2007",
            release=None,
            loci=c.loci or (),
            haplotypes=tuple(c.haplotypes),
            frequencies=tuple(c.frequencies),
            ethnicities=(pop,),
            population_id=pop,
            provenance=str(path),
            licence="LGPL-3.0 (nmdp-bioinformatics/ImmunogeneticDataTools); Maiers et al. 2007",
        )
        for pop, c in sorted(by_pop.items())
    }


def read_grimm(path: Path, *, population: str | None = None) -> HFSet:
    """A GRIMM ``.freqs`` or ``.freqs.gz`` file (``HAPLOTYPE,count,freq``; population from the file name)."""
    opener = gzip.open if path.suffix == ".gz" else open
    collector = _Collector(path)
    with opener(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row:
                continue
            if len(row) != 3:
                raise _fail(path, lineno, f"expected 3 columns HAPLOTYPE,count,freq; found {len(row)}")
            names, loci = _split_haplotype(path, lineno, row[0], strip_prefix=True)
            collector.add(lineno, names, loci, _frequency(path, lineno, row[2]))
    if not collector.haplotypes:
        raise _fail(path, None, "no haplotypes")
    pop = population or path.name.split(".")[0]
    return HFSet(
        id=f"grimm:{pop}",
        source_format="grimm",
        typing_category="two_field",
        release=None,
        loci=collector.loci or (),
        haplotypes=tuple(collector.haplotypes),
        frequencies=tuple(collector.frequencies),
        ethnicities=(pop,),
        population_id=pop,
        provenance=str(path),
        licence="LGPL-3.0 (nmdp-bioinformatics/py-graph-imputation)",
    )


def _release_of(value: object, path: Path) -> str | None:
    """Atlas writes the release compactly (3480 → 3.48.0); ``[OVERRIDE]`` is a placeholder (None)."""
    text = str(value)
    if text.isdigit() and len(text) == 4:
        return f"{text[0]}.{text[1:3]}.{text[3]}"
    if text.count(".") == 2:
        return text
    if text == "[OVERRIDE]":
        return None
    raise _fail(path, None, f"nomenclatureVersion {value!r} is not a release like 3480 or 3.48.0")


def read_atlas(path: Path) -> HFSet:
    """An Atlas HF-set JSON file (names without locus; G-group or small-g category)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise _fail(path, exc.lineno, f"not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("frequencies"), list) or not doc["frequencies"]:
        raise _fail(path, None, "expected an object with a non-empty 'frequencies' list")
    category = _ATLAS_CATEGORIES.get(str(doc.get("typingCategory")))
    if category is None:
        raise _fail(path, None, f"typingCategory {doc.get('typingCategory')!r} must be LargeGGroup or small_g")
    registries = tuple(str(r) for r in doc.get("donPool") or ())
    ethnicities = tuple(str(e) for e in doc.get("ethn") or () if e is not None)
    if ethnicities and not registries:
        raise _fail(path, None, "an ethnicity requires a registry (donPool)")
    for label, values in (("donPool", registries), ("ethn", ethnicities)):
        if len(set(values)) != len(values):
            raise _fail(path, None, f"duplicate codes in {label}")
    collector = _Collector(path)
    for i, entry in enumerate(doc["frequencies"], start=1):
        if not isinstance(entry, dict):
            raise _fail(path, None, f"frequencies[{i}] is not an object")
        names = []
        for key, locus in _ATLAS_KEYS.items():
            value = entry.get(key)
            if not isinstance(value, str) or not value:
                raise _fail(path, None, f"frequencies[{i}].{key} is missing (every locus is required)")
            names.append(f"{locus}*{value}")
        collector.add(i, tuple(names), tuple(_ATLAS_KEYS.values()), _frequency(path, i, str(entry.get("frequency"))))
    return HFSet(
        id=f"atlas:{path.stem}",
        source_format="atlas",
        typing_category=category,
        release=_release_of(doc.get("nomenclatureVersion"), path),
        loci=collector.loci or (),
        haplotypes=tuple(collector.haplotypes),
        frequencies=tuple(collector.frequencies),
        registries=registries,
        ethnicities=ethnicities,
        population_id=str(doc.get("populationId")) if doc.get("populationId") is not None else None,
        provenance=str(path),
        licence="GPL-3.0 (Anthony-Nolan/Atlas), test data only",
    )
