"""Donor search benchmark: ``python -m benchmarks search [--donors=10000000,40000000] [--patients=7]``.

(The dispatcher passes only ``-``-prefixed arguments on, so options take the ``--name=value`` form.)

For each registry size: generate the synthetic registry once (cached under ``$GRAFTWISE_BENCH_DIR`` or
``~/.cache/graftwise/bench``), build the search index cold, then run 10/10 adult, 9/10 adult, 8/8 adult and 4/8 cord
searches for patients drawn from the generator's truth, scoring every survivor. Reports matching (filter) time,
scoring time for all results, result counts, index build time and size, peak memory against the raw donor arrays,
and the scan's effective bandwidth against the machine's measured numpy copy bandwidth. Figures go to
``benchmarks/RESULTS.md`` under "Donor search".
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._results import write_section
from graftwise.hla import Nomenclature
from graftwise.matching.request import validate_request
from graftwise.matching.score import PairScorer
from graftwise.matching.search import DonorSearch
from graftwise.matching.typing import TypingInterpreter
from graftwise.registry import GeneratorConfig, Registry

SECTION = "## Donor search"
SCENARIOS: dict[str, dict[str, Any]] = {
    "10/10 adult": {"donor_type": "adult", "total": 0, "per_locus": dict.fromkeys(("A", "B", "C", "DQB1", "DRB1"), 0)},
    "9/10 adult": {"donor_type": "adult", "total": 1, "per_locus": dict.fromkeys(("A", "B", "C", "DQB1", "DRB1"), 1)},
    "8/8 adult": {"donor_type": "adult", "total": 0, "per_locus": dict.fromkeys(("A", "B", "C", "DRB1"), 0)},
    "4/8 cord": {"donor_type": "cord", "total": 4, "per_locus": dict.fromkeys(("A", "B", "C", "DRB1"), 2)},
}


def bench_dir() -> Path:
    return Path(os.environ.get("GRAFTWISE_BENCH_DIR", Path.home() / ".cache" / "graftwise" / "bench"))


def registry_for(n: int, nom: Nomenclature) -> tuple[Path, float | None]:
    """The cached synthetic registry of ``n`` donors (seed 0), generated when missing; with generation seconds."""
    path = bench_dir() / f"registry-{n}"
    if (path / "arrays" / "meta.json").is_file():
        return path, None
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    start = time.perf_counter()
    Registry.generate(tmp, GeneratorConfig(donors=n, seed=0), nom).close()
    os.replace(tmp, path)
    return path, time.perf_counter() - start


def copy_bandwidth(nbytes: int = 1 << 30) -> float:
    """Best of 5 numpy copies of ``nbytes`` in a child process (so its buffers do not count in this process's peak
    memory); bytes read + written per second (GB/s)."""
    code = (
        "import time, numpy as np\n"
        f"src = np.ones({nbytes // 8}, dtype=np.int64); dst = np.empty_like(src); best = 1e9\n"
        "for _ in range(5):\n"
        "    t = time.perf_counter(); np.copyto(dst, src); best = min(best, time.perf_counter() - t)\n"
        f"print(2 * {nbytes} / best / 1e9)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def memory(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise SystemExit(f"/proc/self/status has no {field}")


def raw_array_bytes(registry: Path) -> int:
    return sum(p.stat().st_size for p in (registry / "arrays").resolve().glob("*.npy"))


def patients(registry: Registry, count: int, seed: int) -> list[dict[str, list[str]]]:
    """Full genotypes of random generated donors (the generator's truth)."""
    truth = registry.truth
    if truth is None:
        raise SystemExit("the benchmark registry has no truth/ folder")
    rng = np.random.default_rng(seed)
    rows = rng.choice(registry.arrays.n, size=count, replace=False)
    return [
        {locus: [truth.typings(locus)[int(i)] for i in truth.hla(locus)[row]] for locus in truth.loci}
        for row in rows.tolist()
    ]


def run_size(n: int, count: int, nom: Nomenclature, bandwidth: float, baseline: int) -> list[str]:
    path, generated = registry_for(n, nom)
    shutil.rmtree(path / "index", ignore_errors=True)
    reg = Registry.open(path)
    interp = TypingInterpreter(nom)
    engine = DonorSearch(reg.arrays, interp, PairScorer(interp), cache=path, records=reg.records)
    raw = raw_array_bytes(path)
    start = time.perf_counter()
    index = engine.index
    index_build = time.perf_counter() - start
    start = time.perf_counter()
    DonorSearch(reg.arrays, interp, PairScorer(interp), cache=path).index  # noqa: B018 (load the cached index)
    index_load = time.perf_counter() - start
    lines = [
        f"### {n:,} donors",
        "",
        f"- registry generation: {f'{generated:.0f} s' if generated is not None else 'cached'}; raw donor arrays "
        f"{raw / 1e9:.2f} GB",
        f"- index build (cold, {sum(len(i.is_null) for i in index.loci.values()):,} distinct typings): "
        f"{index_build:.2f} s; load from cache {index_load:.3f} s; index size {index.nbytes / 1e6:.1f} MB",
        "",
        "| search | patients | survivors (median, min–max) | matching median / max (s) | scoring all median / max (s)"
        " | scan GB/s (share of copy bandwidth) |",
        "|---|---|---|---|---|---|",
    ]
    drawn = patients(reg, count + 1, seed=n % 9973)
    warm = drawn.pop()
    for name, scenario in SCENARIOS.items():
        matching, scoring, found, scanned = [], [], [], []
        for i, patient in enumerate([warm, *drawn]):
            request = validate_request(
                {
                    "donor_type": scenario["donor_type"],
                    "mismatches": {"total": scenario["total"], "per_locus": scenario["per_locus"]},
                    "scoring": {
                        "loci_to_score": ["A", "B", "C", "DRB1", "DQB1", "DPB1"],
                        "loci_excluded_from_aggregates": ["DPB1"],
                    },
                    "patient_hla": patient,
                    "limit": 20,
                },
                interp,
            )
            columns = engine.run(request)
            engine.page(columns, 0, 20)
            if i == 0:
                continue  # warm-up: JIT cache load and first-touch page faults
            matching.append(columns.matching_seconds)
            scoring.append(columns.scoring_seconds)
            found.append(int(columns.rows.shape[0]))
            scanned.append(n * (2 + 8 * len(scenario["per_locus"])) / columns.matching_seconds / 1e9)
        gbps = statistics.median(scanned)
        lines.append(
            f"| {name} | {count} | {int(statistics.median(found)):,} ({min(found):,}–{max(found):,}) | "
            f"{statistics.median(matching):.3f} / {max(matching):.3f} | "
            f"{statistics.median(scoring):.3f} / {max(scoring):.3f} | {gbps:.1f} ({gbps / bandwidth:.0%}) |"
        )
    peak = memory("VmHWM")
    lines += [
        "",
        f"- memory: peak resident {peak / 1e9:.2f} GB, of which {(peak - baseline) / 1e9:.2f} GB above the process "
        f"before any registry was opened (Python, numba, the nomenclature: {baseline / 1e9:.2f} GB) = "
        f"{(peak - baseline) / raw:.2f}× the raw donor arrays; memory-mapped array pages count as resident",
        "",
    ]
    reg.close()
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks search")
    parser.add_argument("--donors", default="10000000,40000000", help="comma-separated registry sizes")
    parser.add_argument("--patients", type=int, default=7, help="patients per search kind (plus one warm-up)")
    parser.add_argument("--release", default="3.58.0")
    args = parser.parse_args(argv)
    nom = Nomenclature.load(args.release)
    TypingInterpreter(nom).interpret("A", "A2")  # build the serology indices before the baseline is taken
    baseline = memory("VmRSS")
    bandwidth = copy_bandwidth()
    cpu = next(
        (x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in x), "?"
    )
    lines = [
        SECTION,
        "",
        f"Command: `python -m benchmarks search --donors={args.donors} --patients={args.patients}`. Machine: "
        f"{os.cpu_count()} cores ({cpu}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"{platform.python_implementation()} {platform.python_version()}, IMGT/HLA {nom.release}. Measured numpy copy "
        f"bandwidth: {bandwidth:.1f} GB/s (bytes read + written). Matching = the fused filter over the donor arrays "
        "plus the per-locus counts of the survivors; scoring = exact scoring of every survivor (memoised per distinct "
        "typing pair), aggregation and ranking. Scan GB/s = the bytes the filter would read with no early exit "
        "(1 + 1 + 8 per matched locus per donor) / matching time. Load average at the start "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other jobs share this machine, so the figures are "
        "pessimistic).",
        "",
    ]
    for n in (int(x) for x in args.donors.split(",")):
        lines += run_size(n, args.patients, nom, bandwidth, baseline)
        write_section(SECTION, lines)
    print("\n".join(lines))
