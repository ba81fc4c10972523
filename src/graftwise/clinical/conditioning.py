"""Conditioning intensity (MAC, RIC, NMA) from the regimen's agents and doses (clinical spec §8.4).

Sources:

* Definitions [V]: Bacigalupo A et al., Biol Blood Marrow Transplant 2009;15:1628 (abstract): MAC, irreversible
  cytopenia with stem-cell support mandatory; NMA, minimal cytopenia, no support needed; RIC, neither.
* Dose thresholds [R] (recalled, not re-checked; spec §12 item 7): the Bacigalupo 2009 table. MAC: TBI >= 5 Gy single
  or >= 8 Gy fractionated, busulfan > 8 mg/kg oral (> 6.4 IV), melphalan > 140 mg/m², thiotepa >= 10 mg/kg. RIC:
  below those, TBI > 2 Gy. NMA: TBI <= 2 Gy ± purine analogue; Flu + Cy ± ATG; Flu + AraC + Ida; cladribine + AraC;
  TLI + ATG.
* CIBMTR RIC workshop [V]: Giralt S et al., Biol Blood Marrow Transplant 2009;15:367 (abstract): TBI < 500 cGy single
  or < 800 cGy fractionated, busulfan < 9 mg/kg, melphalan < 140 mg/m², thiotepa < 10 mg/kg are RIC; only 32%
  accepted BEAM as RIC.

Design decisions [D]: the spec asks for a curated regimen -> category table with thresholds only for validation. No
verified regimen table was available, so the category comes from the Bacigalupo thresholds and NMA combinations, and
the workshop thresholds are reported beside it; every disagreement is a warning naming the agent. A regimen that
reaches no MAC threshold, matches no NMA combination and has no agent in the RIC dose range is "unclassified" (for
example Flu/Cy/TBI 2 Gy, which is not in the NMA list as written). The workshop IV busulfan bound (< 7.2 mg/kg) is
the oral bound × 0.8, a conversion and not a stated threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice
from graftwise.errors import ValidationError

Agent = Literal[
    "tbi",
    "tli",
    "busulfan",
    "melphalan",
    "thiotepa",
    "treosulfan",
    "fludarabine",
    "cladribine",
    "pentostatin",
    "cyclophosphamide",
    "cytarabine",
    "idarubicin",
    "carmustine",
    "etoposide",
    "atg",
    "alemtuzumab",
    "rituximab",
]
Intensity = Literal["MAC", "RIC", "NMA", "unclassified"]


@dataclass(frozen=True)
class NmaCombination:
    name: str
    required: frozenset[str]
    optional: frozenset[str]


@dataclass(frozen=True)
class ConditioningRules:
    """One versioned rules table: TBI in cGy, busulfan and thiotepa in mg/kg, melphalan in mg/m²."""

    version: str
    dose_units: dict[str, str]
    mac_tbi_single_cgy: float
    mac_tbi_fractionated_cgy: float
    mac_busulfan_oral_above: float
    mac_busulfan_iv_above: float
    mac_melphalan_above: float
    mac_thiotepa_min: float
    nma_tbi_max_cgy: float
    nma_combinations: tuple[NmaCombination, ...]
    workshop_tbi_single_below: float
    workshop_tbi_fractionated_below: float
    workshop_busulfan_oral_below: float
    workshop_busulfan_iv_factor: float
    workshop_melphalan_below: float
    workshop_thiotepa_below: float
    beam: frozenset[str]


PURINE_ANALOGUES = frozenset({"fludarabine", "cladribine", "pentostatin"})

CONDITIONING_RULES = ConditioningRules(
    version="bacigalupo_2009_cibmtr_workshop_2009",
    dose_units={"tbi": "cGy", "busulfan": "mg/kg", "melphalan": "mg/m2", "thiotepa": "mg/kg"},
    mac_tbi_single_cgy=500,
    mac_tbi_fractionated_cgy=800,
    mac_busulfan_oral_above=8.0,
    mac_busulfan_iv_above=6.4,
    mac_melphalan_above=140,
    mac_thiotepa_min=10,
    nma_tbi_max_cgy=200,
    nma_combinations=(
        NmaCombination("TBI <= 2 Gy ± purine analogue", frozenset({"tbi"}), PURINE_ANALOGUES),
        NmaCombination("Flu + Cy ± ATG", frozenset({"fludarabine", "cyclophosphamide"}), frozenset({"atg"})),
        NmaCombination("Flu + AraC + Ida", frozenset({"fludarabine", "cytarabine", "idarubicin"}), frozenset()),
        NmaCombination("cladribine + AraC", frozenset({"cladribine", "cytarabine"}), frozenset()),
        NmaCombination("TLI + ATG", frozenset({"tli", "atg"}), frozenset()),
    ),
    workshop_tbi_single_below=500,
    workshop_tbi_fractionated_below=800,
    workshop_busulfan_oral_below=9.0,
    workshop_busulfan_iv_factor=0.8,
    workshop_melphalan_below=140,
    workshop_thiotepa_below=10,
    beam=frozenset({"carmustine", "etoposide", "cytarabine", "melphalan"}),
)

CONFIDENCE = (
    "MAC/RIC/NMA definitions and CIBMTR workshop RIC thresholds [V]; Bacigalupo 2009 dose table and NMA combinations "
    "[R] (not re-checked); classification by thresholds instead of a curated regimen table, 'unclassified', IV "
    "busulfan conversion [D]."
)

CITATION = (
    "Bacigalupo A et al., Biol Blood Marrow Transplant 2009;15:1628 (definitions [V]; dose table [R]); Giralt S et "
    "al., Biol Blood Marrow Transplant 2009;15:367 (CIBMTR RIC workshop thresholds [V])."
)


class RegimenAgent(ClinicalInput):
    agent: Agent
    total_dose: float | None = Field(None, gt=0, description="Total course dose; required for TBI, Bu, Mel, thiotepa.")
    unit: str | None = Field(None, description="cGy (TBI), mg/kg (busulfan, thiotepa), mg/m2 (melphalan).")
    route: Literal["oral", "iv"] | None = Field(None, description="Busulfan only, required there.")
    fractions: int | None = Field(None, ge=1, description="TBI only, required there (1 = single fraction).")


class ConditioningInput(ClinicalInput):
    agents: list[RegimenAgent] = Field(min_length=1)

    @model_validator(mode="after")
    def _doses_complete(self) -> Self:
        units = CONDITIONING_RULES.dose_units
        seen: set[str] = set()
        for i, a in enumerate(self.agents):
            where = f"agents.{i}"
            if a.agent in seen:
                raise ValidationError(
                    f"{a.agent} listed twice; give its total course dose once", field=f"{where}.agent"
                )
            seen.add(a.agent)
            if a.agent in units:
                if a.total_dose is None:
                    raise ValidationError(
                        f"{a.agent} needs total_dose in {units[a.agent]}", field=f"{where}.total_dose"
                    )
                if a.unit != units[a.agent]:
                    raise ValidationError(
                        f"{a.agent} dose unit must be {units[a.agent]!r}, got {a.unit!r}", field=f"{where}.unit"
                    )
            if (a.agent == "busulfan") != (a.route is not None):
                raise ValidationError("route is required for busulfan and for busulfan only", field=f"{where}.route")
            if (a.agent == "tbi") != (a.fractions is not None):
                raise ValidationError("fractions is required for TBI and for TBI only", field=f"{where}.fractions")
        return self


class AgentFinding(BaseModel):
    model_config = ConfigDict(frozen=True)

    agent: str
    bacigalupo: Literal["mac", "ric", "nma_range"]
    workshop: Literal["ric_range", "above_ric_range"]
    note: str


class ConditioningResult(ClinicalResult):
    intensity: Intensity
    nma_combination: str | None
    workshop_ric: Literal["ric", "not_ric", "not_applicable"]
    agents: list[AgentFinding]
    inputs: ConditioningInput


def _finding(a: RegimenAgent, rules: ConditioningRules) -> AgentFinding:
    """Place one threshold agent on the Bacigalupo table and against the workshop's RIC bound."""
    dose = a.total_dose
    assert dose is not None  # required for threshold agents by the input model
    if a.agent == "tbi":
        single = a.fractions == 1
        mac_at = rules.mac_tbi_single_cgy if single else rules.mac_tbi_fractionated_cgy
        mac = dose >= mac_at
        bound = rules.workshop_tbi_single_below if single else rules.workshop_tbi_fractionated_below
        low = dose <= rules.nma_tbi_max_cgy
        note = f"TBI {dose:g} cGy {'single' if single else 'fractionated'}: MAC >= {mac_at:g}, workshop RIC < {bound:g}"
    elif a.agent == "busulfan":
        oral = a.route == "oral"
        mac_above = rules.mac_busulfan_oral_above if oral else rules.mac_busulfan_iv_above
        mac, low = dose > mac_above, False
        factor = 1.0 if oral else rules.workshop_busulfan_iv_factor
        bound = rules.workshop_busulfan_oral_below * factor
        note = f"busulfan {dose:g} mg/kg {a.route}: MAC > {mac_above:g}, workshop RIC < {bound:g}"
        if not oral:
            note += " (oral bound × 0.8, a conversion)"
    elif a.agent == "melphalan":
        mac, low, bound = dose > rules.mac_melphalan_above, False, rules.workshop_melphalan_below
        note = f"melphalan {dose:g} mg/m²: MAC > {rules.mac_melphalan_above:g}, workshop RIC < {bound:g}"
    else:
        mac, low, bound = dose >= rules.mac_thiotepa_min, False, rules.workshop_thiotepa_below
        note = f"thiotepa {dose:g} mg/kg: MAC >= {rules.mac_thiotepa_min:g}, workshop RIC < {bound:g}"
    return AgentFinding(
        agent=a.agent,
        bacigalupo="mac" if mac else ("nma_range" if low else "ric"),
        workshop="ric_range" if dose < bound else "above_ric_range",
        note=note,
    )


def _nma_combination(case: ConditioningInput, rules: ConditioningRules) -> str | None:
    present = {a.agent for a in case.agents}
    tbi = next((a for a in case.agents if a.agent == "tbi"), None)
    for combo in rules.nma_combinations:
        if combo.required <= present <= combo.required | combo.optional:
            tbi_ok = tbi is None or (tbi.total_dose is not None and tbi.total_dose <= rules.nma_tbi_max_cgy)
            if tbi_ok:
                return combo.name
    return None


def classify_conditioning(case: ConditioningInput, rules: ConditioningRules = CONDITIONING_RULES) -> ConditioningResult:
    """MAC, RIC or NMA by the Bacigalupo 2009 table [R], with the CIBMTR workshop RIC thresholds [V] beside it."""
    findings = [_finding(a, rules) for a in case.agents if a.agent in rules.dose_units]
    combination = _nma_combination(case, rules)
    intensity: Intensity
    mac = [f for f in findings if f.bacigalupo == "mac"]
    if mac:
        intensity = "MAC"
        rule = "MAC (Bacigalupo 2009): " + "; ".join(f.note for f in mac)
        combination = None
    elif combination is not None:
        intensity = "NMA"
        rule = f"NMA (Bacigalupo 2009): regimen is {combination}"
    elif any(f.bacigalupo == "ric" for f in findings):
        intensity = "RIC"
        rule = "RIC (Bacigalupo 2009): no MAC threshold reached; " + "; ".join(
            f.note for f in findings if f.bacigalupo == "ric"
        )
    else:
        intensity = "unclassified"
        rule = "no MAC threshold, no NMA combination and no agent in the RIC dose range (Bacigalupo 2009)"
    workshop: Literal["ric", "not_ric", "not_applicable"]
    if not findings:
        workshop = "not_applicable"
    else:
        workshop = "ric" if all(f.workshop == "ric_range" for f in findings) else "not_ric"
    warnings = [
        Notice(
            code="definitions_differ",
            message=f"definitions differ for {f.agent}: Bacigalupo {f.bacigalupo.upper()}, workshop {f.workshop} "
            f"({f.note})",
        )
        for f in findings
        if (f.bacigalupo == "mac") != (f.workshop == "above_ric_range")
    ]
    if {a.agent for a in case.agents} == rules.beam:
        warnings.append(
            Notice(
                code="beam_ric_disputed", message="BEAM: only 32% of CIBMTR workshop participants accepted it as RIC"
            )
        )
    return ConditioningResult(
        intensity=intensity,
        nma_combination=combination,
        workshop_ric=workshop,
        agents=findings,
        rule=rule,
        citation=CITATION,
        rules_version=rules.version,
        confidence=CONFIDENCE,
        warnings=tuple(warnings),
        inputs=case,
    )


CALCULATOR = Calculator(
    name="conditioning",
    summary="Conditioning intensity (MAC, RIC, NMA) from agents and doses: Bacigalupo 2009 with CIBMTR workshop check.",
    input_model=ConditioningInput,
    compute=classify_conditioning,
)
