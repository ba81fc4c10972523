"""``graftwise search`` and ``graftwise score``: donor search over a registry folder, and one pair scored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from graftwise.cli._common import console, print_json
from graftwise.cli.predict import build_predictor
from graftwise.errors import ValidationError
from graftwise.hla import HLAError, Nomenclature
from graftwise.matching.repeat import (
    RepeatResult,
    SearchStore,
    parse_cutoff,
    registry_updates,
    save_search,
)
from graftwise.matching.request import RequestError, SearchRequest, patient_problems, validate_request
from graftwise.matching.result import ScoreResult, SearchResult
from graftwise.matching.score import PairScorer
from graftwise.matching.search import DonorSearch, patient_pairs
from graftwise.matching.source import open_registry
from graftwise.matching.typing import SCORE_LOCI, TypingInterpreter
from graftwise.prediction.search import PREDICTION_LOCI
from graftwise.prediction.search import repeat as run_repeat
from graftwise.prediction.search import search as run_search
from graftwise.registry import Registry

ADULT_LOCI = ("A", "B", "C", "DQB1", "DRB1")
CORD_LOCI = ("A", "B", "C", "DRB1")
SEARCHES_FOLDER = "searches"
"""Saved searches' canonical result sets, in the registry folder beside (never inside) the store."""


def read_hla_json(path: Path, what: str) -> dict[str, tuple[str | None, str | None]]:
    """``{"A": ["A*01:01", "A*02:01"], ...}``: locus prefix optional, one value means homozygous, loci may be
    missing. Every problem is reported at once."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{path}: cannot read JSON ({exc})", field=what) from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: expected an object of locus → [typing, typing]", field=what)
    out: dict[str, tuple[str | None, str | None]] = {}
    problems: list[tuple[str, str]] = []
    for key, value in data.items():
        locus = str(key).removeprefix("HLA-")
        values = value if isinstance(value, list) else None
        if locus not in SCORE_LOCI:
            problems.append((f"{what}.{key}", f"unsupported locus; expected one of {', '.join(SCORE_LOCI)}"))
        elif values is None or not 1 <= len(values) <= 2 or not all(v is None or isinstance(v, str) for v in values):
            problems.append((f"{what}.{key}", "expected a list of one or two typing strings (or null)"))
        else:
            out[locus] = (values[0], values[1] if len(values) == 2 else None)
    if problems:
        raise RequestError(problems)
    return out


def search(
    patient: Path = typer.Option(..., "--patient", help='Patient HLA JSON: {"A": ["A*01:01", "A*02:01"], …}.'),
    registry: Path = typer.Option(..., "--registry", help="Registry folder (with arrays/)."),
    mismatches: int = typer.Option(0, "--mismatches", min=0, max=5, help="Total mismatches allowed (0–5)."),
    donor_type: str = typer.Option("adult", "--donor-type", help="adult (10 loci: A B C DQB1 DRB1) or cord (8)."),
    limit: int = typer.Option(20, "--limit", min=1, help="Results shown."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    patient_cmv: str | None = typer.Option(None, "--patient-cmv", help="negative or positive (ranks CMV match)."),
    patient_abo: str | None = typer.Option(None, "--patient-abo", help="O, A, B or AB (ranks ABO compatibility)."),
    predict: bool = typer.Option(
        False,
        "--predict/--no-predict",
        help="Add match probabilities (run_match_prediction; the request default is true, the CLI's is off because "
        "it needs the patient's ethnicity or registry and HF sets).",
    ),
    patient_ethnicity: str | None = typer.Option(None, "--patient-ethnicity", help="HF-set selection, e.g. EUR."),
    patient_registry: str | None = typer.Option(None, "--patient-registry", help="HF-set selection."),
    hf_set: list[Path] = typer.Option([], "--hf-set", help="HF set file(s) for --predict (default NMDP 2007)."),
    rank_by_p0: bool = typer.Option(False, "--rank-by-p0", help="With --predict: order by P(0 mismatches)."),
    # Annotated options keep plain None defaults, so Python callers (the demo) may leave them out.
    save_as: Annotated[
        str | None,
        typer.Option("--save-as", help="Store the canonical result set under this id (registry's searches/)."),
    ] = None,
    repeat_of: Annotated[
        str | None,
        typer.Option("--repeat-of", help="Repeat the search saved under this id (same options): print the diff."),
    ] = None,
    cutoff: Annotated[
        str | None,
        typer.Option("--cutoff", help="With --repeat-of: ISO time, normally the last matching_started_at (UTC)."),
    ] = None,
) -> None:
    """Search a registry for a patient: every suitable donor, graded and ranked, with reasons."""
    if donor_type not in ("adult", "cord"):
        raise ValidationError(f"--donor-type must be adult or cord, got {donor_type!r}", field="--donor-type")
    if save_as is not None and repeat_of is not None:
        raise ValidationError(
            "give --save-as or --repeat-of, not both (a repeat updates its own set)", field="--save-as"
        )
    if repeat_of is not None and rank_by_p0:
        raise ValidationError("--rank-by-p0 orders a result page; a repeat search returns a diff", field="--rank-by-p0")
    if (repeat_of is None) != (cutoff is None):
        raise ValidationError(
            "--repeat-of and --cutoff go together", field="--cutoff" if cutoff is None else "--repeat-of"
        )
    when = parse_cutoff(cutoff) if cutoff is not None else None
    hla = read_hla_json(patient, "patient")
    saved = save_as is not None or repeat_of is not None
    reg = Registry.open(registry) if saved else None
    arrays, records = (reg.arrays, reg.records) if reg is not None else open_registry(registry)
    interp = TypingInterpreter(Nomenclature.load(arrays.release))
    loci = ADULT_LOCI if donor_type == "adult" else CORD_LOCI
    raw = {
        "donor_type": donor_type,
        "mismatches": {"total": mismatches, "per_locus": {locus: min(2, mismatches) for locus in loci}},
        "scoring": {"loci_to_score": list(SCORE_LOCI), "loci_excluded_from_aggregates": ["DPB1"]},
        "patient_hla": hla,
        "patient_cmv": patient_cmv,
        "patient_abo": patient_abo,
        "limit": limit,
        "run_match_prediction": predict,
        "patient_ethnicity": patient_ethnicity,
        "patient_registry": patient_registry,
    }
    request = validate_request(raw, interp)
    predictor = (
        build_predictor(interp.nom, hf_set, patient_ethnicity, ",".join(PREDICTION_LOCI[donor_type]), 2000)
        if predict
        else None
    )
    engine = DonorSearch(arrays, interp, PairScorer(interp), cache=registry, records=records)
    store = SearchStore(registry / SEARCHES_FOLDER)
    if reg is not None and repeat_of is not None and when is not None:
        diff = run_repeat(engine, request, repeat_of, when, store, registry_updates(reg), predictor)
        if as_json:
            print_json(diff.model_dump(mode="json"))
        else:
            _print_repeat(diff)
        return
    run = None
    if reg is not None and save_as is not None:
        updates, search_id = registry_updates(reg), save_as

        def run(r: SearchRequest) -> SearchResult:
            return save_search(engine, r, search_id, store, updates)[0]

    result = run_search(engine, request, predictor, rank_by_p0=rank_by_p0, run=run)
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        _print_table(result)
        if save_as is not None:
            console.print(
                f"saved as {save_as!r}; repeat with --repeat-of {save_as} --cutoff {result.matching_started_at}"
            )


def _print_repeat(diff: RepeatResult) -> None:
    console.print(
        f"repeat of {diff.search_id!r} (cut-off {diff.cutoff}): {diff.donor_count} donor(s) match now, "
        f"{diff.previous_donor_count} before; next cut-off {diff.matching_started_at}"
    )
    for title, donors in (("new matches", diff.new_matches), ("updated matches", diff.updated_matches)):
        table = Table(title=f"{len(donors)} {title}")
        table.add_column("#", no_wrap=True)
        table.add_column("donor", no_wrap=True)
        table.add_column("scored", no_wrap=True)
        table.add_column("why this rank", ratio=1, overflow="fold")
        for d in donors:
            table.add_row(
                str(d.rank),
                d.donor_id or f"row {d.row}",
                f"{d.overall.scored_match_count}/{d.overall.denominator}",
                "; ".join(d.rank_reasons),
            )
        console.print(table)
    gone = ", ".join(diff.no_longer_matching) or "none"
    console.print(f"{len(diff.no_longer_matching)} no longer matching: {gone}")


def _print_table(result: SearchResult) -> None:
    """The result table; with match prediction, a P(0) column (donors in the result's order)."""
    predicted = result.unrepresented_donor_count is not None
    unrepresented = f", {result.unrepresented_donor_count} unrepresented" if predicted else ""
    table = Table(
        title=f"{result.donor_count} donor(s) match; showing {len(result.donors)}{unrepresented} "
        f"(filter {result.matching_seconds:.2f} s, scoring {result.scoring_seconds:.2f} s, "
        f"IMGT/HLA {result.matching_release})"
    )
    table.add_column("#", no_wrap=True)
    table.add_column("donor", no_wrap=True)
    table.add_column("scored", no_wrap=True)
    table.add_column("category", no_wrap=True)
    if predicted:
        table.add_column("P(0 mm)", no_wrap=True)
    table.add_column("why this rank", ratio=1, overflow="fold")
    for d in result.donors:
        p0 = _p0_text(d.match_prediction) if predicted else None
        table.add_row(
            str(d.rank),
            f"{d.donor_id or f'row {d.row}'}\n{d.donor_type}, registry {d.registry or '—'}",
            f"{d.overall.scored_match_count}/{d.overall.denominator}",
            d.overall.category.value if d.overall.category else "",
            *([] if p0 is None else [p0]),
            "; ".join(d.rank_reasons),
        )
    console.print(table)


def _p0_text(prediction: dict[str, Any] | None) -> str:
    p = None if prediction is None else prediction.get("p_mismatch")
    return "unrepresented" if not p else f"{p[0]:.3f}"


def score(
    patient: Path = typer.Option(..., "--patient", help="Patient HLA JSON."),
    donor: Path = typer.Option(..., "--donor", help="Donor HLA JSON."),
    release: str = typer.Option("Latest", "--release", help="IPD-IMGT/HLA release, e.g. 3.58.0."),
    loci: str = typer.Option(",".join(SCORE_LOCI), "--loci", help="Comma-separated loci to score."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Score one patient–donor pair (grades, confidence, antigen match, DPB1 TCE), no registry needed."""
    wanted = [x.strip() for x in loci.split(",") if x.strip()]
    bad = [x for x in wanted if x not in SCORE_LOCI]
    if bad:
        raise ValidationError(
            f"--loci: {', '.join(bad)} not scorable; expected {', '.join(SCORE_LOCI)}", field="--loci"
        )
    interp = TypingInterpreter(Nomenclature.load(release))
    p_hla, d_hla = read_hla_json(patient, "patient"), read_hla_json(donor, "donor")
    problems = [p for p in patient_problems(p_hla, interp, "patient") if not p[1].startswith("the patient must")]
    try:
        d_pairs = patient_pairs(d_hla, interp, lenient=True)
    except (HLAError, ValidationError) as exc:
        problems.append(("donor", str(exc)))
    if problems:
        raise RequestError(problems)
    result = PairScorer(interp).score(patient_pairs(p_hla, interp), d_pairs, wanted)
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        _print_score(result)


def _yes_no(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "no")


def _print_score(result: ScoreResult) -> None:
    """Per locus and donor position: grade, confidence, antigen match; per locus the category and match count (and,
    for DPB1, TCE permissiveness with its direction below the table); then the overall counts and category."""
    table = Table(title=f"Patient–donor scoring (IMGT/HLA {result.release}), positions in the donor's order")
    for name in ("locus", "#", "grade", "confidence", "antigen", "locus category"):
        table.add_column(name, no_wrap=True)
    notes = []
    for locus, lr in result.loci.items():
        summary = (
            lr.category.value,
            f"{lr.match_count}/2 match" + ("" if lr.included_in_aggregate else " (excluded)"),
        )
        for i, pos in enumerate(lr.positions):
            table.add_row(
                locus if i == 0 else "",
                str(i + 1),
                pos.grade.value,
                pos.confidence.value,
                _yes_no(pos.is_antigen_match),
                summary[i],
                end_section=i == 1,
            )
        if lr.tce is not None:
            verdict = {True: "permissive", False: "non-permissive", None: "unknown"}[lr.tce.permissive]
            direction = f", {lr.mismatch_direction.value} direction" if lr.mismatch_direction is not None else ""
            groups = f"patient TCE group {lr.tce.patient_group or '?'}, donor {lr.tce.donor_group or '?'}"
            notes.append(f"{locus}: {verdict}{direction} ({groups})")
    console.print(table)
    for note in notes:
        console.print(note)
    o = result.overall
    category = o.category.value if o.category is not None else "none (no locus in the aggregate)"
    console.print(f"overall category: {category}")
    console.print(
        f"scored match count {o.scored_match_count}/{o.denominator} "
        f"(potential {o.scored_potential_count}, exact {o.scored_exact_count})"
    )
    console.print(
        f"antigen matches {result.antigen_match_count}/{result.antigen_match_denominator}; "
        f"typed loci {result.typed_loci_count}"
    )
