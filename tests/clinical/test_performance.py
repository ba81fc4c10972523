"""Karnofsky and ECOG with conversion (spec §6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graftwise.clinical.performance import (
    CALCULATOR,
    CONVENTIONS,
    ECOG_DESCRIPTIONS,
    KPS_DESCRIPTIONS,
    PerformanceResult,
)
from graftwise.errors import ValidationError

from .run_case import cli_json


def run(**data: Any) -> PerformanceResult:
    result = CALCULATOR.run(data)
    assert isinstance(result, PerformanceResult)
    return result


# Every KPS value, both conventions (spec §6 table).
KPS_TO_ECOG = {
    "A": {100: 0, 90: 0, 80: 1, 70: 1, 60: 2, 50: 2, 40: 3, 30: 3, 20: 4, 10: 4, 0: 5},
    "B": {100: 0, 90: 1, 80: 1, 70: 2, 60: 2, 50: 3, 40: 3, 30: 4, 20: 4, 10: 4, 0: 5},
}


@pytest.mark.parametrize(
    ("convention", "kps", "ecog"), [(c, k, e) for c, table in KPS_TO_ECOG.items() for k, e in table.items()]
)
def test_kps_to_ecog(convention: str, kps: int, ecog: int) -> None:
    result = run(karnofsky=kps, convention=convention)
    assert (result.ecog, result.karnofsky, result.converted) == (ecog, kps, "ecog_from_karnofsky")
    assert result.karnofsky_description == KPS_DESCRIPTIONS[kps]
    assert result.ecog_description == ECOG_DESCRIPTIONS[ecog]
    assert f"convention {convention}" in result.rule


@pytest.mark.parametrize(
    ("convention", "ecog", "kps_range"),
    [
        ("A", 0, (100, 90)),
        ("A", 1, (80, 70)),
        ("A", 2, (60, 50)),
        ("A", 3, (40, 30)),
        ("A", 4, (20, 10)),
        ("A", 5, (0,)),
        ("B", 0, (100,)),
        ("B", 1, (90, 80)),
        ("B", 2, (70, 60)),
        ("B", 3, (50, 40)),
        ("B", 4, (30, 20, 10)),
        ("B", 5, (0,)),
    ],
)
def test_ecog_to_kps(convention: str, ecog: int, kps_range: tuple[int, ...]) -> None:
    result = run(ecog=ecog, convention=convention)
    assert result.karnofsky_range == kps_range
    assert result.karnofsky == (kps_range[0] if len(kps_range) == 1 else None)
    assert result.converted == "karnofsky_from_ecog"


@pytest.mark.parametrize("convention", ["A", "B"])
def test_conventions_partition_every_kps_value(convention: str) -> None:
    table = CONVENTIONS[convention]  # type: ignore[index]
    values = [v for kps in table.kps_by_ecog.values() for v in kps]
    assert sorted(values) == sorted(KPS_DESCRIPTIONS)
    for ecog, kps in table.kps_by_ecog.items():
        assert all(table.ecog_of(v) == ecog for v in kps)


def test_default_convention_is_a_and_recorded() -> None:
    result = run(karnofsky=90)
    assert (result.convention, result.ecog) == ("A", 0)
    assert "[V]" in result.confidence
    assert "[R]" in run(karnofsky=90, convention="B").confidence


def test_both_given_are_kept_and_discordance_flagged() -> None:
    agree = run(karnofsky=70, ecog=1)
    assert (agree.karnofsky, agree.ecog, agree.converted, agree.warnings) == (70, 1, "none", ())
    disagree = run(karnofsky=70, ecog=2)
    assert (disagree.karnofsky, disagree.ecog) == (70, 2)
    assert [n.code for n in disagree.warnings] == ["kps_ecog_discordant"]
    assert run(karnofsky=70, ecog=2, convention="B").warnings == ()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "karnofsky"),
        ({"karnofsky": None, "ecog": None}, "karnofsky"),
        ({"karnofsky": 95}, "karnofsky"),
        ({"karnofsky": 110}, "karnofsky"),
        ({"karnofsky": -10}, "karnofsky"),
        ({"ecog": 6}, "ecog"),
        ({"ecog": -1}, "ecog"),
        ({"ecog": 1, "convention": "C"}, "convention"),
        ({"ecog": 1, "lansky": 80}, "lansky"),
    ],
)
def test_refused(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        CALCULATOR.run(data)
    assert info.value.field == field
    assert field in str(info.value)


def test_cli_kps(tmp_path: Path) -> None:
    out = cli_json("kps", {"ecog": 2, "convention": "B"}, tmp_path)
    assert out["karnofsky_range"] == [70, 60]
    assert out["convention"] == "B"
