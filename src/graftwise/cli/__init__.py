"""The ``graftwise`` command line: one sub-command group per package."""

from __future__ import annotations

import typer

from graftwise.cli import clinical, data, demo, hla, outcomes, predict, registry, search
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
app.add_typer(hla.app, name="hla")
app.command("demo")(demo.demo)
app.add_typer(outcomes.app, name="outcomes")
app.add_typer(registry.app, name="registry")
app.command("search")(search.search)
app.command("score")(search.score)
app.command("impute")(predict.impute)
app.command("predict")(predict.predict)


def main() -> None:
    """Entry point of the ``graftwise`` script."""
    run_cli(app)
