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


@numba.njit(inline="always", cache=True)
def _locus_count(a: int, b: int, table: npt.NDArray[np.uint8]) -> int:
    if a == 0:
        a = b
    if b == 0:
        b = a
    ca = table[a]
    cb = table[b]
    a_null = (ca & 4) != 0
    b_null = (cb & 4) != 0
    if a_null and not b_null and b != 0:
        ca = cb
    elif b_null and not a_null and a != 0:
        cb = ca
    direct = (ca & 1) + ((cb >> 1) & 1)
    cross = (cb & 1) + ((ca >> 1) & 1)
    return direct if direct > cross else cross  # type: ignore[no-any-return]


@numba.njit(parallel=True, cache=True)
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
    out: npt.NDArray[np.bool_],
) -> None:
    n = donor_type.shape[0]
    nloci = len(tables)
    chunks = (n + CHUNK - 1) // CHUNK
    for c in prange(chunks):
        start = c * CHUNK
        end = min(n, start + CHUNK)
        for i in range(start, end):
            ok = donor_type[i] == want_type and searchable[i]
            if ok and use_registry:
                ok = registry_ok[registry[i]]
            mism = 0
            k = 0
            while ok and k < nloci:
                h = hla[k]
                cnt = _locus_count(h[i, 0], h[i, 1], tables[k])
                mism += 2 - cnt
                if cnt < min_count[k] or mism > max_mismatches:
                    ok = False
                k += 1
            if ok and exact and mism != max_mismatches:
                ok = False
            out[i] = ok


@numba.njit(parallel=True, cache=True)
def _counts(
    hla: tuple[npt.NDArray[np.int32], ...],
    tables: tuple[npt.NDArray[np.uint8], ...],
    rows: npt.NDArray[np.int64],
    out: npt.NDArray[np.int8],
) -> None:
    for j in prange(rows.shape[0]):
        i = rows[j]
        for k in range(len(tables)):
            h = hla[k]
            out[j, k] = _locus_count(h[i, 0], h[i, 1], tables[k])


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
        out,
    )
    return np.flatnonzero(out)


def locus_counts(
    hla: Sequence[npt.NDArray[np.int32]], tables: Sequence[npt.NDArray[np.uint8]], rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.int8]:
    """(rows, loci) filter counts of the given donors (§3.2)."""
    out = np.empty((rows.shape[0], len(tables)), dtype=np.int8)
    if rows.shape[0] and tables:
        _counts(tuple(hla), tuple(tables), rows, out)
    return out
