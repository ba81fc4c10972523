"""The result shape every clinical calculator shares (clinical spec, conventions): checked on every example case."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pydantic
import pytest

from graftwise.clinical import ClinicalInput, ClinicalResult, Notice, calculators

from .run_case import cli_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "clinical"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "clinical"
COMMON = {"rule", "citation", "rules_version", "confidence", "warnings", "inputs"}


def test_eleven_calculators_each_with_an_example() -> None:
    names = set(calculators())
    assert len(names) == 11
    assert names == {p.stem for p in EXAMPLES.glob("*.json")}


@pytest.mark.parametrize("name", sorted(calculators()))
def test_example_output_has_the_common_fields(name: str) -> None:
    case = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    out = cli_file(name, EXAMPLES / f"{name}.json")
    assert out.keys() >= COMMON
    assert all(out[key] for key in ("rule", "citation", "rules_version"))
    assert any(flag in out["confidence"] for flag in ("[V]", "[R]", "[D]"))
    assert all(set(w) == {"code", "message"} and w["code"] and w["message"] for w in out["warnings"])
    # The echo is the validated input: every field the case gave comes back with the same value.
    parsed = calculators()[name].parse(case).model_dump(mode="json")
    assert out["inputs"] == parsed


class _In(ClinicalInput):
    x: int


def _result(**overrides: object) -> ClinicalResult:
    fields: dict[str, object] = {
        "rule": "r",
        "citation": "c",
        "rules_version": "v1",
        "confidence": "thresholds [R]",
        "warnings": (),
        "inputs": _In(x=1),
    }
    return ClinicalResult.model_validate(fields | overrides)


def test_confidence_must_name_a_spec_flag() -> None:
    assert _result(confidence="table [V]; boundaries [D]").confidence == "table [V]; boundaries [D]"
    with pytest.raises(pydantic.ValidationError, match="spec flag"):
        _result(confidence="checked")


def test_inputs_serialise_with_the_subclass_fields() -> None:
    assert _result().model_dump()["inputs"] == {"x": 1}


@pytest.mark.parametrize(("code", "ok"), [("lung_fev1_missing", True), ("Bad-Code", False), ("", False)])
def test_notice_code_is_snake_case(code: str, ok: bool) -> None:
    if ok:
        assert Notice(code=code, message="m").code == code
    else:
        with pytest.raises(pydantic.ValidationError):
            Notice(code=code, message="m")


def test_notice_needs_a_message() -> None:
    with pytest.raises(pydantic.ValidationError):
        Notice(code="x", message="")


@pytest.mark.parametrize("name", sorted(calculators()))
def test_every_warning_code_is_documented(name: str) -> None:
    module = inspect.getmodule(calculators()[name].compute)
    assert module is not None
    codes = set(re.findall(r'code="([a-z0-9_]+)"', inspect.getsource(module)))
    page = (DOCS / f"{name}.md").read_text(encoding="utf-8")
    assert {code for code in codes if f"`{code}`" not in page} == set()
