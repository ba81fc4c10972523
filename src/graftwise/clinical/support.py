"""Pieces every clinical calculator shares: threshold ladders, rounding before comparison, unit conversion, days.

Conventions (clinical spec, header) **[D]**: thresholds live in one versioned rules table per instrument, stated in
the unit of the publication; laboratory values are converted to SI at input (bilirubin 1 mg/dL = 17.1 µmol/L,
creatinine 1 mg/dL = 88.4 µmol/L); where two source ranges meet, a value goes to the upper range only if it is
strictly greater than the lower range's bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graftwise.errors import ValidationError

BILIRUBIN_UMOL_L_PER_MG_DL = 17.1
CREATININE_UMOL_L_PER_MG_DL = 88.4

# Every derived value (a unit conversion, a dose per kg, a percentage change) is rounded before it meets a threshold,
# so floating-point noise never crosses a cut-off: 3 mg/dL * 17.1 is 51.300000000000004 and must equal 51.3 µmol/L.
DECIMALS = 6


def settle(value: float) -> float:
    """``value`` rounded to :data:`DECIMALS`: the form in which a derived value is compared with a threshold."""
    return round(value, DECIMALS)


def to_si(value_conventional: float, factor: float) -> float:
    """A conventional-unit value (mg/dL) in SI (µmol/L), rounded to remove floating-point noise."""
    return settle(value_conventional * factor)


def path(prefix: str, name: str) -> str:
    """The dotted path of a field inside a nested input (``assessments.2.day``)."""
    return f"{prefix}.{name}" if prefix else name


def si_of_optional(
    conventional: float | None, si: float | None, factor: float, fields: tuple[str, str], prefix: str
) -> float | None:
    """The SI value of a laboratory item given in at most one of its two units (conventional field, SI field).

    Giving both is refused (they could disagree); ``None`` when neither was given.
    """
    if conventional is not None and si is not None:
        raise ValidationError(
            f"{path(prefix, fields[0])} / {path(prefix, fields[1])}: give only one of the two units (both were given)",
            field=path(prefix, fields[0]),
        )
    if si is not None:
        return settle(si)
    return None if conventional is None else to_si(conventional, factor)


def si_of_one(
    conventional: float | None, si: float | None, factor: float, fields: tuple[str, str], prefix: str
) -> float:
    """Like :func:`si_of_optional`, but the item is required: giving neither unit is refused too."""
    value = si_of_optional(conventional, si, factor, fields, prefix)
    if value is None:
        raise ValidationError(
            f"{path(prefix, fields[0])} / {path(prefix, fields[1])}: required in one of the two units "
            "(neither was given)",
            field=path(prefix, fields[0]),
        )
    return value


def check_days(days: Sequence[int], fields: Sequence[str], *, in_order: bool) -> None:
    """Each day at most once (days after HCT); with ``in_order`` the days must also be given increasing.

    ``fields[i]`` names the field that dated record ``i`` (``assessments.2.day``, ``counts.0.date``); a refusal names
    the offending record's field and the earlier record it clashes with.
    """
    seen: dict[int, int] = {}
    for i, day in enumerate(days):
        if in_order and i and day <= days[i - 1]:
            raise ValidationError(
                f"{fields[i]}: day {day} is not after the previous record's day {days[i - 1]} "
                f"({fields[i - 1]}); give the records in order of day, each day once",
                field=fields[i],
            )
        if day in seen:
            raise ValidationError(
                f"{fields[i]}: day {day} already given by {fields[seen[day]]}; one record per day expected",
                field=fields[i],
            )
        seen[day] = i


@dataclass(frozen=True)
class Step:
    """Reach ``level`` when the value is past ``bound``: at or past it if ``inclusive``, strictly past it otherwise.

    "Past" means above for a ladder where higher is worse and below for one where lower is worse.
    """

    level: int
    bound: float
    inclusive: bool


@dataclass(frozen=True)
class Ladder:
    """Ordered cut-offs of one measurement: the level is the highest step the value reaches (0 if none)."""

    steps: tuple[Step, ...]
    higher_is_worse: bool = True

    def level(self, value: float) -> int:
        reached = 0
        for step in self.steps:
            if self.higher_is_worse:
                past = value >= step.bound if step.inclusive else value > step.bound
            else:
                past = value <= step.bound if step.inclusive else value < step.bound
            if past:
                reached = max(reached, step.level)
        return reached

    def scaled(self, factor: float) -> Ladder:
        """The same ladder with every bound converted to SI by ``factor``."""
        return Ladder(
            tuple(Step(s.level, to_si(s.bound, factor), s.inclusive) for s in self.steps), self.higher_is_worse
        )


def first_match(rules: Sequence[tuple[bool, int, str]]) -> tuple[int, str]:
    """The level and wording of the first rule whose condition holds; the last rule must always hold."""
    for holds, level, wording in rules:
        if holds:
            return level, wording
    raise AssertionError("the last rule of a first-match table must always hold")
