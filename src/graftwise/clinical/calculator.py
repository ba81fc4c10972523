"""The shape every clinical calculator shares, and their discovery."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict

from graftwise.errors import ValidationError


class ClinicalInput(BaseModel):
    """Base of every calculator input: immutable, unknown fields refused, nothing defaulted silently."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ClinicalResult(BaseModel):
    """Base of every calculator output: the result fields, the rule that decided it in words, and the citation."""

    model_config = ConfigDict(frozen=True)

    rule: str
    citation: str


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
