"""Karnofsky (KPS) and ECOG performance status, with conversion (clinical spec §6).

* KPS descriptions **[V]** (standardofcare.com; myelomacomorbidityindex.org); ECOG/WHO/Zubrod descriptions **[V]**.
  Karnofsky DA, Burchenal JH (1949); Oken MM et al., *Am J Clin Oncol* 1982;5:649–55.
* Two ECOG↔KPS mapping conventions exist **[D]**: convention A (myelomacomorbidityindex.org, KJHPC table) **[V]**,
  the default; convention B (NIH chronic-GVHD form) **[R]**. Both scores are kept when both are given, and the
  convention used for any conversion is recorded. A conversion is an approximation between two different scales.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice
from graftwise.errors import ValidationError

Convention = Literal["A", "B"]

KPS_DESCRIPTIONS: dict[int, str] = {
    100: "normal, no complaints, no evidence of disease",
    90: "normal activity; minor signs or symptoms",
    80: "normal activity with effort",
    70: "cares for self; cannot do normal activity or work",
    60: "occasional help needed",
    50: "considerable help and frequent medical care",
    40: "disabled",
    30: "severely disabled; admission indicated",
    20: "very sick; active supportive treatment",
    10: "moribund",
    0: "dead",
}

ECOG_DESCRIPTIONS: dict[int, str] = {
    0: "fully active",
    1: "restricted in strenuous activity; light work",
    2: "ambulatory, self-care, cannot work; up > 50% of waking hours",
    3: "limited self-care; in bed/chair > 50% of waking hours",
    4: "completely disabled",
    5: "dead",
}


@dataclass(frozen=True)
class ConversionTable:
    """One ECOG → KPS mapping convention; every KPS value belongs to exactly one ECOG grade."""

    name: Convention
    source: str
    confidence: str
    kps_by_ecog: dict[int, tuple[int, ...]]

    def ecog_of(self, kps: int) -> int:
        return next(ecog for ecog, values in self.kps_by_ecog.items() if kps in values)


CONVENTIONS: dict[Convention, ConversionTable] = {
    "A": ConversionTable(
        name="A",
        source="myelomacomorbidityindex.org (KJHPC table)",
        confidence="[V]",
        kps_by_ecog={0: (100, 90), 1: (80, 70), 2: (60, 50), 3: (40, 30), 4: (20, 10), 5: (0,)},
    ),
    "B": ConversionTable(
        name="B",
        source="NIH chronic GVHD scoring form (ECOG 3–4 = KPS < 60)",
        confidence="[R]",
        kps_by_ecog={0: (100,), 1: (90, 80), 2: (70, 60), 3: (50, 40), 4: (30, 20, 10), 5: (0,)},
    ),
}

RULES_VERSION = "performance_status_v1"
CITATION = (
    "Karnofsky DA, Burchenal JH. The clinical evaluation of chemotherapeutic agents in cancer (1949); Oken MM et al. "
    "Toxicity and response criteria of the Eastern Cooperative Oncology Group. Am J Clin Oncol 1982;5:649–55."
)


class PerformanceInput(ClinicalInput):
    """A Karnofsky score, an ECOG grade, or both; conversion uses ``convention``."""

    karnofsky: int | None = Field(
        default=None, ge=0, le=100, multiple_of=10, description="Karnofsky performance status, % (0–100, by 10)."
    )
    ecog: int | None = Field(default=None, ge=0, le=5, description="ECOG/WHO/Zubrod grade, 0–5.")
    convention: Convention = Field(
        default="A", description="ECOG↔KPS mapping: A (default, KJHPC table) or B (NIH cGVHD form); echoed."
    )

    @model_validator(mode="after")
    def _one_given(self) -> PerformanceInput:
        if self.karnofsky is None and self.ecog is None:
            raise ValidationError("karnofsky / ecog: give at least one of the two scores", field="karnofsky")
        return self


class PerformanceResult(ClinicalResult):
    """Both scores with their descriptions; ``converted`` names the score derived from the other, if any."""

    karnofsky: int | None
    karnofsky_range: tuple[int, ...]
    karnofsky_description: str
    ecog: int
    ecog_description: str
    converted: Literal["none", "karnofsky_from_ecog", "ecog_from_karnofsky"]
    convention: Convention
    inputs: PerformanceInput


def compute(case: PerformanceInput) -> PerformanceResult:
    """Describe the given score(s) and convert the missing one by the chosen convention."""
    table = CONVENTIONS[case.convention]
    notices: list[Notice] = []
    kps_range: tuple[int, ...]
    if case.karnofsky is not None and case.ecog is not None:
        ecog, kps_range = case.ecog, (case.karnofsky,)
        converted: Literal["none", "karnofsky_from_ecog", "ecog_from_karnofsky"] = "none"
        expected = table.ecog_of(case.karnofsky)
        rule = f"Both given: KPS {case.karnofsky}, ECOG {case.ecog}; no conversion."
        if expected != case.ecog:
            notices.append(
                Notice(
                    code="kps_ecog_discordant",
                    message=f"KPS {case.karnofsky} corresponds to ECOG {expected} under convention {table.name}, "
                    f"not {case.ecog}; both kept as given.",
                )
            )
    elif case.karnofsky is not None:
        ecog, kps_range, converted = table.ecog_of(case.karnofsky), (case.karnofsky,), "ecog_from_karnofsky"
        rule = f"KPS {case.karnofsky} → ECOG {ecog} under convention {table.name} ({table.source})."
    else:
        assert case.ecog is not None
        ecog, kps_range, converted = case.ecog, table.kps_by_ecog[case.ecog], "karnofsky_from_ecog"
        shown = " or ".join(str(v) for v in kps_range)
        rule = f"ECOG {ecog} → KPS {shown} under convention {table.name} ({table.source})."
    kps = kps_range[0] if len(kps_range) == 1 else None
    return PerformanceResult(
        rule=rule,
        citation=CITATION,
        rules_version=RULES_VERSION,
        confidence=f"Scale descriptions [V]; conversion convention {table.name} {table.confidence}.",
        warnings=tuple(notices),
        karnofsky=kps,
        karnofsky_range=kps_range,
        karnofsky_description="; or ".join(KPS_DESCRIPTIONS[v] for v in kps_range),
        ecog=ecog,
        ecog_description=ECOG_DESCRIPTIONS[ecog],
        converted=converted,
        convention=case.convention,
        inputs=case,
    )


CALCULATOR = Calculator(
    name="kps",
    summary="Karnofsky and ECOG performance status, described and converted (convention A or B).",
    input_model=PerformanceInput,
    compute=compute,
)

__all__ = ["CALCULATOR", "CONVENTIONS", "ECOG_DESCRIPTIONS", "KPS_DESCRIPTIONS", "PerformanceInput", "compute"]
