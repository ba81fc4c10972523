"""The prediction service: HF-set selection with fallback, imputation cached per distinct phenotype, and batch
probabilities for one patient against many donors (match-prediction.md §§3, 4, 8.3, 8.7).

Caching: an imputation is keyed by the raw typing (per locus, the two position strings), the selection keys and the
predicted loci, so donors sharing a typing (the usual case for high-resolution registries) are imputed once and
their probabilities against one patient computed once.

Fallback (§3 step 5, §8.3 step 1): when a subject is unrepresented in the chosen set, the next, less specific set
of the chain is tried; the result records the step used and the sets tried before it. A subject still unrepresented
goes through §8.3 steps 2–3 (:mod:`graftwise.prediction.fallback`: name conversion and ARD-equivalence, then CIWD
substitution), recorded in ``*_hf_set.fallback``; ``NEW`` is unrepresented whatever the set.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property, partial

import numpy as np

from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.prediction.fallback import FallbackRecord, Recovery, recover
from graftwise.prediction.hfsets import (
    PREDICTABLE_LOCI,
    Category,
    GroupScheme,
    HFSetStore,
    SetChoice,
    build_schemes,
)
from graftwise.prediction.imputation import (
    DEFAULT_MAX_DIPLOTYPES,
    GenotypeDistribution,
    GroupCache,
    InterpretedSubject,
    SubjectGroups,
    convert_positions,
    impute,
    impute_batch,
    interpret_subject,
    subject_groups,
    unrepresented,
)
from graftwise.prediction.probabilities import (
    MatchProbabilities,
    SubjectSummary,
    assemble,
    mismatch_distributions,
    percentages,
    summarise,
)

SubjectTyping = Mapping[str, Sequence[str | None]]
_Item = tuple[tuple[object, ...], SubjectTyping, str | None, str | None]
TEN_OF_TEN = ("A", "B", "C", "DQB1", "DRB1")
EIGHT_OF_EIGHT = ("A", "B", "C", "DRB1")


@dataclass(frozen=True)
class Imputation:
    """A subject's distribution and how its set was found (§1 ``*_hf_set``)."""

    distribution: GenotypeDistribution
    choice: SetChoice | None
    """The set used; for a subject unrepresented everywhere, the last set tried."""
    tried: tuple[tuple[str, str], ...] = ()
    """(set id, reason) of sets tried before ``choice``, in which the subject was unrepresented."""
    fallback: FallbackRecord | None = None
    """§8.3 steps 2–3 (name conversion / ARD-equivalence, CIWD substitution), when they were tried."""

    @cached_property
    def summary(self) -> SubjectSummary:
        """What a result says about this subject (computed once per cached imputation)."""
        return summarise(self.distribution, self.hf_set())

    @property
    def _fell_back(self) -> bool:
        """Unrepresented in an earlier set of the chain (§8.3 step 1), not merely past sets lacking the loci."""
        return any(reason != "missing_loci" for _, reason in self.tried)

    def hf_set(self) -> dict[str, object] | None:
        if self.choice is None:
            return None
        info = self.choice.set.info
        return {
            "id": info.id,
            "registry": list(info.registries),
            "ethnicity": list(info.ethnicities),
            "release": info.release,
            "source_release": info.source_release,
            "population_id": info.population_id,
            "typing_category": info.category,
            "fallback_step": self.choice.step,
            "tried_before": [{"id": i, "reason": r} for i, r in self.tried],
            "fallback": (self.fallback or FallbackRecord(1 if self._fell_back else None)).as_json(),
        }


def typing_key(typing: SubjectTyping) -> tuple[tuple[str, tuple[str | None, ...]], ...]:
    """Hashable form of a raw typing (validated for shape)."""
    out = []
    for locus, values in typing.items():
        if isinstance(values, str) or not isinstance(values, Sequence):
            raise ValidationError(f"locus {locus} needs a list of two position typings", field=locus)
        out.append((locus, tuple(None if v is None else str(v) for v in values)))
    return tuple(sorted(out))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk call, restoring its state after. A cold call allocates
    tens of thousands of (acyclic) sets and arrays, and the collector's passes, which also walk the loaded release
    tables, took about a third of a cold 10,000-donor call; nothing allocated here forms a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Predictor:
    """Match prediction at one release over one set of loci (10/10 by default, 8/8 for cord 4/8 searches)."""

    nom: Nomenclature
    store: HFSetStore
    loci: tuple[str, ...] = TEN_OF_TEN
    max_diplotypes: int | None = DEFAULT_MAX_DIPLOTYPES
    target_mass: float | None = None
    schemes: dict[Category, GroupScheme] = field(default_factory=dict, repr=False)
    """The release's group schemes (built on first use when empty; pass them to share across predictors)."""
    _cache: dict[tuple[object, ...], Imputation] = field(default_factory=dict, repr=False)
    _alleles: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict, repr=False)
    _groups: GroupCache = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        bad = [loc for loc in self.loci if loc not in PREDICTABLE_LOCI]
        if bad or not self.loci or len(set(self.loci)) != len(self.loci):
            raise ValidationError(
                f"predicted loci must be distinct loci among {', '.join(PREDICTABLE_LOCI)}; got {', '.join(self.loci)}",
                field="loci",
            )
        self.loci = tuple(loc for loc in TEN_OF_TEN if loc in self.loci)

    def scheme(self, category: Category) -> GroupScheme:
        if not self.schemes:
            self.schemes.update(build_schemes(self.nom))
        return self.schemes[category]

    def impute(self, typing: SubjectTyping, registry: str | None = None, ethnicity: str | None = None) -> Imputation:
        """The subject's distribution from the first set of the chain it is represented in (cached)."""
        key = (typing_key(typing), registry, ethnicity)
        found = self._cache.get(key)
        if found is None:
            found = self._impute(typing, registry, ethnicity)
            self._cache[key] = found
        return found

    def impute_many(
        self, typings: Sequence[SubjectTyping], keys: Sequence[tuple[str | None, str | None]]
    ) -> list[Imputation]:
        """:meth:`impute` for many subjects (same results), imputing the uncached ones in batches per set
        (:func:`impute_batch`); a subject unrepresented in its first set falls back through the chain alone."""
        if len(keys) != len(typings):
            raise ValidationError("keys need one (registry, ethnicity) per typing", field="keys")
        with _collector_paused():
            return self._impute_many(typings, keys, [typing_key(t) for t in typings])

    def _impute_many(
        self,
        typings: Sequence[SubjectTyping],
        keys: Sequence[tuple[str | None, str | None]],
        raw_keys: Sequence[tuple[tuple[str, tuple[str | None, ...]], ...]],
    ) -> list[Imputation]:
        out: list[Imputation | None] = [None] * len(typings)
        pending: dict[tuple[object, ...], list[int]] = {}
        batches: dict[int, tuple[SetChoice, list[_Item], list[SubjectGroups]]] = {}
        firsts: dict[tuple[str | None, str | None], SetChoice | None] = {}
        to_convert: dict[Category, list[InterpretedSubject]] = {}
        interpreted: list[tuple[_Item, SetChoice, InterpretedSubject]] = []
        for idx, (typing, (registry, ethnicity), raw) in enumerate(zip(typings, keys, raw_keys, strict=True)):
            key: tuple[object, ...] = (raw, registry, ethnicity)
            found = self._cache.get(key)
            if found is not None:
                out[idx] = found
                continue
            if key in pending:
                pending[key].append(idx)
                continue
            pending[key] = [idx]
            if (registry, ethnicity) not in firsts:
                firsts[(registry, ethnicity)] = next(
                    (c for c in self.store.chain(registry, ethnicity) if set(self.loci) <= set(c.set.loci)), None
                )
            first = firsts[(registry, ethnicity)]
            subject = interpret_subject(typing, self.nom, self.loci, self._alleles)
            if first is None or subject.problem is not None or self.target_mass is not None:
                self._cache[key] = self._impute(typing, registry, ethnicity)
                continue
            to_convert.setdefault(first.set.info.category, []).append(subject)
            interpreted.append(((key, typing, registry, ethnicity), first, subject))
        for category, subjects in to_convert.items():
            convert_positions(subjects, self.scheme(category), self._groups)
        for item, first, subject in interpreted:
            batch = batches.setdefault(id(first.set), (first, [], []))
            batch[1].append(item)
            batch[2].append(subject_groups(subject, self.scheme(first.set.info.category), self.loci, self._groups))
        for choice, items, groups in batches.values():
            dists = impute_batch(groups, choice.set, self.loci, max_diplotypes=self.max_diplotypes)
            for (key, typing, registry, ethnicity), dist in zip(items, dists, strict=True):
                represented = Imputation(dist, choice) if dist.is_represented else None
                self._cache[key] = represented or self._impute(typing, registry, ethnicity)
        for key, indices in pending.items():
            for idx in indices:
                out[idx] = self._cache[key]
        return [o for o in out if o is not None]

    def _impute(self, typing: SubjectTyping, registry: str | None, ethnicity: str | None) -> Imputation:
        """The chain walk (§8.3 step 1), then steps 2–3 (:mod:`.fallback`) for a subject still unrepresented."""
        found = self._impute_chain(typing, registry, ethnicity)
        if found.distribution.is_represented:
            return found
        imputer = partial(impute, loci=self.loci, max_diplotypes=self.max_diplotypes, target_mass=self.target_mass)
        reason = found.distribution.unrepresented or "conversion_failed"
        got = recover(self.nom, typing, reason, self.store.chain(registry, ethnicity), self.loci, self.scheme, imputer)
        if isinstance(got, Recovery):
            tried = (
                *found.tried,
                *([(found.choice.set.info.id, found.distribution.unrepresented or "")] if found.choice else []),
            )
            return Imputation(got.distribution, got.choice, tried, got.record)
        return replace(found, fallback=got)

    def _impute_chain(self, typing: SubjectTyping, registry: str | None, ethnicity: str | None) -> Imputation:
        chain = self.store.chain(registry, ethnicity)
        subject = interpret_subject(typing, self.nom, self.loci, self._alleles)
        tried: list[tuple[str, str]] = []
        last: tuple[GenotypeDistribution, SetChoice, tuple[tuple[str, str], ...]] | None = None
        for choice in chain:
            if choice.set.info.release != self.nom.release:
                raise ValidationError(
                    f"HF set {choice.set.info.id} is in release {choice.set.info.release}, predictor in "
                    f"{self.nom.release}",
                    field="release",
                )
            if not set(self.loci) <= set(choice.set.loci):
                tried.append((choice.set.info.id, "missing_loci"))
                continue
            groups = subject_groups(subject, self.scheme(choice.set.info.category), self.loci, self._groups)
            dist = impute(
                groups, choice.set, self.loci, max_diplotypes=self.max_diplotypes, target_mass=self.target_mass
            )
            if dist.is_represented or subject.problem is not None:
                return Imputation(dist, choice, tuple(tried))
            last = (dist, choice, tuple(tried))
            tried.append((choice.set.info.id, dist.unrepresented or ""))
        if last is None:
            missing = unrepresented(self.loci, None, "conversion_failed", "no set of the chain covers the loci")
            return Imputation(missing, None, tuple(tried))
        return Imputation(*last)

    def predict(
        self,
        patient: SubjectTyping,
        donor: SubjectTyping,
        *,
        patient_keys: tuple[str | None, str | None] = (None, None),
        donor_keys: tuple[str | None, str | None] = (None, None),
        scoring_mismatch: Mapping[str, tuple[bool, bool]] | None = None,
    ) -> MatchProbabilities:
        """One patient–donor prediction; keys are (registry, ethnicity)."""
        return self.predict_many(
            patient, [donor], patient_keys=patient_keys, donor_keys=[donor_keys], scoring_mismatch=[scoring_mismatch]
        )[0]

    def predict_many(
        self,
        patient: SubjectTyping,
        donors: Sequence[SubjectTyping],
        *,
        patient_keys: tuple[str | None, str | None] = (None, None),
        donor_keys: Sequence[tuple[str | None, str | None]] | None = None,
        scoring_mismatch: Sequence[Mapping[str, tuple[bool, bool]] | None] | None = None,
    ) -> list[MatchProbabilities]:
        """One patient against many donors; donors with the same typing and keys share one computation."""
        keys = list(donor_keys) if donor_keys is not None else [(None, None)] * len(donors)
        if len(keys) != len(donors) or (scoring_mismatch is not None and len(scoring_mismatch) != len(donors)):
            raise ValidationError("donor_keys and scoring_mismatch need one entry per donor", field="donor_keys")
        with _collector_paused():
            return self._predict_many(patient, donors, patient_keys, keys, scoring_mismatch)

    def _predict_many(
        self,
        patient: SubjectTyping,
        donors: Sequence[SubjectTyping],
        patient_keys: tuple[str | None, str | None],
        keys: Sequence[tuple[str | None, str | None]],
        scoring_mismatch: Sequence[Mapping[str, tuple[bool, bool]] | None] | None,
    ) -> list[MatchProbabilities]:
        p = self.impute(patient, *patient_keys)
        slot: dict[tuple[object, ...], int] = {}
        distinct_typings: list[SubjectTyping] = []
        distinct_keys: list[tuple[str | None, str | None]] = []
        distinct_raw: list[tuple[tuple[str, tuple[str | None, ...]], ...]] = []
        index = np.empty(len(donors), dtype=np.int64)
        for d, (typing, dk) in enumerate(zip(donors, keys, strict=True)):
            raw = typing_key(typing)
            k = (raw, *dk)
            s = slot.get(k)
            if s is None:
                s = slot[k] = len(distinct_typings)
                distinct_typings.append(typing)
                distinct_keys.append(dk)
                distinct_raw.append(raw)
            index[d] = s
        distinct = self._impute_many(distinct_typings, distinct_keys, distinct_raw)
        overall, per_locus = mismatch_distributions(p.distribution, [i.distribution for i in distinct])
        ps = p.summary
        summaries = [i.summary for i in distinct]
        pct_overall, pct_locus = percentages(overall).tolist(), percentages(per_locus).tolist()
        plain: dict[int, MatchProbabilities] = {}
        out = []
        for d in range(len(donors)):
            s = int(index[d])
            sm = scoring_mismatch[d] if scoring_mismatch is not None else None
            pct = (pct_overall[s], pct_locus[s])
            if sm is not None:
                out.append(assemble(self.loci, overall[s], per_locus[s], ps, summaries[s], sm, pct=pct))
                continue
            if s not in plain:
                plain[s] = assemble(self.loci, overall[s], per_locus[s], ps, summaries[s], pct=pct)
            out.append(plain[s])
        return out
