"""Building HF sets and subjects directly in groups (the spec's worked examples are written that way)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graftwise.prediction import GroupedHFSet, PVocabulary, SetInfo, SubjectGroups
from graftwise.prediction.hfsets import Category

LOCI = ("A", "B", "C", "DQB1", "DRB1")
HIGH_RES = {
    "A": ["A*01:01", "A*02:01"],
    "B": ["B*08:01", "B*07:02"],
    "C": ["C*07:01", "C*07:02"],
    "DRB1": ["DRB1*03:01", "DRB1*15:01"],
    "DQB1": ["DQB1*02:01", "DQB1*06:02"],
}
"""A common EUR genotype at two fields (A1-B8-DR3 / A2-B7-DR15)."""
LOW_RES = {"A": ["A*01:AB", "A*02:XX"], "B": ["B8", "B7"], "DRB1": ["DR3", "DR15"]}
"""The same genotype as MAC, XX and serology at A, B, DRB1 only."""


def group_set(
    rows: Sequence[tuple[Sequence[str], float]],
    *,
    category: Category = "G",
    loci: tuple[str, ...] = LOCI,
    set_id: str = "test",
    registries: tuple[str, ...] = (),
    ethnicities: tuple[str, ...] = (),
    vocab: PVocabulary | None = None,
    p_keys: Mapping[str, str] | None = None,
) -> GroupedHFSet:
    """A set whose groups are their own P keys (each group a distinct P group, as in §7), unless ``p_keys`` maps a
    group (with locus) to another key, e.g. a null group to ``null:…``."""
    haps = [tuple(f"{loc}*{g}" for loc, g in zip(loci, names, strict=True)) for names, _ in rows]
    identity = {h[i]: h[i] for h in haps for i in range(len(loci))}
    identity.update(p_keys or {})
    keys: dict[str, set[str]] = {loc: set() for loc in loci}
    for group, key in identity.items():
        keys[group.partition("*")[0]].add(key)
    vocab = vocab or PVocabulary.of(keys)
    info = SetInfo(set_id, registries, ethnicities, None, "test", None, category, "test", sum(f for _, f in rows))
    return GroupedHFSet.from_groups(info, loci, haps, [f for _, f in rows], identity, vocab)


def subject(
    typing: Mapping[str, tuple[str | Sequence[str] | None, str | Sequence[str] | None]],
    p_keys: Mapping[str, str] | None = None,
) -> SubjectGroups:
    """Positions as group sets (a string is one group); the shortcut applies when every locus of LOCI has one group
    per position (in §7 each group is its own small-g group)."""
    positions = {}
    for loc, pair in typing.items():
        positions[loc] = tuple(
            None if p is None else frozenset(f"{loc}*{g}" for g in ([p] if isinstance(p, str) else p)) for p in pair
        )
    single = all(p is not None and len(p) == 1 for pair in positions.values() for p in pair)
    shortcut = (
        {loc: tuple(_key(next(iter(p)), p_keys) for p in pair) for loc, pair in positions.items()}  # type: ignore[arg-type]
        if single
        else None
    )
    return SubjectGroups(positions, shortcut)  # type: ignore[arg-type]


def _key(group: str, p_keys: Mapping[str, str] | None) -> str:
    return (p_keys or {}).get(group, group)
