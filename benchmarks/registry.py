"""Donor registry benchmarks: generation and import at 1M, 10M and 40M donors (issue 3, "Done when").

Each step runs the real CLI in a subprocess; wall time comes from the clock, peak memory from the child's
``ru_maxrss`` (``os.wait4``), disk from the sizes of the files written. Registries go under ``/work/registries``
(or ``--out=PATH``), never into the repository.

Steps per size N: ``graftwise registry generate`` of N donors; then a diff import of 100,000 records (50,000 updates
of existing donors and 50,000 new donors) into that registry, which also rebuilds its arrays. Once: export 1M donors
and import them in full mode into an empty registry (the "import of a million records").

``python -m benchmarks registry [--sizes=1000000,10000000,40000000] [--out=/work/registries/bench]``

``python -m benchmarks registry --only=full-import --source=/work/registries/bench/reg-1000000
--out=/work/registries/importperf`` runs only the export / full-import step from an existing 1M registry and
replaces those rows of the section in place (the generation and diff rows stay as they were measured).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks._results import RESULTS, write_section
from graftwise.registry import Registry

SECTION = "## Donor registry"
DEFAULT_SIZES = (1_000_000, 10_000_000, 40_000_000)
DIFF_UPDATES = 50_000
DIFF_NEW = 50_000


@dataclass
class Measure:
    step: str
    donors: int
    seconds: float
    peak_mb: float
    disk_mb: float
    command: str


def _graftwise() -> str:
    return str(Path(sys.executable).with_name("graftwise"))


def _run(args: list[str]) -> tuple[float, float]:
    """Run a command; (wall seconds, peak resident MB of the child)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed with status {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def _disk_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def _diff_file(registry: Path, out: Path, scratch: Path) -> None:
    """50,000 updates (status → reserved) of existing donors and 50,000 new donors (another synthetic ION)."""
    from graftwise.registry import Registry
    from graftwise.registry.export import export_record

    donors = []
    with Registry.open(registry) as reg:
        step = max(reg.arrays.n // DIFF_UPDATES, 1)
        for record in reg.records(list(range(0, step * DIFF_UPDATES, step))):
            d = export_record(record)
            d["change_type"] = "U"
            d["status"] = "reserved"
            d["status_date"] = "2026-01-01"
            donors.append(d)
    new_reg = scratch / "new-donors"
    shutil.rmtree(new_reg, ignore_errors=True)
    subprocess.run(
        [
            _graftwise(),
            "registry",
            "generate",
            "-n",
            str(DIFF_NEW),
            "-s",
            "99",
            "-o",
            str(new_reg),
            "--registries",
            "9994=1",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with Registry.open(new_reg) as reg:
        for record in reg.records(list(range(DIFF_NEW))):
            d = export_record(record)
            d["change_type"] = "N"
            donors.append(d)
    out.write_text(json.dumps({"update_mode": "diff", "donors": donors}), encoding="utf-8")
    shutil.rmtree(new_reg)


def run(sizes: tuple[int, ...], root: Path) -> list[Measure]:
    root.mkdir(parents=True, exist_ok=True)
    gw = _graftwise()
    results: list[Measure] = []
    for n in sizes:
        reg = root / f"reg-{n}"
        shutil.rmtree(reg, ignore_errors=True)
        cmd = [gw, "registry", "generate", "--donors", str(n), "--seed", "1", "--out", str(reg)]
        seconds, peak = _run(cmd)
        results.append(Measure("generate", n, seconds, peak, _disk_mb(reg), " ".join(cmd)))
        print(results[-1], flush=True)
        diff = root / f"diff-{n}.json"
        _diff_file(reg, diff, root)
        cmd = [gw, "registry", "import", str(diff), "--registry", str(reg), "--mode", "diff"]
        seconds, peak = _run(cmd)
        results.append(Measure("import diff 100k", n, seconds, peak, _disk_mb(reg), " ".join(cmd)))
        print(results[-1], flush=True)
        diff.unlink()
        if n == 1_000_000:
            results += _full_import(gw, reg, root, n)
    return results


def _full_import(gw: str, reg: Path, root: Path, n: int) -> list[Measure]:
    """Export the registry as JSON and as CSV, and import each in full mode into an empty registry."""
    results = []
    for fmt in ("json", "csv"):
        export = root / f"export-1m.{fmt}"
        cmd = [gw, "registry", "export", str(reg), "--out", str(export), "--format", fmt]
        seconds, peak = _run(cmd)
        results.append(Measure(f"export {fmt}", n, seconds, peak, _disk_mb(export), " ".join(cmd)))
        fresh = root / "import-1m"
        shutil.rmtree(fresh, ignore_errors=True)
        cmd = [gw, "registry", "import", str(export), "--registry", str(fresh), "--mode", "full"]
        seconds, peak = _run(cmd)
        results.append(Measure(f"import full {fmt} ({n:,} new)", n, seconds, peak, _disk_mb(fresh), " ".join(cmd)))
        print(results[-1], flush=True)
        export.unlink()
        shutil.rmtree(fresh)
    return results


def _machine() -> str:
    cpus = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.machine()}, {cpus} cores, {mem:.0f} GB RAM, Python {platform.python_version()}, load {load}"


def write(results: list[Measure]) -> None:
    lines = [
        SECTION,
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {_machine()} (a shared machine: other jobs "
        "ran at the same time, so wall times are pessimistic). Command: `python -m benchmarks registry`. Default "
        "resolution mix 55/25/12/8 (ASSUMPTION, docs/registry.md), 2% cord units, seed 1.",
        "",
        "| step | donors | wall s | peak RSS MB | disk MB | command |",
        "|---|---:|---:|---:|---:|---|",
        *(_row(m) for m in results),
    ]
    write_section(SECTION, lines)


def write_full_import(results: list[Measure]) -> None:
    """Replace the export / full-import rows of the existing section in place, with a note on when they ran."""
    text = RESULTS.read_text(encoding="utf-8")
    start = text.index(SECTION + "\n")
    end = text.find("\n## ", start + len(SECTION))
    end = len(text) if end < 0 else end + 1
    lines = text[start:end].split("\n")
    rows = iter(_row(m) for m in results)
    out = [next(rows) if line.startswith(("| export ", "| import full ")) else line for line in lines]
    note = (
        f"The four export / full-import rows were measured again at {time.strftime('%H:%M UTC', time.gmtime())} "
        f"on {_machine()} (`python -m benchmarks registry --only=full-import`), after the column-wise import; "
        "the other rows are from the 18:52 run."
    )
    first = next(i for i, line in enumerate(out) if line.startswith("The four export"))
    last = next(i for i in range(first, len(out)) if not out[i].strip())
    out[first:last] = [note]
    RESULTS.write_text(text[:start] + "\n".join(out) + text[end:], encoding="utf-8")
    print(f"wrote {RESULTS} ({SECTION.lstrip('# ')}, full-import rows)")


def _row(m: Measure) -> str:
    return f"| {m.step} | {m.donors:,} | {m.seconds:.1f} | {m.peak_mb:.0f} | {m.disk_mb:.0f} | `{m.command}` |"


def main(argv: list[str]) -> None:
    options = dict(a.removeprefix("--").split("=", 1) for a in argv if "=" in a)
    sizes = tuple(int(x) for x in options["sizes"].split(",")) if "sizes" in options else DEFAULT_SIZES
    root = Path(options.get("out", "/work/registries/bench"))
    if options.get("only") == "full-import":
        source = Path(options.get("source", "/work/registries/bench/reg-1000000"))
        root.mkdir(parents=True, exist_ok=True)
        with Registry.open(source) as reg:
            n = reg.arrays.n
        write_full_import(_full_import(_graftwise(), source, root, n))
        return
    write(run(sizes, root))
