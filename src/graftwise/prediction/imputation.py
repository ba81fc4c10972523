"""Genotype imputation of one subject against one HF set (match-prediction.md §4).

The subject's typing is first read at the loaded release (:func:`interpret_subject`: each position becomes the set of
full allele names it can stand for), then put into the set's groups (:func:`subject_groups`), then imputed
(:func:`impute`):

* §4.1 shortcut: when every predicted locus and position maps to exactly one small-g group, the subject has one
  genotype with likelihood 1 and the set is not consulted (never unrepresented; Atlas #692, #1135);
* §4.2 filter: per typed locus, a boolean mask over the set's haplotypes (allele in the union of the two positions);
* §4.3 pairs: unordered pairs of kept haplotypes, self-pairs included, kept when each typed locus can be phased in
  some order, independently per locus. Whether a pair is consistent depends only on each haplotype's per-locus
  (fits position 1, fits position 2) bits, so haplotypes are grouped by that signature and the consistency test is
  done between signature classes; pairs are then enumerated from compatible classes with index arrays;
* §4.4 likelihood f1·f2·(2 if the haplotypes differ at any predicted locus, else 1). Rows of the marginalised set are
  distinct over the predicted loci, so "differ" is "different row";
* §4.5 the total T is computed in closed form over classes before any truncation (Σ 2·F_s·F_t over compatible class
  pairs s < t, plus F_s² for self-compatible classes), so the kept mass is exact;
* §4.6 truncation to the top N diplotypes only when there are more than N (Atlas default 2000, ADR Phase2/006), or
  adaptively until a target kept mass is reached; the kept mass is always reported;
* §4.7 unrepresented, with the reason codes of the spec.

Design decision: nulls inside a multi-allele typing (MAC, allele list, XX, serology) are dropped when an expressed
allele remains, as matching does (matching.md §2 rule 2). Typings are read leniently (renamed names followed),
since prediction is not data entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from graftwise.errors import ValidationError
from graftwise.hla import HLAError, InvalidAlleleError, Nomenclature
from graftwise.hla.names import is_null_name
from graftwise.hla.tables import SEROLOGY_PREFIX
from graftwise.prediction.hfsets import (
    PREDICTABLE_LOCI,
    BoolArray,
    FloatArray,
    GroupedHFSet,
    GroupScheme,
    IntArray,
    PVocabulary,
)

UnrepresentedReason = Literal[
    "no_consistent_pair", "allele_not_in_release", "allele_not_in_hf_set", "new_allele", "conversion_failed"
]
Position = frozenset[str] | None
"""A position typing: a set of names (alleles or groups), or None when untyped."""

DEFAULT_MAX_DIPLOTYPES = 2000
"""Atlas's default truncation (ADR Phase2/006)."""


@dataclass(frozen=True)
class InterpretedSubject:
    """A subject's typing at one release: per locus the two positions' allele sets (None = untyped).

    ``problem`` is set when the typing cannot be represented at all (``NEW``, a name not in the release)."""

    release: str
    positions: Mapping[str, tuple[Position, Position]]
    problem: UnrepresentedReason | None = None
    problem_detail: str = ""


@dataclass(frozen=True)
class SubjectGroups:
    """A subject in one set's groups: per typed locus the two positions' group sets (None = no constraint), and the
    shortcut genotype (P keys per locus) when the subject is unambiguous at small g at every predicted locus."""

    positions: Mapping[str, tuple[Position, Position]]
    shortcut: Mapping[str, tuple[str, str]] | None = None
    problem: UnrepresentedReason | None = None
    problem_detail: str = ""


def _full_token(locus: str, text: str) -> str:
    text = text.strip().removeprefix("HLA-")
    if "*" in text or text in ("NEW",):
        return text
    if ":" in text:
        return f"{locus}*{text}"
    if text.isdigit():
        return f"{SEROLOGY_PREFIX[locus]}{text}"
    return text


_RELEASE_FACTS: dict[int, tuple[object, dict[str, frozenset[str]], frozenset[str]]] = {}


def _release_facts(nom: Nomenclature) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """Alleles per locus and the null alleles of ``nom``'s release (memoised per release tables)."""
    found = _RELEASE_FACTS.get(id(nom.tables))
    if found is None or found[0] is not nom.tables:
        by_locus: dict[str, set[str]] = {}
        for a in nom.tables.alleles:
            by_locus.setdefault(a.partition("*")[0], set()).add(a)
        nulls = frozenset(a for a in nom.tables.alleles if is_null_name(a))
        found = (nom.tables, {k: frozenset(v) for k, v in by_locus.items()}, nulls)
        _RELEASE_FACTS[id(nom.tables)] = found
    return found[1], found[2]


def _position_alleles(
    nom: Nomenclature, locus: str, text: str, sg_groups: Mapping[str, frozenset[str]]
) -> frozenset[str]:
    by_locus, nulls = _release_facts(nom)
    parts: list[frozenset[str]] = []
    for token in (_full_token(locus, p) for p in text.split("/")):
        found = (
            sg_groups[token] if token.endswith("g") and token in sg_groups else nom.typing(token, lenient=True).alleles
        )
        if not found <= by_locus.get(locus, frozenset()):
            wrong = sorted({a.partition("*")[0] for a in found} - {locus})
            raise ValidationError(f"{token} is a {'/'.join(wrong)} typing, given at locus {locus}", field=locus)
        parts.append(found)
    # A single token's (memoised) set is reused as is unless nulls are dropped: fewer large sets to allocate.
    alleles = parts[0] if len(parts) == 1 else frozenset().union(*parts)
    if len(alleles) > 1 and not alleles.isdisjoint(nulls):
        expressed = alleles - nulls
        return expressed or alleles
    return alleles


def interpret_subject(
    typing: Mapping[str, Sequence[str | None]],
    nom: Nomenclature,
    loci: Sequence[str] = PREDICTABLE_LOCI,
    cache: dict[tuple[str, str], frozenset[str]] | None = None,
) -> InterpretedSubject:
    """Read a subject typing ``{"A": ["A*01:01", "02:01"], ...}`` (locus prefix optional; allele, truncation, allele
    list ``a/b``, MAC, XX, G, P, small g, serology) at ``nom``'s release, for ``loci``.

    Malformed input (unknown locus, syntax, unknown MAC or antigen, a position count other than 2) raises
    :class:`ValidationError`; an allele not in the release, or ``NEW``, makes the subject unrepresented (§4.7).
    ``cache`` memoises (locus, position text) → alleles across calls at one release."""
    unknown = sorted(set(typing) - set(PREDICTABLE_LOCI) - {"DPB1"})
    if unknown:
        raise ValidationError(
            f"locus {', '.join(unknown)} cannot be predicted (expected {', '.join(PREDICTABLE_LOCI)})", field=unknown[0]
        )
    sg = nom.small_g_groups
    positions: dict[str, tuple[Position, Position]] = {}
    for locus in loci:
        values = typing.get(locus)
        if values is None:
            continue
        if isinstance(values, str) or len(values) != 2:
            raise ValidationError(f"locus {locus} needs a list of two position typings (null for untyped)", field=locus)
        pair: list[Position] = []
        for i, text in enumerate(values, start=1):
            if text is None or not str(text).strip():
                pair.append(None)
                continue
            if str(text).strip() == "NEW":
                return InterpretedSubject(nom.release, {}, "new_allele", f"{locus} position {i} is NEW")
            key = (locus, str(text))
            found = cache.get(key) if cache is not None else None
            if found is not None:
                pair.append(found)
                continue
            try:
                found = _position_alleles(nom, locus, str(text), sg)
            except InvalidAlleleError as exc:
                return InterpretedSubject(nom.release, {}, "allele_not_in_release", f"{locus} position {i}: {exc}")
            except HLAError as exc:
                raise ValidationError(f"{locus} position {i}: {exc}", field=f"{locus}[{i}]") from None
            if cache is not None:
                cache[key] = found
            pair.append(found)
        if pair[0] is not None or pair[1] is not None:
            positions[locus] = (pair[0], pair[1])
    return InterpretedSubject(nom.release, positions)


GroupCache = dict[tuple[str, frozenset[str]], tuple[frozenset[str], frozenset[str]]]


def _groups_of(
    alleles: frozenset[str], scheme: GroupScheme, cache: GroupCache | None
) -> tuple[frozenset[str], frozenset[str]]:
    key = (scheme.category, alleles)
    found = cache.get(key) if cache is not None else None
    if found is None:
        found = scheme.groups_of(alleles)
        if cache is not None:
            cache[key] = found
    return found


def convert_positions(subjects: Sequence[InterpretedSubject], scheme: GroupScheme, cache: GroupCache) -> None:
    """Put the group conversion of every position of ``subjects`` not yet in ``cache`` there, in one
    :meth:`GroupScheme.groups_of_many` pass (what :func:`subject_groups` would do one position at a time)."""
    missing = {
        p: None
        for s in subjects
        for pair in s.positions.values()
        for p in pair
        if p is not None and (scheme.category, p) not in cache
    }
    for p, found in zip(missing, scheme.groups_of_many(list(missing)), strict=True):
        cache[(scheme.category, p)] = found


def subject_groups(
    subject: InterpretedSubject, scheme: GroupScheme, loci: Sequence[str], cache: GroupCache | None = None
) -> SubjectGroups:
    """Put an interpreted subject into ``scheme``'s groups, and detect the §4.1 shortcut (small g, every locus).
    ``cache`` memoises (category, allele set) → (groups, small-g groups)."""
    if subject.problem is not None:
        return SubjectGroups({}, None, subject.problem, subject.problem_detail)
    if subject.release != scheme.release:
        raise ValidationError(f"subject read at {subject.release}, scheme is {scheme.release}", field="release")
    positions: dict[str, tuple[Position, Position]] = {}
    shortcut: dict[str, tuple[str, str]] | None = {}
    for locus in loci:
        pair = subject.positions.get(locus)
        if pair is None:
            shortcut = None
            continue
        both = [None if p is None else _groups_of(p, scheme, cache) for p in pair]
        positions[locus] = (both[0][0] if both[0] else None, both[1][0] if both[1] else None)
        if shortcut is not None:
            small = [None if b is None else b[1] for b in both]
            if all(s is not None and len(s) == 1 for s in small):
                keys = [scheme.p_key_of_small_g.get(next(iter(s)), "") for s in small if s is not None]
                shortcut[locus] = (keys[0], keys[1])
            else:
                shortcut = None
    return SubjectGroups(positions, shortcut)


@dataclass(frozen=True, eq=False)
class GenotypeDistribution:
    """A subject's imputed diplotypes against one set (or the shortcut genotype), and their P-level genotypes.

    ``pairs[k]`` are two haplotype rows of ``hfset`` (the marginal over ``loci``), ``likelihoods[k]`` their L, ranked
    by decreasing L. ``genotypes`` (g, loci, 2) are the distinct unordered P-key genotypes (null positions replaced by
    their expressing partner, §5.1) with ``weights`` summing to 1 (the normaliser is the kept likelihood, §4.6)."""

    loci: tuple[str, ...]
    hfset: GroupedHFSet | None
    vocab: PVocabulary | None
    pairs: IntArray
    likelihoods: FloatArray
    total_likelihood: float
    genotypes: IntArray
    weights: FloatArray
    shortcut: bool = False
    unrepresented: UnrepresentedReason | None = None
    detail: str = ""

    @property
    def kept_mass(self) -> float | None:
        """Σ L kept / T (§4.6); 1 for the shortcut; None when unrepresented."""
        if self.unrepresented is not None:
            return None
        if self.shortcut:
            return 1.0
        return min(1.0, float(self.likelihoods.sum() / self.total_likelihood))

    @property
    def is_represented(self) -> bool:
        return self.unrepresented is None


def unphased_genotypes(dist: GenotypeDistribution) -> list[tuple[tuple[tuple[str, str], ...], float]]:
    """The kept diplotypes summed by unphased genotype in the set's groups (per locus a sorted pair), ranked by
    probability (normalised over the kept likelihood). The shortcut genotype is given in P keys."""
    if not dist.is_represented or dist.vocab is None:
        return []
    if dist.shortcut:
        names = dist.vocab.names
        g = dist.genotypes[0]
        return [
            (tuple((names[loc][int(g[li, 0])], names[loc][int(g[li, 1])]) for li, loc in enumerate(dist.loci)), 1.0)
        ]
    hs = dist.hfset
    if hs is None:
        return []
    a, b = hs.codes[dist.pairs[:, 0]], hs.codes[dist.pairs[:, 1]]
    per_locus = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=2).reshape(len(a), -1)
    uniq, inverse = np.unique(per_locus, axis=0, return_inverse=True)
    mass = np.bincount(inverse.reshape(-1), weights=dist.likelihoods, minlength=len(uniq))
    mass = mass / mass.sum()
    out = []
    for row, p in zip(uniq.reshape(len(uniq), len(dist.loci), 2).tolist(), mass.tolist(), strict=True):
        out.append((tuple((hs.groups[li][x], hs.groups[li][y]) for li, (x, y) in enumerate(row)), p))
    out.sort(key=lambda kv: (-kv[1], kv[0]))
    return out


def unrepresented(
    loci: tuple[str, ...], hfset: GroupedHFSet | None, reason: UnrepresentedReason, detail: str
) -> GenotypeDistribution:
    empty_i = np.zeros((0, 2), dtype=np.int32)
    return GenotypeDistribution(
        loci,
        hfset,
        hfset.vocab if hfset is not None else None,
        empty_i,
        np.zeros(0),
        0.0,
        np.zeros((0, len(loci), 2), dtype=np.int32),
        np.zeros(0),
        unrepresented=reason,
        detail=detail,
    )


def _position_mask(hs: GroupedHFSet, li: int, groups: Position) -> BoolArray:
    """Boolean mask over the set's groups at locus ``li`` (all True when untyped); memoised on the set."""
    size = len(hs.groups[li])
    if groups is None:
        return np.ones(size, dtype=bool)
    key = (li, groups)
    found = hs.masks.get(key)
    if found is None:
        index = hs.group_index(li)
        found = np.zeros(size, dtype=bool)
        hits = [index[g] for g in groups if g in index]
        found[hits] = True
        hs.masks[key] = found
    return found


def _substitute_nulls(p_genotypes: IntArray, vocab: PVocabulary, loci: tuple[str, ...]) -> IntArray:
    """A null position takes its expressing partner's P key (matching.md §3.3); each locus pair is then sorted."""
    g = p_genotypes.copy()
    for li, locus in enumerate(loci):
        null = vocab.is_null[locus]
        a, b = g[:, li, 0], g[:, li, 1]
        na, nb = null[a], null[b]
        a2 = np.where(na & ~nb, b, a)
        b2 = np.where(nb & ~na, a, b)
        g[:, li, 0] = np.minimum(a2, b2)
        g[:, li, 1] = np.maximum(a2, b2)
    return g


def _absent_position(subject: SubjectGroups, hs: GroupedHFSet, loci: tuple[str, ...]) -> str | None:
    """The first typed position none of whose groups occurs in the set (§4.7 ``allele_not_in_hf_set``), or None."""
    for li, locus in enumerate(loci):
        for p in subject.positions.get(locus) or ():
            if p is not None and hs.group_index(li).keys().isdisjoint(p):
                return f"{locus}: {', '.join(sorted(p))} not in the set"
    return None


def _collapse(
    p_genotypes: IntArray, likelihoods: FloatArray, vocab: PVocabulary, loci: tuple[str, ...]
) -> tuple[IntArray, FloatArray]:
    """Null substitution, per-locus sorting, and summing of identical unordered P genotypes (§5.1)."""
    g = _substitute_nulls(p_genotypes, vocab, loci)
    flat = g.reshape(len(g), -1)
    uniq, inverse = np.unique(flat, axis=0, return_inverse=True)
    sums = np.bincount(inverse.reshape(-1), weights=likelihoods, minlength=len(uniq))
    return uniq.reshape(len(uniq), len(loci), 2).astype(np.int32), sums / sums.sum()


def _top(candidates: list[tuple[IntArray, IntArray, FloatArray]], keep: int) -> tuple[IntArray, IntArray, FloatArray]:
    i = np.concatenate([c[0] for c in candidates])
    j = np.concatenate([c[1] for c in candidates])
    lik = np.concatenate([c[2] for c in candidates])
    if len(lik) > keep:
        part = np.argpartition(-lik, keep - 1)[:keep]
        i, j, lik = i[part], j[part], lik[part]
    return i, j, lik


def impute(
    subject: SubjectGroups,
    hfset: GroupedHFSet,
    loci: tuple[str, ...],
    *,
    max_diplotypes: int | None = DEFAULT_MAX_DIPLOTYPES,
    target_mass: float | None = None,
) -> GenotypeDistribution:
    """Impute ``subject`` over ``loci`` from ``hfset`` (§4). ``max_diplotypes`` None keeps every diplotype;
    ``target_mass`` (e.g. 0.999) grows N from ``max_diplotypes`` until the kept mass reaches it."""
    if max_diplotypes is not None and max_diplotypes < 1:
        raise ValidationError("max_diplotypes must be at least 1", field="max_diplotypes")
    if target_mass is not None and not 0 < target_mass <= 1:
        raise ValidationError("target_mass must be in (0, 1]", field="target_mass")
    if subject.problem is not None:
        return unrepresented(loci, hfset, subject.problem, subject.problem_detail)
    vocab = hfset.vocab
    if subject.shortcut is not None and set(subject.shortcut) >= set(loci):
        genotype = np.array(
            [[[vocab.id(loc, subject.shortcut[loc][0]), vocab.id(loc, subject.shortcut[loc][1])] for loc in loci]],
            dtype=np.int32,
        )
        genotypes, weights = _substitute_nulls(genotype, vocab, loci), np.ones(1)
        return GenotypeDistribution(
            loci, hfset, vocab, np.zeros((0, 2), dtype=np.int32), np.ones(1), 1.0, genotypes, weights, shortcut=True
        )
    hs = hfset.marginal(loci)
    missing = _absent_position(subject, hs, loci)
    if missing is not None:
        return unrepresented(loci, hfset, "allele_not_in_hf_set", missing)
    cl = _classes([subject], hs, loci)
    total = float(cl.totals[0])
    if total <= 0:
        return unrepresented(loci, hfset, "no_consistent_pair", "no pair of set haplotypes fits the typing")
    order = np.lexsort((cl.kept_h, -cl.f, cl.cls))
    sorted_cls = cl.cls[order]
    members = [cl.kept_h[order[sorted_cls == c]] for c in range(cl.n_cls)]
    cs, ct = cl.c1, cl.c2
    limit = max_diplotypes
    while True:
        i, j, lik = _enumerate(members, cs, ct, hs.freqs, limit)
        mass = float(lik.sum()) / total
        if target_mass is None or limit is None or mass >= target_mass or len(lik) < limit:
            break
        limit *= 2
    rank = np.lexsort((j, i, -lik))
    i, j, lik = i[rank], j[rank], lik[rank]
    p_gen = np.stack(
        [np.stack([hs.p_ids[li][hs.codes[i, li]], hs.p_ids[li][hs.codes[j, li]]], axis=1) for li in range(len(loci))],
        axis=1,
    )
    genotypes, weights = _collapse(p_gen.astype(np.int32), lik, vocab, loci)
    return GenotypeDistribution(
        loci, hs, vocab, np.stack([i, j], axis=1).astype(np.int32), lik, total, genotypes, weights
    )


def _enumerate(
    members: list[IntArray], cs: IntArray, ct: IntArray, freqs: FloatArray, limit: int | None
) -> tuple[IntArray, IntArray, FloatArray]:
    """Every consistent pair from compatible class pairs (members sorted by decreasing frequency), keeping the top
    ``limit`` by likelihood. A pair using a member outside its class's top ``limit + 1`` is beaten by at least
    ``limit`` heterozygous pairs inside them, so each class is cut to that many members before enumeration."""
    found: list[tuple[IntArray, IntArray, FloatArray]] = []
    size = 0
    for s, t in zip(cs.tolist(), ct.tolist(), strict=True):
        ms, mt = members[s], members[t]
        if limit is not None:
            ms, mt = ms[: limit + 1], mt[: limit + 1]
        if s == t:
            a, b = np.triu_indices(len(ms))
            i, j = ms[a], ms[b]
        else:
            i = np.repeat(ms, len(mt))
            j = np.tile(mt, len(ms))
        lik = freqs[i] * freqs[j] * np.where(i == j, 1.0, 2.0)
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        found.append((lo, hi, lik))
        size += len(lik)
        if limit is not None and size > 4 * limit:
            found = [_top(found, limit)]
            size = len(found[0][2])
    if not found:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0)
    return _top(found, limit) if limit is not None else _top(found, size)


_BATCH_SUBJECTS = 256
_BATCH_PAIR_LIMIT = 200_000
"""Subjects whose consistent pairs would exceed this are imputed alone (with the running top-N of :func:`impute`)."""


def impute_batch(
    subjects: Sequence[SubjectGroups],
    hfset: GroupedHFSet,
    loci: tuple[str, ...],
    *,
    max_diplotypes: int | None = DEFAULT_MAX_DIPLOTYPES,
) -> list[GenotypeDistribution]:
    """:func:`impute` for many subjects at once, with identical results: the filter, the signature classes, the
    class-pair consistency test, pair enumeration, truncation and genotype collapse run as array operations over
    the whole batch (subjects are told apart by a subject column), so the per-call overhead is paid once per batch.
    Shortcut, unrepresentable and very ambiguous subjects go through :func:`impute` one by one."""
    if max_diplotypes is not None and max_diplotypes < 1:
        raise ValidationError("max_diplotypes must be at least 1", field="max_diplotypes")
    out: list[GenotypeDistribution | None] = [None] * len(subjects)
    hs = hfset.marginal(loci)
    todo: list[int] = []
    shortcut: list[tuple[int, Mapping[str, tuple[str, str]]]] = []
    for k, s in enumerate(subjects):
        if s.problem is None and s.shortcut is not None and set(s.shortcut) >= set(loci):
            shortcut.append((k, s.shortcut))
            continue
        if s.problem is not None or _absent_position(s, hs, loci) is not None:
            out[k] = impute(s, hfset, loci, max_diplotypes=max_diplotypes)
        else:
            todo.append(k)
    if shortcut:
        vocab = hfset.vocab
        ids = np.array(
            [[[vocab.id(loc, key) for key in keys[loc]] for loc in loci] for _, keys in shortcut], dtype=np.int32
        )
        genotypes = _substitute_nulls(ids, vocab, loci)
        empty = np.zeros((0, 2), dtype=np.int32)
        for row, (k, _) in enumerate(shortcut):
            out[k] = GenotypeDistribution(
                loci, hfset, vocab, empty, np.ones(1), 1.0, genotypes[row : row + 1], np.ones(1), shortcut=True
            )
    for start in range(0, len(todo), _BATCH_SUBJECTS):
        chunk = todo[start : start + _BATCH_SUBJECTS]
        results = _impute_chunk([subjects[k] for k in chunk], hs, loci, max_diplotypes)
        for k, r in zip(chunk, results, strict=True):
            out[k] = r if r is not None else impute(subjects[k], hfset, loci, max_diplotypes=max_diplotypes)
    return [r for r in out if r is not None]


def _ragged(lengths: IntArray) -> tuple[IntArray, IntArray]:
    """For groups of the given lengths: the group of each element and its index within the group."""
    group = np.repeat(np.arange(len(lengths)), lengths)
    offsets = np.cumsum(lengths) - lengths
    return group, np.arange(int(lengths.sum())) - np.repeat(offsets, lengths)


@dataclass(frozen=True)
class _Classes:
    """Kept haplotypes of a batch of subjects grouped into signature classes, and the compatible class pairs."""

    kept_s: IntArray
    kept_h: IntArray
    cls: IntArray
    n_cls: int
    f: FloatArray
    c1: IntArray
    c2: IntArray
    pair_subject: IntArray
    totals: FloatArray
    """T per subject (§4.5), exact, before any truncation."""


def _classes(subjects: Sequence[SubjectGroups], hs: GroupedHFSet, loci: tuple[str, ...]) -> _Classes:
    """§4.2 filter and §4.3 consistency for a batch: haplotypes kept per subject, their (fits position 1, fits
    position 2) signature classes, and the compatible class pairs (c1 <= c2) of each subject with T in closed form
    (Σ 2·F_s·F_t over compatible pairs s < t, plus F_s² for self-compatible classes)."""
    n_sub, n_loci = len(subjects), len(loci)
    stacks = []
    for li, locus in enumerate(loci):
        n_groups = len(hs.groups[li])
        masks = [
            [_position_mask(hs, li, p) for p in pair] if pair is not None else [np.ones(n_groups, dtype=bool)] * 2
            for pair in (s.positions.get(locus) for s in subjects)
        ]
        stacks.append((np.stack([m[0] for m in masks]), np.stack([m[1] for m in masks])))
    allowed = [m1 | m2 for m1, m2 in stacks]
    # Candidates come from the most selective locus (haplotypes whose group there is allowed), found through the
    # haplotypes sorted by group, then the other loci filter them: far fewer gathers than subjects × haplotypes.
    counts = [np.bincount(hs.codes[:, li], minlength=len(hs.groups[li])) for li in range(n_loci)]
    best = int(np.argmin([(allowed[li] @ counts[li]).sum() for li in range(n_loci)]))
    by_group = np.argsort(hs.codes[:, best], kind="stable")
    starts = np.searchsorted(hs.codes[by_group, best], np.arange(len(hs.groups[best]) + 1))
    s_idx, g_idx = np.nonzero(allowed[best])
    which, within = _ragged(starts[g_idx + 1] - starts[g_idx])
    cand_s, cand_h = s_idx[which], by_group[starts[g_idx][which] + within]
    keep = np.ones(len(cand_s), dtype=bool)
    for li in range(n_loci):
        if li != best:
            keep &= allowed[li][cand_s, hs.codes[cand_h, li]]
    kept_s, kept_h = cand_s[keep], cand_h[keep]
    bits = np.empty((len(kept_s), 2 * n_loci), dtype=bool)
    for li, (m1, m2) in enumerate(stacks):
        groups = hs.codes[kept_h, li]
        bits[:, li] = m1[kept_s, groups]
        bits[:, n_loci + li] = m2[kept_s, groups]
    weights = np.int64(1) << np.arange(bits.shape[1], dtype=np.int64)
    key = kept_s.astype(np.int64) * (np.int64(1) << bits.shape[1]) + bits.astype(np.int64) @ weights
    _, first, cls = np.unique(key, return_index=True, return_inverse=True)
    cls = cls.reshape(-1)
    n_cls = len(first)
    cls_subject = kept_s[first]
    sigs = bits[first]
    s1, s2 = sigs[:, :n_loci], sigs[:, n_loci:]
    f = hs.freqs[kept_h]
    class_mass = np.bincount(cls, weights=f, minlength=n_cls)
    # Class pairs (c1 <= c2) within each subject; classes of one subject are contiguous (key is subject-major).
    subject_end = np.searchsorted(cls_subject, cls_subject, side="right")
    c1, within = _ragged(subject_end - np.arange(n_cls))
    c2 = c1 + within
    ok = ((s1[c1] & s2[c2]) | (s2[c1] & s1[c2])).all(axis=1)
    c1, c2 = c1[ok], c2[ok]
    pair_subject = cls_subject[c1]
    factor = np.where(c1 == c2, 1.0, 2.0)
    totals = np.bincount(pair_subject, weights=factor * class_mass[c1] * class_mass[c2], minlength=n_sub).astype(
        np.float64
    )
    return _Classes(kept_s, kept_h, cls, n_cls, f, c1, c2, pair_subject, totals)


def _impute_chunk(
    subjects: Sequence[SubjectGroups], hs: GroupedHFSet, loci: tuple[str, ...], limit: int | None
) -> list[GenotypeDistribution | None]:
    n_sub, n_loci = len(subjects), len(loci)
    cl = _classes(subjects, hs, loci)
    kept_h, cls, n_cls, f, totals = cl.kept_h, cl.cls, cl.n_cls, cl.f, cl.totals
    c1, c2, pair_subject = cl.c1, cl.c2, cl.pair_subject
    # Members of each class by decreasing frequency, each class cut to limit + 1 (see _enumerate).
    order = np.lexsort((kept_h, -f, cls))
    members = kept_h[order]
    class_start = np.searchsorted(cls[order], np.arange(n_cls))
    size = np.bincount(cls, minlength=n_cls)
    if limit is not None:
        size = np.minimum(size, limit + 1)
    count = size[c1] * size[c2]
    too_many = np.bincount(pair_subject, weights=count, minlength=n_sub) > _BATCH_PAIR_LIMIT
    keep_cp = ~too_many[pair_subject]
    c1, c2, count, pair_subject = c1[keep_cp], c2[keep_cp], count[keep_cp], pair_subject[keep_cp]
    cp, p = _ragged(count)
    a, b = c1[cp], c2[cp]
    i, j = p // size[b], p % size[b]
    upper = (a != b) | (i <= j)
    a, b, i, j, cp = a[upper], b[upper], i[upper], j[upper], cp[upper]
    hi, hj = members[class_start[a] + i], members[class_start[b] + j]
    lo, up = np.minimum(hi, hj), np.maximum(hi, hj)
    lik = hs.freqs[lo] * hs.freqs[up] * np.where(lo == up, 1.0, 2.0)
    subj = pair_subject[cp]
    rank_order = np.lexsort((up, lo, -lik, subj))
    subj, lo, up, lik = subj[rank_order], lo[rank_order], up[rank_order], lik[rank_order]
    bounds = np.searchsorted(subj, np.arange(n_sub + 1))
    if limit is not None:
        rank = np.arange(len(subj)) - bounds[subj]
        keep = rank < limit
        subj, lo, up, lik = subj[keep], lo[keep], up[keep], lik[keep]
        bounds = np.searchsorted(subj, np.arange(n_sub + 1))
    p_gen = np.stack(
        [np.stack([hs.p_ids[li][hs.codes[lo, li]], hs.p_ids[li][hs.codes[up, li]]], axis=1) for li in range(n_loci)],
        axis=1,
    ).astype(np.int32)
    genotypes, g_subject, g_weight = _collapse_batch(p_gen, lik, subj, hs.vocab, loci)
    g_bounds = np.searchsorted(g_subject, np.arange(n_sub + 1))
    results: list[GenotypeDistribution | None] = []
    for si in range(n_sub):
        if too_many[si]:
            results.append(None)
            continue
        lo_s, hi_s = bounds[si], bounds[si + 1]
        if hi_s == lo_s or totals[si] <= 0:
            results.append(unrepresented(loci, hs, "no_consistent_pair", "no pair of set haplotypes fits the typing"))
            continue
        g0, g1 = g_bounds[si], g_bounds[si + 1]
        w = g_weight[g0:g1]
        results.append(
            GenotypeDistribution(
                loci,
                hs,
                hs.vocab,
                np.stack([lo[lo_s:hi_s], up[lo_s:hi_s]], axis=1).astype(np.int32),
                lik[lo_s:hi_s],
                float(totals[si]),
                genotypes[g0:g1],
                w / w.sum(),
            )
        )
    return results


def _collapse_batch(
    p_genotypes: IntArray, likelihoods: FloatArray, subject: IntArray, vocab: PVocabulary, loci: tuple[str, ...]
) -> tuple[IntArray, IntArray, FloatArray]:
    """:func:`_collapse` for many subjects: distinct (subject, genotype) rows and their summed likelihoods."""
    if len(p_genotypes) == 0:
        return p_genotypes, subject, likelihoods
    g = _substitute_nulls(p_genotypes, vocab, loci)
    flat = np.concatenate([subject[:, None].astype(np.int64), g.reshape(len(g), -1).astype(np.int64)], axis=1)
    uniq, inverse = _unique_rows(flat)
    sums = np.bincount(inverse, weights=likelihoods, minlength=len(uniq)).astype(np.float64)
    return uniq[:, 1:].reshape(len(uniq), len(loci), 2).astype(np.int32), uniq[:, 0], sums


_ROW_HASH = np.random.default_rng(0x5EED).integers(1, 2**62, size=64, dtype=np.int64) | 1


def _unique_rows(rows: IntArray) -> tuple[IntArray, IntArray]:
    """``np.unique(rows, axis=0, return_inverse=True)``, faster: rows are grouped by a 64-bit multiplicative hash,
    the grouping is verified row by row, and any collision falls back to the exact sort of whole rows."""
    with np.errstate(over="ignore"):
        h = (rows * _ROW_HASH[: rows.shape[1]]).sum(axis=1)
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if not (rows == rows[first[inverse]]).all():
        exact, exact_inverse = np.unique(rows, axis=0, return_inverse=True)
        return exact, exact_inverse.reshape(-1)
    order = np.lexsort(rows[first].T[::-1])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rows[first[order]], rank[inverse]
