"""Donor registry benchmarks: generation and import at 1M, 10M and 40M donors (issue 3, "Done when").

Each step runs the real CLI in a subprocess; wall time comes from the clock, peak memory from the child's
``ru_maxrss`` (``os.wait4``), disk from the sizes of the files written. Registries go under ``/work/registries``
(or ``--out=PATH``), never into the repository.

Steps per size N: ``graftwise registry generate`` of N donors; then a diff import of 100,000 records (50,000 updates
of existing donors and 50,000 new donors) into that registry, which also rebuilds its arrays; then the registry is
exported as JSON and as CSV and each file is imported in full mode into an empty registry (at 1M, the "import of a
million records").

``python -m benchmarks registry [--sizes=1000000,10000000,40000000] [--out=/work/registries/bench]``

``python -m benchmarks registry --only=full-import [--sizes=…] [--source=/work/registries/bench]
[--out=/work/registries/importperf]`` runs only the export / full-import steps from the existing registries
``<source>/reg-N`` and replaces (or adds) those rows of the section in place; the other rows stay as measured.
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
        results += _full_import(gw, reg, root)
    return results


def _full_import(gw: str, reg: Path, root: Path) -> list[Measure]:
    """Export the registry as JSON and as CSV, and import each in full mode into an empty registry (every record is a
    new donor)."""
    with Registry.open(reg) as opened:
        n = opened.arrays.n
    results = []
    for fmt in ("json", "csv"):
        export = root / f"export.{fmt}"
        cmd = [gw, "registry", "export", str(reg), "--out", str(export), "--format", fmt]
        seconds, peak = _run(cmd)
        results.append(Measure(f"export {fmt}", n, seconds, peak, _disk_mb(export), " ".join(cmd)))
        print(results[-1], flush=True)
        fresh = root / "import-full"
        shutil.rmtree(fresh, ignore_errors=True)
        cmd = [gw, "registry", "import", str(export), "--registry", str(fresh), "--mode", "full"]
        seconds, peak = _run(cmd)
        results.append(Measure(f"import full {fmt}", n, seconds, peak, _disk_mb(fresh), " ".join(cmd)))
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


def write_full_import(results: list[Measure], command: str) -> None:
    """Replace (or add, after the rows of the same size) the export / full-import rows of the section in place, with
    a note on when they ran; the other rows stay as they were measured."""
    text = RESULTS.read_text(encoding="utf-8")
    start = text.index(SECTION + "\n")
    end = text.find("\n## ", start + len(SECTION))
    end = len(text) if end < 0 else end + 1
    lines = text[start:end].split("\n")
    rows = [i for i, line in enumerate(lines) if line.startswith("| ") and not line.startswith("| step")]
    table = [lines[i] for i in rows if not lines[i].startswith(("| export ", "| import full "))]
    for m in results:
        same_size = [k for k, line in enumerate(table) if _donors(line) <= m.donors]
        table.insert(same_size[-1] + 1 if same_size else len(table), _row(m))
    lines[rows[0] : rows[-1] + 1] = table
    note = (
        f"The export / full-import rows were measured at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{_machine()} (`{command}`); the other rows are from the run named above."
    )
    notes = [i for i, line in enumerate(lines) if line.startswith("The export / full-import rows")]
    if notes:
        lines[notes[0]] = note
    else:
        lines[rows[0] - 2 : rows[0] - 2] = [note, ""]
    RESULTS.write_text(text[:start] + "\n".join(lines) + text[end:], encoding="utf-8")
    print(f"wrote {RESULTS} ({SECTION.lstrip('# ')}, export / full-import rows)")


def _donors(row: str) -> int:
    return int(row.split("|")[2].strip().replace(",", ""))


def _row(m: Measure) -> str:
    command = m.command.replace(f"{Path.cwd()}/", "")  # the repository's own paths, as a reader runs them
    return f"| {m.step} | {m.donors:,} | {m.seconds:.1f} | {m.peak_mb:.0f} | {m.disk_mb:.0f} | `{command}` |"


def main(argv: list[str]) -> None:
    options = dict(a.removeprefix("--").split("=", 1) for a in argv if "=" in a)
    sizes = tuple(int(x) for x in options["sizes"].split(",")) if "sizes" in options else DEFAULT_SIZES
    root = Path(options.get("out", "/work/registries/bench"))
    if options.get("only") == "full-import":
        source = Path(options.get("source", "/work/registries/bench"))
        root = Path(options.get("out", "/work/registries/importperf"))
        root.mkdir(parents=True, exist_ok=True)
        results = [m for n in sizes for m in _full_import(_graftwise(), source / f"reg-{n}", root)]
        write_full_import(results, "python -m benchmarks " + " ".join(["registry", *argv]))
        return
    write(run(sizes, root))
