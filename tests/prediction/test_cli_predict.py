"""``graftwise impute`` and ``graftwise predict`` (§1 JSON field names)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graftwise.cli import app
from graftwise.cli._common import run_cli
from graftwise.cli.predict import parse_loci, typing_from_gl
from graftwise.errors import ValidationError

from .helpers import HIGH_RES, LOW_RES


def _write(tmp_path: Path, name: str, doc: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_predict_json_has_the_spec_field_names(tmp_path: Path) -> None:
    args = ["predict", "--patient", str(_write(tmp_path, "p.json", HIGH_RES))]
    args += ["--donor", str(_write(tmp_path, "d.json", LOW_RES)), "--population", "EUR", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert len(out["p_mismatch"]) == 5
    assert abs(sum(out["p_mismatch"]) + out["p_mismatch_more"] - 1) < 1e-12
    assert set(out["per_locus"]) == {"A", "B", "C", "DQB1", "DRB1"}
    assert all(len(v["p_mismatch"]) == 3 for v in out["per_locus"].values())
    for side in ("patient", "donor"):
        assert out[f"{side}_unrepresented"] is False
        assert out[f"{side}_hf_set"]["fallback_step"] == "population"
        assert out[f"{side}_hf_set"]["id"] == "NMDP_2007_FiveLocus_Freqs:EUR"
        assert out[f"{side}_kept_mass"] == pytest.approx(1.0, abs=1e-12)
    assert out["patient_unambiguous_shortcut"] is True
    assert out["predicted_denominator"] == 10


def test_predict_eight_of_eight_with_an_explicit_set(tmp_path: Path, data_root) -> None:  # type: ignore[no-untyped-def]
    grimm = data_root.path / "haplotype-frequencies/grimm-example/CAU.freqs.gz"
    args = ["predict", "--patient", str(_write(tmp_path, "p.json", {"hla": HIGH_RES, "ethnicity": "EUR"}))]
    args += ["--donor", str(_write(tmp_path, "d.json", LOW_RES)), "--population", "EUR"]
    args += ["--hf-set", str(grimm), "--loci", "8/8", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["loci"] == ["A", "B", "C", "DRB1"]
    assert out["donor_hf_set"]["id"] == "grimm:EUR"


def test_impute_json_lists_genotypes_and_pairs() -> None:
    gl = "A*01:AB+A*02:XX^B8+B7^DRB1*03:01+DR15"
    result = CliRunner().invoke(app, ["impute", "--typing", gl, "--population", "EUR", "--json", "--top", "3"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["unrepresented"] is False
    assert len(out["genotypes"]) == 3
    assert len(out["haplotype_pairs"]) == 3
    top = out["genotypes"][0]
    assert top["genotype"]["A"] == ["A*01:01", "A*02:01"]
    assert 0.9 < top["probability"] < 1
    assert out["kept_mass"] == pytest.approx(1.0, abs=1e-12)
    assert out["diplotypes"] >= 3


def test_cli_errors_are_one_line_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run_cli(app, ["impute", "--typing", "A*01:01+A*02:01|A*01:02+A*02:01", "--population", "EUR"])
    assert exc.value.code == 2
    assert "'|' is not supported" in " ".join(capsys.readouterr().err.split())
    with pytest.raises(SystemExit):
        run_cli(app, ["predict", "--patient", str(tmp_path / "none.json"), "--donor", str(tmp_path / "none.json")])
    assert "does not exist" in " ".join(capsys.readouterr().err.split())


def test_gl_and_loci_parsing() -> None:
    assert typing_from_gl("A*01:01+A2^DR3+DRB1*15:01") == {"A": ["A*01:01", "A2"], "DRB1": ["DR3", "DRB1*15:01"]}
    with pytest.raises(ValidationError, match="two position"):
        typing_from_gl("A*01:01")
    with pytest.raises(ValidationError, match="new locus"):
        typing_from_gl("A*01:01+A*02:01^A*03:01+A*11:01")
    assert parse_loci("8/8") == ("A", "B", "C", "DRB1")
    assert parse_loci("a, b ,drb1") == ("A", "B", "DRB1")
