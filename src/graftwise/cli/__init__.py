"""The ``graftwise`` command line: one sub-command group per package."""

from __future__ import annotations

import typer

from graftwise.cli import clinical, data, registry
from graftwise.cli._common import run_cli

app = typer.Typer(
    name="graftwise",
    help="graftwise: HLA nomenclature, donor search, match prediction, clinical scores and outcome analytics "
    "for blood-stem-cell transplantation.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(data.app, name="data")
app.add_typer(clinical.app, name="clinical")
app.add_typer(registry.app, name="registry")


def main() -> None:
    """Entry point of the ``graftwise`` script."""
    run_cli(app)
