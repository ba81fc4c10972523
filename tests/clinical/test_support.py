"""Threshold ladders and unit conversion shared by the GVHD and risk calculators."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.support import (
    BILIRUBIN_UMOL_L_PER_MG_DL,
    Ladder,
    Step,
    first_match,
    si_of_one,
    si_of_optional,
    to_si,
)
from graftwise.errors import ValidationError

RISING = Ladder((Step(1, 2, True), Step(2, 3, False)))
FALLING = Ladder((Step(1, 80, True), Step(2, 65, True)), higher_is_worse=False)


@pytest.mark.parametrize(("value", "level"), [(1.99, 0), (2, 1), (3, 1), (3.0001, 2), (100, 2)])
def test_rising_ladder(value: float, level: int) -> None:
    assert RISING.level(value) == level


@pytest.mark.parametrize(("value", "level"), [(81, 0), (80.5, 0), (80, 1), (65.5, 1), (65, 2), (0, 2)])
def test_falling_ladder(value: float, level: int) -> None:
    assert FALLING.level(value) == level


@settings(max_examples=100, deadline=None)
@given(st.floats(0, 1000), st.floats(0, 1000))
def test_ladders_are_monotone(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert RISING.level(low) <= RISING.level(high)
    assert FALLING.level(low) >= FALLING.level(high)


@pytest.mark.parametrize("mg_dl", [2.0, 3.0, 6.0, 15.0])
def test_si_bounds_equal_typed_si_values(mg_dl: float) -> None:
    # 3 mg/dL is 51.3 µmol/L exactly once rounded, so a value typed in SI hits the same boundary.
    scaled = RISING.scaled(BILIRUBIN_UMOL_L_PER_MG_DL)
    typed = float(f"{mg_dl * 17.1:.1f}")
    assert to_si(mg_dl, BILIRUBIN_UMOL_L_PER_MG_DL) == typed
    assert scaled.level(typed) == RISING.level(mg_dl)


def test_one_of_two_units() -> None:
    fields = ("x_mg_dl", "x_umol_l")
    assert si_of_one(1.0, None, 17.1, fields, "") == 17.1
    assert si_of_one(None, 20.0, 17.1, fields, "") == 20.0
    assert si_of_optional(None, None, 17.1, fields, "") is None
    with pytest.raises(ValidationError) as both:
        si_of_optional(1.0, 17.1, 17.1, fields, "liver")
    assert both.value.field == "liver.x_mg_dl"
    assert "both" in str(both.value)
    with pytest.raises(ValidationError) as neither:
        si_of_one(None, None, 17.1, fields, "")
    assert neither.value.field == "x_mg_dl"


def test_first_match_takes_the_first_true_rule() -> None:
    assert first_match(((False, 2, "b"), (True, 1, "a"), (True, 0, "z"))) == (1, "a")
    with pytest.raises(AssertionError):
        first_match(((False, 1, "never"),))
