"""``graftwise data``: where the reference data is, which releases it holds, and fetching a release."""

from __future__ import annotations

import os

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TransferSpeedColumn

from graftwise.cli._common import console
from graftwise.data import ENV_DATA, DataRoot, UnknownReleaseError, cache_dir
from graftwise.data.fetch import FetchResult, fetch_release, imgt_base_url

app = typer.Typer(help="Reference data: list the IPD-IMGT/HLA releases available, fetch one, make sure one is there.")


@app.command("list")
def list_releases() -> None:
    """List the data root in use and the IPD-IMGT/HLA releases it holds."""
    root = DataRoot.discover()
    console.print(f"data root: {root.path}")
    branches = root.branches()
    if not branches:
        console.print("no releases; run 'graftwise data fetch --release 3.58.0'")
        return
    for branch, release in branches.items():
        console.print(f"  {release:<8} (folder imgthla/{branch})")


def _fetch(release: str) -> FetchResult:
    target = cache_dir() / "data"
    console.print(f"fetching IPD-IMGT/HLA {release} from {imgt_base_url()} into {target}")
    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=console
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def report(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total or None)
            bar.update(tasks[name], completed=done, total=total or None)

        result = fetch_release(release, target, progress=report)
    console.print(
        f"IPD-IMGT/HLA {result.release}: {len(result.files)} files in {result.folder}, "
        f"{len(result.verified)} verified against IMGT's MD5 checksums"
    )
    return result


@app.command("fetch")
def fetch(
    release: str = typer.Option("3.58.0", "--release", "-r", help="Release to download, e.g. 3.58.0 or Latest."),
) -> None:
    """Download a release's nomenclature files from the official IPD-IMGT/HLA repository into the user cache
    (base URL from $GRAFTWISE_IMGT_URL if set), checking IMGT's MD5 checksums."""
    _fetch(release)


@app.command("ensure")
def ensure(
    release: str = typer.Option("3.58.0", help="Release that must be available, e.g. 3.58.0 or Latest."),
) -> None:
    """Make sure RELEASE is available: use the data root, or fetch it into the user cache when GRAFTWISE_DATA is
    not set."""
    try:
        files = DataRoot.discover().release_files(release)
    except UnknownReleaseError:
        if os.environ.get(ENV_DATA):
            raise
        _fetch(release)
        files = DataRoot.discover().release_files(release)
    console.print(f"IPD-IMGT/HLA {files.release} available at {files.branch_dir}")
