"""Threshold ladders, rounding, unit conversion and day checks shared by the clinical calculators."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.support import (
    BILIRUBIN_UMOL_L_PER_MG_DL,
    Ladder,
    Step,
    check_days,
    first_match,
    settle,
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


def test_settle_removes_float_noise_before_a_threshold() -> None:
    assert 0.1 + 0.2 > 0.3
    assert settle(0.1 + 0.2) == 0.3
    assert settle(3 * 17.1) == 51.3
    assert settle(0.3000004) == 0.3
    assert settle(0.3000006) == 0.300001


FIELDS = ["r.0.day", "r.1.day", "r.2.day"]


@pytest.mark.parametrize("in_order", [True, False])
def test_check_days_accepts_distinct_increasing_days(in_order: bool) -> None:
    check_days([0, 5, 9], FIELDS, in_order=in_order)


def test_check_days_any_order_when_not_required() -> None:
    check_days([9, 0, 5], FIELDS, in_order=False)


def test_check_days_refuses_a_repeat_naming_both_records() -> None:
    with pytest.raises(ValidationError, match=r"r\.2\.day: day 0 already given by r\.0\.day") as info:
        check_days([0, 5, 0], FIELDS, in_order=False)
    assert info.value.field == "r.2.day"


@pytest.mark.parametrize("days", [[0, 5, 5], [0, 5, 4]])
def test_check_days_in_order_refuses_a_day_not_after_the_previous(days: list[int]) -> None:
    with pytest.raises(ValidationError, match=r"r\.2\.day: day \d is not after the previous record's day 5") as info:
        check_days(days, FIELDS, in_order=True)
    assert info.value.field == "r.2.day"
