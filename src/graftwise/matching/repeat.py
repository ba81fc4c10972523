"""Repeat search (matching.md §8): the diff of a search against its stored canonical result set.

A search saved under an id keeps its canonical result set (every donor code that passed, not just a page) and the
request, in ``<registry>/searches/<id>.json``: beside the registry store, never inside it, because searches open
the store read-only. A repeat search must send the identical request (paging aside), an ``original_search_id`` and a
``cutoff`` (normally the previous run's ``matching_started_at``); it returns

* ``new_matches``: donors that match now and are not in the canonical set (full results);
* ``updated_matches``: donors of the canonical set that still match and were updated after the cut-off (full
  results). "Updated" is the store's ``updated_at``: the upload time of the file that last changed the donor;
* ``no_longer_matching``: codes of the canonical set that no longer pass the filter, including donors deleted or
  made unavailable (the registry never hard-deletes; such donors are simply not searchable);

and then replaces the canonical set with the current one.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from graftwise.errors import ValidationError
from graftwise.matching.request import SearchRequest
from graftwise.matching.result import DonorResult, SearchResult
from graftwise.matching.search import DonorSearch, SearchColumns
from graftwise.registry import Registry

SEARCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PAGING_FIELDS = frozenset({"offset", "limit"})
"""Request fields that are not search criteria: a repeat may page differently."""

DonorUpdates = Callable[[Sequence[int]], list[tuple[str, dt.datetime | None]]]
"""Registry rows → (donor code, last update time in UTC) for each row, in order."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CanonicalResultSet(_Frozen):
    """What a saved search remembers: its request and the codes of every donor that passed the filter."""

    search_id: str
    request: SearchRequest
    matching_release: str
    matching_started_at: str
    donor_codes: list[str]


class RepeatResult(_Frozen):
    """A repeat search's diff against the canonical set (§8)."""

    search_id: str
    cutoff: str
    matching_release: str
    matching_started_at: str
    donor_count: int
    previous_donor_count: int
    new_matches: list[DonorResult]
    updated_matches: list[DonorResult]
    no_longer_matching: list[str]


def registry_updates(registry: Registry) -> DonorUpdates:
    """Donor codes and update times from a registry's store."""

    def lookup(rows: Sequence[int]) -> list[tuple[str, dt.datetime | None]]:
        table = registry.store.fetch_rows(list(rows))
        codes = table.column("donor_id").to_pylist()
        times = table.column("updated_at").to_pylist()
        return list(zip(codes, times, strict=True))

    return lookup


class SearchStore:
    """Canonical result sets, one JSON file per search id in ``folder`` (e.g. ``<registry>/searches``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, search_id: str) -> Path:
        if not SEARCH_ID.match(search_id):
            raise ValidationError(
                f"search id {search_id!r}: expected 1–64 letters, digits, '_', '-' or '.', starting with a letter "
                "or digit",
                field="search_id",
            )
        return self.folder / f"{search_id}.json"

    def exists(self, search_id: str) -> bool:
        return self._path(search_id).is_file()

    def load(self, search_id: str) -> CanonicalResultSet:
        path = self._path(search_id)
        if not path.is_file():
            raise ValidationError(f"no saved search {search_id!r} in {self.folder}", field="original_search_id")
        return CanonicalResultSet.model_validate_json(path.read_text(encoding="utf-8"))

    def write(self, canonical: CanonicalResultSet) -> None:
        """Write atomically (temporary file, then rename), so a reader never sees half a set."""
        path = self._path(canonical.search_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(canonical.model_dump_json(), encoding="utf-8")
        os.replace(tmp, path)


def _codes(columns: SearchColumns, updates: DonorUpdates) -> list[tuple[int, str, dt.datetime | None]]:
    rows = [int(r) for r in columns.rows.tolist()]
    found = updates(rows) if rows else []
    return [(row, code, when) for row, (code, when) in zip(rows, found, strict=True)]


def save_search(
    engine: DonorSearch, request: SearchRequest, search_id: str, store: SearchStore, updates: DonorUpdates
) -> tuple[SearchResult, CanonicalResultSet]:
    """Run a search, store its canonical result set under a new ``search_id`` and return the requested page."""
    if store.exists(search_id):
        raise ValidationError(
            f"a search is already saved as {search_id!r}; repeat it or choose another id", field="search_id"
        )
    columns = engine.run(request)
    result = engine.page(columns, request.offset, request.limit)
    canonical = CanonicalResultSet(
        search_id=search_id,
        request=request,
        matching_release=result.matching_release,
        matching_started_at=result.matching_started_at,
        donor_codes=sorted(code for _, code, _ in _codes(columns, updates)),
    )
    store.write(canonical)
    return result, canonical


def request_differences(original: SearchRequest, repeat: SearchRequest) -> list[str]:
    """Every criterion that differs, as ``path (original …, now …)``; paging is not compared."""
    first = _flatten(original.model_dump(mode="json", exclude=set(PAGING_FIELDS)))
    second = _flatten(repeat.model_dump(mode="json", exclude=set(PAGING_FIELDS)))
    return [
        f"{key} (original {first.get(key)!r}, now {second.get(key)!r})"
        for key in sorted(first.keys() | second.keys())
        if first.get(key) != second.get(key)
    ]


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(_flatten(item, f"{path}."))
        else:
            out[path] = item
    return out


def parse_cutoff(text: str) -> dt.datetime:
    """An ISO 8601 time as naive UTC (the store's convention); a time without offset is taken as UTC."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"cutoff {text!r}: expected an ISO 8601 time such as 2026-01-10T12:00:00+00:00", field="cutoff"
        ) from None
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo is not None else when


def repeat_search(
    engine: DonorSearch,
    request: SearchRequest,
    original_search_id: str,
    cutoff: dt.datetime,
    store: SearchStore,
    updates: DonorUpdates,
) -> RepeatResult:
    """Repeat a saved search (§8) and replace its canonical set with the current one. ``cutoff`` is UTC (naive, or
    aware and converted)."""
    canonical = store.load(original_search_id)
    differences = request_differences(canonical.request, request)
    if differences:
        raise ValidationError(
            f"a repeat search must send the original request of {original_search_id!r}; it differs in "
            + "; ".join(differences),
            field="request",
        )
    if cutoff.tzinfo is not None:
        cutoff = cutoff.astimezone(dt.UTC).replace(tzinfo=None)
    columns = engine.run(request)
    current = _codes(columns, updates)
    before = set(canonical.donor_codes)
    now = {code for _, code, _ in current}
    new_rows = [row for row, code, _ in current if code not in before]
    updated_rows = [row for row, code, when in current if code in before and when is not None and when > cutoff]
    result = RepeatResult(
        search_id=original_search_id,
        cutoff=cutoff.replace(tzinfo=dt.UTC).isoformat(),
        matching_release=engine.interp.release,
        matching_started_at=columns.started_at,
        donor_count=len(current),
        previous_donor_count=len(before),
        new_matches=engine.results_at_rows(columns, new_rows),
        updated_matches=engine.results_at_rows(columns, updated_rows),
        no_longer_matching=sorted(before - now),
    )
    store.write(
        canonical.model_copy(
            update={
                "matching_release": result.matching_release,
                "matching_started_at": result.matching_started_at,
                "donor_codes": sorted(now),
            }
        )
    )
    return result


__all__ = [
    "CanonicalResultSet",
    "RepeatResult",
    "SearchStore",
    "parse_cutoff",
    "registry_updates",
    "repeat_search",
    "request_differences",
    "save_search",
]
