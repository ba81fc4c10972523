"""Clinical decision support: one module per instrument, each a typed input model, a pure function and a result
(:class:`ClinicalResult`) that carries the rule that decided it, its citation, the rules-table version, the spec's
confidence flags, coded warnings (:class:`Notice`) and the inputs used. Shared helpers live in ``support``.

Every instrument module exposes a module-level ``CALCULATOR`` (:class:`Calculator`), which the CLI discovers.
"""

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice, calculators

__all__ = ["Calculator", "ClinicalInput", "ClinicalResult", "Notice", "calculators"]
