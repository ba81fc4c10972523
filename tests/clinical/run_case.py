"""Running a clinical calculator case through the real CLI, as a user would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from graftwise.cli import app


def cli_json(name: str, case: Any, tmp_path: Path) -> dict[str, Any]:
    """Write ``case`` to a file, run ``graftwise clinical <name> --input <file>`` and return the parsed JSON output."""
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    return cli_file(name, path)


def cli_file(name: str, path: Path) -> dict[str, Any]:
    """Run ``graftwise clinical <name> --input <path>``; the command must succeed and print one JSON object."""
    result = CliRunner().invoke(app, ["clinical", name, "--input", str(path)])
    assert result.exit_code == 0, f"{name} {path}: exit {result.exit_code}: {result.output} {result.exception!r}"
    out: dict[str, Any] = json.loads(result.stdout)
    return out
