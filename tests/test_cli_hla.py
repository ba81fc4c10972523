"""The ``graftwise hla`` and ``graftwise data fetch`` commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graftwise.cli import app
from graftwise.data import DataRoot
from graftwise.data.fetch import fetch_release
from graftwise.errors import ReferenceDataError


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_reduce_arguments(runner: CliRunner) -> None:
    result = runner.invoke(app, ["hla", "reduce", "--release", "3.58.0", "--to", "G", "B*07:02", "A*01:01:01:01"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["B*07:02:01G/B*07:02:75G", "A*01:01:01G"]


def test_reduce_stdin_batch_goes_on_after_a_bad_line(runner: CliRunner) -> None:
    lines = "A*01:01:01:01\nA*99:99\nC*02:10\n"
    result = runner.invoke(app, ["hla", "reduce", "-r", "3.58.0"], input=lines)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["A*01:01", "", "C*02:02/C*02:10"]
    assert "A*99:99" in result.stderr
    assert "InvalidAlleleError" in result.stderr


def test_gl_string_code_uses_its_own_release(runner: CliRunner) -> None:
    result = runner.invoke(app, ["hla", "reduce", "-r", "3.58.0", "hla#3.44.0#HLA-C*02:10"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "hla#3.44.0#HLA-C*02:10"
    g = runner.invoke(app, ["hla", "reduce", "--to", "G", "hla#3.44.0#C*02:10"])
    assert g.stdout.strip() == "hla#3.44.0#C*02:10:01G"
    unknown = runner.invoke(app, ["hla", "reduce", "hla#9.99.0#A*01:01"])
    assert unknown.exit_code == 1
    assert "9.99.0" in unknown.stderr


def test_reduce_compat_mode(runner: CliRunner) -> None:
    result = runner.invoke(app, ["hla", "reduce", "-r", "3.58.0", "--compat", "py-ard", "C*02:10"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "C*02:02"
    bad = runner.invoke(app, ["hla", "reduce", "--compat", "atlas", "C*02:10"])
    assert bad.exit_code != 0
    wrong_type = runner.invoke(app, ["hla", "reduce", "--to", "Q", "C*02:10"])
    assert wrong_type.exit_code != 0
    assert "--to" in wrong_type.output


def test_reduce_json_shape(runner: CliRunner) -> None:
    result = runner.invoke(app, ["hla", "reduce", "-r", "3.58.0", "--json", "--to", "S"], input="B*15:01\nA*01:01++\n")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert rows[0] == {"input": "B*15:01", "output": "B15/B62/B70", "error": None}
    assert rows[1]["input"] == "A*01:01++"
    assert rows[1]["output"] is None
    assert "GLSyntaxError" in rows[1]["error"]
    assert "position 8" in rows[1]["error"]


def test_reduce_all_good_exits_zero_with_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["hla", "reduce", "-r", "3.58.0", "--json", "A*01:AB"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [{"input": "A*01:AB", "output": "A*01:01/A*01:02", "error": None}]


def test_validate_and_expand_mac(runner: CliRunner) -> None:
    ok = runner.invoke(app, ["hla", "validate", "-r", "3.58.0", "A*01:01+A*02:01", "A*01:04"])
    assert ok.exit_code == 0
    assert ok.stdout.splitlines()[0] == "valid"
    assert "warning" in ok.stdout.splitlines()[1]
    bad = runner.invoke(app, ["hla", "validate", "-r", "3.58.0", "A*01:34N"])
    assert bad.exit_code == 1
    assert "RenamedAlleleError" in bad.stderr
    mac = runner.invoke(app, ["hla", "expand-mac", "-r", "3.58.0", "DPB1*04:FNW"])
    assert mac.stdout.strip() == "DPB1*04:01/DPB1*20:01"


def _fetch_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: Path) -> None:
    monkeypatch.delenv("GRAFTWISE_DATA", raising=False)
    monkeypatch.setenv("GRAFTWISE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GRAFTWISE_IMGT_URL", source.as_uri() + "/")


def test_data_fetch_from_a_file_url(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_root: DataRoot
) -> None:
    _fetch_env(monkeypatch, tmp_path, data_root.imgthla)
    result = runner.invoke(app, ["data", "fetch", "--release", "3.58.0"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "cache" / "data" / "imgthla" / "Latest"
    assert (folder / "wmda" / "hla_nom_g.txt").read_bytes() == (
        data_root.imgthla / "Latest/wmda/hla_nom_g.txt"
    ).read_bytes()
    assert "verified" in result.stdout
    listed = runner.invoke(app, ["data", "list"])
    assert "3.58.0" in listed.stdout
    reduced = runner.invoke(app, ["hla", "reduce", "-r", "3.58.0", "A*01:01:01:01"])
    assert reduced.stdout.strip() == "A*01:01"


def test_data_ensure_fetches_a_missing_release(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_root: DataRoot
) -> None:
    _fetch_env(monkeypatch, tmp_path, data_root.imgthla)
    result = runner.invoke(app, ["data", "ensure", "--release", "3.44.0"])
    assert result.exit_code == 0, result.output
    assert DataRoot(tmp_path / "cache" / "data").release_files("3.44.0").release == "3.44.0"


def test_checksum_mismatch_is_a_reference_data_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_root: DataRoot
) -> None:
    source = tmp_path / "mirror"
    shutil.copytree(data_root.imgthla / "3440", source / "3440")
    with (source / "3440" / "wmda" / "hla_nom_p.txt").open("a") as fh:
        fh.write("# tampered\n")
    _fetch_env(monkeypatch, tmp_path, source)
    with pytest.raises(ReferenceDataError) as err:
        fetch_release("3.44.0", tmp_path / "cache" / "data")
    assert err.value.code == "checksum_mismatch"
    assert "hla_nom_p.txt" in str(err.value)
    assert not (tmp_path / "cache" / "data" / "imgthla" / "3440" / "wmda" / "hla_nom_p.txt").exists()


def test_fetch_of_an_unknown_release_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_root: DataRoot
) -> None:
    _fetch_env(monkeypatch, tmp_path, data_root.imgthla)
    with pytest.raises(ReferenceDataError, match=r"3\.99\.0"):
        fetch_release("3.99.0", tmp_path / "cache" / "data")
