"""EBMT (Gratwohl) risk score (clinical spec §5).

Sources: Gratwohl A et al., *Lancet* 1998;352:1087–92 (CML); Gratwohl A, *Cancer* 2009;115:4715–26 (all
diseases, 56,505 allo-HSCTs); review Gratwohl A et al., *Bone Marrow Transplant* 2012;47:749–56.

* Verified **[V]** (Gratwohl 2009 abstract): 5 factors, score 0–7; for autologous HCT the donor factors are
  dropped (0–5; Gratwohl 2012 abstract).
* Recalled **[R]** (open item 3; matched only by the hematool.ch calculator description): the point table, the
  disease-stage definitions, and the interval factor being 0 in CR1. Whether acute leukaemia in CR3 or later is
  intermediate or late is unconfirmed: graftwise follows the spec's table (CR2+ → intermediate) and warns.
* Design **[D]**: age in completed years (a fraction is refused, so "40 → 1, over 40 → 2" has one meaning);
  interval ≥ 365 days → 1; "other" donors (related non-sibling) score like unrelated ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice
from graftwise.clinical.support import Ladder, Step
from graftwise.errors import ValidationError

Diagnosis = Literal["acute_leukaemia", "cml", "mds", "lymphoma", "myeloma"]
Status = Literal[
    "untreated",
    "cr1",
    "cr2",
    "cr3_or_later",
    "pr",
    "not_in_remission",
    "cp1",
    "cp2_or_later",
    "accelerated_phase",
    "blast_crisis",
    "relapsed_progressing_refractory",
]
Stage = Literal["early", "intermediate", "late"]
DonorType = Literal["hla_identical_sibling", "unrelated", "other_related", "autologous"]
Sex = Literal["female", "male"]

_OTHER_STAGES: dict[Status, Stage] = {
    "untreated": "early",
    "cr1": "early",
    "cr2": "intermediate",
    "cr3_or_later": "intermediate",
    "pr": "intermediate",
    "relapsed_progressing_refractory": "late",
}


@dataclass(frozen=True)
class EbmtRules:
    """The EBMT score's points and the disease-stage table."""

    version: str
    age_years: Ladder
    stage_points: dict[Stage, int]
    stages: dict[Diagnosis, dict[Status, Stage]]
    interval_days_from: int
    interval_points: int
    interval_exempt_status: Status
    donor_points: dict[DonorType, int]
    female_to_male_points: int


EBMT_2009 = EbmtRules(
    version="ebmt_2009",
    age_years=Ladder((Step(1, 20, True), Step(2, 40, False))),
    stage_points={"early": 0, "intermediate": 1, "late": 2},
    stages={
        "acute_leukaemia": {
            "cr1": "early",
            "cr2": "intermediate",
            "cr3_or_later": "intermediate",
            "not_in_remission": "late",
        },
        "cml": {
            "cp1": "early",
            "accelerated_phase": "intermediate",
            "cp2_or_later": "intermediate",
            "blast_crisis": "late",
        },
        "mds": _OTHER_STAGES,
        "lymphoma": _OTHER_STAGES,
        "myeloma": _OTHER_STAGES,
    },
    interval_days_from=365,
    interval_points=1,
    interval_exempt_status="cr1",
    donor_points={"hla_identical_sibling": 0, "unrelated": 1, "other_related": 1, "autologous": 0},
    female_to_male_points=1,
)

CITATION = (
    "Gratwohl A et al. Lancet 1998;352:1087–92; Gratwohl A. Cancer 2009;115:4715–26; Gratwohl A et al. "
    "Bone Marrow Transplant 2012;47:749–56."
)
CONFIDENCE = (
    "Five factors, range 0–7 (0–5 autologous) [V]; point table and stage definitions [R] (matched by the "
    "hematool.ch description only); acute leukaemia CR3+ stage unconfirmed; age/interval boundaries [D]."
)


class EbmtInput(ClinicalInput):
    """The five EBMT factors at HCT."""

    age_years: int = Field(ge=0, le=130, description="Age at HCT in completed years.")
    diagnosis: Diagnosis
    disease_status: Status = Field(description="Disease status at HCT; the allowed values depend on diagnosis.")
    days_from_diagnosis_to_hct: int = Field(ge=0, description="Days from diagnosis to HCT.")
    donor_type: DonorType
    donor_sex: Sex | None = Field(description="Donor sex; null for autologous HCT.")
    recipient_sex: Sex

    @model_validator(mode="after")
    def _consistent(self) -> EbmtInput:
        allowed = EBMT_2009.stages[self.diagnosis]
        if self.disease_status not in allowed:
            raise ValidationError(
                f"disease_status: {self.disease_status!r} does not apply to {self.diagnosis!r} "
                f"(expected one of {sorted(allowed)})",
                field="disease_status",
            )
        if (self.donor_type == "autologous") != (self.donor_sex is None):
            expected = "null for autologous HCT" if self.donor_type == "autologous" else "required for allogeneic HCT"
            raise ValidationError(f"donor_sex: {expected}", field="donor_sex")
        return self


class Factor(BaseModel):
    """One factor's points and the finding behind them."""

    model_config = ConfigDict(frozen=True)

    factor: str
    points: int
    finding: str


class EbmtResult(ClinicalResult):
    """The EBMT score, its range for this transplant type, and each factor."""

    score: int
    maximum_score: int
    disease_stage: Stage
    factors: tuple[Factor, ...]
    inputs: EbmtInput


def max_score(rules: EbmtRules, autologous: bool) -> int:
    """The highest score the table allows: 7 allogeneic, 5 autologous (no donor factors)."""
    top = max(s.level for s in rules.age_years.steps) + max(rules.stage_points.values()) + rules.interval_points
    return top if autologous else top + max(rules.donor_points.values()) + rules.female_to_male_points


def compute(case: EbmtInput, rules: EbmtRules = EBMT_2009) -> EbmtResult:
    """Sum the five factors (three for autologous HCT)."""
    stage = rules.stages[case.diagnosis][case.disease_status]
    notices: list[Notice] = []
    if case.diagnosis == "acute_leukaemia" and case.disease_status == "cr3_or_later":
        notices.append(
            Notice(
                code="cr3_stage_unconfirmed",
                message="Acute leukaemia in CR3 or later is scored intermediate; the source's stage is unconfirmed.",
            )
        )
    exempt = case.disease_status == rules.interval_exempt_status
    interval = 0 if exempt or case.days_from_diagnosis_to_hct < rules.interval_days_from else rules.interval_points
    factors = [
        Factor(factor="age", points=rules.age_years.level(case.age_years), finding=f"{case.age_years} years"),
        Factor(
            factor="disease_stage",
            points=rules.stage_points[stage],
            finding=f"{case.diagnosis} {case.disease_status} → {stage}",
        ),
        Factor(
            factor="diagnosis_to_hct_interval",
            points=interval,
            finding=f"{case.days_from_diagnosis_to_hct} days" + (" (CR1: not scored)" if exempt else ""),
        ),
    ]
    autologous = case.donor_type == "autologous"
    if not autologous:
        female_to_male = case.donor_sex == "female" and case.recipient_sex == "male"
        factors += [
            Factor(factor="donor_type", points=rules.donor_points[case.donor_type], finding=case.donor_type),
            Factor(
                factor="donor_recipient_sex",
                points=rules.female_to_male_points if female_to_male else 0,
                finding=f"{case.donor_sex} donor → {case.recipient_sex} recipient",
            ),
        ]
    score = sum(f.points for f in factors)
    maximum = max_score(rules, autologous)
    listed = "; ".join(f"{f.factor} {f.points}" for f in factors)
    return EbmtResult(
        rule=f"EBMT score = sum of {len(factors)} factors ({listed}) = {score} of {maximum}"
        + (" (autologous: no donor factors)." if autologous else "."),
        citation=CITATION,
        rules_version=rules.version,
        confidence=CONFIDENCE,
        warnings=tuple(notices),
        score=score,
        maximum_score=maximum,
        disease_stage=stage,
        factors=tuple(factors),
        inputs=case,
    )


CALCULATOR = Calculator(
    name="ebmt-score",
    summary="EBMT (Gratwohl) risk score 0–7 (0–5 autologous) with each factor's points.",
    input_model=EbmtInput,
    compute=compute,
)

__all__ = ["CALCULATOR", "EBMT_2009", "EbmtInput", "EbmtResult", "compute", "max_score"]
