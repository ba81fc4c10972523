"""HCT-CI and HCT-CI/age (clinical spec §3).

Sources: Sorror ML et al., *Blood* 2005;106:2912–9 (the index); Sorror ML et al., *J Clin Oncol* 2014;32:3249–56
(HCT-CI/age); Sorror ML, *Blood* 2013;121:2854 (Fig. 3 legend: the hepatic laboratory window).

* Weights and definitions **[V]** (pmidcalc, CIBMTR CRF guide, NCI PDQ, Sorror's ASH review Table 1); hepatic and
  pulmonary are tiers, only the highest counts **[V]**; HCT-CI/age adds 1 point at age ≥ 40, groups 0 / 1–2 / 3–4 /
  ≥ 5 **[V]** (PubMed 25154831).
* Hepatic laboratory window **[V]**: only values from day −24 to day −10 count; a criterion needs two elevated
  values in the window; the elevated value closest to day −10 sets the tier. Whether the window also applies to
  creatinine is **[R]** (open item 4): graftwise applies it to the hepatic tests only.
* Design **[D]**: boundaries EF 50% → 1, creatinine 2.0 mg/dL → 0, BMI 35 → 0, FEV1/DLCO 80% → moderate,
  81% → none, 66% → moderate, 65% → severe (Sorror's "≤ 65%", not PDQ's "< 65%"); the lower of FEV1 and the
  Hb-corrected DLCO is used; maximum score 26. AST and ALT are judged separately, each needing its own two elevated
  values (the source says "AST/ALT"); on one day with several results the highest sets the tier. Under 18 years
  obesity is BMI-for-age ≥ 95th percentile (the paediatric update). A measurement given as null is not scored and is
  reported as a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice
from graftwise.clinical.support import (
    CREATININE_UMOL_L_PER_MG_DL,
    Ladder,
    Step,
    si_of_optional,
    to_si,
)

LiverAnalyte = Literal["bilirubin", "ast", "alt"]


@dataclass(frozen=True)
class Comorbidity:
    """One HCT-CI item: its key, its wording in the source and its weight."""

    key: str
    definition: str
    weight: int


@dataclass(frozen=True)
class HctciRules:
    """The HCT-CI items, weights and cut-offs (creatinine in mg/dL as published)."""

    version: str
    items: tuple[Comorbidity, ...]
    ejection_fraction_percent: Ladder
    bmi_over_kg_m2: float
    bmi_for_age_percentile_from: float
    adult_age_years: float
    creatinine_over_mg_dl: float
    pulmonary_function_percent: Ladder
    liver_x_uln: dict[LiverAnalyte, Ladder]
    liver_window_days: tuple[int, int]
    liver_elevated_values_needed: int
    age_point_from_years: float
    groups: tuple[tuple[int, str], ...]
    age_groups: tuple[tuple[int, str], ...]

    def item(self, key: str) -> Comorbidity:
        return next(i for i in self.items if i.key == key)


HCTCI_2005 = HctciRules(
    version="hctci_2005",
    items=(
        Comorbidity("arrhythmia", "atrial fibrillation/flutter, sick sinus syndrome or ventricular arrhythmia", 1),
        Comorbidity(
            "cardiac", "coronary artery disease, congestive heart failure, myocardial infarction or EF ≤ 50%", 1
        ),
        Comorbidity("inflammatory_bowel_disease", "Crohn disease or ulcerative colitis", 1),
        Comorbidity("diabetes", "diabetes needing insulin or oral agents", 1),
        Comorbidity("cerebrovascular_disease", "transient ischaemic attack or cerebrovascular accident", 1),
        Comorbidity("psychiatric_disturbance", "depression or anxiety needing consultation or treatment", 1),
        Comorbidity("hepatic_mild", "chronic hepatitis, bilirubin > ULN–1.5 × ULN, or AST/ALT > ULN–2.5 × ULN", 1),
        Comorbidity("obesity", "BMI > 35 kg/m² (under 18: BMI-for-age ≥ 95th percentile)", 1),
        Comorbidity("infection", "infection needing antimicrobial treatment continued after day 0", 1),
        Comorbidity("rheumatologic", "SLE, RA, polymyositis, mixed CTD or polymyalgia rheumatica", 2),
        Comorbidity("peptic_ulcer", "peptic ulcer needing treatment", 2),
        Comorbidity("renal_moderate_severe", "creatinine > 2 mg/dL, dialysis, or prior renal transplant", 2),
        Comorbidity("pulmonary_moderate", "DLCO and/or FEV1 66–80%, or dyspnoea on slight activity", 2),
        Comorbidity("prior_solid_tumour", "solid tumour treated at any time, excluding non-melanoma skin cancer", 3),
        Comorbidity("heart_valve_disease", "heart valve disease, except mitral valve prolapse", 3),
        Comorbidity("pulmonary_severe", "DLCO and/or FEV1 ≤ 65%, dyspnoea at rest, or oxygen", 3),
        Comorbidity("hepatic_moderate_severe", "cirrhosis, bilirubin > 1.5 × ULN, or AST/ALT > 2.5 × ULN", 3),
    ),
    ejection_fraction_percent=Ladder((Step(1, 50, True),), higher_is_worse=False),
    bmi_over_kg_m2=35,
    bmi_for_age_percentile_from=95,
    adult_age_years=18,
    creatinine_over_mg_dl=2.0,
    pulmonary_function_percent=Ladder((Step(1, 80, True), Step(2, 65, True)), higher_is_worse=False),
    liver_x_uln={
        "bilirubin": Ladder((Step(1, 1.0, False), Step(2, 1.5, False))),
        "ast": Ladder((Step(1, 1.0, False), Step(2, 2.5, False))),
        "alt": Ladder((Step(1, 1.0, False), Step(2, 2.5, False))),
    },
    liver_window_days=(-24, -10),
    liver_elevated_values_needed=2,
    age_point_from_years=40,
    groups=((0, "low (0)"), (1, "intermediate (1–2)"), (3, "high (≥ 3)")),
    age_groups=((0, "0"), (1, "1–2"), (3, "3–4"), (5, "≥ 5")),
)

HEPATIC_TIERS = {1: "hepatic_mild", 2: "hepatic_moderate_severe"}
PULMONARY_TIERS = {1: "pulmonary_moderate", 2: "pulmonary_severe"}

CITATION = (
    "Sorror ML et al. Blood 2005;106:2912–9 (HCT-CI); Sorror ML et al. J Clin Oncol 2014;32:3249–56 (HCT-CI/age); "
    "hepatic laboratory window per Sorror ML, Blood 2013;121:2854 (Fig. 3)."
)
CONFIDENCE = (
    "Weights, definitions, tiers, HCT-CI/age point and groups [V]; hepatic day −24 to −10 window [V]; boundaries, "
    "per-analyte AST/ALT reading and maximum 26 [D]; whether the window applies to creatinine [R] (not applied)."
)


class LiverTest(ClinicalInput):
    """One dated liver test before transplant, with its laboratory's upper limit of normal."""

    day: int = Field(description="Day relative to HCT (day 0); the hepatic window is day −24 to day −10.")
    analyte: LiverAnalyte
    value: float = Field(ge=0, description="Result, in any unit.")
    uln: float = Field(gt=0, description="Upper limit of normal, in the same unit as value.")


class HctciInput(ClinicalInput):
    """The comorbidities and measurements of the HCT-CI, assessed before transplant."""

    age_years: float = Field(ge=0, le=130, description="Age at HCT, years.")
    arrhythmia: bool
    coronary_artery_disease: bool = Field(description="Needing medical treatment, stent or bypass graft.")
    congestive_heart_failure: bool
    myocardial_infarction: bool
    ejection_fraction_percent: float | None = Field(ge=0, le=100, description="Left-ventricular EF, % (null: none).")
    inflammatory_bowel_disease: bool
    diabetes: bool = Field(description="Needing insulin or oral hypoglycaemics.")
    cerebrovascular_disease: bool
    psychiatric_disturbance: bool
    chronic_hepatitis: bool
    cirrhosis: bool
    liver_tests: tuple[LiverTest, ...] = Field(description="Dated bilirubin, AST, ALT results before HCT.")
    bmi_kg_m2: float | None = Field(gt=0, le=150, description="Body-mass index, kg/m² (adults).")
    bmi_for_age_percentile: float | None = Field(ge=0, le=100, description="BMI-for-age percentile (under 18).")
    infection: bool = Field(description="Infection needing antimicrobial treatment continued after day 0.")
    rheumatologic: bool
    peptic_ulcer: bool = Field(description="Needing treatment.")
    creatinine_mg_dl: float | None = Field(default=None, ge=0, description="Serum creatinine, mg/dL.")
    creatinine_umol_l: float | None = Field(default=None, ge=0, description="Serum creatinine, µmol/L.")
    dialysis: bool
    prior_renal_transplant: bool
    fev1_percent_predicted: float | None = Field(ge=0, le=200, description="FEV1, % predicted.")
    dlco_percent_predicted_hb_corrected: float | None = Field(
        ge=0, le=200, description="DLCO corrected for haemoglobin, % predicted."
    )
    dyspnoea: Literal["none", "slight_activity", "at_rest"]
    on_oxygen: bool
    prior_solid_tumour: bool = Field(description="Treated at any time; excluding non-melanoma skin cancer.")
    heart_valve_disease: bool = Field(description="Except mitral valve prolapse.")

    @model_validator(mode="after")
    def _units(self) -> HctciInput:
        self.creatinine_si()
        return self

    def creatinine_si(self) -> float | None:
        fields = ("creatinine_mg_dl", "creatinine_umol_l")
        return si_of_optional(self.creatinine_mg_dl, self.creatinine_umol_l, CREATININE_UMOL_L_PER_MG_DL, fields, "")


class Contribution(BaseModel):
    """A comorbidity that scored, its weight and the finding that met it."""

    model_config = ConfigDict(frozen=True)

    comorbidity: str
    weight: int
    definition: str
    finding: str


class HctciResult(ClinicalResult):
    """HCT-CI with its contributing comorbidities, and HCT-CI/age."""

    hct_ci: int
    risk_group: str
    contributing: tuple[Contribution, ...]
    age_point: int
    hct_ci_age: int
    hct_ci_age_group: str
    inputs: HctciInput


def _group(score: int, groups: tuple[tuple[int, str], ...]) -> str:
    return [label for lowest, label in groups if score >= lowest][-1]


def hepatic_lab_tier(tests: tuple[LiverTest, ...], rules: HctciRules = HCTCI_2005) -> tuple[int, str, list[Notice]]:
    """The hepatic tier (0 none, 1 mild, 2 moderate/severe) from dated tests, by the day −24 to −10 rule [V]."""
    first, last = rules.liver_window_days
    notices: list[Notice] = []
    outside = [t for t in tests if not first <= t.day <= last]
    if outside:
        notices.append(
            Notice(
                code="liver_tests_outside_window",
                message=f"{len(outside)} liver test(s) outside day {first} to {last} not counted.",
            )
        )
    inside = [t for t in tests if first <= t.day <= last]
    if not inside:
        notices.append(
            Notice(
                code="liver_test_window_empty",
                message=f"No liver test between day {first} and {last}; the laboratory hepatic criteria are unscored.",
            )
        )
    best, finding = 0, ""
    for analyte, ladder in rules.liver_x_uln.items():
        elevated = [t for t in inside if t.analyte == analyte and ladder.level(t.value / t.uln) >= 1]
        if len(elevated) == 1:
            notices.append(
                Notice(
                    code="single_elevated_liver_test",
                    message=f"Only one elevated {analyte} in the window; two are needed.",
                )
            )
        if len(elevated) < rules.liver_elevated_values_needed:
            continue
        closest = max(elevated, key=lambda t: (t.day, t.value / t.uln))
        tier = ladder.level(closest.value / closest.uln)
        if tier > best:
            ratio = closest.value / closest.uln
            best = tier
            finding = f"{len(elevated)} elevated {analyte} values in the window; day {closest.day}: {ratio:.2f} × ULN"
    return best, finding, notices


def _findings(case: HctciInput, rules: HctciRules, notices: list[Notice]) -> dict[str, str]:
    """Every met item, keyed by comorbidity, with the finding that met it; tiers give only their highest item."""
    met: dict[str, str] = {}
    flags = {
        "arrhythmia": case.arrhythmia,
        "inflammatory_bowel_disease": case.inflammatory_bowel_disease,
        "diabetes": case.diabetes,
        "cerebrovascular_disease": case.cerebrovascular_disease,
        "psychiatric_disturbance": case.psychiatric_disturbance,
        "infection": case.infection,
        "rheumatologic": case.rheumatologic,
        "peptic_ulcer": case.peptic_ulcer,
        "prior_solid_tumour": case.prior_solid_tumour,
        "heart_valve_disease": case.heart_valve_disease,
    }
    met.update({key: "reported" for key, present in flags.items() if present})

    cardiac = [
        name
        for name, present in (
            ("coronary artery disease", case.coronary_artery_disease),
            ("congestive heart failure", case.congestive_heart_failure),
            ("myocardial infarction", case.myocardial_infarction),
        )
        if present
    ]
    if case.ejection_fraction_percent is None:
        notices.append(Notice(code="ejection_fraction_not_given", message="No EF; the EF criterion is unscored."))
    elif rules.ejection_fraction_percent.level(case.ejection_fraction_percent):
        cardiac.append(f"EF {case.ejection_fraction_percent:g}%")
    if cardiac:
        met["cardiac"] = ", ".join(cardiac)

    _obesity(case, rules, met, notices)
    _renal(case, rules, met, notices)

    hepatic, hepatic_finding, hepatic_notices = hepatic_lab_tier(case.liver_tests, rules)
    notices += hepatic_notices
    hepatic_candidates = [(hepatic, hepatic_finding)] if hepatic else []
    if case.cirrhosis:
        hepatic_candidates.append((2, "cirrhosis"))
    if case.chronic_hepatitis:
        hepatic_candidates.append((1, "chronic hepatitis"))
    if hepatic_candidates:
        tier, finding = max(hepatic_candidates, key=lambda c: c[0])
        met[HEPATIC_TIERS[tier]] = finding

    pulmonary = _pulmonary(case, rules, notices)
    if pulmonary:
        tier, finding = max(pulmonary, key=lambda c: c[0])
        met[PULMONARY_TIERS[tier]] = finding
    return met


def _obesity(case: HctciInput, rules: HctciRules, met: dict[str, str], notices: list[Notice]) -> None:
    if case.age_years < rules.adult_age_years:
        if case.bmi_for_age_percentile is None:
            notices.append(Notice(code="bmi_for_age_not_given", message="Under 18 and no BMI-for-age percentile."))
        elif case.bmi_for_age_percentile >= rules.bmi_for_age_percentile_from:
            met["obesity"] = f"BMI-for-age {case.bmi_for_age_percentile:g}th percentile"
        return
    if case.bmi_kg_m2 is None:
        notices.append(Notice(code="bmi_not_given", message="No BMI; obesity is unscored."))
    elif case.bmi_kg_m2 > rules.bmi_over_kg_m2:
        met["obesity"] = f"BMI {case.bmi_kg_m2:g} kg/m²"


def _renal(case: HctciInput, rules: HctciRules, met: dict[str, str], notices: list[Notice]) -> None:
    renal = [
        name
        for name, on in (("dialysis", case.dialysis), ("prior renal transplant", case.prior_renal_transplant))
        if on
    ]
    creatinine = case.creatinine_si()
    if creatinine is None:
        notices.append(
            Notice(code="creatinine_not_given", message="No creatinine; the creatinine criterion is unscored.")
        )
    elif creatinine > to_si(rules.creatinine_over_mg_dl, CREATININE_UMOL_L_PER_MG_DL):
        renal.append(f"creatinine {creatinine:g} µmol/L")
    if renal:
        met["renal_moderate_severe"] = ", ".join(renal)


def _pulmonary(case: HctciInput, rules: HctciRules, notices: list[Notice]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    measured = [
        (v, name)
        for v, name in ((case.fev1_percent_predicted, "FEV1"), (case.dlco_percent_predicted_hb_corrected, "DLCO"))
        if v is not None
    ]
    if len(measured) < 2:
        notices.append(
            Notice(code="pulmonary_function_incomplete", message="FEV1 and/or DLCO not given; the lower given is used.")
        )
    if measured:
        value, name = min(measured)
        tier = rules.pulmonary_function_percent.level(value)
        if tier:
            found.append((tier, f"{name} {value:g}% (lower of FEV1 and DLCO)"))
    if case.dyspnoea == "slight_activity":
        found.append((1, "dyspnoea on slight activity"))
    if case.dyspnoea == "at_rest":
        found.append((2, "dyspnoea at rest"))
    if case.on_oxygen:
        found.append((2, "on oxygen"))
    return found


def compute(case: HctciInput, rules: HctciRules = HCTCI_2005) -> HctciResult:
    """Sum the weights of the met comorbidities (highest tier only), then add the age point."""
    notices: list[Notice] = []
    met = _findings(case, rules, notices)
    contributing = tuple(
        Contribution(comorbidity=i.key, weight=i.weight, definition=i.definition, finding=met[i.key])
        for i in rules.items
        if i.key in met
    )
    score = sum(c.weight for c in contributing)
    age_point = 1 if case.age_years >= rules.age_point_from_years else 0
    listed = "; ".join(f"{c.comorbidity} +{c.weight}" for c in contributing) or "no comorbidity met"
    return HctciResult(
        rule=f"HCT-CI = sum of weights of met comorbidities (hepatic and pulmonary: highest tier only): {listed} "
        f"→ {score}; HCT-CI/age adds 1 at age ≥ 40 (age {case.age_years:g} → +{age_point}).",
        citation=CITATION,
        rules_version=rules.version,
        confidence=CONFIDENCE,
        warnings=tuple(notices),
        hct_ci=score,
        risk_group=_group(score, rules.groups),
        contributing=contributing,
        age_point=age_point,
        hct_ci_age=score + age_point,
        hct_ci_age_group=_group(score + age_point, rules.age_groups),
        inputs=case,
    )


CALCULATOR = Calculator(
    name="hct-ci",
    summary="HCT-CI and HCT-CI/age (Sorror) with the contributing comorbidities listed.",
    input_model=HctciInput,
    compute=compute,
)

__all__ = ["CALCULATOR", "HCTCI_2005", "HctciInput", "HctciResult", "compute", "hepatic_lab_tier"]
