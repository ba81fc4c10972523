"""``graftwise demo``: generates its registry once into the cache, then searches it for a patient drawn from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graftwise.cli import app


def test_demo_generates_once_then_searches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRAFTWISE_CACHE", str(tmp_path))
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--donors", "5000", "--limit", "3"])
    assert first.exit_code == 0, first.output
    assert "Generating a synthetic registry of 5,000 donors" in first.stderr
    assert "Patient (EUR)" in first.stdout
    found = re.search(r"(\d+) donor\(s\) match", first.stdout)
    assert found is not None
    assert int(found.group(1)) >= 1  # the donor the patient was drawn from matches at least potentially
    assert "P(0 mm)" in first.stdout
    folders = list((tmp_path / "demo").iterdir())
    assert [f.name for f in folders if f.is_dir()] == ["registry-3.58.0-5000-seed1"]
    again = runner.invoke(app, ["demo", "--donors", "5000", "--limit", "3"])
    assert again.exit_code == 0, again.output
    assert "Generating" not in again.stderr
    assert again.stdout == first.stdout.replace(_timings(first.stdout), _timings(again.stdout))


def _timings(text: str) -> str:
    match = re.search(r"\(filter [^)]*\)", text)
    assert match is not None
    return match.group()
