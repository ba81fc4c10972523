"""Building HF sets and subjects directly in groups (the spec's worked examples are written that way)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graftwise.prediction import GroupedHFSet, PVocabulary, SetInfo, SubjectGroups
from graftwise.prediction.hfsets import Category

LOCI = ("A", "B", "C", "DQB1", "DRB1")


def group_set(
    rows: Sequence[tuple[Sequence[str], float]],
    *,
    category: Category = "G",
    loci: tuple[str, ...] = LOCI,
    set_id: str = "test",
    registries: tuple[str, ...] = (),
    ethnicities: tuple[str, ...] = (),
    vocab: PVocabulary | None = None,
    extra_keys: Mapping[str, Sequence[str]] | None = None,
) -> GroupedHFSet:
    """A set whose groups are their own P keys (each group a distinct P group, as in §7)."""
    haps = [tuple(f"{loc}*{g}" for loc, g in zip(loci, names, strict=True)) for names, _ in rows]
    keys: dict[str, set[str]] = {loc: {h[i] for h in haps} for i, loc in enumerate(loci)}
    for loc, extra in (extra_keys or {}).items():
        keys[loc].update(extra)
    vocab = vocab or PVocabulary.of(keys)
    info = SetInfo(set_id, registries, ethnicities, None, "test", None, category, "test", sum(f for _, f in rows))
    identity = {g: g for ks in keys.values() for g in ks}
    return GroupedHFSet.from_groups(info, loci, haps, [f for _, f in rows], identity, vocab)


def subject(
    typing: Mapping[str, tuple[str | Sequence[str] | None, str | Sequence[str] | None]],
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
        {loc: (next(iter(pair[0])), next(iter(pair[1]))) for loc, pair in positions.items()}  # type: ignore[arg-type]
        if single
        else None
    )
    return SubjectGroups(positions, shortcut)  # type: ignore[arg-type]
