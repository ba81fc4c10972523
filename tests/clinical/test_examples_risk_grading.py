"""Every example case of the GVHD-grading and risk calculators runs through the CLI and gives a documented result."""

from __future__ import annotations

from pathlib import Path

import pytest

from .run_case import cli_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "clinical"

# The calculators of this group and the headline result each example file documents (docs/clinical/<name>.md).
EXPECTED = {
    "agvhd": ("maximum_grade", "III"),
    "cgvhd": ("global_severity", "moderate"),
    "hct-ci": ("hct_ci_age", 5),
    "dri": ("dri", "intermediate"),
    "ebmt-score": ("score", 6),
    "kps": ("ecog", 1),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_through_cli(name: str) -> None:
    out = cli_file(name, EXAMPLES / f"{name}.json")
    key, value = EXPECTED[name]
    assert out[key] == value
    assert out["rule"]
    assert out["citation"]
