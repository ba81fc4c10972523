"""Chronic GVHD: NIH 2014 organ scores and global severity (clinical spec §2).

Source: Jagasia MH et al., *Biol Blood Marrow Transplant* 2015;21:389–401.e1 (PMC4329079).

* Verified **[V]**: the global-severity structure (8 organs, number of organs involved and worst score, performance
  status excluded; NCI Thesaurus C225388); for the lung, the FEV1 score is used, not the symptom score (Lee SJ,
  *Blood* 2017;129:30, Fig. 4 legend); the skin score is the higher of the % BSA and sclerotic-feature scores; an
  organ whose abnormality is unequivocally explained by a non-GVHD cause is left out, a multifactorial one is scored
  as seen.
* Recalled **[R]**: the per-organ wording of scores 1–3 (here: the cut-offs of skin BSA, liver tests and FEV1) and
  the lung-specific severity cut-offs (lung 1 → moderate, lung ≥ 2 → severe). Check before clinical use.
* Design **[D]**: the lung symptom score is used only when no FEV1 is available (flagged); FEV1 and % BSA follow
  the spec's boundary rule (79.5% → 0, 18.5% → 2).

The mouth, eyes, GI, joints/fascia and genital scores are the clinician's 0–3 scores from the NIH form: their
wording is qualitative and is not re-derived here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice
from graftwise.clinical.support import (
    BILIRUBIN_UMOL_L_PER_MG_DL,
    Ladder,
    Step,
    first_match,
    si_of_one,
    to_si,
)

Attribution = Literal["gvhd", "not_gvhd", "mixed"]
SkinFeature = Literal["superficial_sclerosis", "deep_sclerosis", "impaired_mobility", "ulceration", "severe_pruritus"]
Severity = Literal["none", "mild", "moderate", "severe"]
SEVERITIES: tuple[Severity, ...] = ("none", "mild", "moderate", "severe")
ORGANS = ("skin", "mouth", "eyes", "gi", "liver", "lung", "joints_fascia", "genital")


@dataclass(frozen=True)
class CgvhdRules:
    """The NIH 2014 cut-offs graftwise derives scores from (bilirubin in mg/dL as published)."""

    version: str
    skin_bsa_percent: Ladder
    skin_feature_scores: dict[SkinFeature, int]
    fev1_percent_predicted: Ladder
    liver_bilirubin_score3_over_mg_dl: float
    liver_alt_score2_over_x_uln: float
    liver_alt_score1_from_x_uln: float
    liver_ap_score1_from_x_uln: float


NIH_CGVHD_2014 = CgvhdRules(
    version="nih_cgvhd_2014",
    skin_bsa_percent=Ladder((Step(1, 0, False), Step(2, 18, False), Step(3, 50, False))),
    skin_feature_scores={
        "superficial_sclerosis": 2,
        "deep_sclerosis": 3,
        "impaired_mobility": 3,
        "ulceration": 3,
        "severe_pruritus": 3,
    },
    fev1_percent_predicted=Ladder((Step(1, 79, True), Step(2, 59, True), Step(3, 39, True)), higher_is_worse=False),
    liver_bilirubin_score3_over_mg_dl=3.0,
    liver_alt_score2_over_x_uln=5.0,
    liver_alt_score1_from_x_uln=3.0,
    liver_ap_score1_from_x_uln=3.0,
)

CITATION = (
    "Jagasia MH et al. NIH Consensus Development Project on Criteria for Clinical Trials in Chronic GVHD: "
    "I. The 2014 Diagnosis and Staging Working Group Report. Biol Blood Marrow Transplant 2015;21:389–401.e1 "
    "(PMC4329079); lung rule per Lee SJ, Blood 2017;129:30 (Fig. 4)."
)
CONFIDENCE = (
    "Global-severity structure, FEV1-over-symptoms lung rule, higher-of-two skin score, attribution and performance "
    "excluded [V]; organ score wording and the lung cut-offs (lung 1 → moderate, ≥ 2 → severe) [R], check before "
    "clinical use; symptom score only without FEV1 [D]."
)

_ATTRIBUTION = Field(description="gvhd, not_gvhd (fully explained by another cause: left out) or mixed.")


class ScoredOrgan(ClinicalInput):
    """An organ scored 0–3 by the clinician on the NIH 2014 form."""

    score: int = Field(ge=0, le=3, description="NIH 2014 organ score, 0–3.")
    attribution: Attribution = _ATTRIBUTION


class SkinAssessment(ClinicalInput):
    """Skin: the % BSA score and the sclerotic-features score; the higher of the two counts."""

    bsa_percent: float = Field(ge=0, le=100, description="Body-surface area with cGVHD features, %.")
    features: tuple[SkinFeature, ...] = Field(description="Sclerotic and other features present ([] if none).")
    attribution: Attribution = _ATTRIBUTION


class LiverAssessment(ClinicalInput):
    """Liver function tests; each with its laboratory's upper limit of normal (ULN)."""

    bilirubin_mg_dl: float | None = Field(default=None, ge=0, description="Total bilirubin, mg/dL.")
    bilirubin_umol_l: float | None = Field(default=None, ge=0, description="Total bilirubin, µmol/L.")
    bilirubin_uln_mg_dl: float | None = Field(default=None, gt=0, description="Bilirubin ULN, mg/dL.")
    bilirubin_uln_umol_l: float | None = Field(default=None, gt=0, description="Bilirubin ULN, µmol/L.")
    alt_u_l: float = Field(ge=0, description="ALT, U/L.")
    alt_uln_u_l: float = Field(gt=0, description="ALT ULN, U/L.")
    alkaline_phosphatase_u_l: float = Field(ge=0, description="Alkaline phosphatase, U/L.")
    alkaline_phosphatase_uln_u_l: float = Field(gt=0, description="Alkaline phosphatase ULN, U/L.")
    attribution: Attribution = _ATTRIBUTION

    @model_validator(mode="after")
    def _units(self) -> LiverAssessment:
        self.bilirubin_si()
        self.bilirubin_uln_si()
        return self

    def bilirubin_si(self) -> float:
        fields = ("bilirubin_mg_dl", "bilirubin_umol_l")
        return si_of_one(self.bilirubin_mg_dl, self.bilirubin_umol_l, BILIRUBIN_UMOL_L_PER_MG_DL, fields, "liver")

    def bilirubin_uln_si(self) -> float:
        fields = ("bilirubin_uln_mg_dl", "bilirubin_uln_umol_l")
        return si_of_one(
            self.bilirubin_uln_mg_dl, self.bilirubin_uln_umol_l, BILIRUBIN_UMOL_L_PER_MG_DL, fields, "liver"
        )


class LungAssessment(ClinicalInput):
    """Lung: the symptom score is always recorded; FEV1 decides when it is available."""

    symptom_score: int = Field(ge=0, le=3, description="NIH lung symptom score, 0–3.")
    fev1_percent_predicted: float | None = Field(
        ge=0, le=200, description="FEV1, % predicted (null if not measured: the symptom score is then used)."
    )
    attribution: Attribution = _ATTRIBUTION


class CgvhdInput(ClinicalInput):
    """One NIH 2014 chronic-GVHD assessment over the 8 organs."""

    skin: SkinAssessment
    mouth: ScoredOrgan
    eyes: ScoredOrgan
    gi: ScoredOrgan
    liver: LiverAssessment
    lung: LungAssessment
    joints_fascia: ScoredOrgan
    genital: ScoredOrgan
    performance_score: int | None = Field(
        ge=0, le=3, description="NIH performance score 0–3: recorded, not used for global severity (null if not done)."
    )


class OrganScore(BaseModel):
    """An organ's score, what counted for global severity after attribution, and how the score was reached."""

    model_config = ConfigDict(frozen=True)

    organ: str
    score: int
    counted_score: int
    attribution: Attribution
    basis: str


class CgvhdResult(ClinicalResult):
    """Global severity with every organ's score."""

    global_severity: Severity
    organs: tuple[OrganScore, ...]
    lung_score_source: Literal["fev1", "symptoms"]
    performance_score: int | None
    inputs: CgvhdInput


def skin_score(skin: SkinAssessment, rules: CgvhdRules = NIH_CGVHD_2014) -> tuple[int, str]:
    """The higher of the % BSA score and the features score [V]."""
    by_bsa = rules.skin_bsa_percent.level(skin.bsa_percent)
    by_features = max((rules.skin_feature_scores[f] for f in skin.features), default=0)
    return max(by_bsa, by_features), f"BSA {skin.bsa_percent:g}% → {by_bsa}; features → {by_features}; higher counts"


def liver_score(liver: LiverAssessment, rules: CgvhdRules = NIH_CGVHD_2014) -> tuple[int, str]:
    """NIH 2014 liver score from bilirubin, ALT and alkaline phosphatase [R]."""
    bilirubin = liver.bilirubin_si()
    alt = liver.alt_u_l / liver.alt_uln_u_l
    ap = liver.alkaline_phosphatase_u_l / liver.alkaline_phosphatase_uln_u_l
    bilirubin_limit = to_si(rules.liver_bilirubin_score3_over_mg_dl, BILIRUBIN_UMOL_L_PER_MG_DL)
    return first_match(
        (
            (bilirubin > bilirubin_limit, 3, "bilirubin > 3 mg/dL"),
            (
                bilirubin > liver.bilirubin_uln_si() or alt > rules.liver_alt_score2_over_x_uln,
                2,
                f"raised bilirubin ≤ 3 mg/dL or ALT > 5 × ULN (ALT {alt:.2f} × ULN)",
            ),
            (
                alt >= rules.liver_alt_score1_from_x_uln or ap >= rules.liver_ap_score1_from_x_uln,
                1,
                f"normal bilirubin with ALT 3–5 × ULN or AP ≥ 3 × ULN (ALT {alt:.2f}, AP {ap:.2f} × ULN)",
            ),
            (True, 0, f"normal bilirubin, ALT and AP < 3 × ULN (ALT {alt:.2f}, AP {ap:.2f} × ULN)"),
        )
    )


def lung_score(lung: LungAssessment, rules: CgvhdRules = NIH_CGVHD_2014) -> tuple[int, str, list[Notice]]:
    """The FEV1 score when FEV1 exists [V], else the symptom score [D]; a disagreement is flagged."""
    if lung.fev1_percent_predicted is None:
        notice = Notice(code="lung_fev1_missing", message="No FEV1; the lung symptom score is used.")
        return lung.symptom_score, f"symptom score {lung.symptom_score} (no FEV1)", [notice]
    by_fev1 = rules.fev1_percent_predicted.level(lung.fev1_percent_predicted)
    notices = []
    if by_fev1 != lung.symptom_score:
        notices.append(
            Notice(
                code="lung_symptom_fev1_discordant",
                message=f"Lung symptom score {lung.symptom_score} and FEV1 score {by_fev1} disagree; FEV1 is used.",
            )
        )
    return by_fev1, f"FEV1 {lung.fev1_percent_predicted:g}% → {by_fev1} (symptom score {lung.symptom_score})", notices


def global_severity(counted: dict[str, int]) -> tuple[Severity, str]:
    """NIH global severity over the 8 organs (structure [V]; lung cut-offs [R]); first match wins."""
    lung = counted["lung"]
    others = [s for organ, s in counted.items() if organ != "lung"]
    involved = sum(1 for s in counted.values() if s >= 1)
    level, wording = first_match(
        (
            (max(counted.values()) == 3 or lung >= 2, 3, "severe: an organ scores 3, or lung ≥ 2"),
            (
                max(others) == 2 or involved >= 3 or lung == 1,
                2,
                "moderate: a non-lung organ scores 2, or ≥ 3 organs score ≥ 1, or lung 1",
            ),
            (involved >= 1, 1, "mild: 1–2 non-lung organs involved, maximum score 1"),
            (True, 0, "none: every organ scores 0"),
        )
    )
    return SEVERITIES[level], wording


def compute(case: CgvhdInput) -> CgvhdResult:
    """Score the 8 organs, apply attribution, and grade global severity."""
    notices: list[Notice] = []
    lung, lung_basis, lung_notices = lung_score(case.lung)
    notices += lung_notices
    raw: dict[str, tuple[int, str, Attribution]] = {
        "skin": (*skin_score(case.skin), case.skin.attribution),
        "liver": (*liver_score(case.liver), case.liver.attribution),
        "lung": (lung, lung_basis, case.lung.attribution),
    }
    for organ in ("mouth", "eyes", "gi", "joints_fascia", "genital"):
        scored: ScoredOrgan = getattr(case, organ)
        raw[organ] = (scored.score, "clinician's NIH form score", scored.attribution)
    organs = []
    for organ in ORGANS:
        score, basis, attribution = raw[organ]
        counted = 0 if attribution == "not_gvhd" else score
        if attribution == "not_gvhd" and score:
            notices.append(
                Notice(code="organ_not_gvhd", message=f"{organ} scores {score} from a non-GVHD cause; counted as 0.")
            )
        if attribution == "mixed" and score:
            notices.append(
                Notice(code="organ_attribution_mixed", message=f"{organ} has GVHD and other causes; scored as seen.")
            )
        organs.append(OrganScore(organ=organ, score=score, counted_score=counted, attribution=attribution, basis=basis))
    severity, wording = global_severity({o.organ: o.counted_score for o in organs})
    return CgvhdResult(
        rule=f"NIH 2014 global severity {wording}.",
        citation=CITATION,
        rules_version=NIH_CGVHD_2014.version,
        confidence=CONFIDENCE,
        warnings=tuple(notices),
        global_severity=severity,
        organs=tuple(organs),
        lung_score_source="symptoms" if case.lung.fev1_percent_predicted is None else "fev1",
        performance_score=case.performance_score,
        inputs=case,
    )


CALCULATOR = Calculator(
    name="cgvhd",
    summary="Chronic GVHD: NIH 2014 organ scores and global severity (none, mild, moderate, severe).",
    input_model=CgvhdInput,
    compute=compute,
)

__all__ = [
    "CALCULATOR",
    "NIH_CGVHD_2014",
    "CgvhdInput",
    "CgvhdResult",
    "compute",
    "global_severity",
    "liver_score",
    "lung_score",
    "skin_score",
]
