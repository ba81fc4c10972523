"""Response criteria at the summary level of clinical spec §10: ELN 2022 AML, IMWG 2016 myeloma, Lugano 2014.

Sources:

* AML: Döhner H et al., Blood 2022;140:1345, ELN 2022 response table [V]. Relapse, MRD relapse and the 180-day
  landmark after less-intensive therapy are [R] (spec §12 item 10). The CIBMTR CR definition adds transfusion
  independence [V].
* Myeloma: Kumar S et al., Lancet Oncol 2016;17:e328; categories sCR to PD [V] via Curr Oncol 2023;30:2322 Table 1
  and the CIBMTR myeloma response criteria; MRD definitions [R]. Every category needs two consecutive assessments [V].
* Lymphoma: Cheson BD et al., J Clin Oncol 2014;32:3059; PET-CT and CT categories [V] via tables reproducing the
  Lugano columns; the Deauville wording and the splenic rule are [R].

Design decisions [D]:

* AML CRi: "all CR criteria except ANC < 1.0 or platelets < 100" is read as one of the two recovered; with neither
  recovered the marrow is MLFS. A marrow with < 200 cells and cellularity < 10% is aplastic: not evaluable.
  PR needs the haematological CR counts only. Refractory is reported at the landmark (2 intensive courses, or
  180 days after starting less-intensive therapy) when no CR/CRh/CRi was reached.
* Myeloma: measurable means a baseline value > 0 (the spec gives no measurability cut-offs); with no measurable
  serum or urine M-protein only sCR/CR/PD can be assigned (the FLC and plasma-cell alternatives are not in the spec).
  MR needs >= 25% serum fall and, if urine is measurable, >= 50% urine fall; the upper bounds (49%, 89%) are implied by
  "not PR". The ">= 1 g/dL rise when the nadir is >= 5 g/dL" is sufficient on its own, a setting (spec §10.2 [D]).
* Lymphoma CT: the 0.5 cm / 1.0 cm increment is chosen by the lesion's LDi at nadir (<= 2 cm / > 2 cm).
* Myeloma PD: the spec and the IMWG 2006 table give an absolute serum rise >= 0.5 g/dL; the Curr Oncol 2023
  adaptation of Kumar 2016 prints > 0.5. The spec's >= is used; the exact 0.5 case is pinned by a test. The IMWG
  plasmacytoma size conditions of PR and MR are not in the spec and not applied.
* Percentages and rises are rounded (:func:`graftwise.clinical.support.settle`) before comparison so float noise never
  crosses a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice
from graftwise.clinical.support import settle
from graftwise.errors import ValidationError


def _change_pct(reference: float, value: float) -> float:
    """Change from a (positive) reference value, in % of it: a fall is negative."""
    return settle((value - reference) / reference * 100)


def _fall_pct(baseline: float, current: float) -> float:
    return -_change_pct(baseline, current)


def _rise(nadir: float, current: float) -> tuple[float, float | None]:
    """Absolute rise and the rise as a % of the nadir (None for a zero nadir, where any rise is infinite)."""
    return settle(current - nadir), (_change_pct(nadir, current) if nadir > 0 else None)


# --- AML: ELN 2022 ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElnRules:
    version: str
    blasts_below_pct: float
    cr_anc: float
    cr_platelets: float
    crh_anc: float
    crh_platelets: float
    mlfs_min_cells: int
    mlfs_min_cellularity_pct: float
    pr_blasts_max_pct: float
    pr_min_fall_pct: float
    intensive_landmark_courses: int
    less_intensive_landmark_days: int
    mrd_relapse_log10_rise: float


ELN_2022 = ElnRules(
    version="eln_2022",
    blasts_below_pct=5.0,
    cr_anc=1.0,
    cr_platelets=100.0,
    crh_anc=0.5,
    crh_platelets=50.0,
    mlfs_min_cells=200,
    mlfs_min_cellularity_pct=10.0,
    pr_blasts_max_pct=25.0,
    pr_min_fall_pct=50.0,
    intensive_landmark_courses=2,
    less_intensive_landmark_days=180,
    mrd_relapse_log10_rise=1.0,
)


class AmlAssessment(ClinicalInput):
    system: Literal["eln2022_aml"]
    bm_blasts_pct: float = Field(ge=0, le=100)
    circulating_blasts: bool
    extramedullary_disease: bool
    anc_x10e9_per_l: float = Field(ge=0)
    platelets_x10e9_per_l: float = Field(ge=0)
    use_crh: bool = Field(description="Whether the protocol reports CRh (then CRi excludes CRh).")
    therapy: Literal["intensive", "less_intensive"]
    intensive_courses_completed: int | None = Field(None, ge=0)
    days_since_therapy_start: int | None = Field(None, ge=0)
    bm_cells_counted: int | None = Field(None, ge=0)
    bm_cellularity_pct: float | None = Field(None, ge=0, le=100)
    pretreatment_bm_blasts_pct: float | None = Field(None, gt=0, le=100)
    mrd_negative: bool | None = Field(None, description="Below the assay threshold (e.g. MFC < 0.1%) [R].")
    transfusion_independent: bool | None = Field(None, description="CIBMTR CR adds transfusion independence.")
    prior_remission: bool = Field(description="In CR/CRh/CRi before this assessment (relapse is assessed).")
    circulating_blasts_confirmed: bool | None = Field(None, description="In >= 2 samples >= 1 week apart.")
    new_extramedullary_disease: bool | None = None
    mrd_conversion_confirmed: bool | None = Field(None, description="Confirmed MRD-negative to MRD-positive.")
    mrd_log10_rise: float | None = Field(None, description="Rise between two MRD-positive samples, log10.")

    @model_validator(mode="after")
    def _landmark_known(self) -> Self:
        if not self.prior_remission:
            if self.therapy == "intensive" and self.intensive_courses_completed is None:
                raise ValidationError(
                    "intensive_courses_completed is required to place the response landmark",
                    field="assessment.eln2022_aml.intensive_courses_completed",
                )
            if self.therapy == "less_intensive" and self.days_since_therapy_start is None:
                raise ValidationError(
                    "days_since_therapy_start is required to place the response landmark",
                    field="assessment.eln2022_aml.days_since_therapy_start",
                )
        return self


# --- Myeloma: IMWG 2016 -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImwgRules:
    version: str
    cr_bm_plasma_cells_below_pct: float
    vgpr_serum_fall_pct: float
    vgpr_urine_below_mg: float
    pr_serum_fall_pct: float
    pr_urine_fall_pct: float
    pr_urine_below_mg: float
    mr_serum_fall_pct: float
    mr_urine_fall_pct: float
    pd_rise_pct: float
    pd_serum_abs_g_dl: float
    pd_urine_abs_mg: float
    pd_high_nadir_g_dl: float
    pd_high_nadir_abs_g_dl: float
    pd_flc_abs_above_mg_dl: float


IMWG_2016 = ImwgRules(
    version="imwg_2016",
    cr_bm_plasma_cells_below_pct=5.0,
    vgpr_serum_fall_pct=90.0,
    vgpr_urine_below_mg=100.0,
    pr_serum_fall_pct=50.0,
    pr_urine_fall_pct=90.0,
    pr_urine_below_mg=200.0,
    mr_serum_fall_pct=25.0,
    mr_urine_fall_pct=50.0,
    pd_rise_pct=25.0,
    pd_serum_abs_g_dl=0.5,
    pd_urine_abs_mg=200.0,
    pd_high_nadir_g_dl=5.0,
    pd_high_nadir_abs_g_dl=1.0,
    pd_flc_abs_above_mg_dl=10.0,
)


class MyelomaAssessment(ClinicalInput):
    system: Literal["imwg2016_myeloma"]
    baseline_serum_m_protein_g_dl: float = Field(ge=0, description="Pre-treatment serum M-protein (SPEP), g/dL.")
    baseline_urine_m_protein_mg_24h: float = Field(ge=0, description="Pre-treatment urine M-protein, mg/24 h.")
    serum_m_protein_g_dl: float = Field(ge=0)
    urine_m_protein_mg_24h: float = Field(ge=0)
    nadir_serum_m_protein_g_dl: float | None = Field(None, ge=0, description="Lowest confirmed value, for PD.")
    nadir_urine_m_protein_mg_24h: float | None = Field(None, ge=0)
    serum_immunofixation_negative: bool | None = None
    urine_immunofixation_negative: bool | None = None
    soft_tissue_plasmacytomas: bool
    bm_plasma_cells_pct: float | None = Field(None, ge=0, le=100)
    flc_ratio_normal: bool | None = None
    clonal_bm_plasma_cells: bool | None = Field(None, description="By IHC/IF (κ/λ > 4:1 or < 1:2, >= 100 cells).")
    dflc_mg_dl: float | None = Field(None, ge=0, description="Involved minus uninvolved FLC, mg/dL.")
    nadir_dflc_mg_dl: float | None = Field(None, ge=0)
    bone_marrow_progression: bool = Field(description="Clinician-assessed IMWG marrow progression criterion.")
    new_or_enlarging_lesions: bool
    confirmed: bool = Field(description="Two consecutive assessments before any new therapy.")
    mrd_negative: bool | None = Field(None, description="NGF/NGS negative at >= 1 in 10⁵ [R].")
    high_nadir_rise_sufficient: bool = Field(
        True, description="A >= 1 g/dL serum rise when the nadir was >= 5 g/dL is PD on its own (setting, [D])."
    )


# --- Lymphoma: Lugano 2014 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LuganoRules:
    version: str
    cmr_max_deauville: int
    cr_node_ldi_max_cm: float
    pr_spd_fall_pct: float
    pd_ldi_above_cm: float
    pd_ppd_rise_pct: float
    pd_small_lesion_max_cm: float
    pd_increment_small_cm: float
    pd_increment_large_cm: float
    pd_new_node_above_cm: float
    pd_new_extranodal_above_cm: float
    spleen_enlargement_rise_pct: float
    spleen_length_rise_cm: float
    max_targets: int


LUGANO_2014 = LuganoRules(
    version="lugano_2014",
    cmr_max_deauville=3,
    cr_node_ldi_max_cm=1.5,
    pr_spd_fall_pct=50.0,
    pd_ldi_above_cm=1.5,
    pd_ppd_rise_pct=50.0,
    pd_small_lesion_max_cm=2.0,
    pd_increment_small_cm=0.5,
    pd_increment_large_cm=1.0,
    pd_new_node_above_cm=1.5,
    pd_new_extranodal_above_cm=1.0,
    spleen_enlargement_rise_pct=50.0,
    spleen_length_rise_cm=2.0,
    max_targets=6,
)


class TargetLesion(ClinicalInput):
    site: Literal["nodal", "extranodal"]
    baseline_ldi_cm: float = Field(ge=0)
    baseline_sdi_cm: float = Field(ge=0)
    nadir_ldi_cm: float = Field(ge=0)
    nadir_sdi_cm: float = Field(ge=0)
    ldi_cm: float = Field(ge=0)
    sdi_cm: float = Field(ge=0)

    @model_validator(mode="after")
    def _short_axis_not_longer(self) -> Self:
        for when in ("baseline_", "nadir_", ""):
            if getattr(self, f"{when}sdi_cm") > getattr(self, f"{when}ldi_cm"):
                raise ValueError(f"{when}sdi_cm is longer than {when}ldi_cm; the short axis cannot be longer")
        return self


class Spleen(ClinicalInput):
    normal_length_cm: float = Field(gt=0, description="Upper limit of normal used by the centre [R].")
    baseline_length_cm: float = Field(gt=0)
    length_cm: float = Field(gt=0)


class LymphomaAssessment(ClinicalInput):
    system: Literal["lugano2014_lymphoma"]
    modality: Literal["pet_ct", "ct"]
    deauville_score: int | None = Field(None, ge=1, le=5, description="PET-CT: 1-5 (X is not a lymphoma score).")
    uptake_change: Literal["reduced", "no_significant_change", "increased"] | None = Field(
        None, description="PET-CT with Deauville 4-5: change from baseline."
    )
    new_fdg_avid_lesions: bool | None = Field(None, description="PET-CT: new foci consistent with lymphoma.")
    target_lesions: list[TargetLesion] | None = Field(None, description="CT: up to 6 target lesions.")
    extralymphatic_disease: bool | None = Field(None, description="CT: any extralymphatic disease remaining.")
    new_node_ldi_cm: float | None = Field(None, ge=0, description="CT: largest new node, LDi (none: omit).")
    new_extranodal_site_cm: float | None = Field(None, ge=0, description="CT: largest new extranodal site.")
    new_lesion_clearly_lymphoma: bool = Field(False, description="CT: a smaller new lesion is clearly lymphoma.")
    spleen: Spleen | None = None

    @model_validator(mode="after")
    def _modality_fields(self) -> Self:
        where = "assessment.lugano2014_lymphoma"
        if self.modality == "pet_ct":
            for name in ("deauville_score", "new_fdg_avid_lesions"):
                if getattr(self, name) is None:
                    raise ValidationError(f"{name} is required for PET-CT", field=f"{where}.{name}")
            if (self.deauville_score or 0) > LUGANO_2014.cmr_max_deauville and self.uptake_change is None:
                raise ValidationError("uptake_change is required with Deauville 4-5", field=f"{where}.uptake_change")
        else:
            for name in ("target_lesions", "extralymphatic_disease"):
                if getattr(self, name) is None:
                    raise ValidationError(f"{name} is required for CT", field=f"{where}.{name}")
            n = len(self.target_lesions or [])
            if not 1 <= n <= LUGANO_2014.max_targets:
                raise ValidationError(
                    f"{n} target lesions; expected 1 to {LUGANO_2014.max_targets}", field=f"{where}.target_lesions"
                )
        return self


Assessment = Annotated[AmlAssessment | MyelomaAssessment | LymphomaAssessment, Field(discriminator="system")]


class ResponseInput(ClinicalInput):
    assessment: Assessment


class ResponseResult(ClinicalResult):
    system: str
    category: str
    best_response_at_assessment: str = Field(description="The category before the landmark rule (AML refractory).")
    criteria_met: list[str]
    mrd_negative: bool | None
    inputs: ResponseInput


@dataclass(frozen=True)
class _Decision:
    category: str
    criteria: list[str]
    best: str | None = None


CONFIDENCE = {
    "eln2022_aml": "ELN 2022 response categories and CIBMTR transfusion independence [V]; relapse, MRD relapse, MRD "
    "negativity and the 180-day less-intensive landmark [R]; CRi/MLFS/aplastic reading and landmark reporting [D].",
    "imwg2016_myeloma": "IMWG 2016 categories sCR to PD and two consecutive assessments [V]; MRD definitions [R]; "
    "measurability > 0, high-nadir rise setting, PD rise >= 0.5 g/dL [D].",
    "lugano2014_lymphoma": "Lugano 2014 PET-CT and CT categories [V]; Deauville wording and splenic rule [R]; CT "
    "increment chosen by nadir LDi [D].",
}

CITATIONS = {
    "eln2022_aml": "Döhner H et al., Blood 2022;140:1345 (ELN 2022 response criteria); CIBMTR Forms Instruction "
    "Manual, AML response criteria.",
    "imwg2016_myeloma": "Kumar S et al., Lancet Oncol 2016;17:e328 (IMWG 2016); Curr Oncol 2023;30:2322 Table 1; "
    "CIBMTR Forms Instruction Manual, multiple myeloma response criteria.",
    "lugano2014_lymphoma": "Cheson BD et al., J Clin Oncol 2014;32:3059 (Lugano classification).",
}


def _aml(a: AmlAssessment, r: ElnRules, warnings: list[Notice]) -> _Decision:
    where = "assessment.eln2022_aml"
    if a.prior_remission:
        fired = []
        if a.bm_blasts_pct >= r.blasts_below_pct:
            fired.append(f"BM blasts {a.bm_blasts_pct}% >= {r.blasts_below_pct}%")
        if a.circulating_blasts_confirmed:
            fired.append("blasts reappearing in blood in >= 2 samples >= 1 week apart")
        if a.new_extramedullary_disease:
            fired.append("new extramedullary disease")
        if fired:
            return _Decision("relapse", fired)
        mrd = []
        if a.mrd_conversion_confirmed:
            mrd.append("confirmed conversion MRD-negative to MRD-positive")
        if a.mrd_log10_rise is not None and a.mrd_log10_rise >= r.mrd_relapse_log10_rise:
            mrd.append(f"MRD rise {a.mrd_log10_rise} log10 >= {r.mrd_relapse_log10_rise} between positive samples")
        if mrd:
            return _Decision("mrd_relapse", mrd)
    marrow = a.bm_blasts_pct < r.blasts_below_pct and not a.circulating_blasts and not a.extramedullary_disease
    anc_cr, plt_cr = a.anc_x10e9_per_l >= r.cr_anc, a.platelets_x10e9_per_l >= r.cr_platelets
    counts = f"ANC {a.anc_x10e9_per_l}, platelets {a.platelets_x10e9_per_l} ×10⁹/L"
    base = f"BM blasts {a.bm_blasts_pct}% < {r.blasts_below_pct}%, no circulating blasts, no EMD"
    if marrow and anc_cr and plt_cr:
        decision = _Decision("CR", [base, f"{counts}: ANC >= {r.cr_anc}, platelets >= {r.cr_platelets}"])
    elif marrow and a.use_crh and a.anc_x10e9_per_l >= r.crh_anc and a.platelets_x10e9_per_l >= r.crh_platelets:
        decision = _Decision("CRh", [base, f"{counts}: ANC >= {r.crh_anc}, platelets >= {r.crh_platelets}"])
    elif marrow and (anc_cr or plt_cr):
        decision = _Decision("CRi", [base, f"{counts}: only one of ANC >= {r.cr_anc}, platelets >= {r.cr_platelets}"])
    elif marrow:
        if a.bm_cells_counted is None and a.bm_cellularity_pct is None:
            raise ValidationError(
                "bm_cells_counted or bm_cellularity_pct is needed to tell MLFS from an aplastic marrow",
                field=f"{where}.bm_cellularity_pct",
            )
        cells_ok = a.bm_cells_counted is not None and a.bm_cells_counted >= r.mlfs_min_cells
        cellular = a.bm_cellularity_pct is not None and a.bm_cellularity_pct >= r.mlfs_min_cellularity_pct
        if cells_ok or cellular:
            adequacy = f">= {r.mlfs_min_cells} cells or cellularity >= {r.mlfs_min_cellularity_pct}%"
            decision = _Decision("MLFS", [base, f"no count recovery; marrow not aplastic ({adequacy})"])
        else:
            decision = _Decision("not_evaluable", ["aplastic marrow: repeat the marrow before assigning a response"])
    else:
        decision = _aml_partial(a, r, anc_cr and plt_cr, counts)
    if decision.category == "CR" and a.transfusion_independent is False:
        warnings.append(
            Notice(
                code="cibmtr_cr_transfusion_dependent",
                message="CIBMTR CR also requires transfusion independence, which is not met",
            )
        )
    if a.prior_remission or decision.category in ("CR", "CRh", "CRi", "not_evaluable"):
        return decision
    if a.therapy == "intensive":
        courses = a.intensive_courses_completed
        assert courses is not None  # required outside prior remission by the input model
        at_landmark = courses >= r.intensive_landmark_courses
        landmark = f"{courses} intensive courses (landmark {r.intensive_landmark_courses})"
    else:
        days = a.days_since_therapy_start
        assert days is not None  # required outside prior remission by the input model
        at_landmark = days >= r.less_intensive_landmark_days
        landmark = f"day {days} of less-intensive therapy (landmark {r.less_intensive_landmark_days} [R])"
    if at_landmark:
        return _Decision("refractory", [*decision.criteria, f"no CR/CRh/CRi at {landmark}"], decision.category)
    return decision


def _aml_partial(a: AmlAssessment, r: ElnRules, counts_recovered: bool, counts: str) -> _Decision:
    in_range = r.blasts_below_pct <= a.bm_blasts_pct <= r.pr_blasts_max_pct
    if counts_recovered and in_range:
        if a.pretreatment_bm_blasts_pct is None:
            raise ValidationError(
                "pretreatment_bm_blasts_pct is needed to assess PR (BM blasts 5-25%)",
                field="assessment.eln2022_aml.pretreatment_bm_blasts_pct",
            )
        fall = _fall_pct(a.pretreatment_bm_blasts_pct, a.bm_blasts_pct)
        if fall >= r.pr_min_fall_pct:
            return _Decision(
                "PR",
                [
                    f"{counts}: haematological CR counts",
                    f"BM blasts {a.bm_blasts_pct}% in {r.blasts_below_pct}-{r.pr_blasts_max_pct}%, "
                    f"{fall:.1f}% fall >= {r.pr_min_fall_pct}%",
                ],
            )
    return _Decision("no_response", ["none of CR, CRh, CRi, MLFS, PR"])


def _myeloma(m: MyelomaAssessment, r: ImwgRules, warnings: list[Notice]) -> _Decision:
    where = "assessment.imwg2016_myeloma"
    serum_measurable = m.baseline_serum_m_protein_g_dl > 0
    urine_measurable = m.baseline_urine_m_protein_mg_24h > 0
    pd = _myeloma_progression(m, r, serum_measurable or urine_measurable)
    if pd:
        return _Decision("PD", pd)
    if not m.confirmed:
        warnings.append(
            Notice(
                code="response_not_confirmed",
                message="not confirmed: IMWG needs two consecutive assessments before any new therapy",
            )
        )
    ife_negative = m.serum_immunofixation_negative is True and m.urine_immunofixation_negative is True
    if ife_negative and not m.soft_tissue_plasmacytomas:
        if m.bm_plasma_cells_pct is None:
            raise ValidationError(
                "bm_plasma_cells_pct is needed to assess CR (immunofixation negative)",
                field=f"{where}.bm_plasma_cells_pct",
            )
        if m.bm_plasma_cells_pct < r.cr_bm_plasma_cells_below_pct:
            cr = [
                "negative serum and urine immunofixation",
                "no soft-tissue plasmacytomas",
                f"BM plasma cells {m.bm_plasma_cells_pct}% < {r.cr_bm_plasma_cells_below_pct}%",
            ]
            if m.flc_ratio_normal is True and m.clonal_bm_plasma_cells is False:
                return _Decision("sCR", [*cr, "normal FLC ratio", "no clonal BM plasma cells"])
            if m.flc_ratio_normal is None or m.clonal_bm_plasma_cells is None:
                warnings.append(
                    Notice(
                        code="scr_not_assessable",
                        message="sCR not assessable: FLC ratio or BM clonality not given",
                    )
                )
            return _Decision("CR", cr)
    if not (serum_measurable or urine_measurable):
        return _Decision(
            "not_evaluable", ["no measurable serum or urine M-protein; FLC/plasma-cell alternatives not in the spec"]
        )
    serum_fall = _fall_pct(m.baseline_serum_m_protein_g_dl, m.serum_m_protein_g_dl) if serum_measurable else None
    urine_fall = _fall_pct(m.baseline_urine_m_protein_mg_24h, m.urine_m_protein_mg_24h) if urine_measurable else None
    urine = m.urine_m_protein_mg_24h
    ife_positive = m.serum_immunofixation_negative is False or m.urine_immunofixation_negative is False
    if ife_positive and m.serum_m_protein_g_dl == 0 and urine == 0:
        return _Decision("VGPR", ["M-protein detectable by immunofixation only"])
    serum_90 = serum_fall is None or serum_fall >= r.vgpr_serum_fall_pct
    if serum_90 and urine < r.vgpr_urine_below_mg:
        return _Decision("VGPR", [f"serum fall {serum_fall}% >= {r.vgpr_serum_fall_pct}%, urine {urine} < 100 mg/24 h"])
    serum_50 = serum_fall is None or serum_fall >= r.pr_serum_fall_pct
    urine_pr = urine_fall is None or urine_fall >= r.pr_urine_fall_pct or urine < r.pr_urine_below_mg
    if serum_50 and urine_pr:
        return _Decision("PR", [f"serum fall {serum_fall}%, urine fall {urine_fall}% / {urine} mg/24 h"])
    serum_25 = serum_fall is None or serum_fall >= r.mr_serum_fall_pct
    urine_50 = urine_fall is None or urine_fall >= r.mr_urine_fall_pct
    if serum_25 and urine_50:
        return _Decision("MR", [f"serum fall {serum_fall}% >= {r.mr_serum_fall_pct}%, urine fall {urine_fall}%"])
    return _Decision("SD", ["none of sCR, CR, VGPR, PR, MR and not PD"])


def _myeloma_progression(m: MyelomaAssessment, r: ImwgRules, measurable: bool) -> list[str]:
    fired: list[str] = []
    if m.nadir_serum_m_protein_g_dl is not None:
        rise, pct = _rise(m.nadir_serum_m_protein_g_dl, m.serum_m_protein_g_dl)
        if rise >= r.pd_serum_abs_g_dl and (pct is None or pct >= r.pd_rise_pct):
            fired.append(f"serum M-protein rise {rise} g/dL ({pct}%) from nadir")
        elif (
            m.high_nadir_rise_sufficient
            and m.nadir_serum_m_protein_g_dl >= r.pd_high_nadir_g_dl
            and rise >= r.pd_high_nadir_abs_g_dl
        ):
            fired.append(f"serum rise {rise} >= {r.pd_high_nadir_abs_g_dl} g/dL with nadir >= {r.pd_high_nadir_g_dl}")
    if m.nadir_urine_m_protein_mg_24h is not None:
        rise, pct = _rise(m.nadir_urine_m_protein_mg_24h, m.urine_m_protein_mg_24h)
        if rise >= r.pd_urine_abs_mg and (pct is None or pct >= r.pd_rise_pct):
            fired.append(f"urine M-protein rise {rise} mg/24 h ({pct}%) from nadir")
    if not measurable and m.nadir_dflc_mg_dl is not None and m.dflc_mg_dl is not None:
        rise, pct = _rise(m.nadir_dflc_mg_dl, m.dflc_mg_dl)
        if rise > r.pd_flc_abs_above_mg_dl and (pct is None or pct >= r.pd_rise_pct):
            fired.append(f"dFLC rise {rise} mg/dL ({pct}%) without measurable M-protein")
    if m.bone_marrow_progression:
        fired.append("bone marrow progression criterion")
    if m.new_or_enlarging_lesions:
        fired.append("new or enlarging lesions")
    return fired


def _lymphoma(x: LymphomaAssessment, r: LuganoRules) -> _Decision:
    if x.modality == "pet_ct":
        score = x.deauville_score
        if x.new_fdg_avid_lesions:
            return _Decision("progressive_metabolic_disease", ["new FDG-avid foci consistent with lymphoma"])
        if score is not None and score <= r.cmr_max_deauville:
            return _Decision("complete_metabolic_response", [f"Deauville {score} <= {r.cmr_max_deauville}"])
        assert x.uptake_change is not None  # required with Deauville 4-5 by the input model
        category = {
            "reduced": "partial_metabolic_response",
            "no_significant_change": "no_metabolic_response",
            "increased": "progressive_metabolic_disease",
        }[x.uptake_change]
        return _Decision(category, [f"Deauville {score} with {x.uptake_change} uptake"])
    lesions = x.target_lesions or []
    pd = _ct_progression(x, lesions, r)
    if pd:
        return _Decision("progressive_disease", pd)
    nodes_small = all(t.ldi_cm <= r.cr_node_ldi_max_cm for t in lesions if t.site == "nodal")
    extranodal_gone = not x.extralymphatic_disease and all(t.ldi_cm == 0 for t in lesions if t.site == "extranodal")
    if nodes_small and extranodal_gone:
        return _Decision(
            "complete_response", [f"target nodes LDi <= {r.cr_node_ldi_max_cm} cm, no extralymphatic disease"]
        )
    baseline_spd = sum(t.baseline_ldi_cm * t.baseline_sdi_cm for t in lesions)
    spd = sum(t.ldi_cm * t.sdi_cm for t in lesions)
    fall = _fall_pct(baseline_spd, spd) if baseline_spd > 0 else 0.0
    if fall >= r.pr_spd_fall_pct:
        return _Decision("partial_response", [f"SPD fall {fall:.1f}% >= {r.pr_spd_fall_pct}%"])
    return _Decision("stable_disease", [f"SPD fall {fall:.1f}% < {r.pr_spd_fall_pct}%, not PD"])


def _ct_progression(x: LymphomaAssessment, lesions: list[TargetLesion], r: LuganoRules) -> list[str]:
    fired: list[str] = []
    for i, t in enumerate(lesions):
        nadir_ppd = t.nadir_ldi_cm * t.nadir_sdi_cm
        ppd_rise_ok = nadir_ppd == 0 or _change_pct(nadir_ppd, t.ldi_cm * t.sdi_cm) >= r.pd_ppd_rise_pct
        step = r.pd_increment_small_cm if t.nadir_ldi_cm <= r.pd_small_lesion_max_cm else r.pd_increment_large_cm
        grew = max(settle(t.ldi_cm - t.nadir_ldi_cm), settle(t.sdi_cm - t.nadir_sdi_cm)) >= step
        if t.ldi_cm > r.pd_ldi_above_cm and ppd_rise_ok and grew:
            fired.append(
                f"target {i}: LDi {t.ldi_cm} > {r.pd_ldi_above_cm} cm, PPD >= {r.pd_ppd_rise_pct}% above nadir, "
                f"LDi/SDi rise >= {step} cm"
            )
    if x.new_node_ldi_cm is not None and (x.new_node_ldi_cm > r.pd_new_node_above_cm or x.new_lesion_clearly_lymphoma):
        fired.append(f"new node LDi {x.new_node_ldi_cm} cm")
    site = x.new_extranodal_site_cm
    if site is not None and (site > r.pd_new_extranodal_above_cm or x.new_lesion_clearly_lymphoma):
        fired.append(f"new extranodal site {site} cm")
    s = x.spleen
    if s is not None:
        if s.baseline_length_cm > s.normal_length_cm:
            before = s.baseline_length_cm - s.normal_length_cm
            rise = _change_pct(before, s.length_cm - s.normal_length_cm)
            if rise > r.spleen_enlargement_rise_pct:
                fired.append(
                    f"splenic enlargement above normal rose {rise:.1f}% > {r.spleen_enlargement_rise_pct}% [R]"
                )
        elif settle(s.length_cm - s.baseline_length_cm) >= r.spleen_length_rise_cm:
            fired.append(f"spleen length rose >= {r.spleen_length_rise_cm} cm without baseline splenomegaly [R]")
    return fired


def assess_response(case: ResponseInput) -> ResponseResult:
    """Response category for the chosen system (spec §10), with the criteria that decided it."""
    a = case.assessment
    warnings: list[Notice] = []
    mrd: bool | None = None
    if isinstance(a, AmlAssessment):
        decision, version = _aml(a, ELN_2022, warnings), ELN_2022.version
        if decision.category in ("CR", "CRh", "CRi"):
            mrd = a.mrd_negative
    elif isinstance(a, MyelomaAssessment):
        decision, version = _myeloma(a, IMWG_2016, warnings), IMWG_2016.version
        if decision.category in ("sCR", "CR"):
            mrd = a.mrd_negative
    else:
        decision, version = _lymphoma(a, LUGANO_2014), LUGANO_2014.version
    return ResponseResult(
        system=a.system,
        category=decision.category,
        best_response_at_assessment=decision.best or decision.category,
        criteria_met=decision.criteria,
        mrd_negative=mrd,
        rule=f"{decision.category}: " + "; ".join(decision.criteria),
        citation=CITATIONS[a.system],
        rules_version=version,
        confidence=CONFIDENCE[a.system],
        warnings=tuple(warnings),
        inputs=case,
    )


CALCULATOR = Calculator(
    name="response",
    summary="Response category: ELN 2022 AML, IMWG 2016 myeloma or Lugano 2014 lymphoma (choose the system).",
    input_model=ResponseInput,
    compute=assess_response,
)
