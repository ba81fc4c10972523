"""The ``graftwise registry`` commands end to end on a small registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graftwise.cli import app

runner = CliRunner()


def test_generate_stats_export_import_check(tmp_path: Path) -> None:
    reg = tmp_path / "reg"
    out = runner.invoke(app, ["registry", "generate", "-n", "800", "-s", "5", "-o", str(reg), "--mix", "70,20,5,5"])
    assert out.exit_code == 0, out.output
    stats = runner.invoke(app, ["registry", "stats", str(reg), "--json"])
    assert stats.exit_code == 0, stats.output
    data = json.loads(stats.stdout)
    assert data["n"] == 800
    assert set(data["resolution"]) == {"A", "B", "C", "DRB1", "DQB1", "DPB1"}
    table = runner.invoke(app, ["registry", "stats", str(reg)])
    assert "typing resolution per locus" in table.stdout
    export = tmp_path / "e.csv"
    assert runner.invoke(app, ["registry", "export", str(reg), "--out", str(export), "--format", "csv"]).exit_code == 0
    xml = runner.invoke(app, ["registry", "export", str(reg), "--out", str(tmp_path / "e.xml"), "--format", "xml"])
    assert xml.exit_code != 0
    assert "format 'xml' must be json or csv" in str(xml.exception)
    copy = tmp_path / "copy"
    imported = runner.invoke(
        app, ["registry", "import", str(export), "--registry", str(copy), "--mode", "full", "--json"]
    )
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert (report["new"], report["failed"]) == (800, 0)
    request = tmp_path / "ids.json"
    request.write_text(json.dumps({"registry": "9991", "donor_type": "D", "donors": []}))
    orphans = runner.invoke(app, ["registry", "check-ids", str(request), "--registry", str(copy)])
    assert orphans.exit_code == 0, orphans.output
    assert len(json.loads(orphans.stdout)["orphans"]) > 0


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["registry", "generate", "-n", "10", "-o", str(tmp_path / "x"), "--mix", "1,2,3"])
    assert bad.exit_code != 0
    assert isinstance(bad.exception, Exception)
    assert "mix" in str(bad.exception)


def test_progress_total_is_the_record_count_or_an_estimate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graftwise.cli import registry as cli_registry

    donors = [{"record_id": f"D-{i}", "hla": {}} for i in range(500)]
    lines = tmp_path / "lines.json"
    lines.write_text('{"update_mode": "diff", "donors": [\n' + ",\n".join(map(json.dumps, donors)) + "\n]}\n")
    whole = tmp_path / "whole.json"
    whole.write_text(json.dumps({"update_mode": "diff", "donors": donors}))
    table = tmp_path / "donors.csv"
    table.write_text("record_id,change_type\n" + "".join(f"D-{i},N\n" for i in range(500)))
    assert cli_registry._estimated_records(lines) == 500
    assert cli_registry._estimated_records(table) == 500
    assert cli_registry._estimated_records(whole) is None  # not one donor per line
    assert cli_registry._estimated_records(tmp_path / "missing.csv") is None
    monkeypatch.setattr(cli_registry, "_SAMPLE", 2000)  # a large file: estimated from its head
    for path in (lines, table):
        estimate = cli_registry._estimated_records(path)
        assert estimate is not None, path.name
        assert 450 <= estimate <= 550, (path.name, estimate)
