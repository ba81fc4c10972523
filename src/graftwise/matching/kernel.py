"""The fused donor filter (matching.md §3.6; ARCHITECTURE.md "hot path", step 3).

One parallel pass over the donor arrays: donor type, availability and registry first (one byte each), then the
matched loci in the order given (most selective first), each gathering the two per-locus table bytes of the donor's
typing ids and computing max(direct, cross) (§3.2) after the single-null substitution (§3.3). A donor leaves the
loop at the first locus that fails its own limit or makes the running mismatch total exceed the allowed total.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
import numpy.typing as npt
from numba import prange

CHUNK = 1 << 16


def _pair_counts() -> npt.NDArray[np.int8]:
    """Locus count for every pair of table codes (3 bits each: matches P1, matches P2, is null), §3.2–§3.3.

    Positions are already homozygous-copied, so a null is never beside an untyped position: a single null takes its
    partner's code (the locus is homozygous for the expressing partner), then count = max(direct, cross).
    """
    out = np.zeros(64, dtype=np.int8)
    for ca in range(8):
        for cb in range(8):
            a, b = ca, cb
            if a & 4 and not b & 4:
                a = b
            elif b & 4 and not a & 4:
                b = a
            direct = (a & 1) + ((b >> 1) & 1)
            cross = (b & 1) + ((a >> 1) & 1)
            out[ca * 8 + cb] = max(direct, cross)
    return out


PAIR_COUNTS = _pair_counts()


@numba.njit(inline="always", cache=True, boundscheck=False)
def _locus_count(a: int, b: int, table: npt.NDArray[np.uint8], pair_counts: npt.NDArray[np.int8]) -> int:
    a = a if a != 0 else b  # one typed position: homozygous
    b = b if b != 0 else a
    return pair_counts[table[a] * 8 + table[b]]  # type: ignore[no-any-return]


@numba.njit(parallel=True, cache=True, boundscheck=False)
def _filter(
    hla: tuple[npt.NDArray[np.int32], ...],
    tables: tuple[npt.NDArray[np.uint8], ...],
    min_count: npt.NDArray[np.int64],
    max_mismatches: int,
    exact: bool,
    donor_type: npt.NDArray[np.int8],
    want_type: int,
    searchable: npt.NDArray[np.bool_],
    registry: npt.NDArray[np.int16],
    registry_ok: npt.NDArray[np.bool_],
    use_registry: bool,
    pair_counts: npt.NDArray[np.int8],
    out: npt.NDArray[np.bool_],
) -> None:
    n = donor_type.shape[0]
    nloci = len(tables)
    chunks = (n + CHUNK - 1) // CHUNK
    first_h = hla[0]
    first_table = tables[0]
    first_need = max(min_count[0], 2 - max_mismatches)
    for c in prange(chunks):
        start = c * CHUNK
        end = min(n, start + CHUNK)
        for i in range(start, end):
            # the most selective locus on every donor, without branches; the rest only for its survivors
            cnt = _locus_count(first_h[i, 0], first_h[i, 1], first_table, pair_counts)
            ok = (cnt >= first_need) & (donor_type[i] == want_type) & searchable[i]
            if ok and use_registry:
                ok = registry_ok[registry[i]]
            if ok:
                mism = 2 - cnt
                k = 1
                while ok and k < nloci:
                    h = hla[k]
                    cnt = _locus_count(h[i, 0], h[i, 1], tables[k], pair_counts)
                    mism += 2 - cnt
                    if cnt < min_count[k] or mism > max_mismatches:
                        ok = False
                    k += 1
                if ok and exact and mism != max_mismatches:
                    ok = False
            out[i] = ok


@numba.njit(cache=True, boundscheck=False)  # survivors are few; a parallel launch costs more than it saves
def _counts(
    hla: tuple[npt.NDArray[np.int32], ...],
    tables: tuple[npt.NDArray[np.uint8], ...],
    rows: npt.NDArray[np.int64],
    pair_counts: npt.NDArray[np.int8],
    out: npt.NDArray[np.int8],
) -> None:
    for j in range(rows.shape[0]):
        i = rows[j]
        for k in range(len(tables)):
            h = hla[k]
            out[j, k] = _locus_count(h[i, 0], h[i, 1], tables[k], pair_counts)


def filter_donors(
    hla: Sequence[npt.NDArray[np.int32]],
    tables: Sequence[npt.NDArray[np.uint8]],
    allowed: Sequence[int],
    total: int,
    include_better: bool,
    donor_type: npt.NDArray[np.int8],
    want_type: int,
    searchable: npt.NDArray[np.bool_],
    registry: npt.NDArray[np.int16],
    registry_ok: npt.NDArray[np.bool_] | None,
) -> npt.NDArray[np.int64]:
    """Rows of the donors that pass §3.6, ascending. ``hla``/``tables``/``allowed`` are per matched locus."""
    out = np.empty(donor_type.shape[0], dtype=np.bool_)
    min_count = np.array([2 - a for a in allowed], dtype=np.int64)
    ok = registry_ok if registry_ok is not None else np.ones(1, dtype=np.bool_)
    _filter(
        tuple(hla),
        tuple(tables),
        min_count,
        min(total, 2 * len(tables)),
        not include_better,
        donor_type,
        want_type,
        searchable,
        registry,
        ok,
        registry_ok is not None,
        PAIR_COUNTS,
        out,
    )
    return np.flatnonzero(out)


def locus_counts(
    hla: Sequence[npt.NDArray[np.int32]], tables: Sequence[npt.NDArray[np.uint8]], rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.int8]:
    """(rows, loci) filter counts of the given donors (§3.2)."""
    out = np.empty((rows.shape[0], len(tables)), dtype=np.int8)
    if rows.shape[0] and tables:
        _counts(tuple(hla), tuple(tables), rows, PAIR_COUNTS, out)
    return out
