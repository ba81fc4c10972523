"""Helpers shared by every CLI group: error rendering, progress bars and JSON output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from graftwise.data import DataRoot
from graftwise.errors import GraftwiseError
from graftwise.hla import Nomenclature

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def run_cli(app: typer.Typer, args: list[str] | None = None) -> None:
    """Run ``app``; a :class:`GraftwiseError` becomes one clear line on stderr and exit status 2."""
    try:
        app(args=args)
    except GraftwiseError as exc:
        where = f" [{exc.field}]" if exc.field else ""
        err_console.print(f"[bold red]error[/] ({exc.code}){escape(where)}: {escape(str(exc))}", highlight=False)
        sys.exit(2)


@functools.lru_cache(maxsize=4)
def _load(release: str, root: DataRoot) -> Nomenclature:
    return Nomenclature.load(release, root)


def nomenclature(release: str) -> Nomenclature:
    """The nomenclature of ``release`` in the current data root, loaded once per process."""
    return _load(release, DataRoot.discover())


@contextmanager
def progress_bar(label: str) -> Iterator[Progress]:
    """A progress bar on stderr, so stdout stays clean for ``--json``."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        yield progress


def print_json(value: Any) -> None:
    """Write ``value`` as JSON on stdout (plain, so it can be piped)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
