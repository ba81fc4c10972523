"""``graftwise clinical <name> --input case.json``: every clinical calculator, JSON in and out."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from graftwise.cli._common import print_json
from graftwise.clinical import calculators
from graftwise.errors import ValidationError

app = typer.Typer(
    help="Clinical calculators (GVHD grading, risk scores, engraftment, graft dose, …): JSON case in, JSON result out.",
    no_args_is_help=True,
)


def _register(name: str, summary: str) -> None:
    def command(
        input: Path = typer.Option(..., "--input", "-i", help="Case file (JSON); schema in docs/clinical/."),
    ) -> None:
        try:
            data = json.loads(input.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{input}: not valid JSON (line {exc.lineno}: {exc.msg})", field="input") from None
        print_json(calculators()[name].run(data).model_dump(mode="json"))

    command.__doc__ = summary
    app.command(name, help=summary)(command)


for _name, _calc in calculators().items():
    _register(_name, _calc.summary)
