"""The shape every clinical calculator shares, and their discovery."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator

from graftwise.errors import ValidationError


class ClinicalInput(BaseModel):
    """Base of every calculator input: immutable, unknown fields refused, nothing defaulted silently."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Notice(BaseModel):
    """A warning attached to a result: a stable machine ``code`` and a sentence for the reader."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    message: str = Field(min_length=1)


SPEC_FLAGS = ("[V]", "[R]", "[D]")


class ClinicalResult(BaseModel):
    """Base of every calculator output (clinical spec, conventions: result, inputs used, rules version, warnings).

    * ``rule``: the rule that decided the result, in words; ``citation``: its source.
    * ``rules_version``: the versioned rules table used (``magic_2016``, ``eln_2022``, ...).
    * ``confidence``: the spec's flags for the rules applied: [V] verified against a public source, [R] recalled
      from the cited paper and not yet re-checked, [D] a graftwise design decision.
    * ``warnings``: missing data, out-of-range values, values imputed by rule, disagreements between sources.
    * ``inputs``: the validated input, echoed (each calculator narrows the type to its input model).
    """

    model_config = ConfigDict(frozen=True)

    rule: str
    citation: str
    rules_version: str
    confidence: str
    warnings: tuple[Notice, ...]
    inputs: SerializeAsAny[ClinicalInput]

    @field_validator("confidence")
    @classmethod
    def _names_a_flag(cls, value: str) -> str:
        if not any(flag in value for flag in SPEC_FLAGS):
            raise ValueError(f"confidence must name at least one spec flag {', '.join(SPEC_FLAGS)}")
        return value


InputT = TypeVar("InputT", bound=ClinicalInput)
ResultT = TypeVar("ResultT", bound=ClinicalResult)


@dataclass(frozen=True)
class Calculator(Generic[InputT, ResultT]):
    """A named clinical calculator: ``compute`` is a pure function of a validated ``input_model``."""

    name: str
    summary: str
    input_model: type[InputT]
    compute: Callable[[InputT], ResultT]

    def parse(self, data: Any) -> InputT:
        """Validate raw (JSON-like) input; a problem raises :class:`ValidationError` naming every bad field."""
        try:
            return self.input_model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise validation_error(exc) from None

    def run(self, data: Any) -> ResultT:
        """Validate ``data`` and compute the result."""
        return self.compute(self.parse(data))


def validation_error(exc: pydantic.ValidationError) -> ValidationError:
    """Turn pydantic's error into ours: one line per problem, each naming the field and what was expected."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(input)"
        problems.append(f"{field}: {err['msg']}")
    first = ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else None
    return ValidationError("; ".join(problems), field=first or None)


def calculators() -> dict[str, Calculator[Any, Any]]:
    """Every calculator of :mod:`graftwise.clinical`, by name (each module's ``CALCULATOR``)."""
    import graftwise.clinical as package

    found: dict[str, Calculator[Any, Any]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        calc = getattr(module, "CALCULATOR", None)
        if isinstance(calc, Calculator):
            found[calc.name] = calc
    return dict(sorted(found.items()))
