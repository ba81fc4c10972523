"""``graftwise demo``: donor search on a synthetic registry of a million donors, with match prediction.

The registry is generated once into the user cache (seeded, so every machine builds the same one) and reused; the
patient is a generated donor's true genotype, so the search has real 10/10 and 9/10 donors to find.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from graftwise.cli._common import console, err_console, nomenclature, progress_bar
from graftwise.cli.search import search
from graftwise.data import cache_dir
from graftwise.registry import GeneratorConfig, Registry

PATIENT_LOCI = ("A", "B", "C", "DRB1", "DQB1")


def demo_registry(donors: int, seed: int, release: str) -> Path:
    """The cached demo registry, generated on first use; a half-written one is never left behind."""
    nom = nomenclature(release)
    folder = cache_dir() / "demo" / f"registry-{nom.release}-{donors}-seed{seed}"
    if (folder / "registry.duckdb").is_file():
        return folder
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    err_console.print(f"Generating a synthetic registry of {donors:,} donors (once; cached in {folder.parent}) …")
    try:
        with progress_bar("generating") as progress:
            task = progress.add_task("donors", total=donors)
            registry = Registry.generate(
                tmp, GeneratorConfig(donors=donors, seed=seed), nom, progress=lambda k: progress.advance(task, k)
            )
            registry.close()
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def demo_patient(folder: Path, seed: int) -> tuple[dict[str, list[str]], str]:
    """A generated EUR donor's true five-locus genotype, taken as the patient (deterministic for the seed)."""
    with Registry.open(folder) as registry:
        truth = registry.truth
        if truth is None:
            raise typer.BadParameter(f"{folder} has no truth/ folder")
        arrays = registry.arrays
        populations = list(arrays.meta["populations"])
        wanted = populations.index("EUR") if "EUR" in populations else 0
        rows = np.flatnonzero(np.asarray(arrays.column("population")) == wanted)
        row = int(np.random.default_rng(seed).choice(rows))
        patient = {}
        for locus in PATIENT_LOCI:
            names = truth.typings(locus)
            ids = truth.hla(locus)[row]
            patient[locus] = [names[int(i)] for i in ids]
        return patient, populations[wanted]


def demo(
    donors: int = typer.Option(1_000_000, "--donors", min=1000, help="Size of the synthetic registry."),
    seed: int = typer.Option(1, "--seed", help="Seed of the registry and of the patient drawn from it."),
    release: str = typer.Option("3.58.0", "--release", "-r", help="IPD-IMGT/HLA release."),
    limit: int = typer.Option(15, "--limit", min=1, help="Donors shown."),
) -> None:
    """Find and rank donors for a sample patient in a synthetic registry of a million donors (made once)."""
    folder = demo_registry(donors, seed, release)
    patient, population = demo_patient(folder, seed)
    nom = nomenclature(release)
    table = Table(title=f"Patient ({population}), IPD-IMGT/HLA {nom.release}")
    for column in ("locus", "typing", "lgx", "serology"):
        table.add_column(column)
    for locus, typings in patient.items():
        gl = "+".join(typings)
        table.add_row(locus, gl, nom.reduce(gl).value, nom.reduce(gl, "S").value or "—")
    console.print(table)
    patient_file = folder.parent / f"patient-seed{seed}.json"
    patient_file.write_text(json.dumps(patient), encoding="utf-8")
    console.print(f"\n9/10 adult-donor search of {donors:,} donors, with match prediction from the NMDP 2007 sets:")
    search(
        patient=patient_file,
        registry=folder,
        mismatches=1,
        donor_type="adult",
        limit=limit,
        as_json=False,
        patient_cmv="positive",
        patient_abo="A",
        predict=True,
        patient_ethnicity=population,
        patient_registry=None,
        hf_set=[],
        rank_by_p0=False,
    )
