"""``graftwise impute`` and ``graftwise predict``: genotype imputation and match probabilities (match-prediction.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from graftwise.cli._common import console, print_json
from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.prediction import EIGHT_OF_EIGHT, TEN_OF_TEN, Imputation, Predictor
from graftwise.prediction.hfsets import build_schemes, default_hf_file, load_store
from graftwise.prediction.imputation import unphased_genotypes
from graftwise.prediction.predictor import SubjectTyping
from graftwise.prediction.search import prediction_json

_LOCI_SHORTHANDS = {"10/10": TEN_OF_TEN, "8/8": EIGHT_OF_EIGHT}


def parse_loci(text: str) -> tuple[str, ...]:
    """``10/10``, ``8/8`` or a comma list such as ``A,B,C,DRB1``."""
    found = _LOCI_SHORTHANDS.get(text.strip())
    if found is not None:
        return found
    return tuple(part.strip().upper() for part in text.split(",") if part.strip())


_SEROLOGY_LOCI = (("Cw", "C"), ("DR", "DRB1"), ("DQ", "DQB1"), ("A", "A"), ("B", "B"))


def _locus_of(token: str) -> str | None:
    token = token.removeprefix("HLA-")
    if "*" in token:
        return token.partition("*")[0]
    for prefix, locus in _SEROLOGY_LOCI:
        if token.startswith(prefix) and token[len(prefix) :].isdigit():
            return locus
    return None


def typing_from_gl(gl: str) -> dict[str, list[str | None]]:
    """A multilocus unphased genotype ``A*01:01+A*02:01^B*08:01+B*07:02`` (``/`` allowed inside a position) →
    ``{locus: [pos1, pos2]}``. Genotype lists (``|``) and phased haplotypes (``~``) are not accepted here."""
    for op in ("|", "~"):
        if op in gl:
            raise ValidationError(
                f"operator {op!r} is not supported by impute; give one genotype per locus as 'x+y' joined by '^'",
                field="typing",
            )
    out: dict[str, list[str | None]] = {}
    for part in gl.strip().split("^"):
        positions = part.split("+")
        if len(positions) != 2 or not all(positions):
            raise ValidationError(f"{part!r} must be two position typings joined by '+'", field="typing")
        locus = _locus_of(positions[0])
        if locus is None or locus in out:
            raise ValidationError(
                f"{part!r}: expected a typing of a new locus, such as A*01:01 or serology A1", field="typing"
            )
        out[locus] = [positions[0], positions[1]]
    return out


def _read_subject(path: Path, label: str) -> tuple[SubjectTyping, str | None, str | None]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"{label} file {path} does not exist", field=label) from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{label} file {path} is not JSON ({exc.msg}, line {exc.lineno})", field=label) from None
    if not isinstance(doc, dict):
        raise ValidationError(f'{label} file must hold an object such as {{"A": ["A*01:01", "A*02:01"]}}', field=label)
    hla = doc.get("hla", doc)
    if not isinstance(hla, dict):
        raise ValidationError(f"{label}.hla must be an object of locus → [pos1, pos2]", field=label)
    registry, ethnicity = doc.get("registry"), doc.get("ethnicity")
    return hla, str(registry) if registry else None, str(ethnicity) if ethnicity else None


def build_predictor(
    release: str | Nomenclature, hf_set: list[Path], population: str | None, loci: str, max_diplotypes: int
) -> Predictor:
    """A predictor over ``loci`` from HF set files (default: the NMDP 2007 sets); one file is the explicit set."""
    nom = release if isinstance(release, Nomenclature) else Nomenclature.load(release)
    schemes = build_schemes(nom)
    paths = hf_set or [default_hf_file()]
    store = load_store(nom, schemes, paths, population=population if hf_set else None)
    if hf_set:
        named = {id(s): s for s in [*store.by_key.values(), *store.by_population.values()]}
        if len(named) == 1:
            store.explicit = next(iter(named.values()))
    return Predictor(nom, store, parse_loci(loci), max_diplotypes=max_diplotypes, schemes=schemes)


def imputation_json(imp: Imputation, top: int) -> dict[str, Any]:
    """Ranked unphased genotypes (in the set's groups) and haplotype pairs, with probabilities and the kept mass."""
    d = imp.distribution
    out: dict[str, Any] = {
        "loci": list(d.loci),
        "hf_set": imp.hf_set(),
        "unrepresented": not d.is_represented,
        "unrepresented_reason": d.unrepresented,
        "detail": d.detail or None,
        "kept_mass": d.kept_mass,
        "unambiguous_shortcut": d.shortcut,
        "diplotypes": len(d.pairs) if not d.shortcut else 1,
        "genotypes": [],
        "haplotype_pairs": [],
    }
    if not d.is_represented or d.vocab is None:
        return out
    genotypes = unphased_genotypes(d)[:top]
    out["genotypes"] = [
        {
            "rank": n,
            "genotype": {loc: list(pair) for loc, pair in zip(d.loci, g, strict=True)},
            "gl": "^".join("+".join(pair) for pair in g),
            "probability": p,
        }
        for n, (g, p) in enumerate(genotypes, start=1)
    ]
    hs = d.hfset
    if d.shortcut or hs is None:
        return out
    kept = float(d.likelihoods.sum())
    pairs = []
    for n, ((i, j), lik) in enumerate(zip(d.pairs[:top].tolist(), d.likelihoods[:top].tolist(), strict=True), start=1):
        h1 = "~".join(hs.groups[li][hs.codes[i, li]] for li in range(len(d.loci)))
        h2 = "~".join(hs.groups[li][hs.codes[j, li]] for li in range(len(d.loci)))
        pairs.append({"rank": n, "haplotypes": [h1, h2], "likelihood": lik, "probability": lik / kept})
    out["haplotype_pairs"] = pairs
    return out


_HF_HELP = "HF set file(s): Atlas .json, GRIMM .freqs[.gz] or NMDP 2007 .csv. Default: NMDP 2007 five-locus sets."


def impute(
    typing: str = typer.Option(..., "--typing", help="GL string, e.g. 'A*01:01+A*02:XX^B*08:01+B7^DRB1*03:01+DR15'."),
    population: str = typer.Option(None, "--population", help="Ethnicity/population (EUR, AFA, API, HIS; CAU=EUR)."),
    registry: str = typer.Option(None, "--registry", help="Registry code (HF-set selection, §3)."),
    hf_set: list[Path] = typer.Option([], "--hf-set", help=_HF_HELP),
    loci: str = typer.Option("10/10", "--loci", help="10/10, 8/8 or a list such as A,B,C,DRB1."),
    release: str = typer.Option("3.58.0", "--release", help="IPD-IMGT/HLA release."),
    max_diplotypes: int = typer.Option(2000, "--max-diplotypes", help="Truncation N (§4.6)."),
    top: int = typer.Option(20, "--top", help="How many genotypes and haplotype pairs to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Impute the genotypes of one subject from haplotype frequencies (match-prediction.md §4)."""
    predictor = build_predictor(release, hf_set, population, loci, max_diplotypes)
    result = imputation_json(predictor.impute(typing_from_gl(typing), registry, population), top)
    if as_json:
        print_json(result)
        return
    if result["unrepresented"]:
        console.print(f"unrepresented ({result['unrepresented_reason']}): {result['detail']}")
        return
    console.print(
        f"HF set {result['hf_set']['id']} ({result['hf_set']['fallback_step']}); kept mass {result['kept_mass']:.6f}"
    )
    for g in result["genotypes"]:
        console.print(f"{g['rank']:>3}  {g['probability']:.6f}  {g.get('gl', g['genotype'])}")


def predict(
    patient: Path = typer.Option(..., "--patient", help='Patient JSON {"A": ["A*01:01", "A*02:01"], ...}.'),
    donor: Path = typer.Option(..., "--donor", help="Donor JSON, same shape."),
    population: str = typer.Option(None, "--population", help="Ethnicity of both (unless their file gives one)."),
    hf_set: list[Path] = typer.Option([], "--hf-set", help=_HF_HELP),
    loci: str = typer.Option("10/10", "--loci", help="10/10, 8/8 or a list such as A,B,C,DRB1."),
    release: str = typer.Option("3.58.0", "--release", help="IPD-IMGT/HLA release."),
    max_diplotypes: int = typer.Option(2000, "--max-diplotypes", help="Truncation N (§4.6)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Probability of 0…4 (and more) mismatches for a patient–donor pair (match-prediction.md §§5–6)."""
    p_typing, p_reg, p_eth = _read_subject(patient, "patient")
    d_typing, d_reg, d_eth = _read_subject(donor, "donor")
    predictor = build_predictor(release, hf_set, population, loci, max_diplotypes)
    result = predictor.predict(
        p_typing, d_typing, patient_keys=(p_reg, p_eth or population), donor_keys=(d_reg, d_eth or population)
    )
    out = prediction_json(result)
    if as_json:
        print_json(out)
        return
    if out["p_mismatch"] is None:
        console.print("unrepresented: probabilities are not available; use the matching count")
        return
    shown = ", ".join(f"P{k}={p:.4f}" for k, p in enumerate(out["p_mismatch"]))
    console.print(f"{shown}, P>4={out['p_mismatch_more']:.4f}; overall {out['overall_category']}")
    for locus, lp in out["per_locus"].items():
        console.print(f"  {locus:<5} {lp['category']:<9} {' '.join(f'{p:.4f}' for p in lp['p_mismatch'])}")
