"""Writes a registry folder in the exact layout of the registry ⇄ search contract, from a list of donor dicts.

Each donor: ``{"hla": {"A": ("A*01:01", "A*02:01"), ...}, "donor_type": "adult"|"cord", "status": 0,
"searchable": True, "registry": "DE", "sex": 1, "birth_date": 9000, "cmv": 0, "abo": 1, "parity": -1}``;
only ``hla`` is required (defaults: adult, available, searchable, first registry, unknown attributes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

LOCI = ("A", "B", "C", "DRB1", "DQB1", "DPB1")
ATTRIBUTES: dict[str, tuple[str, Any]] = {
    "status": ("int8", 0),
    "sex": ("int8", -1),
    "birth_date": ("int32", 10_000),
    "cmv": ("int8", -1),
    "abo": ("int8", -1),
    "rh": ("int8", -1),
    "parity": ("int8", -1),
    "weight_kg": ("float32", np.nan),
    "tnc": ("float32", np.nan),
    "cd34": ("float32", np.nan),
    "population": ("int8", 0),
}


def write_registry(
    folder: Path,
    donors: Sequence[Mapping[str, Any]],
    *,
    release: str = "3.58.0",
    registries: Sequence[str] = ("DE", "UK", "US"),
    generation: int = 1,
) -> Path:
    arrays = folder / "arrays"
    arrays.mkdir(parents=True, exist_ok=True)
    n = len(donors)
    for locus in LOCI:
        ids: dict[str, int] = {"": 0}
        hla = np.zeros((n, 2), dtype=np.int32)
        for i, donor in enumerate(donors):
            pair = donor["hla"].get(locus) or ("", "")
            for j, text in enumerate(pair):
                hla[i, j] = ids.setdefault(text or "", len(ids))
        np.save(arrays / f"hla_{locus}.npy", hla)
        (arrays / f"typings_{locus}.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
    np.save(arrays / "donor_type.npy", np.array([d.get("donor_type", "adult") == "cord" for d in donors], np.int8))
    np.save(arrays / "searchable.npy", np.array([d.get("searchable", True) for d in donors], np.bool_))
    np.save(
        arrays / "registry.npy",
        np.array([registries.index(d.get("registry", registries[0])) for d in donors], np.int16),
    )
    for name, (dtype, default) in ATTRIBUTES.items():
        np.save(arrays / f"{name}.npy", np.array([d.get(name, default) for d in donors], dtype=dtype))
    meta = {
        "n": n,
        "release": release,
        "registries": list(registries),
        "populations": ["EUR"],
        "loci": list(LOCI),
        "generation": generation,
        "created_at": "2026-01-01T00:00:00Z",
    }
    (arrays / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder
