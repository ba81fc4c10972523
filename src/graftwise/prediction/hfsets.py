"""Haplotype frequency sets converted into one release's groups, and their selection per subject.

match-prediction.md §2.3: every haplotype name is converted into the set's comparison category at the loaded
IPD-IMGT/HLA release, so a set encoded in an older nomenclature works with newer typings:

* ``g2007``, ``two_field`` and ``lgx`` sets compare at **lgx** (the 2007 lowercase ``g`` stripped);
* ``G`` sets compare at large **G** groups (an allele in no G group is its own group);
* ``small_g`` sets compare at Atlas's **small g** (hla-nomenclature.md §12.4).

A name that is not a group of the release is interpreted as a typing (renamed names followed, §3) and mapped to the
single group its alleles fall in; a name that maps to no group, or to several, is an import error naming the file,
haplotype and name. Haplotypes that become identical after conversion are merged (frequencies summed), since they now
denote the same group haplotype.

Every group also carries its **P key** (the P group of its expressed members, §5.1), interned per locus in a
:class:`PVocabulary` shared by every set of one release, so that mismatch counting is integer comparison.

Selection (§3) is the graftwise chain: exact (registry, ethnicity) → (registry, any) → (any registry, population of
the ethnicity) → global; each step is recorded. Converting sets to the loaded release at import is how the spec's
"set at a different release" step is served: there is only ever one release in play.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import numpy as np
import numpy.typing as npt

from graftwise.data import DataRoot, cache_dir
from graftwise.data.cache import read_cached, write_cached
from graftwise.errors import ValidationError
from graftwise.hla import HLAError, Nomenclature
from graftwise.hla.frequencies import HFSet, HFSetError, TypingCategory, read_atlas, read_grimm, read_nmdp2007
from graftwise.hla.names import is_null_name

Category = Literal["lgx", "G", "small_g"]
FallbackStep = Literal["exact", "registry_any_ethnicity", "population", "global", "explicit"]
PREDICTABLE_LOCI = ("A", "B", "C", "DQB1", "DRB1")
"""The loci match prediction covers (DPB1 is never predicted, §1)."""

NULL_PREFIX = "null:"
"""P keys of null groups: a null has no P group (§5.1); its key only ever equals the same null's key."""

_K = TypeVar("_K")

IntArray = npt.NDArray[np.integer[Any]]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def comparison_category(category: TypingCategory) -> Category:
    """The group level a set of ``category`` is compared at (§2.3)."""
    if category in ("g2007", "two_field", "lgx"):
        return "lgx"
    return cast(Category, category)


@dataclass(frozen=True)
class PVocabulary:
    """Per locus, the P keys in play, interned to integers; ``is_null[locus][id]`` marks null-allele keys."""

    names: Mapping[str, tuple[str, ...]]
    index: Mapping[str, Mapping[str, int]] = field(init=False, repr=False, compare=False)
    is_null: Mapping[str, BoolArray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {loc: {n: i for i, n in enumerate(ns)} for loc, ns in self.names.items()})
        object.__setattr__(
            self,
            "is_null",
            {loc: np.array([n.startswith(NULL_PREFIX) for n in ns], dtype=bool) for loc, ns in self.names.items()},
        )

    @classmethod
    def of(cls, keys: Mapping[str, Iterable[str]]) -> PVocabulary:
        return cls({loc: tuple(sorted(set(ks))) for loc, ks in keys.items()})

    def id(self, locus: str, key: str) -> int:
        found = self.index.get(locus, {}).get(key)
        if found is None:
            raise ValidationError(f"P key {key!r} is not known at locus {locus}", field=locus)
        return found


@dataclass(frozen=True)
class GroupScheme:
    """How alleles of one release map to the groups of one comparison category, and groups to P keys."""

    release: str
    category: Category
    group_of: Mapping[str, str]
    """Full allele name → group (category)."""
    p_key_of_group: Mapping[str, str]
    small_g_of: Mapping[str, str]
    p_key_of_small_g: Mapping[str, str]
    vocab: PVocabulary

    @cached_property
    def _pair_codes(self) -> tuple[dict[str, int], tuple[tuple[str, str], ...]]:
        """Allele → one integer for its (group, small g) pair, and the pairs; built once per scheme."""
        pairs: dict[tuple[str, str], int] = {}
        code = {a: pairs.setdefault((g, self.small_g_of[a]), len(pairs)) for a, g in self.group_of.items()}
        return code, tuple(pairs)

    def groups_of(self, alleles: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
        """The groups and the small-g groups of ``alleles`` (a name outside the scheme stands for itself)."""
        return self.groups_of_many([alleles])[0]

    def groups_of_many(self, sets: Sequence[frozenset[str]]) -> list[tuple[frozenset[str], frozenset[str]]]:
        """:meth:`groups_of` for many allele sets in one pass: positions can hold thousands of alleles, so every
        allele of every set is looked up at C speed (one dict lookup each) and the distinct (set, group pair) codes
        are found with one hash-based ``np.unique``."""
        code, pairs = self._pair_codes
        lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
        try:
            flat = np.fromiter(
                map(code.__getitem__, itertools.chain.from_iterable(sets)), dtype=np.int64, count=int(lengths.sum())
            )
        except KeyError:
            return [
                (frozenset(self.group_of.get(a, a) for a in s), frozenset(self.small_g_of.get(a, a) for a in s))
                for s in sets
            ]
        keys = np.repeat(np.arange(len(sets), dtype=np.int64), lengths) * len(pairs) + flat
        distinct = np.sort(np.unique(keys, sorted=False))
        bounds = np.searchsorted(distinct, np.arange(len(sets) + 1, dtype=np.int64) * len(pairs)).tolist()
        codes = (distinct % len(pairs)).tolist()
        out = []
        for lo, hi in itertools.pairwise(bounds):
            found = [pairs[c] for c in codes[lo:hi]]
            out.append((frozenset(g for g, _ in found), frozenset(sg for _, sg in found)))
        return out

    @classmethod
    def build(cls, nom: Nomenclature, category: Category) -> GroupScheme:
        """One category's scheme; use :func:`build_schemes` when several categories must share a vocabulary."""
        return build_schemes(nom, (category,))[category]


def build_schemes(
    nom: Nomenclature, categories: Iterable[Category] = ("lgx", "G", "small_g"), loci: Iterable[str] = PREDICTABLE_LOCI
) -> dict[Category, GroupScheme]:
    """Schemes of ``nom``'s release for ``categories``, sharing one :class:`PVocabulary`, so that distributions
    imputed from sets of different categories can be compared.

    A group's P key is the P group of its expressed members (an expressed allele in no named P group is its own
    key); a group with no expressed member gets a null key. At 3.58.0 the expressed members of every lgx, G and
    small-g group share one P group; should a release break that, the most frequent P group is taken.

    The schemes are stored in the compiled cache (keyed by the release tables' digest, the categories and loci), so
    a later process reads them instead of rebuilding them; tables without a digest are never cached."""
    categories, loci = tuple(categories), tuple(loci)
    name = f"schemes-v{_SCHEMES_FORMAT}-{'_'.join(categories)}.{'_'.join(loci)}"
    path = cache_dir() / "compiled" / nom.release / f"{name}-{nom.tables.digest}.pickle"
    if nom.tables.digest:
        cached = read_cached(path, dict)
        if cached is not None and all(isinstance(v, GroupScheme) for v in cached.values()):
            return _with_release_names(cast(dict[Category, GroupScheme], cached), nom)
    schemes = _build_schemes(nom, categories, loci)
    if nom.tables.digest:
        with contextlib.suppress(OSError):  # a read-only cache only costs the rebuild
            write_cached(path, schemes, stale_glob=f"{name}-*.pickle")
    return schemes


def _with_release_names(schemes: dict[Category, GroupScheme], nom: Nomenclature) -> dict[Category, GroupScheme]:
    """Cached schemes re-keyed by the release tables' own allele-name objects. Unpickled names are new string
    objects; bulk lookups of the nomenclature's allele sets then compare strings instead of hitting on identity,
    which made a cold 10,000-donor call twice as slow."""
    own = {a: a for a in nom.tables.alleles}
    small_g_of: dict[str, str] = {}
    out = {}
    for category, scheme in schemes.items():
        if not small_g_of:
            small_g_of = {own.get(a, a): g for a, g in scheme.small_g_of.items()}
        group_of = {own.get(a, a): g for a, g in scheme.group_of.items()}
        out[category] = dataclasses.replace(scheme, group_of=group_of, small_g_of=small_g_of)
    return out


_SCHEMES_FORMAT = 1
"""Bumped whenever :class:`GroupScheme` or :class:`PVocabulary` change shape, so older cached schemes are not read."""


def _build_schemes(
    nom: Nomenclature, categories: tuple[Category, ...], loci: tuple[str, ...]
) -> dict[Category, GroupScheme]:
    wanted = set(loci)
    alleles = [a for a in nom.tables.alleles if a.partition("*")[0] in wanted]
    small_g_of = {a: nom.small_g_of.get(a, a) for a in alleles}
    key_fns: dict[Category, Callable[[str], str]] = {
        "lgx": nom.ard_name,
        "G": lambda a: nom.g_group_of.get(a, a),
        "small_g": lambda a: small_g_of[a],
    }

    def p_keys(mapping: Mapping[str, str]) -> dict[str, str]:
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        for a, g in mapping.items():
            if not is_null_name(a):
                votes[g][nom.p_group_of.get(a, a)] += 1
        out = {}
        for g in set(mapping.values()):
            ranked = sorted(votes[g].items(), key=lambda kv: (-kv[1], kv[0])) if g in votes else []
            out[g] = ranked[0][0] if ranked else NULL_PREFIX + g
        return out

    p_small = p_keys(small_g_of)
    parts: dict[Category, tuple[dict[str, str], dict[str, str]]] = {}
    keys: dict[str, set[str]] = defaultdict(set)
    for category in categories:
        group_of = {a: key_fns[category](a) for a in alleles}
        p_group = p_keys(group_of)
        parts[category] = (group_of, p_group)
        for mapping in (p_group, p_small):
            for g, k in mapping.items():
                keys[g.partition("*")[0]].add(k)
    vocab = PVocabulary.of(keys)
    return {c: GroupScheme(nom.release, c, g, p, small_g_of, p_small, vocab) for c, (g, p) in parts.items()}


def convert_name(name: str, scheme: GroupScheme, nom: Nomenclature) -> str:
    """One HF-set name → its group in ``scheme`` (§2.3). Raises :class:`ValidationError` naming the name."""
    if scheme.category == "lgx":
        name = name.removesuffix("g")
    if name in scheme.p_key_of_group:
        return name
    token = name.removesuffix("g") if scheme.category == "small_g" else name
    try:
        alleles = nom.typing(token, lenient=True).alleles
    except HLAError as exc:
        raise ValidationError(
            f"{name} is not a {scheme.category} group of release {nom.release} and cannot be converted: {exc}",
            field=name,
        ) from None
    groups = {scheme.group_of[a] for a in alleles if a in scheme.group_of}
    expressed = {scheme.group_of[a] for a in alleles if a in scheme.group_of and not is_null_name(a)}
    if len(groups) != 1 and len(expressed) == 1:
        groups = expressed
    if len(groups) != 1:
        raise ValidationError(
            f"{name} does not map to exactly one {scheme.category} group of release {nom.release} "
            f"(found {', '.join(sorted(groups)) or 'none'})",
            field=name,
        )
    return groups.pop()


@dataclass(frozen=True)
class SetInfo:
    """What identifies a set in results (§1 ``patient_hf_set``)."""

    id: str
    registries: tuple[str, ...]
    ethnicities: tuple[str, ...]
    population_id: str | None
    release: str
    source_release: str | None
    category: Category
    source_format: str
    total_mass: float
    merged_haplotypes: int = 0
    """Source haplotypes that became identical to another after conversion (and were merged into it)."""


@dataclass(frozen=True, eq=False)
class GroupedHFSet:
    """An HF set in one release's groups: ``codes[h, l]`` indexes ``groups[l]``; frequencies as given (§2.2)."""

    info: SetInfo
    loci: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    codes: IntArray
    freqs: FloatArray
    p_ids: tuple[IntArray, ...]
    """Per locus: group index → P-key id in ``vocab``."""
    vocab: PVocabulary
    _marginals: dict[tuple[str, ...], GroupedHFSet] = field(default_factory=dict, repr=False)
    masks: dict[tuple[int, frozenset[str]], BoolArray] = field(default_factory=dict, repr=False)
    """Memo of (locus position, group set) → boolean mask over ``groups[l]`` (used by imputation)."""
    _indices: dict[int, dict[str, int]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.freqs)

    def group_index(self, locus_pos: int) -> dict[str, int]:
        found = self._indices.get(locus_pos)
        if found is None:
            found = self._indices[locus_pos] = {g: i for i, g in enumerate(self.groups[locus_pos])}
        return found

    @classmethod
    def from_groups(
        cls,
        info: SetInfo,
        loci: tuple[str, ...],
        haplotypes: Iterable[tuple[str, ...]],
        freqs: Iterable[float],
        p_key_of_group: Mapping[str, str],
        vocab: PVocabulary,
    ) -> GroupedHFSet:
        """Build from group-named haplotypes, merging duplicates (frequencies summed, first-seen order kept)."""
        merged: dict[tuple[str, ...], float] = {}
        count = 0
        for hap, f in zip(haplotypes, freqs, strict=True):
            count += 1
            merged[hap] = merged.get(hap, 0.0) + f
        groups = tuple(tuple(sorted({h[i] for h in merged})) for i in range(len(loci)))
        index = [{g: j for j, g in enumerate(gs)} for gs in groups]
        codes = np.array([[index[i][g] for i, g in enumerate(h)] for h in merged], dtype=np.int32).reshape(
            len(merged), len(loci)
        )
        p_ids = tuple(
            np.array([vocab.id(loc, p_key_of_group[g]) for g in gs], dtype=np.int32)
            for loc, gs in zip(loci, groups, strict=True)
        )
        info = SetInfo(**{**info.__dict__, "merged_haplotypes": info.merged_haplotypes + count - len(merged)})
        return cls(info, loci, groups, codes, np.array(list(merged.values()), dtype=np.float64), p_ids, vocab)

    def marginal(self, loci: tuple[str, ...]) -> GroupedHFSet:
        """The set restricted to ``loci`` (§4.2): frequencies of haplotypes agreeing on them summed. Cached."""
        if loci == self.loci:
            return self
        found = self._marginals.get(loci)
        if found is not None:
            return found
        missing = [loc for loc in loci if loc not in self.loci]
        if missing:
            raise ValidationError(
                f"HF set {self.info.id} has no locus {', '.join(missing)} (it covers {', '.join(self.loci)})",
                field="loci",
            )
        cols = [self.loci.index(loc) for loc in loci]
        sub = self.codes[:, cols]
        uniq, inverse = np.unique(sub, axis=0, return_inverse=True)
        freqs = np.bincount(inverse.reshape(-1), weights=self.freqs, minlength=len(uniq)).astype(np.float64)
        out = GroupedHFSet(
            self.info,
            loci,
            tuple(self.groups[c] for c in cols),
            uniq.astype(np.int32),
            freqs,
            tuple(self.p_ids[c] for c in cols),
            self.vocab,
        )
        self._marginals[loci] = out
        return out


def convert_set(hf: HFSet, nom: Nomenclature, scheme: GroupScheme | None = None) -> GroupedHFSet:
    """Convert every haplotype of ``hf`` into the groups of ``nom``'s release (§2.3), validating every name.

    Only the predictable loci are kept (DPB1 and others are not predicted, §1). Errors name the set, the haplotype
    number and the name."""
    category = comparison_category(hf.typing_category)
    if scheme is None:
        scheme = GroupScheme.build(nom, category)
    elif scheme.category != category or scheme.release != nom.release:
        raise ValidationError(
            f"scheme is {scheme.category}@{scheme.release}, set {hf.id} needs {category}@{nom.release}",
            field="scheme",
        )
    cols = [i for i, loc in enumerate(hf.loci) if loc in PREDICTABLE_LOCI]
    loci = tuple(hf.loci[i] for i in cols)
    if not loci:
        raise HFSetError(f"{hf.id}: no predictable locus ({', '.join(PREDICTABLE_LOCI)})", field=hf.id)
    memo: dict[str, str] = {}
    converted = []
    for n, hap in enumerate(hf.haplotypes, start=1):
        row = []
        for i in cols:
            name = hap[i]
            group = memo.get(name)
            if group is None:
                try:
                    group = convert_name(name, scheme, nom)
                except ValidationError as exc:
                    where = f"{hf.id} haplotype {n}"
                    raise HFSetError(f"{where}: {exc}", field=f"{where}: {name}") from None
                if group.partition("*")[0] != name.partition("*")[0]:
                    raise HFSetError(f"{hf.id} haplotype {n}: {name} converts across loci to {group}", field=name)
                memo[name] = group
            row.append(group)
        converted.append(tuple(row))
    info = SetInfo(
        id=hf.id,
        registries=hf.registries,
        ethnicities=hf.ethnicities,
        population_id=hf.population_id,
        release=nom.release,
        source_release=hf.release,
        category=category,
        source_format=hf.source_format,
        total_mass=hf.total_mass,
    )
    return GroupedHFSet.from_groups(info, loci, converted, hf.frequencies, scheme.p_key_of_group, scheme.vocab)


# ---- selection (§3) ---------------------------------------------------------------------------------------------

DEFAULT_POPULATIONS: Mapping[str, str] = {
    "AFA": "AFA",
    "API": "API",
    "EUR": "EUR",
    "CAU": "EUR",
    "HIS": "HIS",
}
"""Ethnicity → NMDP 2007 population (§3 step 3). NAM has no 2007 set and is deliberately absent. Configurable."""


@dataclass(frozen=True)
class SetChoice:
    """A set chosen for a subject and the step of the chain that found it."""

    set: GroupedHFSet
    step: FallbackStep


@dataclass
class HFSetStore:
    """Loaded sets, indexed under every (registry, ethnicity) key they declare (§2.2: stored once, indexed many times).

    A set with no registry but ethnicities (NMDP 2007: one population each) is indexed as a population set, reached by
    step 3 of the chain. Adding a set for a key that has one supersedes it; the old one stays in ``superseded``."""

    populations: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_POPULATIONS))
    by_key: dict[tuple[str | None, str | None], GroupedHFSet] = field(default_factory=dict)
    by_population: dict[str, GroupedHFSet] = field(default_factory=dict)
    superseded: list[GroupedHFSet] = field(default_factory=list)
    explicit: GroupedHFSet | None = None
    """A set named by the user for this run (e.g. ``--hf-set`` with one set): the last step of every chain."""

    def add(self, hfset: GroupedHFSet) -> None:
        info = hfset.info
        if info.ethnicities and not info.registries:
            for pop in info.ethnicities:
                self._put(self.by_population, pop, hfset)
            return
        registries: tuple[str | None, ...] = info.registries or (None,)
        ethnicities: tuple[str | None, ...] = info.ethnicities or (None,)
        for reg in registries:
            for eth in ethnicities:
                self._put(self.by_key, (reg, eth), hfset)

    def _put(self, index: dict[_K, GroupedHFSet], key: _K, hfset: GroupedHFSet) -> None:
        old = index.get(key)
        if old is not None and old is not hfset:
            self.superseded.append(old)
        index[key] = hfset

    def chain(self, registry: str | None, ethnicity: str | None) -> list[SetChoice]:
        """Every applicable set, most specific first, each with its step; distinct sets only."""
        steps: list[tuple[GroupedHFSet | None, FallbackStep]] = []
        if registry is not None and ethnicity is not None:
            steps.append((self.by_key.get((registry, ethnicity)), "exact"))
        if registry is not None:
            steps.append((self.by_key.get((registry, None)), "registry_any_ethnicity"))
        if ethnicity is not None:
            pop = self.populations.get(ethnicity)
            if pop is not None:
                steps.append((self.by_population.get(pop), "population"))
        steps.append((self.by_key.get((None, None)), "global"))
        steps.append((self.explicit, "explicit"))
        out: list[SetChoice] = []
        for s, step in steps:
            if s is not None and all(c.set is not s for c in out):
                out.append(SetChoice(s, step))
        if not out:
            raise ValidationError(
                f"no haplotype frequency set for registry {registry!r}, ethnicity {ethnicity!r}, nor a global set "
                "(give the subject's registry/ethnicity, or name one set with --hf-set)",
                field="ethnicity",
            )
        return out


NMDP_2007_FIVE_LOCUS = Path("haplotype-frequencies/nmdp-2007/NMDP_2007_FiveLocus_Freqs.csv")


def read_hf_file(path: Path, *, population: str | None = None) -> list[HFSet]:
    """Read an HF file by its format: ``.json`` Atlas, ``.freqs``/``.freqs.gz`` GRIMM, ``.csv`` NMDP 2007 (every
    population, or only ``population``)."""
    if not path.is_file():
        raise ValidationError(f"HF set file {path} does not exist", field="hf_set")
    name = path.name
    if name.endswith(".json"):
        return [read_atlas(path)]
    if name.endswith((".freqs", ".freqs.gz")):
        return [read_grimm(path, population=population)]
    if name.endswith(".csv"):
        sets = read_nmdp2007(path)
        if population is None:
            return list(sets.values())
        if population not in sets:
            raise ValidationError(
                f"population {population!r} not in {name} (it has {', '.join(sorted(sets))})", field="population"
            )
        return [sets[population]]
    raise ValidationError(
        f"{name}: expected a .json (Atlas), .freqs[.gz] (GRIMM) or .csv (NMDP 2007) file", field="hf_set"
    )


def default_hf_file(root: DataRoot | None = None) -> Path:
    """The NMDP 2007 five-locus file of the data root (the default sets, one per population)."""
    root = root or DataRoot.discover()
    path = root.path / NMDP_2007_FIVE_LOCUS
    if not path.is_file():
        raise ValidationError(f"default HF sets not found at {path}", field="hf_set")
    return path


def load_store(
    nom: Nomenclature,
    schemes: Mapping[Category, GroupScheme],
    paths: Iterable[Path],
    *,
    population: str | None = None,
) -> HFSetStore:
    """Read, convert (to ``nom``'s release) and index every set of ``paths``."""
    store = HFSetStore()
    for path in paths:
        for hf in read_hf_file(path, population=population):
            store.add(convert_set(hf, nom, schemes[comparison_category(hf.typing_category)]))
    return store
