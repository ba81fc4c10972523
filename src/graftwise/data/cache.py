"""Compiled caches: pickles written atomically (safe when several processes build the same cache at once)."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def read_cached(path: Path, kind: type[T]) -> T | None:
    """The cached value at ``path`` if it is there and of ``kind``; None for a missing, torn or stale file."""
    try:
        with path.open("rb") as fh:
            value = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return value if isinstance(value, kind) else None


def write_cached(path: Path, value: object, *, stale_glob: str | None = None) -> None:
    """Write ``value`` to ``path`` through a temporary file and an atomic rename; then remove other files of the
    folder matching ``stale_glob`` (caches built from older sources)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if stale_glob:
        for old in path.parent.glob(stale_glob):
            if old != path and not old.name.endswith(".tmp"):
                old.unlink(missing_ok=True)
