"""Cord blood unit selection: single or double unit by HLA match and cell dose (clinical spec §8.3).

Sources [V]:

* Search filter and order: NMDP cord blood search algorithm (PMC7567024, Table 1): >= 4/8 allele-level match at
  A, B, C, DRB1 with TNC > 1.5 ×10⁷/kg; drop units with a known CD34+ < 1.0 ×10⁵/kg; sort by HLA match, then TNC.
* Dose: NMDP/CIBMTR 2019 (Dehn J et al., Blood 2019;134:924-934): single unit TNC >= 3.0 ×10⁷/kg and pre-freeze
  CD34+ >= 1.5 ×10⁵/kg; double unit CD34+ >= 1.0 ×10⁵/kg per unit.
* Eurocord-type criteria (ASH-SAP table): double unit TNC >= 1.5 ×10⁷/kg per unit; non-malignant disease TNC > 5.0
  ×10⁷/kg; avoid > 2 HLA mismatches and HLA-C mismatches; screen for DSA and avoid those units.

Design decisions [D]: HLA match is an input ("6/8"), not computed. Doses use recipient weight and pre-cryopreservation
counts. Double-unit eligibility is per unit, and double units are offered for malignant disease only (the guideline
gives no double-unit criteria for non-malignant disease). A unit with unknown CD34+ passes the filter (only a known
low CD34+ drops it) but cannot be chosen, since every dose criterion needs CD34+. Non-malignant disease needs both the
NMDP single-unit criteria and TNC > 5.0. Among eligible units in search order, the first without a Eurocord HLA
caution is chosen; a cautioned unit is chosen only when no other is eligible, with a warning. This is a ranked
suggestion for the transplant team, never an automatic decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice
from graftwise.clinical.support import settle
from graftwise.errors import ValidationError

Locus = Literal["A", "B", "C", "DRB1"]


@dataclass(frozen=True)
class CordRules:
    """One versioned rules table: TNC in ×10⁷/kg, CD34+ in ×10⁵/kg, matches out of 8."""

    version: str
    filter_min_match: int
    filter_tnc_above: float
    filter_drop_cd34_below: float
    single_tnc_min: float
    single_cd34_min: float
    double_tnc_min: float
    double_cd34_min: float
    non_malignant_tnc_above: float
    caution_min_match: int
    caution_locus: Locus


CORD_RULES = CordRules(
    version="nmdp_2019_eurocord",
    filter_min_match=4,
    filter_tnc_above=1.5,
    filter_drop_cd34_below=1.0,
    single_tnc_min=3.0,
    single_cd34_min=1.5,
    double_tnc_min=1.5,
    double_cd34_min=1.0,
    non_malignant_tnc_above=5.0,
    caution_min_match=6,
    caution_locus="C",
)

CONFIDENCE = (
    "NMDP search filter and order, NMDP/CIBMTR 2019 single- and double-unit doses, Eurocord-type criteria [V]; HLA "
    "match as an input, per-unit double eligibility, unknown CD34+ handling and the choice order [D]."
)

CITATION = (
    "Dehn J et al., Blood 2019;134:924-934 (NMDP/CIBMTR donor selection guidelines); NMDP cord blood search "
    "algorithm, PMC7567024 Table 1; Politikos I et al., Biol Blood Marrow Transplant 2020;26:2190 (ASTCT Cord Blood "
    "SIG); Eurocord-type criteria, ASH-SAP table (ash-sap.org/view-large/8401273)."
)


class CordUnit(ClinicalInput):
    unit_id: str = Field(min_length=1)
    allele_match_8: str = Field(pattern=r"^[0-8]/8$", description="Allele-level match at A, B, C, DRB1, e.g. '6/8'.")
    mismatched_loci: list[Locus] | None = Field(
        None, description="Locus of each mismatch (a locus twice for two); length must be 8 - matches."
    )
    tnc_total_x10e7: float = Field(gt=0, description="Pre-cryopreservation total nucleated cells, ×10⁷.")
    cd34_total_x10e6: float | None = Field(None, ge=0, description="Pre-cryopreservation CD34+ cells, ×10⁶.")
    dsa_against_unit: bool | None = Field(None, description="Recipient donor-specific antibodies against the unit.")

    @property
    def matches(self) -> int:
        return int(self.allele_match_8.split("/")[0])

    @model_validator(mode="after")
    def _mismatches_agree(self) -> Self:
        loci = self.mismatched_loci
        if loci is not None:
            if len(loci) != 8 - self.matches:
                raise ValueError(
                    f"mismatched_loci has {len(loci)} entries; {self.allele_match_8} means {8 - self.matches}"
                )
            if any(loci.count(locus) > 2 for locus in loci):
                raise ValueError("a locus can be mismatched at most twice")
        return self


class CordSelectionInput(ClinicalInput):
    recipient_weight_kg: float = Field(gt=0, le=400)
    disease: Literal["malignant", "non_malignant"]
    units: list[CordUnit] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for i, unit in enumerate(self.units):
            if unit.unit_id in seen:
                raise ValidationError(f"unit_id {unit.unit_id!r} given twice", field=f"units.{i}.unit_id")
            seen.add(unit.unit_id)
        return self


class UnitAssessment(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit_id: str
    allele_match_8: str
    tnc_x10e7_per_kg: float
    cd34_x10e5_per_kg: float | None
    passes_filter: bool
    rank: int | None = Field(description="Search order among units that pass the filter (1 = first).")
    single_eligible: bool
    double_eligible: bool
    reasons: list[str]
    cautions: list[str]


class CordSelectionResult(ClinicalResult):
    recommendation: Literal["single", "double", "none"]
    selected_unit_ids: list[str]
    units: list[UnitAssessment]
    inputs: CordSelectionInput


def _assess(unit: CordUnit, case: CordSelectionInput, rules: CordRules) -> UnitAssessment:
    kg = case.recipient_weight_kg
    tnc = settle(unit.tnc_total_x10e7 / kg)
    cd34 = None if unit.cd34_total_x10e6 is None else settle(unit.cd34_total_x10e6 * 10 / kg)
    reasons: list[str] = []
    if unit.matches < rules.filter_min_match:
        reasons.append(f"HLA {unit.allele_match_8} < {rules.filter_min_match}/8")
    if tnc <= rules.filter_tnc_above:
        reasons.append(f"TNC {tnc:.2f} not > {rules.filter_tnc_above} ×10⁷/kg")
    if cd34 is not None and cd34 < rules.filter_drop_cd34_below:
        reasons.append(f"CD34+ {cd34:.2f} < {rules.filter_drop_cd34_below} ×10⁵/kg")
    if unit.dsa_against_unit:
        reasons.append("recipient has DSA against the unit")
    passes = not reasons
    single = passes and cd34 is not None and tnc >= rules.single_tnc_min and cd34 >= rules.single_cd34_min
    if case.disease == "non_malignant":
        single = single and tnc > rules.non_malignant_tnc_above
    double = (
        passes
        and case.disease == "malignant"
        and cd34 is not None
        and cd34 >= rules.double_cd34_min
        and tnc >= rules.double_tnc_min
    )
    if passes and cd34 is None:
        reasons.append("CD34+ unknown: no dose criterion can be checked")
    cautions: list[str] = []
    if unit.matches < rules.caution_min_match:
        cautions.append(f"> {8 - rules.caution_min_match} HLA mismatches (Eurocord: avoid)")
    if unit.mismatched_loci and rules.caution_locus in unit.mismatched_loci:
        cautions.append(f"HLA-{rules.caution_locus} mismatch (Eurocord: avoid)")
    return UnitAssessment(
        unit_id=unit.unit_id,
        allele_match_8=unit.allele_match_8,
        tnc_x10e7_per_kg=tnc,
        cd34_x10e5_per_kg=cd34,
        passes_filter=passes,
        rank=None,
        single_eligible=single,
        double_eligible=double,
        reasons=reasons,
        cautions=cautions,
    )


def _prefer_uncautioned(candidates: list[UnitAssessment], n: int) -> list[UnitAssessment]:
    """The first ``n`` in search order, units without an HLA caution first."""
    return sorted(candidates, key=lambda a: bool(a.cautions))[:n]


def select_cord_units(case: CordSelectionInput, rules: CordRules = CORD_RULES) -> CordSelectionResult:
    """Filter, rank and choose a single or double cord blood graft (spec §8.3)."""
    assessed = [_assess(unit, case, rules) for unit in case.units]
    matches = {unit.unit_id: unit.matches for unit in case.units}
    order = sorted(
        (a for a in assessed if a.passes_filter),
        key=lambda a: (-matches[a.unit_id], -a.tnc_x10e7_per_kg),
    )
    ranks = {a.unit_id: i + 1 for i, a in enumerate(order)}
    ranked = [a.model_copy(update={"rank": ranks[a.unit_id]}) for a in order]
    dropped = [a for a in assessed if not a.passes_filter]
    warnings: list[Notice] = []
    recommendation: Literal["single", "double", "none"]
    singles = _prefer_uncautioned([a for a in ranked if a.single_eligible], 1)
    doubles = _prefer_uncautioned([a for a in ranked if a.double_eligible], 2)
    single_rule = f"single unit: TNC >= {rules.single_tnc_min} ×10⁷/kg and CD34+ >= {rules.single_cd34_min} ×10⁵/kg" + (
        f" and TNC > {rules.non_malignant_tnc_above} ×10⁷/kg (non-malignant)" if case.disease == "non_malignant" else ""
    )
    filter_rule = (
        f"filter: >= {rules.filter_min_match}/8 and TNC > {rules.filter_tnc_above} ×10⁷/kg, known CD34+ >= "
        f"{rules.filter_drop_cd34_below} ×10⁵/kg, no DSA; order by HLA match then TNC"
    )
    if singles:
        chosen, recommendation = singles, "single"
        rule = f"{filter_rule}; {single_rule}: {singles[0].unit_id} is the first eligible"
    elif len(doubles) == 2:
        chosen, recommendation = doubles, "double"
        rule = (
            f"{filter_rule}; no unit meets the {single_rule}; double unit: each CD34+ >= {rules.double_cd34_min} "
            f"×10⁵/kg and TNC >= {rules.double_tnc_min} ×10⁷/kg"
        )
    else:
        chosen, recommendation = [], "none"
        double_note = "" if case.disease == "malignant" else " (double units only for malignant disease)"
        rule = f"{filter_rule}; no unit meets the {single_rule}, and no two units meet the double-unit criteria"
        rule += double_note
    if any(a.cautions for a in chosen):
        warnings.append(
            Notice(
                code="chosen_unit_hla_caution",
                message="the chosen unit(s) carry a Eurocord HLA caution; no eligible unit without one",
            )
        )
    return CordSelectionResult(
        recommendation=recommendation,
        selected_unit_ids=[a.unit_id for a in chosen],
        units=ranked + dropped,
        rule=rule,
        citation=CITATION,
        rules_version=rules.version,
        confidence=CONFIDENCE,
        warnings=tuple(warnings),
        inputs=case,
    )


CALCULATOR = Calculator(
    name="cord-selection",
    summary="Cord blood unit selection: NMDP filter and order, single or double unit by TNC/CD34+ dose and HLA match.",
    input_model=CordSelectionInput,
    compute=select_cord_units,
)
