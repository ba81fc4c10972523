"""``graftwise registry``: generate a synthetic registry, import donor files, show statistics, export."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from graftwise.cli._common import console, print_json, progress_bar
from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.registry import GeneratorConfig, Registry, ResolutionMix
from graftwise.registry.generator import DEFAULT_POPULATIONS, DEFAULT_REGISTRIES, parse_shares

app = typer.Typer(help="Donor registries: generate, import, statistics, export.", no_args_is_help=True)


@app.command("generate")
def generate(
    donors: int = typer.Option(..., "--donors", "-n", help="Number of donors."),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed; the same seed gives the same registry."),
    out: Path = typer.Option(..., "--out", "-o", help="New registry folder."),
    mix: str = typer.Option(
        "55,25,12,8",
        help="Resolution mix in percent: high, intermediate, serology, ab_dr (ASSUMPTION; see docs).",
    ),
    cord_share: float = typer.Option(0.02, help="Share of cord blood units."),
    populations: str = typer.Option(
        ",".join(f"{k}={v}" for k, v in DEFAULT_POPULATIONS.items()), help="Population shares, CODE=share,…"
    ),
    registries: str = typer.Option(
        ",".join(f"{k}={v}" for k, v in DEFAULT_REGISTRIES.items()), help="Registry (4-digit ION) shares."
    ),
    release: str = typer.Option("Latest", help="IPD-IMGT/HLA release the typings are written for."),
) -> None:
    """Generate a synthetic registry of DONORS donors into OUT."""
    config = GeneratorConfig(
        donors=donors,
        seed=seed,
        mix=ResolutionMix.parse(mix),
        cord_share=cord_share,
        populations=parse_shares(populations, "populations"),
        registries=parse_shares(registries, "registries"),
    )
    nom = Nomenclature.load(release)
    with progress_bar("generating") as progress:
        task = progress.add_task("donors", total=donors)
        reg = Registry.generate(out, config, nom, progress=lambda k: progress.advance(task, k))
    with reg:
        console.print(f"{reg.arrays.n} donors written to {out} (release {reg.arrays.release}, mix {config.mix.shares})")


_SAMPLE = 1 << 23


def _estimated_records(file: Path) -> int | None:
    """The progress bar's total. A CSV file holds one record per line after its header; an export-layout JSON file one
    donor per line starting with ``{``. Counted in a file of up to 8 MB, else estimated from its first 8 MB (the bar
    is set to the true count at the end); None for any other layout, or a file that cannot be read."""
    try:
        size = file.stat().st_size
        with file.open("rb") as fh:
            head = fh.read(_SAMPLE)
    except OSError:
        return None
    json = file.suffix.lower() == ".json"
    records = head.count(b"\n{") if json else head.count(b"\n") - 1
    if records < 2:
        return None
    return round(records * size / len(head)) if size > len(head) else records


@app.command("import")
def import_file(
    file: Path = typer.Argument(..., help="Donor file (.json or .csv)."),
    registry: Path = typer.Option(..., "--registry", "-r", help="Registry folder (created if it does not exist)."),
    mode: str | None = typer.Option(
        None, help="full, diff or check (matching.md §10.1); default: the file's update_mode, else diff."
    ),
    allow_full: bool = typer.Option(False, help="Admin override: allow a full-mode import into a non-empty registry."),
    release: str = typer.Option("Latest", help="Release to validate typings against (for a new registry)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import a donor file into a registry, reporting every failed record."""
    from graftwise.registry.importer import import_donors

    if mode is not None and mode not in ("full", "diff", "check"):
        raise ValidationError(f"mode {mode!r} must be full, diff or check", field="mode")
    if (registry / "registry.duckdb").is_file():
        reg = Registry.open(registry, read_only=False)
        nom = Nomenclature.load(reg.release)
    else:
        nom = Nomenclature.load(release)
        reg = Registry.create(registry, nom.release)
    with reg, progress_bar("importing") as progress:
        task = progress.add_task("records", total=_estimated_records(file))
        report = import_donors(
            reg, file, nom, mode=mode, allow_full=allow_full, progress=lambda k: progress.advance(task, k)
        )
        progress.update(task, total=report.records, completed=report.records)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    table = Table(title=f"import {report.file} ({report.mode})")
    for name in ("records", "new", "updated", "deleted", "unchanged", "skipped", "failed"):
        table.add_column(name, justify="right")
    table.add_row(
        *(str(getattr(report, k)) for k in ("records", "new", "updated", "deleted", "unchanged", "skipped", "failed"))
    )
    console.print(table)
    if report.failures:
        shown = Table(title=f"failures ({len(report.failures)} rows)")
        for name in ("record", "property", "code", "message", "severity"):
            shown.add_column(name)
        for f in report.failures[:20]:
            shown.add_row(f.record_id or "-", f.property or "-", f.error_code, f.message, f.severity)
        console.print(shown)
        if len(report.failures) > 20:
            console.print(f"… {len(report.failures) - 20} more rows in table donor_import_failures")
    if report.check is not None:
        console.print_json(json.dumps(report.check.model_dump(mode="json")))


@app.command("stats")
def stats(
    path: Path = typer.Argument(..., help="Registry folder."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Counts by donor type, registry, population, status and typing resolution per locus."""
    with Registry.open(path) as reg:
        s = reg.stats()
    if as_json:
        print_json(dict(vars(s)))
        return
    console.print(f"{s.n} donors, {s.searchable} searchable; release {s.release}; generation {s.generation}")
    for title, counts in (
        ("donor type", s.donor_type),
        ("status", s.status),
        ("registry", s.registry),
        ("population", s.population),
    ):
        table = Table(title=title)
        table.add_column(title)
        table.add_column("donors", justify="right")
        table.add_column("%", justify="right")
        for key, value in counts.items():
            table.add_row(key, str(value), f"{100 * value / max(s.n, 1):.1f}")
        console.print(table)
    kinds = sorted({k for per in s.resolution.values() for k in per})
    table = Table(title=f"typing resolution per locus, % of the {2 * s.n} positions (counts with --json)")
    table.add_column("locus")
    for k in kinds:
        table.add_column(k, justify="right")
    for locus, per in s.resolution.items():
        table.add_row(locus, *(f"{100 * per.get(k, 0) / max(2 * s.n, 1):.1f}" for k in kinds))
    console.print(table)


@app.command("export")
def export(
    path: Path = typer.Argument(..., help="Registry folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file."),
    fmt: str = typer.Option("json", "--format", help="json or csv (the import formats)."),
) -> None:
    """Export every donor in the import format (a full-mode file)."""
    from graftwise.registry.export import export_donors

    with Registry.open(path) as reg, progress_bar("exporting") as progress:
        task = progress.add_task("donors", total=reg.store.donor_count())
        n = export_donors(reg, out, fmt, progress=lambda k: progress.advance(task, k))
    console.print(f"{n} donors written to {out}")


@app.command("check-ids")
def check_ids_command(
    file: Path = typer.Argument(..., help='ID checker request (JSON): {"registry", "donor_type", "donors": [ids]}.'),
    registry: Path = typer.Option(..., "--registry", "-r", help="Registry folder."),
) -> None:
    """List orphans: stored donors of that registry and type that the source no longer holds (changes nothing)."""
    from pydantic import ValidationError as PydanticError

    from graftwise.registry.importer import IdCheckRequest, check_ids

    try:
        request = IdCheckRequest.model_validate_json(file.read_text(encoding="utf-8"))
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "request"
        raise ValidationError(f"{file}: {where}: {first['msg']}", field=where) from None
    with Registry.open(registry) as reg:
        print_json({"orphans": check_ids(reg, request)})
