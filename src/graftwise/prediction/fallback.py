"""Fallback for a subject unrepresented in every set of its chain (match-prediction.md §8.3 steps 2 and 3).

Step 1 (the next, less specific set of the chain, §3 step 5) is :class:`~graftwise.prediction.predictor.Predictor`'s
chain walk. When it fails, :func:`recover` tries, each over the sets of the chain in order:

* **Step 2, name conversion and ARD-equivalence** (§8.3.2, §2.3). (a) A name not in the loaded release is converted
  through the allele history (``hla_nom.txt`` successors, ``nom.tables.retired``, followed to the end), or read
  with the one expression suffix its numbers have in the release (``C*04:09L`` → ``C*04:09N`` at 3.58.0, §2.3's
  known rename); a name still unknown that extends a 2-field name of the release (e.g. a 4-field name of a later
  release) is read as that 2-field name when its alleles of the same suffix share one small-g group: the third and
  fourth fields mark synonymous and non-coding differences (hla-nomenclature.md §1), so the protein, and with it the
  antigen-binding domain (ABD), is identical. (b) An allele
  whose group in the set's category is absent from the set maps to the set's groups of the same small-g group
  (hla-nomenclature.md §12.4: identical ABD at protein level, the level prediction reports mismatches at, §1).
  No information is invented: the P-level result is the one the subject's own allele would give.
* **Step 3, CIWD substitution** (§8.3.3, hla-nomenclature.md §10). A position that step 2 leaves with no group of
  the set (an allele with no ABD-identical group in the set, or a name with no known conversion) is replaced by the
  most common allele of the same allele group (first field, the broader resolution) whose group the set knows:
  ranked by CIWD 3.0.0 status in the set's population (C, then I, then WD, then R, then unlisted), then by the set's
  frequency of its group, then by name. This is a guess, and the result flags every substitution.

Step 4 (GRIMM block model, §9.1 "plan B") is not implemented: a subject failing steps 1–3 is unrepresented with the
§4.7 reason code of step 1, and the record lists why steps 2 and 3 failed.

Doubt (written in the report): §8.3.3 says "the most common ARD-equivalent allele", but any ABD-identical group the
set holds is already used by step 2, so step 3 can only help with a broader equivalence; the first field (allele
group) is our reading of the issue's "then a broader resolution".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from graftwise.errors import ValidationError
from graftwise.hla import HLAError, InvalidAlleleError, Nomenclature
from graftwise.hla.names import EXPRESSION_SUFFIXES, fields_of, split_allele
from graftwise.prediction.hfsets import Category, GroupedHFSet, GroupScheme, SetChoice
from graftwise.prediction.imputation import (
    GenotypeDistribution,
    Position,
    SubjectGroups,
    UnrepresentedReason,
    _full_token,
    interpret_subject,
    subject_groups,
)

FallbackMethod = Literal["name_conversion", "ard_equivalence", "ciwd_substitution"]
CIWD_RANK = {"C": 0, "I": 1, "WD": 2, "R": 3}
"""CIWD 3.0.0 status, most common first (Hurley et al., HLA 2020;95:516); an unlisted allele ranks after R."""
CIWD_POPULATION_OF = {"EUR": "EURO", "CAU": "EURO", "AFA": "AFA", "API": "API", "HIS": "HIS", "NAM": "NAM"}
"""HF-set population id → CIWD column; any other population uses TOTAL."""

Imputer = Callable[[SubjectGroups, GroupedHFSet], GenotypeDistribution]
SubjectTyping = Mapping[str, Sequence[str | None]]


@dataclass(frozen=True)
class Conversion:
    """One change made to a position: ``original`` (a name as typed, or the groups absent from the set) → ``used``
    (the converted name, or the set's groups). ``ciwd_status`` is set for a CIWD substitution (None = unlisted)."""

    locus: str
    position: int
    method: FallbackMethod
    original: tuple[str, ...]
    used: tuple[str, ...]
    allele: str | None = None
    ciwd_status: str | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "locus": self.locus,
            "position": self.position,
            "method": self.method,
            "from": list(self.original),
            "to": list(self.used),
        }
        if self.method == "ciwd_substitution":
            out["allele"] = self.allele
            out["ciwd_status"] = self.ciwd_status
        return out


@dataclass(frozen=True)
class FallbackRecord:
    """What the §8.3 fallback did: the step that made the subject represented (1: a less specific set of the chain;
    None: no fallback was needed, or, with ``failures``, every step failed), the changes it made, and the reason
    code of each step that failed."""

    step: Literal[1, 2, 3] | None
    conversions: tuple[Conversion, ...] = ()
    failures: tuple[tuple[int, UnrepresentedReason], ...] = ()

    @property
    def substituted(self) -> tuple[Conversion, ...]:
        """The flagged CIWD substitutions (§8.3.3)."""
        return tuple(c for c in self.conversions if c.method == "ciwd_substitution")

    def as_json(self) -> dict[str, object]:
        return {
            "step": self.step,
            "method": {1: "next_set", 2: "conversion", 3: "ciwd_substitution", None: None}[self.step],
            "conversions": [c.as_json() for c in self.conversions],
            "substituted": [c.as_json() for c in self.substituted],
            "failed_steps": [{"step": s, "reason": r} for s, r in self.failures],
        }


@dataclass(frozen=True)
class Recovery:
    """A subject made represented by step 2 or 3: its distribution, the set used and the record."""

    distribution: GenotypeDistribution
    choice: SetChoice
    record: FallbackRecord


def convert_name(nom: Nomenclature, locus: str, text: str) -> str | None:
    """Step 2(a): a name of ``locus`` not in ``nom``'s release converted to one that is, or None.

    In order: successors are followed through ``hla_nom.txt`` (a deleted name with no successor has none); a name
    whose numbers exist in the release with another (or no) expression suffix is read as that name, when only one
    such name exists (the numbers name one allele whatever its expression status; e.g. ``C*04:09L`` of 3.59 and
    later is ``C*04:09N`` before, hla-nomenclature.md §3); a name of three or more fields is read as its 2-field
    name when that name's alleles of the same expression suffix all share one small-g group (identical protein,
    hence identical ABD)."""
    token = _full_token(locus, text)
    if "*" not in token:
        return None
    seen = {token}
    retired = nom.tables.retired.get(token)
    while retired is not None and retired.successor is not None:
        token = retired.successor
        if token in nom.tables.alleles or token in seen:
            break
        seen.add(token)
        retired = nom.tables.retired.get(token)
    if token in nom.tables.alleles:
        return token
    _, fields, suffix = split_allele(token)
    if not all(f.isdigit() for f in fields):
        return None
    base = token.removesuffix(suffix) if suffix else token
    resuffixed = [name for name in (base, *(base + x for x in sorted(EXPRESSION_SUFFIXES))) if _known(nom, name)]
    if len(resuffixed) == 1:
        return resuffixed[0]
    if len(fields) < 3:
        return None
    short = fields_of(token, 2) + suffix
    if not _known(nom, short):
        return None
    alleles = nom.typing(short).alleles
    same_kind = [a for a in alleles if split_allele(a)[2] == suffix]
    small_g = {nom.small_g_of.get(a, a) for a in same_kind}
    return short if len(small_g) == 1 else None


def _known(nom: Nomenclature, name: str) -> bool:
    """Whether ``name`` is an allele name (full or truncated) of the release, read strictly."""
    try:
        nom.typing(name)
    except InvalidAlleleError:
        return False
    return True


def _convert_typing(
    nom: Nomenclature, typing: SubjectTyping, loci: Sequence[str]
) -> tuple[dict[str, list[str | None]], list[Conversion], dict[tuple[str, int], tuple[str, str]]]:
    """The typing with step 2(a) conversions applied; positions with a name that cannot be converted are left out
    of the typing and returned with the name's allele group (``A*02``; "" when it has none, as ``NEW``) and the name."""
    out: dict[str, list[str | None]] = {}
    conversions: list[Conversion] = []
    unknown: dict[tuple[str, int], tuple[str, str]] = {}
    for locus in loci:
        values = typing.get(locus)
        if values is None:
            continue
        pair: list[str | None] = []
        for i, value in enumerate(values, start=1):
            if value is None or not str(value).strip():
                pair.append(None)
                continue
            tokens = str(value).split("/")
            converted: list[str] = []
            for token in tokens:
                full = _full_token(locus, token)
                if full != "NEW" and _readable(nom, full, f"{locus}[{i}]"):
                    converted.append(token)
                    continue
                new = convert_name(nom, locus, token)
                if new is None:
                    unknown[(locus, i)] = (_allele_group(full), full)
                    break
                conversions.append(Conversion(locus, i, "name_conversion", (full,), (new,)))
                converted.append(new)
            pair.append(None if (locus, i) in unknown else "/".join(converted))
        out[locus] = pair
    return out, conversions, unknown


def _readable(nom: Nomenclature, token: str, where: str) -> bool:
    """Whether ``token`` reads at the release; a malformed one (syntax, unknown MAC) is a :class:`ValidationError`
    (step 1 stops reading a typing at its first unknown name, so later positions may not have been checked)."""
    try:
        nom.typing(token, lenient=True)
    except InvalidAlleleError:
        return False
    except HLAError as exc:
        raise ValidationError(f"{where}: {exc}", field=where) from None
    return True


def _allele_group(token: str) -> str:
    locus, _, rest = token.partition("*")
    first = rest.split(":")[0]
    return f"{locus}*{first}" if rest and first.isdigit() else ""


_SMALL_G_OF_GROUP: dict[int, tuple[GroupScheme, dict[str, frozenset[str]]]] = {}


def _small_g_of_group(scheme: GroupScheme) -> dict[str, frozenset[str]]:
    """Group of ``scheme``'s category → the small-g groups of its alleles (memoised per scheme)."""
    found = _SMALL_G_OF_GROUP.get(id(scheme))
    if found is None or found[0] is not scheme:
        acc: dict[str, set[str]] = {}
        for allele, group in scheme.group_of.items():
            acc.setdefault(group, set()).add(scheme.small_g_of.get(allele, allele))
        found = (scheme, {g: frozenset(s) for g, s in acc.items()})
        _SMALL_G_OF_GROUP[id(scheme)] = found
    return found[1]


def ard_equivalents(
    alleles: frozenset[str], locus: str, hfset: GroupedHFSet, scheme: GroupScheme
) -> tuple[frozenset[str], frozenset[str]]:
    """Step 2(b): (the groups of ``alleles`` absent from the set, the set's groups at ``locus`` sharing a small-g
    group with one of those alleles)."""
    known = frozenset(hfset.groups[hfset.loci.index(locus)])
    absent = [a for a in alleles if scheme.group_of.get(a, a) not in known]
    wanted = {scheme.small_g_of.get(a, a) for a in absent}
    small_g = _small_g_of_group(scheme)
    found = frozenset(g for g in known if small_g.get(g, frozenset()) & wanted)
    return frozenset(scheme.group_of.get(a, a) for a in absent), found


def ciwd_substitute(
    nom: Nomenclature, allele_group: str, hfset: GroupedHFSet, scheme: GroupScheme
) -> tuple[str, str, str | None] | None:
    """Step 3: (allele, its set group, CIWD status) of the most common allele of ``allele_group`` (``A*02``) whose
    group the set knows, or None. Ranked by CIWD status in the set's population, then the set's frequency of the
    group, then name (so the choice is reproducible)."""
    locus = allele_group.partition("*")[0]
    if locus not in hfset.loci:
        return None
    li = hfset.loci.index(locus)
    index = hfset.group_index(li)
    mass = np.bincount(hfset.codes[:, li], weights=hfset.freqs, minlength=len(hfset.groups[li])).tolist()
    population = CIWD_POPULATION_OF.get(hfset.info.population_id or "", "TOTAL")
    prefix = allele_group + ":"
    best: tuple[tuple[int, float, str], str, str, str | None] | None = None
    for allele, group in scheme.group_of.items():
        if not allele.startswith(prefix) or group not in index:
            continue
        found = nom.cwd_status(allele, "ciwd", population)
        status = found.status if found is not None else None
        key = (CIWD_RANK.get(status or "", len(CIWD_RANK)), -mass[index[group]], allele)
        if best is None or key < best[0]:
            best = (key, allele, group, status)
    return None if best is None else (best[1], best[2], best[3])


def recover(
    nom: Nomenclature,
    typing: SubjectTyping,
    reason: UnrepresentedReason,
    chain: Sequence[SetChoice],
    loci: tuple[str, ...],
    scheme_of: Callable[[Category], GroupScheme],
    imputer: Imputer,
) -> Recovery | FallbackRecord:
    """§8.3 steps 2 then 3 for a subject unrepresented after step 1 (for ``reason``); each step tries the sets of
    ``chain`` covering ``loci``, in order. Returns the first success, or the record of why both steps failed (a step
    with nothing to convert or substitute keeps ``reason``)."""
    converted, names, unknown = _convert_typing(nom, typing, loci)
    subject = interpret_subject(converted, nom, loci)
    if subject.problem is not None:
        return FallbackRecord(None, (), ((2, subject.problem), (3, subject.problem)))
    sets = [c for c in chain if set(loci) <= set(c.set.loci)]
    if unknown:
        new = any(not group for group, _ in unknown.values())
        step2: UnrepresentedReason = "new_allele" if new else "allele_not_in_release"
        step3: UnrepresentedReason = "new_allele" if new else reason
    else:
        step2 = step3 = reason
        for choice in sets:
            scheme = scheme_of(choice.set.info.category)
            groups = subject_groups(subject, scheme, loci)
            positions, changes = _with_equivalents(subject.positions, groups, choice.set, scheme)
            if not changes and not names:
                continue
            dist = imputer(SubjectGroups(positions, groups.shortcut), choice.set)
            if dist.is_represented:
                return Recovery(dist, choice, FallbackRecord(2, (*names, *changes)))
            step2 = dist.unrepresented or step2
    for choice in sets:
        scheme = scheme_of(choice.set.info.category)
        groups = subject_groups(subject, scheme, loci)
        positions, changes = _with_equivalents(subject.positions, groups, choice.set, scheme)
        substituted = _substitutions(nom, subject.positions, positions, unknown, choice.set, scheme)
        if isinstance(substituted, str):
            step3 = substituted
            continue
        if not substituted:
            continue
        for c in substituted:
            pair = list(positions.get(c.locus, (None, None)))
            pair[c.position - 1] = frozenset(c.used)
            positions[c.locus] = (pair[0], pair[1])
        dist = imputer(SubjectGroups(positions, None), choice.set)
        if dist.is_represented:
            return Recovery(dist, choice, FallbackRecord(3, (*names, *changes, *substituted)))
        step3 = dist.unrepresented or step3
    return FallbackRecord(None, (), ((2, step2), (3, step3)))


def _with_equivalents(
    alleles: Mapping[str, tuple[Position, Position]],
    groups: SubjectGroups,
    hfset: GroupedHFSet,
    scheme: GroupScheme,
) -> tuple[dict[str, tuple[Position, Position]], list[Conversion]]:
    """Step 2(b) on every typed position: the set's ABD-identical groups added for alleles whose group it lacks."""
    positions = dict(groups.positions)
    changes: list[Conversion] = []
    for locus, pair in alleles.items():
        new: list[Position] = list(positions[locus])
        for i, p in enumerate(pair):
            if p is None:
                continue
            absent, found = ard_equivalents(p, locus, hfset, scheme)
            added = found - (new[i] or frozenset())
            if added:
                new[i] = (new[i] or frozenset()) | added
                changes.append(Conversion(locus, i + 1, "ard_equivalence", tuple(sorted(absent)), tuple(sorted(added))))
        positions[locus] = (new[0], new[1])
    return positions, changes


def _substitutions(
    nom: Nomenclature,
    alleles: Mapping[str, tuple[Position, Position]],
    positions: Mapping[str, tuple[Position, Position]],
    unknown: Mapping[tuple[str, int], tuple[str, str]],
    hfset: GroupedHFSet,
    scheme: GroupScheme,
) -> list[Conversion] | UnrepresentedReason:
    """Step 3 for every position with no group of the set: a CIWD substitute each (an empty list when no position
    needs one). A position whose alleles span several allele groups, or whose allele group has no allele the set
    knows, cannot be substituted: its reason code is returned instead."""
    known = {loc: frozenset(hfset.groups[hfset.loci.index(loc)]) for loc in hfset.loci}
    needs: dict[tuple[str, int], tuple[str, tuple[str, ...]]] = {
        key: (group, (name,)) for key, (group, name) in unknown.items()
    }
    for locus, pair in positions.items():
        for i, p in enumerate(pair):
            if p is not None and not p & known[locus]:
                families = {_allele_group(a) for a in alleles[locus][i] or frozenset()}
                needs[(locus, i + 1)] = (families.pop() if len(families) == 1 else "", tuple(sorted(p)))
    out = []
    for (locus, i), (family, original) in sorted(needs.items()):
        if not family:
            return "new_allele" if original == ("NEW",) else "allele_not_in_hf_set"
        found = ciwd_substitute(nom, family, hfset, scheme)
        if found is None:
            return "allele_not_in_hf_set"
        allele, group, status = found
        out.append(Conversion(locus, i, "ciwd_substitution", original, (group,), allele, status))
    return out
