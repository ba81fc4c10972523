"""Acute GVHD: MAGIC organ staging and overall grade, and the older systems for historical data.

Sources (clinical spec §1):

* MAGIC organ staging: Harris AC et al., *Biol Blood Marrow Transplant* 2016;22:4–10,
  doi:10.1016/j.bbmt.2015.09.001. Stage table **[V]** via NCI PDQ Table 4 (adapted from Harris).
* MAGIC overall grade: Harris 2016, Table 3 **[R]**: the five first-match rules agree with an independent
  transcription, but the table itself was not opened. Check against the paper before clinical release.
* Keystone / modified Glucksberg: Przepiorka D et al., *Bone Marrow Transplant* 1995;15:825–8. Organ cut-offs **[V]**
  (bloodref.com); grade rules **[R]**.
* Original Glucksberg 1974: grade rules as interpreted by bloodref.com **[V]**; sources disagree on details, so the
  result is labelled "Glucksberg (bloodref interpretation)" and meant only to re-grade legacy data.
* IBMTR severity index: Rowlings PA et al., *Br J Haematol* 1997;97:855 **[V]** (bloodref).

Design decisions **[D]** (spec §1.1): lower-GI volume wins over episodes when both exist (disagreement flagged);
child thresholds at weight ≤ 50 kg, refusal when weight is unknown under 18; skin stage 4 needs rash > 50% **and**
bullae/desquamation > 5% BSA. Further graftwise decisions, each written in ``docs/clinical/agvhd.md``: adult stool
stage 2 starts at 1000 mL (the spec's "< 1000 → 1"), child stool at > 19.9 mL/kg (the general boundary rule);
"severe abdominal pain" needs both of its criteria in every system; the historical systems share the Keystone organ
table of §1.3 (with its liver down-staging) and call generalised erythroderma a rash over 50% BSA.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice
from graftwise.clinical.support import (
    BILIRUBIN_UMOL_L_PER_MG_DL,
    Ladder,
    Step,
    check_days,
    first_match,
    si_of_one,
)
from graftwise.errors import ValidationError

System = Literal["magic", "keystone", "glucksberg_1974", "ibmtr"]

ROMAN = ("0", "I", "II", "III", "IV")
HISTORICAL_REQUIRED = ("liver_other_cause_documented", "upper_gi_histology_confirmed")
IBMTR_LETTERS = ("0", "A", "B", "C", "D")


@dataclass(frozen=True)
class AgvhdRules:
    """One versioned table of acute-GVHD organ cut-offs (bilirubin in mg/dL as published; SI ladder derived)."""

    version: str
    skin_rash_bsa_percent: Ladder
    liver_bilirubin_mg_dl: Ladder
    adult_stool_ml_per_day: Ladder
    child_stool_ml_per_kg_per_day: Ladder
    adult_stool_episodes_per_day: Ladder | None
    child_stool_episodes_per_day: Ladder | None
    erythroderma_rash_bsa_over_percent: float
    stage4_bullae_bsa_over_percent: float
    child_weight_max_kg: float
    adult_age_years: float

    @property
    def liver_bilirubin_umol_l(self) -> Ladder:
        return self.liver_bilirubin_mg_dl.scaled(BILIRUBIN_UMOL_L_PER_MG_DL)


_SKIN_BSA = Ladder((Step(1, 0, False), Step(2, 25, True), Step(3, 50, False)))
_BILIRUBIN = Ladder((Step(1, 2, True), Step(2, 3, False), Step(3, 6, False), Step(4, 15, False)))

MAGIC_2016 = AgvhdRules(
    version="magic_2016",
    skin_rash_bsa_percent=_SKIN_BSA,
    liver_bilirubin_mg_dl=_BILIRUBIN,
    adult_stool_ml_per_day=Ladder((Step(1, 500, True), Step(2, 1000, True), Step(3, 1500, False))),
    child_stool_ml_per_kg_per_day=Ladder((Step(1, 10, True), Step(2, 19.9, False), Step(3, 30, False))),
    adult_stool_episodes_per_day=Ladder((Step(1, 3, True), Step(2, 4, False), Step(3, 7, False))),
    child_stool_episodes_per_day=Ladder((Step(1, 4, True), Step(2, 6, False), Step(3, 10, False))),
    erythroderma_rash_bsa_over_percent=50,
    stage4_bullae_bsa_over_percent=5,
    child_weight_max_kg=50,
    adult_age_years=18,
)

KEYSTONE_1995 = AgvhdRules(
    version="keystone_1995",
    skin_rash_bsa_percent=_SKIN_BSA,
    liver_bilirubin_mg_dl=_BILIRUBIN,
    adult_stool_ml_per_day=Ladder((Step(1, 500, False), Step(2, 1000, False), Step(3, 1500, False))),
    child_stool_ml_per_kg_per_day=Ladder((Step(1, 30, False), Step(2, 60, False), Step(3, 90, False))),
    adult_stool_episodes_per_day=None,
    child_stool_episodes_per_day=None,
    erythroderma_rash_bsa_over_percent=50,
    stage4_bullae_bsa_over_percent=0,
    child_weight_max_kg=50,
    adult_age_years=18,
)

CITATIONS: dict[System, str] = {
    "magic": "Harris AC et al. Biol Blood Marrow Transplant 2016;22:4–10. doi:10.1016/j.bbmt.2015.09.001 "
    "(organ stages as tabulated in NCI PDQ, Complications, GVHD and Late Effects After Pediatric HSCT, Table 4).",
    "keystone": "Przepiorka D et al. 1994 Consensus Conference on Acute GVHD Grading. Bone Marrow Transplant "
    "1995;15:825–8.",
    "glucksberg_1974": "Glucksberg H et al. Transplantation 1974;18:295–304; grade rules as interpreted by "
    "bloodref.com (http://bloodref.com/transplant/gvhd/acute-gvhd-grade); organ stages per Przepiorka 1995.",
    "ibmtr": "Rowlings PA et al. Br J Haematol 1997;97:855–64 (IBMTR severity index); organ stages per "
    "Przepiorka 1995.",
}

CONFIDENCE: dict[System, str] = {
    "magic": "Organ stages [V] (NCI PDQ Table 4, adapted from Harris 2016). Overall grade [R]: matches an "
    "independent transcription of Harris 2016 Table 3, the table itself not opened; check before clinical use.",
    "keystone": "Organ cut-offs [V] (bloodref); grade rules [R]. Historical data only.",
    "glucksberg_1974": "Glucksberg (bloodref interpretation) [V]; sources disagree on details. Historical data only.",
    "ibmtr": "IBMTR severity index [V] (bloodref). Historical data only.",
}


class AgvhdAssessment(ClinicalInput):
    """One assessment of the organs on one day after transplant."""

    day: int = Field(ge=0, description="Days after HCT (day 0 = transplant).")
    skin_rash_bsa_percent: float = Field(
        ge=0, le=100, description="Body-surface area with active erythematous (maculopapular) GVHD rash, %."
    )
    skin_bullae_desquamation_bsa_percent: float = Field(
        ge=0, le=100, description="Body-surface area with bullae and desquamation, % (0 if none)."
    )
    bilirubin_mg_dl: float | None = Field(default=None, ge=0, description="Total bilirubin, mg/dL.")
    bilirubin_umol_l: float | None = Field(default=None, ge=0, description="Total bilirubin, µmol/L.")
    upper_gi_persistent_symptoms: bool = Field(description="Persistent nausea, vomiting or anorexia.")
    stool_volume_ml_per_day: float | None = Field(
        default=None, ge=0, description="Stool volume, mL/day, 3-day average (count 50% of mixed stool and urine)."
    )
    stool_episodes_per_day: float | None = Field(
        default=None, ge=0, description="Stool episodes per day, 3-day average."
    )
    grossly_bloody_stool: bool = Field(description="Grossly bloody stool (any volume).")
    abdominal_pain_needs_opioids: bool = Field(description="Abdominal pain needing opioids or an increased dose.")
    abdominal_pain_affects_performance: bool = Field(
        description="Abdominal pain with a significant effect on performance status (physician's judgement)."
    )
    liver_other_cause_documented: bool | None = Field(
        default=None,
        description="A documented non-GVHD cause of hyperbilirubinaemia. Required for the historical systems "
        "(Keystone down-stages the liver by one); MAGIC does not down-stage.",
    )
    upper_gi_histology_confirmed: bool | None = Field(
        default=None, description="Histological upper-GI GVHD. Required for the historical systems."
    )
    ecog: int | None = Field(default=None, ge=0, le=5, description="ECOG performance status (glucksberg_1974).")
    karnofsky: int | None = Field(
        default=None, ge=0, le=100, multiple_of=10, description="Karnofsky performance status, % (glucksberg_1974)."
    )

    def bilirubin_si(self, where: str = "") -> float:
        """Bilirubin in µmol/L from whichever unit was given; both or neither is refused, naming ``where``."""
        fields = ("bilirubin_mg_dl", "bilirubin_umol_l")
        return si_of_one(self.bilirubin_mg_dl, self.bilirubin_umol_l, BILIRUBIN_UMOL_L_PER_MG_DL, fields, where)


class AgvhdInput(ClinicalInput):
    """A patient's acute-GVHD assessments over time, graded in one system."""

    system: System = Field(
        description="magic (current standard); keystone, glucksberg_1974, ibmtr for historical data only."
    )
    age_years: float = Field(ge=0, le=130, description="Age at transplant, years.")
    weight_kg: float | None = Field(
        gt=0, le=400, description="Body weight, kg (null if unknown; required under 18 years)."
    )
    assessments: tuple[AgvhdAssessment, ...] = Field(min_length=1, description="In order of day, no day twice.")

    @model_validator(mode="after")
    def _consistent(self) -> AgvhdInput:
        rules = rules_for(self.system)
        if self.weight_kg is None and self.age_years < rules.adult_age_years:
            raise ValidationError(
                f"weight_kg: required to stage lower GI for a patient under {rules.adult_age_years:g} years "
                f"(age_years = {self.age_years:g}); child thresholds are per kg",
                field="weight_kg",
            )
        historical = self.system != "magic"
        days = [a.day for a in self.assessments]
        check_days(days, [f"assessments.{i}.day" for i in range(len(days))], in_order=True)
        for i, a in enumerate(self.assessments):
            where = f"assessments.{i}"
            a.bilirubin_si(where)
            if a.stool_volume_ml_per_day is None and (historical or a.stool_episodes_per_day is None):
                needed = "is required" if historical else "or stool_episodes_per_day is required"
                raise ValidationError(
                    f"{where}.stool_volume_ml_per_day: {needed} to stage the gut in system {self.system!r}",
                    field=f"{where}.stool_volume_ml_per_day",
                )
            for name in HISTORICAL_REQUIRED if historical else ():
                if getattr(a, name) is None:
                    raise ValidationError(
                        f"{where}.{name}: required (true or false) in system {self.system!r}",
                        field=f"{where}.{name}",
                    )
            if self.system == "glucksberg_1974" and a.ecog is None and a.karnofsky is None:
                raise ValidationError(
                    f"{where}.ecog: glucksberg_1974 needs ecog or karnofsky (grade IV includes ECOG 4 / KPS < 30%)",
                    field=f"{where}.ecog",
                )
        return self


class MagicStages(BaseModel):
    """MAGIC organ stages (upper GI is staged 0–1 only)."""

    model_config = ConfigDict(frozen=True)

    skin: int = Field(ge=0, le=4)
    liver: int = Field(ge=0, le=4)
    upper_gi: int = Field(ge=0, le=1)
    lower_gi: int = Field(ge=0, le=4)


class HistoricalStages(BaseModel):
    """Keystone / Glucksberg organ stages: one gut stage covers upper and lower GI."""

    model_config = ConfigDict(frozen=True)

    skin: int = Field(ge=0, le=4)
    liver: int = Field(ge=0, le=4)
    gut: int = Field(ge=0, le=4)


class AssessmentGrade(BaseModel):
    """The stages and grade of one assessment."""

    model_config = ConfigDict(frozen=True)

    day: int
    stages: MagicStages | HistoricalStages
    grade: str
    grade_rank: int
    rule: str
    warnings: tuple[Notice, ...]


class AgvhdResult(ClinicalResult):
    """Each assessment's stages and grade, and the maximum grade with the first day it was reached."""

    system: System
    assessments: tuple[AssessmentGrade, ...]
    maximum_grade: str
    maximum_grade_rank: int
    maximum_grade_day: int
    inputs: AgvhdInput


def rules_for(system: System) -> AgvhdRules:
    return MAGIC_2016 if system == "magic" else KEYSTONE_1995


def _severe_abdominal_pain(a: AgvhdAssessment, notices: list[Notice]) -> bool:
    """Both criteria are needed (Harris 2016 via PDQ Table 4): opioids, and an effect on performance status."""
    both = a.abdominal_pain_needs_opioids and a.abdominal_pain_affects_performance
    if not both and (a.abdominal_pain_needs_opioids or a.abdominal_pain_affects_performance):
        notices.append(
            Notice(
                code="abdominal_pain_criteria_incomplete",
                message="Only one of the two criteria of severe abdominal pain is met; not staged as stage 4.",
            )
        )
    return both


def _stool_stage(volume: float, weight_kg: float | None, child: bool, rules: AgvhdRules) -> int:
    if child:
        assert weight_kg is not None
        return rules.child_stool_ml_per_kg_per_day.level(volume / weight_kg)
    return rules.adult_stool_ml_per_day.level(volume)


def is_child(weight_kg: float | None, rules: AgvhdRules) -> bool:
    """Child stool thresholds apply at weight ≤ 50 kg; an unknown weight is allowed only from age 18 (adult)."""
    return weight_kg is not None and weight_kg <= rules.child_weight_max_kg


def magic_stages(a: AgvhdAssessment, child: bool, weight_kg: float | None) -> tuple[MagicStages, list[Notice]]:
    """MAGIC organ stages of one assessment (Harris 2016; PDQ Table 4 [V]; boundaries [D] per spec §1.1)."""
    rules = MAGIC_2016
    notices: list[Notice] = []
    skin = _skin_stage(a, rules, notices)
    liver = rules.liver_bilirubin_umol_l.level(a.bilirubin_si())
    if a.liver_other_cause_documented and liver:
        notices.append(
            Notice(
                code="liver_not_downstaged",
                message="A non-GVHD cause of hyperbilirubinaemia is documented; MAGIC does not reduce the liver stage.",
            )
        )
    upper_gi = 1 if a.upper_gi_persistent_symptoms else 0
    episodes = rules.child_stool_episodes_per_day if child else rules.adult_stool_episodes_per_day
    assert episodes is not None
    by_episodes = None if a.stool_episodes_per_day is None else episodes.level(a.stool_episodes_per_day)
    by_volume = (
        None if a.stool_volume_ml_per_day is None else _stool_stage(a.stool_volume_ml_per_day, weight_kg, child, rules)
    )
    if by_volume is not None and by_episodes is not None and by_volume != by_episodes:
        notices.append(
            Notice(
                code="lower_gi_volume_episode_discordant",
                message=f"Stool volume gives lower-GI stage {by_volume}, episodes give {by_episodes}; "
                "the measured volume is used.",
            )
        )
    lower_gi = by_volume if by_volume is not None else by_episodes
    assert lower_gi is not None
    if _severe_abdominal_pain(a, notices) or a.grossly_bloody_stool:
        lower_gi = 4
    return MagicStages(skin=skin, liver=liver, upper_gi=upper_gi, lower_gi=lower_gi), notices


def historical_stages(
    a: AgvhdAssessment, child: bool, weight_kg: float | None
) -> tuple[HistoricalStages, list[Notice]]:
    """Keystone / modified Glucksberg organ stages (Przepiorka 1995; cut-offs [V] via bloodref; spec §1.3)."""
    rules = KEYSTONE_1995
    notices: list[Notice] = []
    skin = _skin_stage(a, rules, notices)
    liver = rules.liver_bilirubin_umol_l.level(a.bilirubin_si())
    if a.liver_other_cause_documented and liver:
        liver -= 1
        notices.append(
            Notice(code="liver_downstaged", message="Liver stage reduced by one for a documented other cause.")
        )
    assert a.stool_volume_ml_per_day is not None
    gut = _stool_stage(a.stool_volume_ml_per_day, weight_kg, child, rules)
    if a.upper_gi_persistent_symptoms and a.upper_gi_histology_confirmed:
        gut = max(gut, 1)
    if _severe_abdominal_pain(a, notices):
        gut = 4
    return HistoricalStages(skin=skin, liver=liver, gut=gut), notices


def _skin_stage(a: AgvhdAssessment, rules: AgvhdRules, notices: list[Notice]) -> int:
    erythroderma = a.skin_rash_bsa_percent > rules.erythroderma_rash_bsa_over_percent
    bullae = a.skin_bullae_desquamation_bsa_percent > rules.stage4_bullae_bsa_over_percent
    if erythroderma and bullae:
        return 4
    if a.skin_bullae_desquamation_bsa_percent > 0:
        notices.append(
            Notice(
                code="skin_bullae_staged_by_bsa",
                message="Bullae/desquamation present but the stage-4 criteria are not both met; skin staged by "
                "rash BSA.",
            )
        )
    return rules.skin_rash_bsa_percent.level(a.skin_rash_bsa_percent)


def magic_grade(s: MagicStages) -> tuple[int, str]:
    """MAGIC overall grade, first match wins (Harris 2016 Table 3 [R]); not the maximum organ stage."""
    return first_match(
        (
            (s.skin == 4 or s.liver == 4 or s.lower_gi == 4, 4, "grade IV: skin 4, liver 4 or lower GI 4"),
            (s.liver in (2, 3) or s.lower_gi in (2, 3), 3, "grade III: liver 2–3 and/or lower GI 2–3"),
            (
                s.skin == 3 or s.liver == 1 or s.upper_gi == 1 or s.lower_gi == 1,
                2,
                "grade II: skin 3 and/or liver 1 and/or upper GI 1 and/or lower GI 1",
            ),
            (s.skin in (1, 2), 1, "grade I: skin 1–2 with no liver or GI involvement"),
            (True, 0, "grade 0: no organ at stage 1 or more"),
        )
    )


def keystone_grade(s: HistoricalStages) -> tuple[int, str]:
    """Keystone grade (Przepiorka 1995 [R]); gut stage 4 is grade III here, unlike MAGIC."""
    return first_match(
        (
            (s.skin == 4 or s.liver == 4, 4, "grade IV: skin 4 or liver 4"),
            (s.liver in (2, 3) or s.gut >= 2, 3, "grade III: liver 2–3 or gut 2–4"),
            (s.skin == 3 or s.liver == 1 or s.gut == 1, 2, "grade II: skin 3, liver 1 or gut 1"),
            (s.skin in (1, 2), 1, "grade I: skin 1–2 only"),
            (True, 0, "grade 0: no organ at stage 1 or more"),
        )
    )


def glucksberg_grade(s: HistoricalStages, ecog: int | None, karnofsky: int | None) -> tuple[int, str]:
    """Original Glucksberg 1974 grade, bloodref interpretation [V]; grade IV includes ECOG 4 or KPS < 30%."""
    extreme_ps = ecog == 4 or (karnofsky is not None and karnofsky < 30)
    return first_match(
        (
            (
                s.skin == 4 or s.gut == 4 or extreme_ps,
                4,
                "grade IV: skin 4 or gut 4, or ECOG 4 / KPS < 30%",
            ),
            (s.liver >= 2 or s.gut in (2, 3), 3, "grade III: liver 2–4 or gut 2–3 with other organs ≤ 3"),
            (s.skin == 3 or s.liver == 1 or s.gut == 1, 2, "grade II: liver or gut 1 with skin ≤ 3, or skin 3"),
            (s.skin in (1, 2), 1, "grade I: skin 1–2 only"),
            (True, 0, "grade 0: no organ at stage 1 or more"),
        )
    )


def ibmtr_grade(s: HistoricalStages) -> tuple[int, str]:
    """IBMTR severity index (Rowlings 1997 [V] via bloodref): A skin 1 only; B max 2; C max 3; D any 4."""
    top = max(s.skin, s.liver, s.gut)
    return first_match(
        (
            (top == 4, 4, "index D: any organ at stage 4"),
            (top == 3, 3, "index C: maximum organ stage 3"),
            (top == 2 or s.liver == 1 or s.gut == 1, 2, "index B: maximum organ stage 2 (or liver/gut 1)"),
            (s.skin == 1, 1, "index A: skin 1 only"),
            (True, 0, "index 0: no organ at stage 1 or more"),
        )
    )


def _grade_one(
    system: System, a: AgvhdAssessment, child: bool, weight_kg: float | None
) -> tuple[MagicStages | HistoricalStages, int, str, list[Notice]]:
    if system == "magic":
        m, notices = magic_stages(a, child, weight_kg)
        rank, wording = magic_grade(m)
        return m, rank, wording, notices
    h, notices = historical_stages(a, child, weight_kg)
    graders: dict[System, Callable[[HistoricalStages], tuple[int, str]]] = {
        "keystone": keystone_grade,
        "glucksberg_1974": lambda st: glucksberg_grade(st, a.ecog, a.karnofsky),
        "ibmtr": ibmtr_grade,
    }
    rank, wording = graders[system](h)
    return h, rank, wording, notices


def compute(case: AgvhdInput) -> AgvhdResult:
    """Stage and grade every assessment; the maximum grade is reported with the first day it was reached."""
    rules = rules_for(case.system)
    child = is_child(case.weight_kg, rules)
    labels = IBMTR_LETTERS if case.system == "ibmtr" else ROMAN
    graded: list[AssessmentGrade] = []
    for a in case.assessments:
        stages, rank, wording, notices = _grade_one(case.system, a, child, case.weight_kg)
        graded.append(
            AssessmentGrade(
                day=a.day, stages=stages, grade=labels[rank], grade_rank=rank, rule=wording, warnings=tuple(notices)
            )
        )
    top = max(graded, key=lambda g: g.grade_rank)  # max() keeps the first of equals: the earliest day
    general: list[Notice] = []
    if case.weight_kg is None:
        general.append(
            Notice(code="weight_unknown_adult_thresholds", message="Weight not given; adult stool thresholds used.")
        )
    thresholds = "child (weight ≤ 50 kg, per kg)" if child else "adult"
    return AgvhdResult(
        rule=f"{top.grade} is the highest grade over {len(graded)} assessment(s), first reached on day {top.day} "
        f"({top.rule}); {thresholds} stool thresholds.",
        citation=CITATIONS[case.system],
        rules_version=rules.version if case.system in ("magic", "keystone") else f"{case.system}+{rules.version}",
        confidence=CONFIDENCE[case.system],
        warnings=tuple(general),
        system=case.system,
        assessments=tuple(graded),
        maximum_grade=top.grade,
        maximum_grade_rank=top.grade_rank,
        maximum_grade_day=top.day,
        inputs=case,
    )


CALCULATOR = Calculator(
    name="agvhd",
    summary="Acute GVHD: MAGIC organ stages and grade 0–IV over time (Keystone, Glucksberg, IBMTR for old data).",
    input_model=AgvhdInput,
    compute=compute,
)

__all__ = [
    "CALCULATOR",
    "KEYSTONE_1995",
    "MAGIC_2016",
    "AgvhdAssessment",
    "AgvhdInput",
    "AgvhdResult",
    "HistoricalStages",
    "MagicStages",
    "compute",
    "glucksberg_grade",
    "historical_stages",
    "ibmtr_grade",
    "keystone_grade",
    "magic_grade",
    "magic_stages",
]
