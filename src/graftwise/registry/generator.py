"""Synthetic donor registries (issue 3 §4; standards-scale-ux.md §2).

Real registries cannot be shipped, so graftwise generates realistic ones:

1. **Genotypes.** Each donor's population is drawn from configurable shares; two haplotypes are drawn independently
   from that population's NMDP 2007 five-locus A~C~B~DRB1~DQB1 set (Maiers, Gragert & Klitz, Hum Immunol
   2007;68:779), i.e. Hardy-Weinberg pairing of haplotypes. The 2007 names are mapped to names of the release: the
   lowercase-g suffix is dropped (``A*01:01g`` → ``A*01:01``) and renamed alleles are followed (``C*15:20`` →
   ``C*15:27``). DPB1 is not in those sets; it is drawn independently from :data:`DPB1_FREQUENCIES`.
2. **Typing resolution.** Each donor's typing is degraded to one of four levels (:class:`ResolutionMix`). The
   degradation is a table lookup: for every distinct truth allele a few typing strings of each level are built once
   (2-field name or G group; real MACs valid in the release and their allele strings; serology from
   ``rel_dna_ser.txt``; XX codes) and each donor position picks one by index.
3. **Attributes** come from :data:`ABO_BY_POPULATION` and the other tables below; every one is labelled with its
   source or as an assumption.

Everything is vectorised numpy over chunks of :data:`CHUNK` donors, with one random stream per chunk spawned from
the seed, so a registry is identical for the same seed, configuration and release whatever the machine.
The genotype each donor was sampled from is written to ``truth/`` (phase kept: position 1 is haplotype 1).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from graftwise.data import DataRoot
from graftwise.errors import ValidationError
from graftwise.hla import HLAError, Nomenclature
from graftwise.hla.frequencies import HFSet, read_nmdp2007
from graftwise.hla.names import fields_of
from graftwise.registry.records import EPOCH, LOCI

CHUNK = 1 << 20
"""Donors per chunk: bounds memory and fixes the random streams (changing it changes the registry)."""

HF_FILE = Path("haplotype-frequencies") / "nmdp-2007" / "NMDP_2007_FiveLocus_Freqs.csv"
FIVE_LOCI = ("A", "B", "C", "DRB1", "DQB1")

DEFAULT_POPULATIONS: dict[str, float] = {"EUR": 0.62, "API": 0.20, "HIS": 0.13, "AFA": 0.05}
"""ASSUMPTION. WMDA Global Trends Report regions (Europe 43%, N. America 23.4%, Asia 19.7%, S. America 13.1%,
Oceania 0.5%, Africa 0.3%; standards-scale-ux.md §2) mapped onto the four NMDP 2007 populations: Europe, most of
North America and Oceania → EUR; Asia → API; South America → HIS; Africa and part of North America → AFA."""

DEFAULT_REGISTRIES: dict[str, float] = {"9991": 0.5, "9992": 0.3, "9993": 0.2}
"""Synthetic registries keyed by a synthetic 4-digit ION (standards-scale-ux.md §6.2: synthetic data use synthetic
IONs); the shares are arbitrary."""

DPB1_FREQUENCIES: dict[str, float] = {
    "DPB1*04:01": 0.40,
    "DPB1*04:02": 0.11,
    "DPB1*02:01": 0.12,
    "DPB1*03:01": 0.108,
    "DPB1*01:01": 0.05,
    "DPB1*05:01": 0.04,
    "DPB1*13:01": 0.03,
    "DPB1*06:01": 0.02,
    "DPB1*11:01": 0.02,
    "DPB1*10:01": 0.015,
    "DPB1*17:01": 0.015,
    "DPB1*14:01": 0.015,
    "DPB1*02:02": 0.01,
    "DPB1*09:01": 0.008,
    "DPB1*15:01": 0.006,
    "DPB1*19:01": 0.006,
    "DPB1*20:01": 0.005,
    "DPB1*23:01": 0.004,
    "DPB1*18:01": 0.004,
    "DPB1*16:01": 0.003,
    "DPB1*105:01": 0.003,
}
"""ASSUMPTION: an approximate European DPB1 marginal (normalised before use), used for every population.
Only DPB1*03:01 was checked against a source: 0.1081 in 'Germany DKMS - German donors' (n = 3,456,066) in the Allele
Frequency Net Database (allelefrequencies.net; Gonzalez-Galarza et al., Nucleic Acids Res 2020;48:D783). The other
values are rounded figures from general knowledge of European populations (DPB1*04:01 the most frequent at about
40%), not from one cited table. Asian populations carry much more DPB1*05:01; this is not modelled."""

ABO_BY_POPULATION: dict[str, tuple[float, float, float, float]] = {
    "EUR": (0.44, 0.40, 0.11, 0.05),
    "AFA": (0.51, 0.26, 0.19, 0.04),
    "API": (0.40, 0.28, 0.25, 0.07),
    "HIS": (0.57, 0.31, 0.10, 0.02),
}
"""(memory; unverified) O, A, B, AB shares per population, rounded from US blood-service figures by ethnicity."""

RH_POSITIVE: dict[str, float] = {"EUR": 0.84, "AFA": 0.93, "API": 0.98, "HIS": 0.93}
"""(memory; unverified) RhD-positive share per population."""

CMV_POSITIVE: dict[str, float] = {"EUR": 0.50, "AFA": 0.75, "API": 0.80, "HIS": 0.75}
"""ASSUMPTION: CMV seroprevalence per population (adult seroprevalence ranges from about 40% in northern Europe to
above 80% in Asia and Latin America; Zuhair M et al., Rev Med Virol 2019;29:e2034 give a global 83%)."""

MALE_SHARE_ADULT = 0.43
"""WMDA Global Trends Report: 43% of potential donors are male (standards-scale-ux.md §2)."""
MALE_SHARE_CORD = 0.51
"""Sex ratio at birth (about 105 boys per 100 girls)."""
UNDER_36_SHARE = 0.42
"""WMDA Global Trends Report: 42% of donors are under 36 (standards-scale-ux.md §2). Ages are drawn uniformly in
[18, 36) for that share and in [36, 61) for the rest (ASSUMPTION: registries remove donors at 61)."""

STATUS_SHARES = (0.93, 0.02, 0.05)
"""ASSUMPTION: available, reserved, unavailable."""

# Cord blood unit doses, ASSUMPTION: log-normal with these medians and log-scale sigmas.
TNC_MEDIAN, TNC_SIGMA, TNC_FLOOR = 130.0, 0.35, 50.0  # ×10^7 cells
CD34_MEDIAN, CD34_SIGMA = 4.0, 0.6  # ×10^6 cells
VOLUME_MEAN, VOLUME_SD = 100.0, 25.0  # ml

K = 4
"""Typing variants per truth allele and resolution level; duplicates weight the choices."""


@dataclass(frozen=True)
class ResolutionMix:
    """Shares of donors typed at each level (ASSUMPTION, issue 3 §4 default; not a sourced figure).

    * ``high``: 2-field name or G group at A, B, C, DRB1, DQB1 (DPB1 for ``dpb1_share`` of them);
    * ``intermediate``: real MACs and allele strings, with C and DQB1 each missing for ``missing_share`` of them;
    * ``serology``: serology at A, B and DRB1;
    * ``ab_dr``: A and B serology plus DRB1 at first-field DNA (an XX code) only.
    """

    high: float = 0.55
    intermediate: float = 0.25
    serology: float = 0.12
    ab_dr: float = 0.08
    dpb1_share: float = 0.6
    missing_share: float = 0.3

    LEVELS = ("high", "intermediate", "serology", "ab_dr")

    def __post_init__(self) -> None:
        shares = self.shares
        if any(s < 0 for s in shares) or abs(sum(shares) - 1) > 1e-6:
            raise ValidationError(
                f"resolution mix {shares} must be four non-negative shares summing to 1 (high, intermediate, "
                "serology, ab_dr)",
                field="mix",
            )
        for name in ("dpb1_share", "missing_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValidationError(f"{name} must be in [0, 1]", field=name)

    @property
    def shares(self) -> tuple[float, float, float, float]:
        return (self.high, self.intermediate, self.serology, self.ab_dr)

    @classmethod
    def parse(cls, text: str) -> ResolutionMix:
        """``"55,25,12,8"`` (percent or fractions, in level order) or ``"high=55,intermediate=25,…"``."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        try:
            if all("=" in p for p in parts):
                named = {k.strip(): float(v) for k, v in (p.split("=", 1) for p in parts)}
                unknown = set(named) - set(cls.LEVELS)
                if unknown:
                    raise ValidationError(
                        f"unknown level {sorted(unknown)[0]!r}; expected {', '.join(cls.LEVELS)}", field="mix"
                    )
                values = [named.get(level, 0.0) for level in cls.LEVELS]
            else:
                values = [float(p) for p in parts]
        except ValueError:
            raise ValidationError(f"mix {text!r}: shares must be numbers", field="mix") from None
        if len(values) != 4:
            raise ValidationError(f"mix {text!r}: expected 4 shares (high, intermediate, serology, ab_dr)", field="mix")
        total = sum(values)
        if total > 1.5:  # percentages
            values = [v / 100 for v in values]
        return cls(*values)


def parse_shares(text: str, field_name: str) -> dict[str, float]:
    """``"EUR=0.6,API=0.4"`` → shares (normalised check: must sum to 1, or to 100 as percentages)."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key, eq, value = part.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise ValidationError(f"{field_name} {part!r}: expected CODE=share", field=field_name) from None
        if not eq:
            raise ValidationError(f"{field_name} {part!r}: expected CODE=share", field=field_name)
    total = sum(out.values())
    if total > 1.5:
        out = {k: v / 100 for k, v in out.items()}
    return out


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that determines a synthetic registry (with the release and the HF set file)."""

    donors: int
    seed: int = 0
    populations: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_POPULATIONS))
    registries: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_REGISTRIES))
    mix: ResolutionMix = field(default_factory=ResolutionMix)
    cord_share: float = 0.02
    """WMDA: > 800,000 cord units beside > 44 million adult donors, about 2% (standards-scale-ux.md §2)."""
    reference_date: dt.date = dt.date(2026, 1, 1)
    """Ages and dates are drawn relative to this fixed day, so the output does not depend on the clock."""

    def __post_init__(self) -> None:
        if self.donors < 1:
            raise ValidationError("donors must be at least 1", field="donors")
        if self.seed < 0:
            raise ValidationError("seed must be >= 0", field="seed")
        if not 0 <= self.cord_share <= 1:
            raise ValidationError("cord_share must be in [0, 1]", field="cord_share")
        for label, shares in (("populations", self.populations), ("registries", self.registries)):
            if not shares or any(v < 0 for v in shares.values()) or abs(sum(shares.values()) - 1) > 1e-6:
                raise ValidationError(f"{label} shares {dict(shares)} must be non-negative and sum to 1", field=label)
        for ion in self.registries:
            if not re.fullmatch(r"\d{4}", ion):
                raise ValidationError(f"registry code {ion!r} must be a 4-digit ION", field="registries")
        if len(self.registries) > 32000:
            raise ValidationError("at most 32000 registries", field="registries")


# ---- typing tables: built once over distinct alleles ------------------------------------------------------------


class _Typings:
    """The distinct typing strings of one locus; id 0 is the empty string (untyped)."""

    def __init__(self) -> None:
        self.strings: list[str] = [""]
        self.ids: dict[str, int] = {"": 0}

    def id(self, text: str) -> int:
        found = self.ids.get(text)
        if found is None:
            found = self.ids[text] = len(self.strings)
            self.strings.append(text)
        return found


class _MACIndex:
    """MACs by the allele they contain: generic codes by second field, allele-specific codes by ``F1:F2``."""

    def __init__(self, nom: Nomenclature) -> None:
        self.nom = nom
        self.generic: dict[str, list[str]] = defaultdict(list)
        self.specific: dict[str, list[str]] = defaultdict(list)
        for code, expansion in nom.macs.codes.items():
            if not 2 <= len(expansion) <= 8:  # realistic, readable codes only
                continue
            target = self.specific if ":" in expansion[0] else self.generic
            for element in expansion:
                target[element].append(code)

    def codes_for(self, truth: str, limit: int = 3) -> list[tuple[str, str]]:
        """Up to ``limit`` (MAC, allele string) pairs valid in the release whose alleles include ``truth``."""
        locus, _, rest = truth.partition("*")
        f1, f2 = rest.split(":")[:2]
        candidates = sorted(
            set(self.generic.get(f2, ())) | set(self.specific.get(f"{f1}:{f2}", ())),
            key=lambda c: (len(self.nom.macs.codes[c]), c),
        )
        wanted = self.nom.alleles(truth)
        found: list[tuple[str, str]] = []
        for code in candidates:
            token = f"{locus}*{f1}:{code}"
            try:
                typing = self.nom.typing(token)
            except HLAError:
                continue
            if typing.warnings or not wanted <= typing.alleles:
                continue
            expansion = self.nom.macs.codes[code]
            names = [f"{locus}*{f1}:{e}" if ":" not in e else f"{locus}*{e}" for e in expansion]
            if all(self._valid(n) for n in names):
                found.append((token, "/".join(names)))
            if len(found) == limit:
                break
        return found

    def _valid(self, name: str) -> bool:
        try:
            self.nom.typing(name)
        except HLAError:
            return False
        return True


def _truth_name(nom: Nomenclature, name: str) -> str:
    """An NMDP 2007 name as a 2-field name of the release (drop the 2007 ``g``; follow renames)."""
    typing = nom.typing(name.removesuffix("g"), lenient=True)
    if typing.renamed_from is None:
        return typing.text
    return fields_of(nom.sort_alleles(typing.alleles)[0], 2)


def _serology(nom: Nomenclature, truth: str) -> tuple[str, str | None] | tuple[None, None]:
    """(split-level antigen, its broad or None) of the first expressed allele of ``truth`` with an assignment."""
    for allele in nom.sort_alleles(nom.alleles(truth)):
        assignment = nom.tables.serology.get(allele)
        if assignment is None or assignment.is_null:
            continue
        antigens = assignment.unambiguous or assignment.possible or assignment.assumed
        if antigens:
            antigen = antigens[0]
            # Laboratories report the split (B39), not an associated antigen (B3901).
            antigen = next((a for a, assoc in nom.tables.associated.items() if antigen in assoc), antigen)
            broad = next((b for b, splits in nom.tables.splits.items() if antigen in splits), None)
            return antigen, broad
    return None, None


@dataclass
class TypingTables:
    """Per locus: truth allele names, the haplotype → truth id map, and the degradation table.

    ``variants[locus]`` has shape (4 levels, truth alleles, K): the typing id a position gets for each level,
    truth allele and random variant index.
    """

    populations: tuple[str, ...]
    haplotype_offsets: npt.NDArray[np.int64]
    cumulative: list[npt.NDArray[np.float64]]
    truth: dict[str, list[str]]
    haplotype_allele: dict[str, npt.NDArray[np.int32]]
    typings: dict[str, _Typings]
    variants: dict[str, npt.NDArray[np.int32]]
    dpb1_cumulative: npt.NDArray[np.float64]


def build_tables(nom: Nomenclature, hf_sets: Mapping[str, HFSet], populations: tuple[str, ...]) -> TypingTables:
    """Build every lookup table the generator needs from the release and the HF sets (distinct alleles only)."""
    missing = [p for p in populations if p not in hf_sets]
    if missing:
        raise ValidationError(
            f"population {missing[0]!r} has no haplotype frequency set; available: {', '.join(sorted(hf_sets))}",
            field="populations",
        )
    truth: dict[str, list[str]] = {locus: [""] for locus in (*FIVE_LOCI, "DPB1")}
    truth_ids: dict[str, dict[str, int]] = {locus: {"": 0} for locus in truth}
    hap_alleles: dict[str, list[int]] = {locus: [] for locus in FIVE_LOCI}
    offsets = [0]
    cumulative = []
    renamed: dict[str, str] = {}
    for pop in populations:
        hf = hf_sets[pop]
        column = {locus: hf.loci.index(locus) for locus in FIVE_LOCI}
        for hap in hf.haplotypes:
            for locus in FIVE_LOCI:
                raw = hap[column[locus]]
                name = renamed.get(raw) or renamed.setdefault(raw, _truth_name(nom, raw))
                ids = truth_ids[locus]
                if name not in ids:
                    ids[name] = len(truth[locus])
                    truth[locus].append(name)
                hap_alleles[locus].append(ids[name])
        offsets.append(offsets[-1] + len(hf.haplotypes))
        cumulative.append(np.cumsum(np.asarray(hf.frequencies, dtype=np.float64)))
    dpb1_names = [_truth_name(nom, n) for n in DPB1_FREQUENCIES]
    truth["DPB1"].extend(dpb1_names)
    dpb1_cum = np.cumsum(np.asarray(list(DPB1_FREQUENCIES.values()), dtype=np.float64))

    macs = _MACIndex(nom)
    typings = {locus: _Typings() for locus in LOCI}
    variants: dict[str, npt.NDArray[np.int32]] = {}
    for locus in FIVE_LOCI:
        table = np.zeros((4, len(truth[locus]), K), dtype=np.int32)
        t = typings[locus]
        for i, name in enumerate(truth[locus][1:], start=1):
            high, intermediate, serology, xx = _degradations(nom, macs, name)
            table[0, i] = [t.id(s) for s in high]
            table[1, i] = [t.id(s) for s in intermediate]
            if locus in ("A", "B", "DRB1"):
                table[2, i] = [t.id(s) for s in serology]
            if locus in ("A", "B"):
                table[3, i] = table[2, i]
            elif locus == "DRB1":
                table[3, i] = t.id(xx)
        variants[locus] = table
    for name in truth["DPB1"][1:]:
        typings["DPB1"].id(name)
    return TypingTables(
        populations=populations,
        haplotype_offsets=np.asarray(offsets, dtype=np.int64),
        cumulative=cumulative,
        truth=truth,
        haplotype_allele={locus: np.asarray(v, dtype=np.int32) for locus, v in hap_alleles.items()},
        typings=typings,
        variants=variants,
        dpb1_cumulative=dpb1_cum,
    )


def _degradations(nom: Nomenclature, macs: _MACIndex, truth: str) -> tuple[list[str], list[str], list[str], str]:
    """K typings per level (high, intermediate, serology) and the XX code, for one truth allele."""
    locus, _, rest = truth.partition("*")
    xx = f"{locus}*{rest.split(':')[0]}:XX"
    nom.typing(xx)
    expressed = [a for a in nom.sort_alleles(nom.alleles(truth)) if not a.endswith("N")] or [truth]
    g_group = nom.g_group_of.get(expressed[0])
    high = [truth, truth, truth, g_group or truth]
    found = macs.codes_for(truth)
    if found:
        codes = [c for c, _ in found]
        intermediate = [codes[0], codes[1 % len(codes)], codes[2 % len(codes)], found[0][1]]
    else:
        intermediate = [xx] * K
    split, broad = _serology(nom, truth)
    serology = [split, split, split, broad or split] if split else [xx] * K
    return high, intermediate, serology, xx


# ---- one chunk ----------------------------------------------------------------------------------------------------


@dataclass
class Chunk:
    """One chunk of generated donors: contract codes, typing ids, truth ids and the record-only fields."""

    start: int
    hla: dict[str, npt.NDArray[np.int32]]
    truth: dict[str, npt.NDArray[np.int32]]
    columns: dict[str, npt.NDArray[Any]]
    level: npt.NDArray[np.int8]
    donor_id: pa.StringArray
    status_date: npt.NDArray[np.int32]
    volume_ml: npt.NDArray[np.float32]
    collection_date: npt.NDArray[np.int32]


def _pick(rng: np.random.Generator, shares: npt.ArrayLike, size: int) -> npt.NDArray[np.int8]:
    cum = np.cumsum(np.asarray(shares, dtype=np.float64))
    return np.searchsorted(cum / cum[-1], rng.random(size), side="right").astype(np.int8)


def _grid_ids(ions: list[str], registry: npt.NDArray[np.int16], rows: npt.NDArray[np.int64]) -> pa.StringArray:
    """GRIDs (ION + 13-digit zero-padded row number + ISO 7064 MOD 37-2 checksum), built as one byte buffer."""
    m = len(rows)
    chars = np.empty((19, m), dtype=np.uint8)  # one row per character: contiguous vector operations
    ion_digits = np.array([[int(c) for c in ion] for ion in ions], dtype=np.int64)
    weights = [pow(2, n, 37) for n in range(17, 0, -1)]
    total = np.zeros(m, dtype=np.int64)
    for pos in range(4):
        digit = ion_digits[registry, pos]
        chars[pos] = digit + 48
        total += digit * weights[pos]
    rest = rows.copy()
    for pos in range(16, 3, -1):
        digit = rest % 10
        rest //= 10
        chars[pos] = digit + 48
        total += digit * weights[pos]
    check = (38 - total % 37) % 37
    chars[17] = check // 10 + 48
    chars[18] = check % 10 + 48
    offsets = np.arange(0, 19 * (m + 1), 19, dtype=np.int32)
    return pa.StringArray.from_buffers(m, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars.T)))


def generate_chunk(config: GeneratorConfig, tables: TypingTables, index: int, start: int, size: int) -> Chunk:
    """Donors ``start`` … ``start + size - 1``, from the chunk's own random stream (``index``)."""
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(index,)))
    pop_shares = [config.populations[p] for p in tables.populations]
    pop = _pick(rng, pop_shares, size)
    haps = np.empty((size, 2), dtype=np.int64)
    u = rng.random((size, 2))
    for p in range(len(tables.populations)):
        sel = pop == p
        cum = tables.cumulative[p]
        idx = np.searchsorted(cum, u[sel] * cum[-1], side="right")
        haps[sel] = tables.haplotype_offsets[p] + np.minimum(idx, len(cum) - 1)
    truth = {locus: tables.haplotype_allele[locus][haps] for locus in FIVE_LOCI}
    dp_cum = tables.dpb1_cumulative
    truth["DPB1"] = (np.searchsorted(dp_cum / dp_cum[-1], rng.random((size, 2)), side="right") + 1).astype(np.int32)

    mix = config.mix
    level = _pick(rng, mix.shares, size)
    hla: dict[str, npt.NDArray[np.int32]] = {}
    level_col = level.astype(np.intp)[:, None]
    for locus in FIVE_LOCI:
        variant = rng.integers(0, K, (size, 2))
        hla[locus] = tables.variants[locus][level_col, truth[locus], variant]
    intermediate = level == 1
    for locus in ("C", "DQB1"):
        hla[locus][intermediate & (rng.random(size) < mix.missing_share)] = 0
    dpb1_typed = (level == 0) & (rng.random(size) < mix.dpb1_share)
    dpb1_ids = np.asarray(
        [tables.typings["DPB1"].ids[name] for name in tables.truth["DPB1"][1:]], dtype=np.int32
    )  # truth id k → typing id of the same 2-field name
    hla["DPB1"] = np.where(dpb1_typed[:, None], dpb1_ids[truth["DPB1"] - 1], 0).astype(np.int32)

    columns, extra = _attributes(config, tables, rng, pop, size)
    searchable = (columns["status"] == 0) & np.all(
        [(hla[locus] > 0).all(axis=1) for locus in ("A", "B", "DRB1")], axis=0
    )
    columns["searchable"] = searchable
    columns["population"] = pop
    rows = np.arange(start, start + size, dtype=np.int64)
    donor_id = _grid_ids(list(config.registries), columns["registry"], rows)
    return Chunk(start, hla, truth, columns, level, donor_id, **extra)


def _attributes(
    config: GeneratorConfig, tables: TypingTables, rng: np.random.Generator, pop: npt.NDArray[np.int8], size: int
) -> tuple[dict[str, npt.NDArray[Any]], dict[str, npt.NDArray[Any]]]:
    ref = (config.reference_date - EPOCH).days
    cord = rng.random(size) < config.cord_share
    male = rng.random(size) < np.where(cord, MALE_SHARE_CORD, MALE_SHARE_ADULT)
    young = rng.random(size) < UNDER_36_SHARE
    age_years = np.where(young, rng.uniform(18, 36, size), rng.uniform(36, 61, size))
    collection = ref - rng.integers(30, 25 * 365, size)
    birth = np.where(cord, collection, ref - (age_years * 365.25).astype(np.int64)).astype(np.int32)
    names = tables.populations
    abo_table = np.array([ABO_BY_POPULATION[p] for p in names], dtype=np.float64)
    abo_cum = np.cumsum(abo_table, axis=1)
    abo = (rng.random(size)[:, None] > abo_cum[pop]).sum(axis=1).astype(np.int8)
    rh = (rng.random(size) < np.array([RH_POSITIVE[p] for p in names])[pop]).astype(np.int8)
    cmv = (rng.random(size) < np.array([CMV_POSITIVE[p] for p in names])[pop]).astype(np.int8)
    weight = np.where(male, rng.normal(84, 13, size), rng.normal(68, 12, size)).clip(45, 160).round(1)
    parity = np.where(male, 0, _pick(rng, (0.55, 0.18, 0.18, 0.09), size)).astype(np.int8)
    tnc = (TNC_MEDIAN * np.exp(rng.normal(0, TNC_SIGMA, size))).clip(TNC_FLOOR, None).round(1)
    cd34 = (CD34_MEDIAN * np.exp(rng.normal(0, CD34_SIGMA, size))).round(2)
    volume = rng.normal(VOLUME_MEAN, VOLUME_SD, size).clip(40, 250).round(0)
    status = _pick(rng, STATUS_SHARES, size)
    status_date = (ref - rng.integers(0, 3 * 365, size)).astype(np.int32)
    registry = _pick(rng, list(config.registries.values()), size).astype(np.int16)
    nan = np.float32(np.nan)
    columns: dict[str, npt.NDArray[Any]] = {
        "donor_type": cord.astype(np.int8),
        "status": status,
        "registry": registry,
        "sex": male.astype(np.int8),
        "birth_date": birth,
        "cmv": cmv,
        "abo": abo,
        "rh": rh,
        "parity": np.where(cord, -1, parity).astype(np.int8),
        "weight_kg": np.where(cord, nan, weight).astype(np.float32),
        "tnc": np.where(cord, tnc, nan).astype(np.float32),
        "cd34": np.where(cord, cd34, nan).astype(np.float32),
    }
    extra = {
        "status_date": status_date,
        "volume_ml": np.where(cord, volume, nan).astype(np.float32),
        "collection_date": np.where(cord, collection, -1).astype(np.int32),
    }
    return columns, extra


def load_hf_sets(root: DataRoot | None = None) -> dict[str, HFSet]:
    """The NMDP 2007 five-locus sets of the data root, one per population."""
    return read_nmdp2007((root or DataRoot.discover()).path / HF_FILE)


def chunks(config: GeneratorConfig, tables: TypingTables) -> Iterator[Chunk]:
    """Every chunk of the registry, in row order."""
    for index, start in enumerate(range(0, config.donors, CHUNK)):
        yield generate_chunk(config, tables, index, start, min(CHUNK, config.donors - start))
