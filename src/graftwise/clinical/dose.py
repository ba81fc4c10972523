"""Graft dose: CD34+ and TNC per kg recipient weight, autologous adequacy, allogeneic targets (spec §8.1-8.2).

Sources:

* Autologous targets [V]: J Clin Apher 2017 review (doi:10.1002/jca.21591), summarising IMWG and GITMO. Single ASCT:
  minimum 2, optimal >= 4 ×10⁶ CD34+/kg; tandem: minimum 4, optimal >= 8-10. IMWG (Giralt S et al., Leukemia
  2009;23:1904): minimum 2 ×10⁶/kg per high-dose cycle [V].
* Poor mobiliser (GITMO, as quoted in the same review) [V].
* Unrelated PBSC [V]: Pulsipher MA et al., Blood 2009;114:2606 (CD34+ > 3.8 faster engraftment after MAC; > 4.5
  lower TRM and better OS). Common PBSC target >= 4-5 (minimum 2), cap about 8-10 ×10⁶/kg [R].
* Bone marrow: TNC >= 3 ×10⁸/kg [V] (Lysák D et al., J Clin Med 2021, PMC8156284); minimum TNC >= 2 ×10⁸/kg and
  CD34+ >= 2 ×10⁶/kg [R]; harvest <= about 20 mL/kg donor weight [R].

Design decisions [D]: CD34+/kg = CD34+/µL × product mL × 1000 / recipient kg (spec §8.1); TNC ×10⁸/kg = TNC ×10⁹/L ×
product mL / 100 / recipient kg. Doses accumulate across collections. Where the source gives a range (tandem optimal
8-10, PBSC target 4-5, cap 8-10) the lower end is the threshold. A tandem collection may be split into bags by
fraction; each bag is judged against the single-transplant targets (IMWG: minimum per high-dose cycle). Doses are
rounded (:func:`graftwise.clinical.support.settle`) before any comparison, so float noise in a sum never crosses a
threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice
from graftwise.clinical.support import Ladder, Step, settle
from graftwise.errors import ValidationError

GraftType = Literal["autologous_pbsc", "allogeneic_pbsc", "bone_marrow"]
Adequacy = Literal["below_minimum", "minimum_met", "optimal", "target_met"]


@dataclass(frozen=True)
class DoseRules:
    """One versioned rules table. CD34+ in ×10⁶/kg, TNC in ×10⁸/kg, PB CD34+ in cells/µL."""

    version: str
    auto_single_minimum: float
    auto_single_optimal: float
    auto_tandem_minimum: float
    auto_tandem_optimal: float
    poor_mobiliser_peak_pb_cd34_per_ul: float
    poor_mobiliser_apheresis_count: int
    poor_mobiliser_yield: float
    predicted_lines_above: int
    predicted_age_above_years: float
    predicted_factors_needed: int
    pbsc_minimum: float
    pbsc_target: float
    pbsc_cap: float
    pulsipher_engraftment_above: float
    pulsipher_survival_above: float
    bm_tnc_target: float
    bm_tnc_minimum: float
    bm_cd34_minimum: float
    bm_harvest_ml_per_donor_kg: float


DOSE_RULES = DoseRules(
    version="graft_dose_2026_1",
    auto_single_minimum=2.0,
    auto_single_optimal=4.0,
    auto_tandem_minimum=4.0,
    auto_tandem_optimal=8.0,
    poor_mobiliser_peak_pb_cd34_per_ul=20.0,
    poor_mobiliser_apheresis_count=3,
    poor_mobiliser_yield=2.0,
    predicted_lines_above=2,
    predicted_age_above_years=65.0,
    predicted_factors_needed=2,
    pbsc_minimum=2.0,
    pbsc_target=4.0,
    pbsc_cap=8.0,
    pulsipher_engraftment_above=3.8,
    pulsipher_survival_above=4.5,
    bm_tnc_target=3.0,
    bm_tnc_minimum=2.0,
    bm_cd34_minimum=2.0,
    bm_harvest_ml_per_donor_kg=20.0,
)

CONFIDENCE: dict[str, str] = {
    "autologous_pbsc": "Single and tandem minimum and optimal CD34+ doses, IMWG per-cycle minimum, GITMO poor "
    "mobiliser [V]; CD34+/kg arithmetic, lower end of the tandem range, per-bag judgement [D].",
    "allogeneic_pbsc": "Pulsipher 2009 CD34+ > 3.8 and > 4.5 ×10⁶/kg [V]; target >= 4-5, minimum 2 and cap 8-10 "
    "×10⁶/kg [R]; lower end of each range [D].",
    "bone_marrow": "TNC >= 3 ×10⁸/kg [V]; minimum TNC and CD34+ and the harvest volume limit [R]; TNC/kg arithmetic "
    "[D].",
}

CITATIONS: dict[str, str] = {
    "autologous_pbsc": "J Clin Apher 2017, doi:10.1002/jca.21591 (IMWG and GITMO targets, poor mobiliser); "
    "Giralt S et al., Leukemia 2009;23:1904 (IMWG: >= 2 ×10⁶/kg per high-dose cycle).",
    "allogeneic_pbsc": "Pulsipher MA et al., Blood 2009;114:2606 (CD34+ > 3.8 and > 4.5 ×10⁶/kg); common targets "
    ">= 4-5, minimum 2, cap about 8-10 ×10⁶/kg [R].",
    "bone_marrow": "Lysák D et al., J Clin Med 2021 (PMC8156284): TNC >= 3 ×10⁸/kg; minimum TNC >= 2 ×10⁸/kg, "
    "CD34+ >= 2 ×10⁶/kg and harvest <= about 20 mL/kg donor weight [R].",
}


class Collection(ClinicalInput):
    """One apheresis or harvest product."""

    label: str = Field(min_length=1, description="e.g. 'apheresis day 1'.")
    volume_ml: float = Field(gt=0, description="Product volume, mL.")
    cd34_per_ul: float = Field(ge=0, description="CD34+ cells per µL of product.")
    tnc_x10e9_per_l: float | None = Field(None, ge=0, description="Total nucleated cells, ×10⁹/L of product.")


class MobilisationHistory(ClinicalInput):
    """GITMO poor-mobiliser criteria (autologous only)."""

    peak_pb_cd34_per_ul: float | None = Field(None, ge=0, description="Peak blood CD34+ cells/µL.")
    adequate_mobilisation: bool | None = Field(
        None, description="6 days of G-CSF 10 µg/kg, or 20 days of > 5 µg/kg after chemotherapy."
    )
    failed_prior_collection: bool
    extensive_radiotherapy_or_marrow_toxic_therapy: bool
    prior_lines: int = Field(ge=0, description="Prior lines of therapy.")
    refractory_disease: bool
    extensive_marrow_involvement_or_cellularity_below_30_pct: bool
    age_years: float = Field(ge=0, le=120)


class GraftDoseInput(ClinicalInput):
    graft: GraftType
    recipient_weight_kg: float = Field(gt=0, le=400)
    collections: list[Collection] = Field(min_length=1)
    plan: Literal["single", "tandem"] | None = Field(None, description="Autologous only, required there.")
    tandem_split: list[float] | None = Field(None, description="Fraction of the total in each bag (tandem only).")
    mobilisation: MobilisationHistory | None = Field(None, description="Autologous only.")
    donor_weight_kg: float | None = Field(None, gt=0, le=400, description="Bone marrow only: harvest volume check.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        auto = self.graft == "autologous_pbsc"
        if auto and self.plan is None:
            raise ValidationError("plan ('single' or 'tandem') is required for an autologous graft", field="plan")
        for name in ("plan", "mobilisation"):
            if not auto and getattr(self, name) is not None:
                raise ValidationError(f"{name} applies to autologous grafts only, not {self.graft}", field=name)
        if self.tandem_split is not None:
            if self.plan != "tandem":
                raise ValidationError("tandem_split needs plan 'tandem'", field="tandem_split")
            if len(self.tandem_split) < 2 or any(f <= 0 for f in self.tandem_split):
                raise ValidationError("tandem_split needs >= 2 fractions, each > 0", field="tandem_split")
            if sum(self.tandem_split) > 1 + 1e-9:
                raise ValidationError(
                    f"tandem_split fractions sum to {sum(self.tandem_split)}; expected <= 1", field="tandem_split"
                )
        if self.donor_weight_kg is not None and self.graft != "bone_marrow":
            raise ValidationError("donor_weight_kg applies to bone marrow only", field="donor_weight_kg")
        if self.graft == "bone_marrow":
            for i, c in enumerate(self.collections):
                if c.tnc_x10e9_per_l is None:
                    raise ValidationError(
                        "tnc_x10e9_per_l is required for bone marrow", field=f"collections.{i}.tnc_x10e9_per_l"
                    )
        return self


class CollectionDose(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    cd34_x10e6_per_kg: float
    tnc_x10e8_per_kg: float | None
    cumulative_cd34_x10e6_per_kg: float


class BagDose(BaseModel):
    model_config = ConfigDict(frozen=True)

    fraction: float
    cd34_x10e6_per_kg: float
    adequacy: Adequacy


class PoorMobiliser(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["proven", "predicted", "no"]
    criteria: list[str]


class GraftDoseResult(ClinicalResult):
    graft: GraftType
    cd34_x10e6_per_kg: float
    tnc_x10e8_per_kg: float | None
    collections: list[CollectionDose]
    adequacy: Adequacy
    bags: list[BagDose]
    poor_mobiliser: PoorMobiliser | None
    findings: list[str] = Field(description="Threshold statements that apply (e.g. Pulsipher 2009).")
    inputs: GraftDoseInput


def cd34_x10e6_per_kg(cd34_per_ul: float, volume_ml: float, weight_kg: float) -> float:
    """CD34+/kg = CD34+/µL × mL × 1000 / kg, returned in ×10⁶/kg."""
    return settle(cd34_per_ul * volume_ml * 1000 / weight_kg / 1e6)


def tnc_x10e8_per_kg(tnc_x10e9_per_l: float, volume_ml: float, weight_kg: float) -> float:
    """TNC ×10⁹/L × L gives ×10⁹ cells; ×10 gives ×10⁸ cells; per kg."""
    return settle(tnc_x10e9_per_l * volume_ml / 100 / weight_kg)


def _grade(dose: float, minimum: float, top: float, top_name: Adequacy) -> Adequacy:
    """Below the minimum, at or above it, or at or above the optimal/target dose."""
    level = Ladder((Step(1, minimum, True), Step(2, top, True))).level(dose)
    return ("below_minimum", "minimum_met", top_name)[level]


def _poor_mobiliser(history: MobilisationHistory, cumulative: list[float], rules: DoseRules) -> PoorMobiliser:
    proven: list[str] = []
    peak = history.peak_pb_cd34_per_ul
    if peak is not None and history.adequate_mobilisation and peak < rules.poor_mobiliser_peak_pb_cd34_per_ul:
        proven.append(
            f"peak PB CD34+ {peak}/µL < {rules.poor_mobiliser_peak_pb_cd34_per_ul}/µL after adequate mobilisation"
        )
    n = rules.poor_mobiliser_apheresis_count
    if len(cumulative) >= n and cumulative[n - 1] < rules.poor_mobiliser_yield:
        proven.append(f"{cumulative[n - 1]:.2f} < {rules.poor_mobiliser_yield} ×10⁶/kg after {n} aphereses")
    if proven:
        return PoorMobiliser(status="proven", criteria=proven)
    predicted: list[str] = []
    if history.failed_prior_collection:
        predicted.append("failed prior collection")
    if history.extensive_radiotherapy_or_marrow_toxic_therapy:
        predicted.append("extensive radiotherapy or marrow-toxic therapy")
    minor = [
        (history.prior_lines > rules.predicted_lines_above, f"> {rules.predicted_lines_above} prior lines"),
        (history.refractory_disease, "refractory disease"),
        (history.extensive_marrow_involvement_or_cellularity_below_30_pct, "marrow involvement or cellularity < 30%"),
        (history.age_years > rules.predicted_age_above_years, f"age > {rules.predicted_age_above_years:g}"),
    ]
    present = [name for hit, name in minor if hit]
    if len(present) >= rules.predicted_factors_needed:
        predicted.append(f">= {rules.predicted_factors_needed} of: " + ", ".join(present))
    return PoorMobiliser(status="predicted" if predicted else "no", criteria=predicted)


def assess_graft_dose(case: GraftDoseInput, rules: DoseRules = DOSE_RULES) -> GraftDoseResult:
    """CD34+ and TNC per kg recipient weight, and their adequacy for the graft type (spec §8.1-8.2)."""
    kg = case.recipient_weight_kg
    cd34 = [cd34_x10e6_per_kg(c.cd34_per_ul, c.volume_ml, kg) for c in case.collections]
    tnc = [
        None if c.tnc_x10e9_per_l is None else tnc_x10e8_per_kg(c.tnc_x10e9_per_l, c.volume_ml, kg)
        for c in case.collections
    ]
    cumulative = [settle(x) for x in accumulate(cd34)]
    total_cd34 = cumulative[-1]
    known_tnc = [t for t in tnc if t is not None]
    total_tnc = settle(sum(known_tnc)) if len(known_tnc) == len(tnc) else None
    warnings: list[Notice] = []
    if total_tnc is None and known_tnc:
        warnings.append(
            Notice(code="tnc_incomplete", message="TNC missing for some collections; total TNC not reported")
        )
    findings: list[str] = []
    bags: list[BagDose] = []
    poor: PoorMobiliser | None = None

    if case.graft == "autologous_pbsc":
        tandem = case.plan == "tandem"
        minimum = rules.auto_tandem_minimum if tandem else rules.auto_single_minimum
        optimal = rules.auto_tandem_optimal if tandem else rules.auto_single_optimal
        adequacy = _grade(total_cd34, minimum, optimal, "optimal")
        rule = f"{case.plan} ASCT: minimum {minimum:g}, optimal >= {optimal:g} ×10⁶ CD34+/kg"
        for fraction in case.tandem_split or []:
            dose = settle(total_cd34 * fraction)
            grade = _grade(dose, rules.auto_single_minimum, rules.auto_single_optimal, "optimal")
            bags.append(BagDose(fraction=fraction, cd34_x10e6_per_kg=dose, adequacy=grade))
        if bags:
            rule += f"; each bag: minimum {rules.auto_single_minimum:g} per high-dose cycle (IMWG)"
        if case.mobilisation is not None:
            poor = _poor_mobiliser(case.mobilisation, cumulative, rules)
    elif case.graft == "allogeneic_pbsc":
        adequacy = _grade(total_cd34, rules.pbsc_minimum, rules.pbsc_target, "target_met")
        rule = f"PBSC: minimum {rules.pbsc_minimum:g}, target >= {rules.pbsc_target:g} ×10⁶ CD34+/kg [R]"
        if total_cd34 > rules.pulsipher_engraftment_above:
            findings.append(f"CD34+ > {rules.pulsipher_engraftment_above} ×10⁶/kg: faster engraftment after MAC")
        if total_cd34 > rules.pulsipher_survival_above:
            findings.append(f"CD34+ > {rules.pulsipher_survival_above} ×10⁶/kg: lower TRM and better OS")
        if total_cd34 > rules.pbsc_cap:
            warnings.append(
                Notice(
                    code="cd34_above_cap",
                    message=f"CD34+ > {rules.pbsc_cap:g} ×10⁶/kg: above the cap some centres apply (about 8-10)",
                )
            )
    else:
        assert total_tnc is not None  # required for bone marrow by the input model
        if total_tnc < rules.bm_tnc_minimum or total_cd34 < rules.bm_cd34_minimum:
            adequacy = "below_minimum"
        else:
            adequacy = "target_met" if total_tnc >= rules.bm_tnc_target else "minimum_met"
        rule = (
            f"BM: target TNC >= {rules.bm_tnc_target:g} ×10⁸/kg; minimum TNC >= {rules.bm_tnc_minimum:g} ×10⁸/kg "
            f"and CD34+ >= {rules.bm_cd34_minimum:g} ×10⁶/kg [R]"
        )
        if case.donor_weight_kg is not None:
            per_kg = sum(c.volume_ml for c in case.collections) / case.donor_weight_kg
            if per_kg > rules.bm_harvest_ml_per_donor_kg:
                warnings.append(
                    Notice(
                        code="harvest_volume_high",
                        message=f"harvest {per_kg:.1f} mL/kg donor weight > about "
                        f"{rules.bm_harvest_ml_per_donor_kg:g} mL/kg [R]",
                    )
                )
    return GraftDoseResult(
        graft=case.graft,
        cd34_x10e6_per_kg=total_cd34,
        tnc_x10e8_per_kg=total_tnc,
        collections=[
            CollectionDose(label=c.label, cd34_x10e6_per_kg=d, tnc_x10e8_per_kg=t, cumulative_cd34_x10e6_per_kg=cum)
            for c, d, t, cum in zip(case.collections, cd34, tnc, cumulative, strict=True)
        ],
        adequacy=adequacy,
        bags=bags,
        poor_mobiliser=poor,
        findings=findings,
        rule=rule,
        citation=CITATIONS[case.graft],
        rules_version=rules.version,
        confidence=CONFIDENCE[case.graft],
        warnings=tuple(warnings),
        inputs=case,
    )


CALCULATOR = Calculator(
    name="graft-dose",
    summary="CD34+ and TNC per kg; autologous adequacy (single/tandem, poor mobiliser), allogeneic PBSC/BM targets.",
    input_model=GraftDoseInput,
    compute=assess_graft_dose,
)
