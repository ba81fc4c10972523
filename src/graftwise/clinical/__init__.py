"""Clinical decision support: one module per instrument, each a typed input model, a pure function and a result
that carries the rule that decided it and its citation.

Every instrument module exposes a module-level ``CALCULATOR`` (:class:`Calculator`), which the CLI discovers.
"""

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice, calculators

__all__ = ["Calculator", "ClinicalInput", "ClinicalResult", "Notice", "calculators"]
