"""Refined Disease Risk Index (clinical spec §4).

Source: Armand P et al., *Blood* 2014;123:3664–71 ("Validation and refinement of the Disease Risk Index").

* Verified **[V]** (abstract): 13,131 CIBMTR patients; usable as 4 groups, or 3 by merging high and very high.
* Recalled **[R]** (open item 2): the disease-risk and stage-risk assignment and the cell-by-cell combination
  matrix. DRI cytogenetics follow the CIBMTR HCT-specific classification (Armand P et al., *BBMT* 2012): AML
  favourable t(8;21), inv(16)/t(16;16), t(15;17); AML and MDS adverse = complex (≥ 4 abnormalities); everything else
  intermediate. ELN 2022 must not be substituted. No outcome figures are shown until the refined-DRI results are
  checked.
* Design **[D]**: non-malignant disease, diseases outside the table and missing cytogenetics or disease status give
  "not assignable" with the reason (as CIBMTR data do); MDS has no favourable DRI group, so "favourable" is refused
  for MDS; cytogenetics given for a disease that does not use them is refused; a disease status outside the
  diagnosis' list is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult
from graftwise.errors import ValidationError

Diagnosis = Literal[
    "aml",
    "mds",
    "all",
    "cll",
    "cml",
    "indolent_b_nhl",
    "mpn",
    "myeloma",
    "hodgkin",
    "dlbcl_or_transformed_indolent_b_nhl",
    "mantle_cell",
    "t_cell_nodal",
    "t_cell_extranodal",
    "non_malignant",
    "other",
]
CytogeneticRisk = Literal["favourable", "intermediate", "adverse"]
Status = Literal[
    "cr",
    "pr",
    "primary_induction_failure",
    "active_relapse",
    "chronic_phase",
    "accelerated_or_blast_phase",
    "untreated",
    "active_after_treatment",
    "not_in_cr_or_pr",
]
Risk = Literal["low", "intermediate", "high"]
StageRisk = Literal["low", "high"]
DriGroup = Literal["low", "intermediate", "high", "very_high", "not_assignable"]
Dri3Group = Literal["low", "intermediate", "high_or_very_high", "not_assignable"]

_LEUKAEMIA_STAGES: dict[Status, StageRisk] = {
    "cr": "low",
    "primary_induction_failure": "high",
    "active_relapse": "high",
}
_MDS_MPN_STAGES: dict[Status, StageRisk] = {"untreated": "low", "cr": "low", "active_after_treatment": "high"}
_CML_STAGES: dict[Status, StageRisk] = {"chronic_phase": "low", "accelerated_or_blast_phase": "high"}
_LYMPHOID_STAGES: dict[Status, StageRisk] = {"cr": "low", "pr": "low", "not_in_cr_or_pr": "high"}


@dataclass(frozen=True)
class DriRules:
    """The refined-DRI tables: disease risk (fixed or by DRI cytogenetics), stage risk per diagnosis, the matrix."""

    version: str
    disease_risk: dict[Diagnosis, Risk]
    disease_risk_by_cytogenetics: dict[Diagnosis, dict[CytogeneticRisk, Risk]]
    stage_risk: dict[Diagnosis, dict[Status, StageRisk]]
    combined: dict[tuple[Risk, StageRisk], DriGroup]


DRI_2014 = DriRules(
    version="refined_dri_2014",
    disease_risk={
        "cll": "low",
        "cml": "low",
        "indolent_b_nhl": "low",
        "all": "intermediate",
        "mpn": "intermediate",
        "myeloma": "intermediate",
        "hodgkin": "intermediate",
        "dlbcl_or_transformed_indolent_b_nhl": "intermediate",
        "mantle_cell": "intermediate",
        "t_cell_nodal": "intermediate",
        "t_cell_extranodal": "high",
    },
    disease_risk_by_cytogenetics={
        "aml": {"favourable": "low", "intermediate": "intermediate", "adverse": "high"},
        "mds": {"intermediate": "intermediate", "adverse": "high"},
    },
    stage_risk={
        "aml": _LEUKAEMIA_STAGES,
        "all": _LEUKAEMIA_STAGES,
        "mds": _MDS_MPN_STAGES,
        "mpn": _MDS_MPN_STAGES,
        "cml": _CML_STAGES,
        **dict.fromkeys(
            (
                "cll",
                "indolent_b_nhl",
                "myeloma",
                "hodgkin",
                "dlbcl_or_transformed_indolent_b_nhl",
                "mantle_cell",
                "t_cell_nodal",
                "t_cell_extranodal",
            ),
            _LYMPHOID_STAGES,
        ),
    },
    combined={
        ("low", "low"): "low",
        ("low", "high"): "intermediate",
        ("intermediate", "low"): "intermediate",
        ("intermediate", "high"): "high",
        ("high", "low"): "high",
        ("high", "high"): "very_high",
    },
)

CITATION = (
    "Armand P et al. Validation and refinement of the Disease Risk Index for allogeneic stem cell transplantation. "
    "Blood 2014;123:3664–71. DRI cytogenetics: Armand P et al. Biol Blood Marrow Transplant 2012 (CIBMTR "
    "HCT-specific classification)."
)
CONFIDENCE = (
    "4 groups and 3-group merge [V] (abstract); disease/stage assignment and combination matrix [R], not "
    "re-checked against Armand 2014; not-assignable handling [D]. No outcome figures until verified."
)


class DriInput(ClinicalInput):
    """Diagnosis, DRI cytogenetic risk (AML and MDS only) and disease status at HCT."""

    diagnosis: Diagnosis = Field(description="Diagnosis; non_malignant or other give 'not assignable'.")
    cytogenetic_risk_dri: CytogeneticRisk | None = Field(
        description="DRI cytogenetic risk (CIBMTR HCT-specific rules, not ELN) for AML and MDS; null otherwise or "
        "when unknown."
    )
    disease_status_at_hct: Status | None = Field(description="Disease status at HCT; null if unknown.")

    @model_validator(mode="after")
    def _consistent(self) -> DriInput:
        rules = DRI_2014
        by_cyto = rules.disease_risk_by_cytogenetics.get(self.diagnosis)
        if self.cytogenetic_risk_dri is not None:
            if by_cyto is None:
                raise ValidationError(
                    f"cytogenetic_risk_dri: used only for AML and MDS, not {self.diagnosis!r}; give null",
                    field="cytogenetic_risk_dri",
                )
            if self.cytogenetic_risk_dri not in by_cyto:
                raise ValidationError(
                    f"cytogenetic_risk_dri: {self.cytogenetic_risk_dri!r} is not a DRI group for {self.diagnosis!r} "
                    f"(expected one of {sorted(by_cyto)}: complex ≥ 4 abnormalities adverse, others intermediate)",
                    field="cytogenetic_risk_dri",
                )
        stages = rules.stage_risk.get(self.diagnosis)
        if self.disease_status_at_hct is not None and stages is not None and self.disease_status_at_hct not in stages:
            raise ValidationError(
                f"disease_status_at_hct: {self.disease_status_at_hct!r} does not apply to {self.diagnosis!r} "
                f"(expected one of {sorted(stages)})",
                field="disease_status_at_hct",
            )
        return self


class DriResult(ClinicalResult):
    """The refined DRI group (4 and 3 groups) with its disease risk and stage risk."""

    dri: DriGroup
    dri_3_group: Dri3Group
    disease_risk: Risk | None
    stage_risk: StageRisk | None
    not_assignable_reason: str | None
    inputs: DriInput


def _not_assignable(case: DriInput, rules: DriRules) -> str | None:
    if case.diagnosis == "non_malignant":
        return "N/A - non-malignant indication"
    if case.diagnosis not in rules.stage_risk:
        return "N/A - disease not in the refined DRI table"
    if case.diagnosis in rules.disease_risk_by_cytogenetics and case.cytogenetic_risk_dri is None:
        return "TBD cytogenetics"
    if case.disease_status_at_hct is None:
        return "Missing disease status"
    return None


THREE_GROUPS: dict[DriGroup, Dri3Group] = {
    "low": "low",
    "intermediate": "intermediate",
    "high": "high_or_very_high",
    "very_high": "high_or_very_high",
    "not_assignable": "not_assignable",
}


def _result(
    case: DriInput,
    rules: DriRules,
    rule: str,
    group: DriGroup,
    risks: tuple[Risk, StageRisk] | None,
    reason: str | None,
) -> DriResult:
    return DriResult(
        rule=rule,
        citation=CITATION,
        rules_version=rules.version,
        confidence=CONFIDENCE,
        warnings=(),
        dri=group,
        dri_3_group=THREE_GROUPS[group],
        disease_risk=None if risks is None else risks[0],
        stage_risk=None if risks is None else risks[1],
        not_assignable_reason=reason,
        inputs=case,
    )


def compute(case: DriInput, rules: DriRules = DRI_2014) -> DriResult:
    """Disease risk x stage risk → refined DRI group, or 'not assignable' with the reason."""
    reason = _not_assignable(case, rules)
    if reason is not None:
        return _result(case, rules, f"Not assignable: {reason}.", "not_assignable", None, reason)
    assert case.disease_status_at_hct is not None
    if case.cytogenetic_risk_dri is not None:
        disease = rules.disease_risk_by_cytogenetics[case.diagnosis][case.cytogenetic_risk_dri]
        disease_basis = f"{case.diagnosis} with {case.cytogenetic_risk_dri} DRI cytogenetics"
    else:
        disease = rules.disease_risk[case.diagnosis]
        disease_basis = case.diagnosis
    stage = rules.stage_risk[case.diagnosis][case.disease_status_at_hct]
    group = rules.combined[(disease, stage)]
    rule = (
        f"Disease risk {disease} ({disease_basis}) × stage risk {stage} ({case.disease_status_at_hct}) "
        f"→ refined DRI {group.replace('_', ' ')}."
    )
    return _result(case, rules, rule, group, (disease, stage), None)


CALCULATOR = Calculator(
    name="dri",
    summary="Refined Disease Risk Index (Armand 2014): low, intermediate, high, very high, or not assignable.",
    input_model=DriInput,
    compute=compute,
)

__all__ = ["CALCULATOR", "DRI_2014", "DriInput", "DriResult", "compute"]
