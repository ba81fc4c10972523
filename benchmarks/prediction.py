"""Match-prediction benchmarks (match-prediction.md; issue 5 §5): ``python -m benchmarks prediction``.

(a) graftwise imputation side by side with py-graph-imputation 1.0.0 (GRIMM) on the EUR/CAU 2007 set and the same
    ambiguous subjects: top-genotype agreement, L1 distance between genotype distributions, time.
(b) calibration: predicted P(10/10) against the observed 10/10 rate over simulated patient–donor pairs (reliability
    table, plot, Brier score).
(c) probabilities for 10,000 candidate donors against one patient.

Subjects are simulated, seeded: two haplotypes drawn from the EUR set by frequency (Hardy–Weinberg), then each
position degraded to a MAC, an XX code, serology or kept at two fields; C and DQB1 are sometimes left untyped.
Options: ``--quick`` (smaller sizes), ``--no-grimm``, ``--seed N``.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._results import RESULTS, write_section
from graftwise.data import DataRoot
from graftwise.hla import Nomenclature
from graftwise.prediction import GroupedHFSet, Predictor, build_schemes, interpret_subject, subject_groups
from graftwise.prediction.hfsets import (
    GroupScheme,
    HFSetStore,
    convert_name,
    convert_set,
    default_hf_file,
    load_store,
    read_hf_file,
)
from graftwise.prediction.imputation import unphased_genotypes
from graftwise.prediction.predictor import TEN_OF_TEN
from graftwise.registry import Registry
from graftwise.registry.generator import GeneratorConfig

OUT = Path(__file__).parent / "out"
RELEASE = "3.58.0"
Typing = dict[str, list[str | None]]
Genotype = tuple[tuple[str, str], ...]


@dataclass
class Context:
    nom: Nomenclature
    schemes: dict[Any, GroupScheme]
    eur: GroupedHFSet
    store: HFSetStore
    setup_seconds: float
    root: DataRoot


def setup() -> Context:
    t0 = time.perf_counter()
    root = DataRoot.discover()
    nom = Nomenclature.load(RELEASE, root)
    schemes = build_schemes(nom)
    hf = read_hf_file(root.path / "haplotype-frequencies/nmdp-2007/NMDP_2007_FiveLocus_Freqs.csv", population="EUR")[0]
    eur = convert_set(hf, nom, schemes["lgx"])
    store = HFSetStore()
    store.add(eur)
    return Context(nom, schemes, eur, store, time.perf_counter() - t0, root)


def predictor(ctx: Context, **kwargs: Any) -> Predictor:
    return Predictor(ctx.nom, ctx.store, schemes=ctx.schemes, **kwargs)


# ---- simulation ---------------------------------------------------------------------------------------------------


class Degrader:
    """Turns a two-field (lgx) name into a MAC, XX code or serology token of the same allele, seeded."""

    def __init__(self, nom: Nomenclature, rng: np.random.Generator) -> None:
        self.nom = nom
        self.rng = rng
        by_element: dict[str, list[str]] = defaultdict(list)
        for code, expansion in nom.macs.codes.items():
            if nom.macs.is_generic(code) and 2 <= len(expansion) <= 6:
                for e in expansion:
                    by_element[e].append(code)
        self.macs = {k: sorted(v) for k, v in by_element.items()}
        self._serology: dict[str, str | None] = {}

    def serology(self, name: str) -> str | None:
        if name not in self._serology:
            found = None
            for allele in self.nom.sort_alleles(self.nom.typing(name, lenient=True).alleles):
                assignment = self.nom.tables.serology.get(allele)
                if assignment is not None and assignment.unambiguous:
                    found = assignment.unambiguous[0]
                    break
            self._serology[name] = found
        return self._serology[name]

    def degrade(self, name: str, kind: str) -> str:
        locus, _, fields = name.partition("*")
        first, second = fields.split(":")[:2]
        if kind == "serology" and locus in ("A", "B", "DRB1"):
            antigen = self.serology(name)
            if antigen is not None:
                return antigen
            kind = "xx"
        if kind == "mac":
            codes = self.macs.get(second)
            if codes:
                return f"{locus}*{first}:{codes[int(self.rng.integers(len(codes)))]}"
            kind = "xx"
        if kind == "xx":
            return f"{locus}*{first}:XX"
        return name


REPEATS = 3
"""Timed steps that can be repeated report the best of this many runs (the machine is shared)."""
KINDS = ("two_field", "mac", "xx", "serology")
DEFAULT_MIX = (0.15, 0.40, 0.25, 0.20)


def sample_truth(eur: GroupedHFSet, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) haplotype rows of the set, drawn by frequency."""
    p = eur.freqs / eur.freqs.sum()
    return rng.choice(len(eur), size=(n, 2), p=p)


def truth_names(eur: GroupedHFSet, pair: Sequence[int]) -> dict[str, tuple[str, str]]:
    return {
        loc: (eur.groups[li][eur.codes[pair[0], li]], eur.groups[li][eur.codes[pair[1], li]])
        for li, loc in enumerate(eur.loci)
    }


def degrade_subject(
    truth: Mapping[str, tuple[str, str]], deg: Degrader, rng: np.random.Generator, mix: Sequence[float] = DEFAULT_MIX
) -> Typing:
    typing: Typing = {}
    for locus in TEN_OF_TEN:
        if locus in ("C", "DQB1") and rng.random() < 0.4:
            continue
        kinds = rng.choice(len(KINDS), size=2, p=list(mix))
        typing[locus] = [deg.degrade(truth[locus][i], KINDS[int(kinds[i])]) for i in range(2)]
    return typing


def high_res(truth: Mapping[str, tuple[str, str]]) -> Typing:
    return {loc: [truth[loc][0], truth[loc][1]] for loc in TEN_OF_TEN}


# ---- (a) side by side with py-graph-imputation ----------------------------------------------------------------


def _grimm_config(work: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    graph_conf = {
        "populations": ["CAU"],
        "freq_trim_threshold": 1e-12,  # keep every haplotype: both tools see the same set
        "priority": {"alpha": 0.4999999, "eta": 0, "beta": 1e-7, "gamma": 1e-7, "delta": 0.4999999},
        "loci_map": {"A": 1, "B": 2, "C": 3, "DQB1": 4, "DRB1": 5},
        "freq_file": str(work / "hpf.csv"),
        "graph_files_path": str(work / "csv") + "/",
        "node_csv_file": "nodes.csv",
        "edges_csv_file": "edges.csv",
        "info_node_csv_file": "info_node.csv",
        "top_links_csv_file": "top_links.csv",
    }
    impute_conf = {
        "planb": True,
        "pops": ["CAU"],
        "priority": graph_conf["priority"],
        "epsilon": 1e-3,
        "number_of_results": 1000,
        "number_of_pop_results": 100,
        "output_MUUG": True,
        "output_haplotypes": False,
        "node_file": str(work / "csv/nodes.csv"),
        "top_links_file": str(work / "csv/top_links.csv"),
        "edges_file": str(work / "csv/edges.csv"),
        "factor_missing_data": 0.0001,
        "loci_map": graph_conf["loci_map"],
        "matrix_planb": [
            [[1, 2, 3, 4, 5]],
            [[1, 2, 3], [4, 5]],
            [[1], [2, 3], [4, 5]],
            [[1, 2, 3], [4], [5]],
            [[1], [2, 3], [4], [5]],
            [[1], [2], [3], [4], [5]],
        ],
        "pops_count_file": "",
        "use_pops_count_file": False,
        "number_of_options_threshold": 100000,
        "max_haplotypes_number_in_phase": 100,
        "bin_imputation_input_file": "None",
        "nodes_for_plan_A": [],
        "save_mode": False,
        "UNK_priors": "SR",
        "full_loci": "12345",
    }
    return graph_conf, impute_conf


class Grimm:
    """py-graph-imputation 1.0.0 driven through its own graph generation and ``Imputation.impute_one``."""

    def __init__(self, freqs_gz: Path, work: Path) -> None:
        from graph_generation import generate_neo4j_multi_hpf
        from grim.imputation.impute import Imputation
        from grim.imputation.networkx_graph import Graph

        work.mkdir(parents=True, exist_ok=True)
        with gzip.open(freqs_gz, "rt") as fh, (work / "hpf.csv").open("w") as out:
            out.write("hap,pop,freq\n")
            for line in fh:
                hap, _count, freq = line.strip().split(",")
                out.write(f"{hap},CAU,{freq}\n")
        graph_conf, self.config = _grimm_config(work)
        (work / "conf.json").write_text(json.dumps(graph_conf))
        t0 = time.perf_counter()
        argv, sys.argv = sys.argv, [sys.argv[0]]  # its generator parses the command line
        try:
            generate_neo4j_multi_hpf.generate_graph(config_file=str(work / "conf.json"))
        finally:
            sys.argv = argv
        self.graph_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        graph = Graph(self.config)
        graph.build_graph(self.config["node_file"], self.config["top_links_file"], self.config["edges_file"])
        self.imputation = Imputation(graph, self.config)
        self.load_seconds = time.perf_counter() - t0

    def impute(self, gl: str) -> dict[str, float]:
        imp = self.imputation
        imp.plan, imp.option_1, imp.option_2 = "a", 0, 0
        _, muugs, _ = imp.impute_one(
            "s", gl, [1] * 4, "CAU", "CAU", self.config["priority"], 1e-3, 1000, True, False, True, False
        )
        return {} if muugs is None else {k: float(v) for k, v in muugs["Haps"].items()}


def grimm_gl(
    groups: Mapping[str, tuple[frozenset[str] | None, frozenset[str] | None]], original: Mapping[str, list[str]]
) -> str:
    """The same typing for GRIMM: each position as the '/'-list of the set's names in its groups."""
    parts = []
    for locus in TEN_OF_TEN:
        pair = groups.get(locus)
        if pair is None:
            continue
        lists = ["/".join(sorted(n for g in (p or ()) for n in original.get(g, ()))) for p in pair]
        parts.append("+".join(lists))
    return "^".join(parts)


def grimm_genotype(text: str, to_group: Mapping[str, str]) -> Genotype:
    by_locus = {}
    for locus_part in text.split("^"):
        a, b = (to_group.get(x, x) for x in locus_part.split("+"))
        by_locus[a.partition("*")[0]] = (min(a, b), max(a, b))
    return tuple(by_locus[loc] for loc in TEN_OF_TEN)


def bench_grimm(ctx: Context, n: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    deg = Degrader(ctx.nom, rng)
    freqs_gz = ctx.root.path / "haplotype-frequencies/grimm-example/CAU.freqs.gz"
    grimm_set = read_hf_file(freqs_gz, population="CAU")[0]
    to_group = {}
    for hap in grimm_set.haplotypes:
        for name in hap:
            if name not in to_group:
                to_group[name] = convert_name(name, ctx.schemes["lgx"], ctx.nom)
    original: dict[str, list[str]] = defaultdict(list)
    for name, group in to_group.items():
        original[group].append(name)
    truths = sample_truth(ctx.eur, n, rng)
    subjects = []
    for pair in truths:
        typing = degrade_subject(truth_names(ctx.eur, pair), deg, rng)
        subjects.append(typing)
    pred = predictor(ctx)
    keys: list[tuple[str | None, str | None]] = [(None, "EUR")] * len(subjects)
    t0 = time.perf_counter()
    ours = pred.impute_many(subjects, keys)
    ours_seconds = time.perf_counter() - t0
    ours_warm_seconds = math.inf
    for _ in range(REPEATS):  # token interpretation cached: imputation only, like GRIMM's pre-expanded input
        pred._cache.clear()
        t0 = time.perf_counter()
        warm = pred.impute_many(subjects, keys)
        ours_warm_seconds = min(ours_warm_seconds, time.perf_counter() - t0)
    one_by_one = predictor(ctx)
    t0 = time.perf_counter()
    single = [one_by_one.impute(t, None, "EUR") for t in subjects]
    ours_single_seconds = time.perf_counter() - t0
    same = all(
        unphased_genotypes(a.distribution) == unphased_genotypes(b.distribution)
        for a, b in zip(warm, single, strict=True)
    )
    cache: dict[tuple[str, str], frozenset[str]] = {}
    gls = []
    for t in subjects:
        interp = interpret_subject(t, ctx.nom, TEN_OF_TEN, cache)
        gls.append(grimm_gl(subject_groups(interp, ctx.schemes["lgx"], TEN_OF_TEN).positions, original))
    grimm = Grimm(freqs_gz, OUT / "grimm")
    grimm_seconds = math.inf
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        theirs = [grimm.impute(gl) for gl in gls]
        grimm_seconds = min(grimm_seconds, time.perf_counter() - t0)
    agree = l1_total = 0.0
    compared = ours_empty = theirs_empty = 0
    for imp, res in zip(ours, theirs, strict=True):
        mine = dict(unphased_genotypes(imp.distribution))
        if not mine:
            ours_empty += 1
        if not res:
            theirs_empty += 1
        if not mine or not res:
            continue
        total = sum(res.values())
        other: dict[Genotype, float] = defaultdict(float)
        for text, p in res.items():
            other[grimm_genotype(text, to_group)] += p / total
        compared += 1
        top_mine = max(mine.items(), key=lambda kv: kv[1])
        best_other = max(other.values())
        agree += other.get(top_mine[0], -1.0) >= best_other - 1e-12
        l1_total += sum(abs(mine.get(g, 0.0) - other.get(g, 0.0)) for g in set(mine) | set(other))
    kinds = defaultdict(int)
    for t in subjects:
        for pair in t.values():
            for token in pair:
                kinds[_kind(str(token))] += 1
    return {
        "subjects": n,
        "compared": compared,
        "ours_unrepresented": ours_empty,
        "grimm_no_result": theirs_empty,
        "top_agreement": agree / compared if compared else float("nan"),
        "mean_l1": l1_total / compared if compared else float("nan"),
        "ours_seconds": ours_seconds,
        "ours_warm_seconds": ours_warm_seconds,
        "ours_one_by_one_seconds": ours_single_seconds,
        "batch_equals_one_by_one": same,
        "grimm_seconds": grimm_seconds,
        "speedup": grimm_seconds / ours_seconds,
        "speedup_warm": grimm_seconds / ours_warm_seconds,
        "grimm_graph_seconds": grimm.graph_seconds,
        "grimm_load_seconds": grimm.load_seconds,
        "token_kinds": dict(kinds),
        "mean_kept_mass": float(np.mean([i.distribution.kept_mass or 0 for i in ours])),
    }


def _kind(token: str) -> str:
    if "*" not in token:
        return "serology"
    tail = token.split(":")[-1]
    if tail == "XX":
        return "xx"
    return "mac" if tail.isalpha() else "two_field"


# ---- (b) calibration -------------------------------------------------------------------------------------------


def _first_fields(ctx: Context, locus: str, token: str, cache: dict[tuple[str, str], frozenset[str]]) -> frozenset[str]:
    key = (locus, token)
    if key not in cache:
        interp = interpret_subject({locus: [token, None]}, ctx.nom, (locus,))
        alleles = interp.positions[locus][0] or frozenset()
        groups = {ctx.schemes["lgx"].group_of.get(a, a) for a in alleles}
        names = set(ctx.eur.groups[ctx.eur.loci.index(locus)])
        cache[key] = frozenset(g.split(":")[0] for g in groups if g in names)
    return cache[key]


def bench_calibration(ctx: Context, pairs: int, seed: int, per_patient: int = 50) -> dict[str, Any]:
    """Patients high-resolution (their truth), donors degraded; donors are chosen for a patient by their typing only
    (first fields at A, B, DRB1 compatible), which keeps the comparison fair: selection never looks at the truth."""
    rng = np.random.default_rng(seed + 1)
    deg = Degrader(ctx.nom, rng)
    pool_size = max(2 * pairs, 20_000)
    pool = sample_truth(ctx.eur, pool_size, rng)
    ff_cache: dict[tuple[str, str], frozenset[str]] = {}
    buckets: dict[tuple[object, ...], list[int]] = defaultdict(list)
    donors: list[Typing] = []
    for i, pair in enumerate(pool):
        typing = degrade_subject(truth_names(ctx.eur, pair), deg, rng)
        donors.append(typing)
        key = []
        for locus in ("A", "B", "DRB1"):
            sets = sorted((_first_fields(ctx, locus, str(t), ff_cache) for t in typing[locus]), key=sorted)
            key.append(tuple(sets))
        buckets[tuple(key)].append(i)
    p_of = [ctx.eur.p_ids[li] for li in range(len(ctx.eur.loci))]

    def p_genotype(pair: Sequence[int]) -> tuple[tuple[int, int], ...]:
        out = []
        for li in range(len(ctx.eur.loci)):
            a, b = int(p_of[li][ctx.eur.codes[pair[0], li]]), int(p_of[li][ctx.eur.codes[pair[1], li]])
            out.append((min(a, b), max(a, b)))
        return tuple(out)

    pred = predictor(ctx)
    predicted: list[float] = []
    observed: list[int] = []
    patients = 0
    t0 = time.perf_counter()
    while len(predicted) < pairs:
        patient = sample_truth(ctx.eur, 1, rng)[0]
        names = truth_names(ctx.eur, patient)
        key = tuple(
            tuple(
                sorted((frozenset({names[loc][0].split(":")[0]}), frozenset({names[loc][1].split(":")[0]})), key=sorted)
            )
            for loc in ("A", "B", "DRB1")
        )
        candidates = buckets.get(key, [])
        if not candidates:
            continue
        chosen = rng.choice(candidates, size=min(per_patient, len(candidates), pairs - len(predicted)), replace=False)
        results = pred.predict_many(
            high_res(names),
            [donors[int(d)] for d in chosen],
            patient_keys=(None, "EUR"),
            donor_keys=[(None, "EUR")] * len(chosen),
        )
        truth_p = p_genotype(patient)
        for d, r in zip(chosen, results, strict=True):
            if r.p_mismatch is None:
                continue
            predicted.append(r.p_mismatch[0])
            observed.append(int(p_genotype(pool[int(d)]) == truth_p))
        patients += 1
    seconds = time.perf_counter() - t0
    p = np.array(predicted)
    y = np.array(observed)
    table = reliability_table(p, y)
    brier = float(np.mean((p - y) ** 2))
    base = float(np.mean((y.mean() - y) ** 2))
    OUT.mkdir(parents=True, exist_ok=True)
    plot = OUT / "prediction_reliability.png"
    _plot(table, plot, brier, "Reliability, NMDP 2007 EUR")
    return {
        "pairs": len(p),
        "patients": patients,
        "pool": pool_size,
        "seconds": seconds,
        "brier": brier,
        "brier_climatology": base,
        "observed_rate": float(y.mean()),
        "mean_predicted": float(p.mean()),
        "table": table,
        "plot": str(plot.relative_to(Path(__file__).parent.parent)),
        "distinct_donor_imputations": len(pred._cache),
    }


# ---- (b2) calibration against the registry generator's truth ---------------------------------------------------

SELECTION_LOCI = ("A", "B", "DRB1")


def _registry(ctx: Context, donors: int, seed: int) -> tuple[Registry, Path, float]:
    """The generated registry, reused from ``benchmarks/out`` when one of the same size and seed is there."""
    path = OUT / f"calibration-registry-{donors}-s{seed}"
    t0 = time.perf_counter()
    if (path / "arrays").exists():
        return Registry.open(path), path, 0.0
    reg = Registry.generate(path, GeneratorConfig(donors=donors, seed=seed), ctx.nom)
    return reg, path, time.perf_counter() - t0


def _could_match(
    ctx: Context, typings: Sequence[str], first: str, cache: dict[tuple[str, str], frozenset[str]]
) -> np.ndarray:
    """Per typing id of one locus: whether the typing could stand for an allele with the first field ``first``
    (an untyped position could stand for anything)."""
    locus = first.partition("*")[0]
    out = np.ones(len(typings), dtype=bool)
    for i, text in enumerate(typings):
        if text:
            interp = interpret_subject({locus: [text, None]}, ctx.nom, (locus,), cache)
            out[i] = first in {a.split(":")[0] for a in interp.positions[locus][0] or ()}
    return out


def bench_calibration_generator(
    ctx: Context, pairs: int, seed: int, donors: int = 100_000, per_patient: int = 50
) -> dict[str, Any]:
    """Donors and their truth from the registry generator (every population); patients are EUR donors' true
    genotypes typed at two fields. A donor is a candidate when its *typing* (never its truth) could hold the
    patient's first field at both positions of A, B and DRB1; it is predicted with its own population's set."""
    reg, path, gen_seconds = _registry(ctx, donors, seed)
    arrays, truth = reg.arrays, reg.truth
    if truth is None:
        raise SystemExit(f"{path} has no truth arrays (not a generated registry)")
    populations = list(arrays.meta["populations"])
    population = np.asarray(arrays.column("population"))
    store = load_store(ctx.nom, ctx.schemes, [default_hf_file(ctx.root)])
    pred = Predictor(ctx.nom, store, schemes=ctx.schemes)
    scheme = ctx.schemes["lgx"]
    hla = {loc: np.asarray(arrays.hla(loc)) for loc in TEN_OF_TEN}
    typings = {loc: arrays.typings(loc) for loc in TEN_OF_TEN}
    true_hla = {loc: np.asarray(truth.hla(loc)) for loc in TEN_OF_TEN}
    true_names = {loc: truth.typings(loc) for loc in TEN_OF_TEN}
    # The same P-group comparison as (b): each true name → its lgx group → the group's P key.
    true_p = {
        loc: np.array(
            [
                -1 if not n else scheme.vocab.id(loc, scheme.p_key_of_group[convert_name(n, scheme, ctx.nom)])
                for n in true_names[loc]
            ],
            dtype=np.int64,
        )
        for loc in TEN_OF_TEN
    }
    p_pairs = np.stack([np.sort(true_p[loc][true_hla[loc]], axis=1) for loc in TEN_OF_TEN], axis=1).reshape(donors, -1)
    rng = np.random.default_rng(seed + 3)
    eur = np.flatnonzero(population == populations.index("EUR"))
    order = rng.permutation(eur)
    interp_cache: dict[tuple[str, str], frozenset[str]] = {}
    match_cache: dict[str, np.ndarray] = {}

    def could(first: str) -> np.ndarray:
        if first not in match_cache:
            loc = first.partition("*")[0]
            match_cache[first] = _could_match(ctx, typings[loc], first, interp_cache)
        return match_cache[first]

    def donor_typing(row: int) -> Typing:
        out: Typing = {}
        for loc in TEN_OF_TEN:
            pair = [typings[loc][int(t)] or None for t in hla[loc][row]]
            if pair != [None, None]:
                out[loc] = pair
        return out

    predicted: list[float] = []
    observed: list[int] = []
    pops: list[int] = []
    patients = unrepresented = 0
    t0 = time.perf_counter()
    for row in order:
        if len(predicted) >= pairs:
            break
        names = {loc: tuple(true_names[loc][int(t)] for t in true_hla[loc][row]) for loc in TEN_OF_TEN}
        mask = np.ones(donors, dtype=bool)
        for loc in SELECTION_LOCI:
            c1, c2 = (could(n.split(":")[0]) for n in names[loc])
            h = hla[loc]
            mask &= (c1[h[:, 0]] & c2[h[:, 1]]) | (c2[h[:, 0]] & c1[h[:, 1]])
        mask[row] = False  # never the patient's own record
        candidates = np.flatnonzero(mask)
        if not len(candidates):
            continue
        chosen = rng.choice(candidates, size=min(per_patient, len(candidates), pairs - len(predicted)), replace=False)
        results = pred.predict_many(
            high_res(names),
            [donor_typing(int(d)) for d in chosen],
            patient_keys=(None, "EUR"),
            donor_keys=[(None, populations[int(population[d])]) for d in chosen],
        )
        for d, r in zip(chosen, results, strict=True):
            if r.p_mismatch is None:
                unrepresented += 1
                continue
            predicted.append(r.p_mismatch[0])
            observed.append(int(np.array_equal(p_pairs[d], p_pairs[row])))
            pops.append(int(population[d]))
        patients += 1
    seconds = time.perf_counter() - t0
    p, y = np.array(predicted), np.array(observed)
    table = reliability_table(p, y)
    brier = float(np.mean((p - y) ** 2))
    OUT.mkdir(parents=True, exist_ok=True)
    plot = OUT / "prediction_reliability_generator.png"
    _plot(table, plot, brier, "Reliability, generated registry, NMDP 2007 by population")
    pop_ids = np.array(pops)
    return {
        "pairs": len(p),
        "patients": patients,
        "donors": donors,
        "registry": str(path.relative_to(Path(__file__).parent.parent)),
        "generate_seconds": gen_seconds,
        "seconds": seconds,
        "brier": brier,
        "brier_climatology": float(np.mean((y.mean() - y) ** 2)),
        "observed_rate": float(y.mean()),
        "mean_predicted": float(p.mean()),
        "unrepresented": unrepresented,
        "pairs_by_population": {populations[i]: int((pop_ids == i).sum()) for i in range(len(populations))},
        "table": table,
        "plot": str(plot.relative_to(Path(__file__).parent.parent)),
        "distinct_donor_imputations": len(pred._cache),
    }


def reliability_table(p: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    """Pairs binned by predicted P(10/10): count, mean predicted, observed rate and its Wilson 95% interval."""
    edges = np.array([0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0 + 1e-12])
    table = []
    for lo, hi in itertools.pairwise(edges):
        mask = (p >= lo) & (p < hi)
        k = int(mask.sum())
        if k == 0:
            continue
        table.append(
            {
                "bin": f"[{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}",
                "pairs": k,
                "mean_predicted": float(p[mask].mean()),
                "observed": float(y[mask].mean()),
                "ci95": _wilson(int(y[mask].sum()), k),
            }
        )
    return table


def _wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    phat = successes / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _plot(table: list[dict[str, Any]], path: Path, brier: float, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    xs = [r["mean_predicted"] for r in table]
    ys = [r["observed"] for r in table]
    err = [
        [y - r["ci95"][0] for y, r in zip(ys, table, strict=True)],
        [r["ci95"][1] - y for y, r in zip(ys, table, strict=True)],
    ]
    ax.errorbar(xs, ys, yerr=err, fmt="o-", capsize=3, label="graftwise (95% Wilson CI)")
    for x, y, r in zip(xs, ys, table, strict=True):
        ax.annotate(str(r["pairs"]), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("predicted P(10/10)")
    ax.set_ylabel("observed 10/10 rate")
    ax.set_title(f"{title} (Brier {brier:.4f})", fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---- (c) 10,000 candidates -------------------------------------------------------------------------------------


def bench_candidates(ctx: Context, n: int, seed: int) -> dict[str, Any]:
    """One patient against n candidate donors typed like a registry: half at high resolution (many identical
    typings), half degraded. Cold = empty caches (every distinct donor typing imputed); warm = imputations cached,
    as after registry import (§8.7)."""
    rng = np.random.default_rng(seed + 2)
    deg = Degrader(ctx.nom, rng)
    truths = sample_truth(ctx.eur, n, rng)
    donors: list[Typing] = []
    for pair in truths:
        names = truth_names(ctx.eur, pair)
        donors.append(high_res(names) if rng.random() < 0.5 else degrade_subject(names, deg, rng))
    patient = high_res(truth_names(ctx.eur, sample_truth(ctx.eur, 1, rng)[0]))
    keys = [(None, "EUR")] * n
    pred = predictor(ctx)
    t0 = time.perf_counter()
    pred.predict_many(patient, donors, patient_keys=(None, "EUR"), donor_keys=keys)
    cold = time.perf_counter() - t0
    distinct = len(pred._cache)
    timings = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        results = pred.predict_many(patient, donors, patient_keys=(None, "EUR"), donor_keys=keys)
        timings.append(time.perf_counter() - t0)
    return {
        "donors": n,
        "distinct_donor_typings": distinct - 1,
        "cold_seconds": cold,
        "warm_seconds": min(timings),
        "represented": sum(r.p_mismatch is not None for r in results),
    }


# ---- report ------------------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}; "
        f"load average at start {load} (the machine is shared, so timings vary between runs)"
    )


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    seed = 20261129
    for arg in argv:
        if arg.startswith("--seed="):
            seed = int(arg.split("=", 1)[1])
    n_subjects, n_pairs, n_candidates = (100, 2_000, 10_000) if quick else (1000, 100_000, 10_000)
    command = ["python", "-m", "benchmarks", "prediction", *argv]
    ctx = setup()
    print(f"setup {ctx.setup_seconds:.1f} s", flush=True)
    if ONLY_B2 in argv:
        b2 = bench_calibration_generator(ctx, n_pairs, seed)
        print(json.dumps({k: v for k, v in b2.items() if k != "table"}, indent=1), flush=True)
        _merge_b2(b2, command)
        return
    report: dict[str, Any] = {"machine": machine(), "setup_seconds": ctx.setup_seconds, "seed": seed}
    if "--no-grimm" not in argv:
        report["grimm"] = bench_grimm(ctx, n_subjects, seed)
        print(json.dumps(report["grimm"], indent=1), flush=True)
    report["candidates"] = bench_candidates(ctx, n_candidates, seed)
    print(json.dumps(report["candidates"], indent=1), flush=True)
    report["calibration"] = bench_calibration(ctx, n_pairs, seed)
    print(json.dumps({k: v for k, v in report["calibration"].items() if k != "table"}, indent=1), flush=True)
    report["calibration_generator"] = bench_calibration_generator(ctx, n_pairs, seed)
    b2 = report["calibration_generator"]
    print(json.dumps({k: v for k, v in b2.items() if k != "table"}, indent=1), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "prediction.json").write_text(json.dumps(report, indent=1))
    write_section("## Match prediction", format_section(report, command).split("\n"))


ONLY_B2 = "--only-b2"
"""Run only (b2) and put its subsection into the existing "Match prediction" section, every other part as it is."""
SECTION = "## Match prediction"
B2_HEADING = "### (b2) "


def _merge_b2(b2: dict[str, Any], command: list[str]) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else ""
    start = text.find(SECTION + "\n")
    if start < 0:
        raise SystemExit(f"{RESULTS} has no {SECTION!r} section: run the whole benchmark first")
    end = text.find("\n## ", start + len(SECTION))
    lines = text[start : end if end >= 0 else len(text)].rstrip("\n").split("\n")
    ours = format_b2(b2, command)
    begin = next((i for i, line in enumerate(lines) if line.startswith(B2_HEADING)), None)
    if begin is None:  # new: right after (b)
        after = next((i for i, line in enumerate(lines) if line.startswith("### (b) ")), len(lines))
        begin = next((i for i in range(after + 1, len(lines)) if lines[i].startswith("### ")), len(lines))
        stop = begin
    else:
        stop = next((i for i in range(begin + 1, len(lines)) if lines[i].startswith("### ")), len(lines))
    head = lines[:begin]
    if head and head[-1]:
        head.append("")
    write_section(SECTION, [*head, *ours, *lines[stop:]])
    path = OUT / "prediction.json"
    if path.is_file():
        report = json.loads(path.read_text())
        report["calibration_generator"] = b2
        path.write_text(json.dumps(report, indent=1))


SPEEDUP_TARGET = 20.0
CANDIDATES_TARGET_SECONDS = 2.0
EARLIER_RUNS = (
    "Earlier runs on this shared machine (same subjects, agreement 100% and L1 6.02e-06 in every run): before the "
    "cold-path work, cold 0.655 s (4.2×) and warm 0.088 s (31.6×) for (a), and (c) cold 5.466 s, warm 0.509 s; "
    "before that, warm 6.0× (first, one-subject-at-a-time engine), 12.7× and 8.2× (batch engine before its last "
    "optimisations) and 38.5×."
)


def _verdict_speedup(g: dict[str, Any]) -> str:
    """Whether each speed-up meets the target, and by how much a missed one falls short (in time and factor)."""
    parts = []
    for label, speedup, seconds in (
        ("warm", g["speedup_warm"], g["ours_warm_seconds"]),
        ("cold (end to end from raw tokens)", g["speedup"], g["ours_seconds"]),
    ):
        if speedup >= SPEEDUP_TARGET:
            parts.append(f"{label} **met** ({speedup:.1f}×)")
        else:
            needed = g["grimm_seconds"] / SPEEDUP_TARGET
            parts.append(
                f"{label} **missed**: {speedup:.1f}× is {SPEEDUP_TARGET / speedup:.1f} times short; it would need "
                f"≤ {needed:.3f} s against {seconds:.3f} s"
            )
    first_sight = g["ours_seconds"] - g["ours_warm_seconds"]
    return (
        f"Target ≥ {SPEEDUP_TARGET:.0f}×: {'; '.join(parts)}. Cold minus warm ({first_sight:.3f} s) is the first "
        "sight of each distinct token in the process: the nomenclature expands MAC, XX, serology and two-field "
        "tokens to alleles (building its first-field and serology indices on first use), and the alleles are put "
        "into the set's groups; GRIMM's input was pre-expanded outside its timing."
    )


def _verdict_candidates(c: dict[str, Any]) -> str:
    parts = []
    for label, seconds in (("warm", c["warm_seconds"]), ("cold", c["cold_seconds"])):
        if seconds < CANDIDATES_TARGET_SECONDS:
            parts.append(f"{label} **met** ({seconds:.3f} s, {CANDIDATES_TARGET_SECONDS - seconds:.3f} s under)")
        else:
            parts.append(f"{label} **missed** by {seconds - CANDIDATES_TARGET_SECONDS:.2f} s ({seconds:.2f} s)")
    return (
        f"Target < {CANDIDATES_TARGET_SECONDS:.0f} s: {'; '.join(parts)}. The cold figure is a single run on a shared "
        "machine: with a margin this small, another job running at the same time can push it over."
        if c["cold_seconds"] > 0.9 * CANDIDATES_TARGET_SECONDS
        else f"Target < {CANDIDATES_TARGET_SECONDS:.0f} s: {'; '.join(parts)}."
    )


def format_section(report: dict[str, Any], command: list[str]) -> str:
    lines = [
        "## Match prediction",
        "",
        f"Command: `make setup && .venv/bin/pip install -r benchmarks/requirements.txt && "
        f"GRAFTWISE_DATA=../shared/hla-data .venv/bin/{' '.join(command)}` (seed {report['seed']}).",
        f"Machine: {report['machine']}. IPD-IMGT/HLA {RELEASE}; HF set NMDP 2007 EUR five-locus (3,380 haplotypes; "
        "the GRIMM CAU example file is the same set). Setup (nomenclature, group schemes, set conversion): "
        f"{report['setup_seconds']:.1f} s.",
        "",
    ]
    g = report.get("grimm")
    if g:
        lines += [
            f"### (a) Imputation side by side with py-graph-imputation 1.0.0 ({g['subjects']} subjects)",
            "",
            "Subjects: genotypes drawn from the EUR set (seeded), each position degraded to a MAC, XX code, serology "
            f"or kept at two fields (tokens: {', '.join(f'{k} {v}' for k, v in sorted(g['token_kinds'].items()))}); "
            "C and DQB1 untyped for 40% of subjects. graftwise reads the tokens; GRIMM receives the same typing with "
            "each position expanded to the '/'-list of the set's names in it (GRIMM does not expand MACs or serology "
            "itself). GRIMM: graph built from the same set with no frequency trimming, one population (CAU), "
            "`number_of_results` 1000, default epsilon and plan B. Both distributions renormalised over what each "
            "reports.",
            "",
            "| Measure | Value |",
            "|---|---|",
            f"| subjects compared | {g['compared']} (graftwise unrepresented {g['ours_unrepresented']}, "
            f"GRIMM no result {g['grimm_no_result']}) |",
            f"| top-genotype agreement | {100 * g['top_agreement']:.1f}% (target ≥ 99%) |",
            f"| mean L1 distance between genotype distributions | {g['mean_l1']:.2e} |",
            f"| graftwise, batch, token caches cold (includes MAC/XX/serology expansion) | {g['ours_seconds']:.3f} s |",
            f"| graftwise, batch, token caches warm (imputation only; best of {REPEATS}) | "
            f"{g['ours_warm_seconds']:.3f} s |",
            f"| graftwise, one subject at a time, cold | {g['ours_one_by_one_seconds']:.3f} s |",
            f"| batch result equals one-by-one | {g['batch_equals_one_by_one']} |",
            f"| GRIMM imputation (graph loaded, input pre-expanded; best of {REPEATS}) | {g['grimm_seconds']:.3f} s |",
            f"| speed-up vs GRIMM, cold / warm | {g['speedup']:.2f}× / {g['speedup_warm']:.2f}× (target ≥ 20×) |",
            f"| GRIMM graph generation / graph load (once) | {g['grimm_graph_seconds']:.1f} s / "
            f"{g['grimm_load_seconds']:.1f} s |",
            f"| graftwise mean kept mass (N = 2000) | {g['mean_kept_mass']:.6f} |",
            "",
            _verdict_speedup(g),
            "",
            EARLIER_RUNS,
            "",
        ]
    c = report["candidates"]
    lines += [
        f"### (c) {c['donors']:,} candidate donors against one patient",
        "",
        "Donors drawn from the EUR set; half typed at two fields at every locus, half degraded as in (a); patient "
        f"typed at two fields. {c['distinct_donor_typings']:,} distinct donor typings.",
        "",
        "| Measure | Seconds |",
        "|---|---|",
        f"| warm: imputations cached (as after registry import, §8.7), probabilities + categories; best of {REPEATS} | "
        f"{c['warm_seconds']:.3f} (target < 2 s) |",
        f"| cold: every distinct donor typing imputed in the call (one run) | {c['cold_seconds']:.3f} (target < 2 s) |",
        "",
        _verdict_candidates(c),
        "",
    ]
    b = report["calibration"]
    lines += [
        f"### (b) Calibration of P(10/10) over {b['pairs']:,} simulated pairs",
        "",
        f"Patients ({b['patients']:,}) drawn from the EUR set and typed at two fields (their truth). Donors: a pool of "
        f"{b['pool']:,} drawn from the same set and degraded as in (a); for each patient up to 50 donors whose "
        "*typing* has the patient's first fields at A, B and DRB1 (selection never looks at the donor's truth). "
        "Observed 10/10 = the donor's true genotype equals the patient's at P-group level at A, B, C, DQB1, DRB1. "
        "The data are generated from the same HF set the predictor uses, so this checks the arithmetic and "
        "truncation, not the set's fit to a real population.",
        "",
        f"Brier score {b['brier']:.4f} (predicting the base rate {b['observed_rate']:.3f} for every pair: "
        f"{b['brier_climatology']:.4f}); mean predicted {b['mean_predicted']:.4f}, "
        f"observed {b['observed_rate']:.4f}. "
        f"Run time {b['seconds']:.1f} s ({b['distinct_donor_imputations']:,} distinct donor imputations).",
        "",
        *_table_lines(b["table"]),
        "",
        f"Reliability plot: `{b['plot']}` (not committed): predicted P(10/10) per bin on x, observed rate on y, "
        "95% Wilson intervals, the diagonal for perfect calibration, and the number of pairs per bin.",
        "",
    ]
    if "calibration_generator" in report:
        lines += format_b2(report["calibration_generator"], command)
    return "\n".join(lines)


def _table_lines(table: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| predicted P(10/10) | pairs | mean predicted | observed | 95% CI (Wilson) |",
        "|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['bin']} | {r['pairs']:,} | {r['mean_predicted']:.3f} | {r['observed']:.3f} | "
            f"{r['ci95'][0]:.3f}–{r['ci95'][1]:.3f} |"
        )
    return lines


def format_b2(b: dict[str, Any], command: list[str]) -> list[str]:
    by_pop = ", ".join(f"{k} {v:,}" for k, v in b["pairs_by_population"].items())
    made = f"generated in {b['generate_seconds']:.1f} s" if b["generate_seconds"] else "reused from an earlier run"
    outside = ", ".join(
        f"{r['bin']} ({r['mean_predicted']:.3f} against {r['observed']:.3f})"
        for r in b["table"]
        if not r["ci95"][0] <= r["mean_predicted"] <= r["ci95"][1]
    )
    return [
        f"### (b2) Calibration of P(10/10) against the registry generator's truth ({b['pairs']:,} pairs)",
        "",
        f"Command: `GRAFTWISE_DATA=../shared/hla-data .venv/bin/{' '.join(command)}` (`{ONLY_B2}` runs only this "
        "part and rewrites only this subsection).",
        f"Registry: {b['donors']:,} donors from `graftwise.registry` (`Registry.generate`, default configuration, "
        f"same seed; `{b['registry']}`, {made}). Patients ({b['patients']:,}): EUR donors of that registry, in "
        "seeded random order, typed at two fields with their true genotype. For each patient up to 50 other donors "
        "whose *typing* could hold the patient's first field at both positions of A, B and DRB1 (an allele of the "
        "typing has that first field; selection never looks at the donor's truth), each predicted with its own "
        "population's NMDP 2007 set (patient: EUR). Pairs by donor population: "
        f"{by_pop}; {b['unrepresented']:,} pairs left out because a subject was unrepresented. Observed 10/10 = the "
        "donor's true genotype (the registry's truth arrays) equals the patient's at P-group level at A, B, C, "
        "DQB1, DRB1, by the same group → P-key comparison as (b). The generator samples from the same sets the "
        "predictor uses but types donors its own way (real MACs, allele strings, G groups, split and broad "
        "serology), so this also tests reading registry typings.",
        "",
        f"Brier score {b['brier']:.4f} (predicting the base rate {b['observed_rate']:.3f} for every pair: "
        f"{b['brier_climatology']:.4f}); mean predicted {b['mean_predicted']:.4f}, observed "
        f"{b['observed_rate']:.4f}. Run time {b['seconds']:.1f} s ({b['distinct_donor_imputations']:,} distinct "
        "donor imputations).",
        "",
        *_table_lines(b["table"]),
        "",
        f"Bins whose 95% interval misses the mean predicted: {outside or 'none'}. Pairs share patients (and a donor "
        "can serve several patients), so they are not independent and these intervals, which assume they are, are "
        "somewhat too narrow.",
        "",
        f"Reliability plot: `{b['plot']}` (not committed), drawn as in (b).",
        "",
    ]
