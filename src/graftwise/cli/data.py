"""``graftwise data``: where the reference data is and which releases it holds."""

from __future__ import annotations

import typer

from graftwise.cli._common import console
from graftwise.data import DataRoot

app = typer.Typer(help="Reference data: list the IPD-IMGT/HLA releases available, make sure one is there.")


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


@app.command("ensure")
def ensure(
    release: str = typer.Option("3.58.0", help="Release that must be available, e.g. 3.58.0 or Latest."),
) -> None:
    """Check that RELEASE is available in the data root; fail with a hint if it is not."""
    files = DataRoot.discover().release_files(release)
    console.print(f"IPD-IMGT/HLA {files.release} available at {files.branch_dir}")
