"""Engraftment, graft failure and chimerism from daily blood counts and transfusion records (clinical spec §7).

Sources [V]: CIBMTR Forms Instruction Manual, "Initial ANC recovery" (q8-11) and "Initial platelet recovery"
(q12-14, Form 2100 q13-18); ASTCT consensus, Kharfan-Dabaja MA et al., Transplant Cell Ther 2021;27:642-9;
EBMT/CIBMTR/APBMT harmonisation, Sureda A et al., BMT 2024;59:832.

Design decisions [D] (spec §7 and this module; none is part of the source):

* Day 0 is the day of transplant; every record is dated by ``day`` or by ``date`` (then ``transplant_date`` is needed).
  Records before day 0 and two counts on one day are refused.
* CIBMTR says not to count ANC values >= 0.5 before the post-HCT nadir. Here counting starts after the first value
  below the threshold, so the nadir is the lowest value before the recovery run and a later count never moves an
  earlier recovery. A later ANC lower than that nadir is reported as a warning, since a reviewer may place the nadir
  there instead. The same start rule is applied to platelets (the manual states it for the ANC only).
* An ANC that never fell below 0.5 gives "not_applicable", mirroring the platelet option in the manual.
* Platelet transfusion window: the first value d of the run qualifies only if the last platelet transfusion was on or
  before d - 7; transfusions inside the run are flagged, not rejected.
* Primary graft failure landmark: day +30 (PBSC, unstimulated BM) or +42 (UCB), overridable. Pancytopenia is a
  clinical judgement, so it is an input, required only when the ANC had not recovered by the landmark.
* Secondary graft failure (definition [V], operational reading [D]): both recoveries met, then a later count below a
  recovery threshold (ANC < 0.5 or platelets < 20) with a transfusion or growth factor on or after that day. Relapse,
  drugs and infection (poor graft function) must still be excluded by the clinician. The ASTCT text (Sureda 2024,
  Table 1) says the decline "may involve hemoglobin"; haemoglobin is not an input here, so an anaemia-only decline
  is not detected.
* Chimerism: full >= 95.0% donor (CIBMTR; ``strict_astct`` uses > 95.0), graft loss < 5.0%, mixed in between.
  The mixed and graft-loss bounds are [R] (ASTCT text incomplete in the copy seen). Lineages are kept separate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graftwise.clinical.calculator import Calculator, ClinicalInput, ClinicalResult, Notice
from graftwise.clinical.support import Ladder, Step, check_days
from graftwise.errors import ValidationError

GraftSource = Literal["pbsc", "bm_unstimulated", "ucb"]
RecoveryStatus = Literal["recovered", "not_reached", "not_applicable", "no_data"]


@dataclass(frozen=True)
class EngraftmentRules:
    """One versioned rules table (thresholds in ×10⁹/L, days post-HCT, chimerism in % donor)."""

    version: str
    anc_threshold: float
    platelet_thresholds: tuple[float, float]
    run_length: int
    platelet_transfusion_free_days: int
    graft_failure_day: dict[str, int]
    full_chimerism_pct: float
    graft_loss_below_pct: float


CIBMTR_2024 = EngraftmentRules(
    version="cibmtr_fim_astct_2021",
    anc_threshold=0.5,
    platelet_thresholds=(20.0, 50.0),
    run_length=3,
    platelet_transfusion_free_days=7,
    graft_failure_day={"pbsc": 30, "bm_unstimulated": 30, "ucb": 42},
    full_chimerism_pct=95.0,
    graft_loss_below_pct=5.0,
)

CONFIDENCE = (
    "Neutrophil and platelet recovery, primary and secondary graft failure, full-donor chimerism [V] (CIBMTR manual, "
    "ASTCT 2021); mixed-chimerism and graft-loss bounds [R]; counting after the nadir, landmark-day setting, "
    "operational secondary-graft-failure reading [D]."
)

CITATION = (
    "CIBMTR Forms Instruction Manual: Initial ANC recovery (q8-11), Initial platelet recovery (q12-14; Form 2100 "
    "q13-18); Kharfan-Dabaja MA et al., Transplant Cell Ther 2021;27:642-9 (ASTCT graft failure and chimerism "
    "consensus); Sureda A et al., Bone Marrow Transplant 2024;59:832."
)


class DatedRecord(ClinicalInput):
    """A record dated either by ``day`` (days after transplant, day 0 = HCT) or by calendar ``date``."""

    day: int | None = Field(None, ge=0, description="Days after transplant (day 0 = HCT).")
    date: dt.date | None = Field(None, description="Calendar date (ISO); needs transplant_date.")

    @model_validator(mode="after")
    def _one_of_day_or_date(self) -> Self:
        if (self.day is None) == (self.date is None):
            raise ValueError("give exactly one of 'day' or 'date'")
        return self


class ManualDifferential(ClinicalInput):
    """A manual differential: ANC = WBC × (% segs + % bands) / 100."""

    wbc_x10e9_per_l: float = Field(ge=0)
    segs_pct: float = Field(ge=0, le=100)
    bands_pct: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _percentages_fit(self) -> Self:
        if self.segs_pct + self.bands_pct > 100:
            raise ValueError("segs_pct + bands_pct must not exceed 100")
        return self

    @property
    def anc_x10e9_per_l(self) -> float:
        return self.wbc_x10e9_per_l * (self.segs_pct + self.bands_pct) / 100


class BloodCount(DatedRecord):
    """One day's laboratory values (×10⁹/L). Give the ANC, a manual differential, or both (see ANC rule)."""

    anc_x10e9_per_l: float | None = Field(None, ge=0, description="Reported (automated) ANC, ×10⁹/L.")
    manual_differential: ManualDifferential | None = None
    platelets_x10e9_per_l: float | None = Field(None, ge=0, description="Platelet count, ×10⁹/L.")

    @model_validator(mode="after")
    def _has_a_value(self) -> Self:
        if self.anc_x10e9_per_l is None and self.manual_differential is None and self.platelets_x10e9_per_l is None:
            raise ValueError("a count needs anc_x10e9_per_l, manual_differential or platelets_x10e9_per_l")
        return self


class Transfusion(DatedRecord):
    product: Literal["platelets", "rbc"]


class GrowthFactorDose(DatedRecord):
    agent: str = Field(min_length=1, description="e.g. 'G-CSF'.")


class ChimerismResult(DatedRecord):
    lineage: Literal["cd3", "cd33", "whole_blood", "marrow"]
    donor_pct: float = Field(ge=0, le=100)


class EngraftmentInput(ClinicalInput):
    graft_source: GraftSource = Field(description="pbsc, bm_unstimulated or ucb (sets the graft-failure landmark).")
    transplant_date: dt.date | None = Field(None, description="Day 0; needed when any record is dated by 'date'.")
    counts: list[BloodCount] = Field(min_length=1)
    transfusions: list[Transfusion] = Field(default_factory=list, description="Every transfusion after HCT.")
    growth_factor: list[GrowthFactorDose] = Field(default_factory=list)
    chimerism: list[ChimerismResult] = Field(default_factory=list)
    graft_failure_day: int | None = Field(
        None, ge=1, description="Landmark for primary graft failure; none = 30 (PBSC, BM) or 42 (UCB)."
    )
    pancytopenia_at_landmark: bool | None = Field(
        None, description="Clinician's judgement; required only when the ANC had not recovered by the landmark."
    )
    chimerism_definition: Literal["cibmtr", "strict_astct"] = "cibmtr"

    @model_validator(mode="after")
    def _dates_and_duplicates(self) -> Self:
        groups: list[tuple[str, Sequence[DatedRecord]]] = [
            ("counts", self.counts),
            ("transfusions", self.transfusions),
            ("growth_factor", self.growth_factor),
            ("chimerism", self.chimerism),
        ]
        for name, records in groups:
            for i, record in enumerate(records):
                record_day(record, self.transplant_date, f"{name}.{i}")
        check_days(
            [record_day(c, self.transplant_date, f"counts.{i}") for i, c in enumerate(self.counts)],
            [f"counts.{i}.{'day' if c.day is not None else 'date'}" for i, c in enumerate(self.counts)],
            in_order=False,
        )
        return self


def record_day(record: DatedRecord, transplant_date: dt.date | None, where: str) -> int:
    """The record's day after transplant; a date before the transplant or without a transplant date is refused."""
    if record.day is not None:
        return record.day
    assert record.date is not None  # guaranteed by DatedRecord
    if transplant_date is None:
        raise ValidationError(f"{where}.date given but transplant_date is missing", field="transplant_date")
    day = (record.date - transplant_date).days
    if day < 0:
        raise ValidationError(
            f"{where}.date {record.date} is before the transplant ({transplant_date}); expected on or after day 0",
            field=f"{where}.date",
        )
    return day


class Recovery(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: RecoveryStatus
    threshold_x10e9_per_l: float
    day: int | None
    date: dt.date | None
    rule: str


class GraftFailure(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["yes", "no", "not_evaluable"]
    day: int | None = Field(description="Primary: the landmark day. Secondary: the day counts declined.")
    rule: str


class ChimerismCategory(BaseModel):
    model_config = ConfigDict(frozen=True)

    lineage: str
    day: int
    donor_pct: float
    category: Literal["full_donor", "mixed", "graft_loss"]


class EngraftmentResult(ClinicalResult):
    neutrophil_recovery: Recovery
    platelet_recovery_20: Recovery
    platelet_recovery_50: Recovery
    primary_graft_failure: GraftFailure
    secondary_graft_failure: GraftFailure
    chimerism: list[ChimerismCategory]
    inputs: EngraftmentInput


@dataclass(frozen=True)
class _Run:
    day: int
    end_day: int


def _first_run(
    series: Sequence[tuple[int, float]],
    threshold: float,
    run_length: int,
    start: int,
    day_ok: Callable[[int], bool],
) -> _Run | None:
    """The first ``run_length`` consecutive values >= threshold from index ``start`` on, whose first day is ok."""
    for i in range(start, len(series) - run_length + 1):
        window = series[i : i + run_length]
        if all(value >= threshold for _, value in window) and day_ok(window[0][0]):
            return _Run(day=window[0][0], end_day=window[-1][0])
    return None


def _effective_anc(count: BloodCount, day: int, threshold: float, warnings: list[Notice]) -> float | None:
    """CIBMTR: an automated ANC of exactly the threshold defers to the manual differential if available."""
    manual = count.manual_differential
    if count.anc_x10e9_per_l is None:
        return manual.anc_x10e9_per_l if manual is not None else None
    if count.anc_x10e9_per_l == threshold:
        if manual is not None:
            return manual.anc_x10e9_per_l
        warnings.append(
            Notice(
                code="anc_at_threshold_no_differential",
                message=f"day {day}: automated ANC exactly {threshold} with no manual differential; used as reported",
            )
        )
    return count.anc_x10e9_per_l


def _to_date(day: int | None, transplant_date: dt.date | None) -> dt.date | None:
    if day is None or transplant_date is None:
        return None
    return transplant_date + dt.timedelta(days=day)


def _recovery(
    series: Sequence[tuple[int, float]],
    threshold: float,
    rules: EngraftmentRules,
    transfused: bool,
    day_ok: Callable[[int], bool],
    what: str,
    transplant_date: dt.date | None,
) -> tuple[Recovery, _Run | None]:
    """Recovery per the CIBMTR rule: first of ``run_length`` consecutive values on different days >= threshold."""
    n = rules.run_length
    if not series:
        return Recovery(
            status="no_data",
            threshold_x10e9_per_l=threshold,
            day=None,
            date=None,
            rule=f"no {what} values given",
        ), None
    below = next((i for i, (_, value) in enumerate(series) if value < threshold), None)
    if below is None and not transfused:
        given = "" if what == "ANC" else " and no platelet transfusion was given"
        rule = f"{what} never fell below {threshold} ×10⁹/L after HCT{given}"
        return Recovery(status="not_applicable", threshold_x10e9_per_l=threshold, day=None, date=None, rule=rule), None
    start = 0 if below is None else below + 1
    run = _first_run(series, threshold, n, start, day_ok)
    if run is None:
        return Recovery(
            status="not_reached",
            threshold_x10e9_per_l=threshold,
            day=None,
            date=None,
            rule=f"no {n} consecutive {what} values >= {threshold} ×10⁹/L on different days after the nadir",
        ), None
    return Recovery(
        status="recovered",
        threshold_x10e9_per_l=threshold,
        day=run.day,
        date=_to_date(run.day, transplant_date),
        rule=f"first of {n} consecutive {what} values >= {threshold} ×10⁹/L on different days "
        f"(days {run.day}..{run.end_day}), counted after the nadir",
    ), run


CHIMERISM_CATEGORIES: tuple[Literal["graft_loss", "mixed", "full_donor"], ...] = ("graft_loss", "mixed", "full_donor")


def chimerism_ladder(rules: EngraftmentRules, strict: bool) -> Ladder:
    """% donor: graft loss below the graft-loss bound, full donor at (CIBMTR) or above (strict ASTCT) the full bound."""
    return Ladder((Step(1, rules.graft_loss_below_pct, True), Step(2, rules.full_chimerism_pct, not strict)))


def assess_engraftment(case: EngraftmentInput, rules: EngraftmentRules = CIBMTR_2024) -> EngraftmentResult:
    """Neutrophil and platelet recovery days, primary and secondary graft failure and chimerism (spec §7)."""
    warnings: list[Notice] = []
    t0 = case.transplant_date
    counts = sorted(
        ((record_day(c, t0, f"counts.{i}"), c) for i, c in enumerate(case.counts)), key=lambda pair: pair[0]
    )
    platelet_tx = sorted(
        record_day(t, t0, f"transfusions.{i}") for i, t in enumerate(case.transfusions) if t.product == "platelets"
    )
    any_tx_days = [record_day(t, t0, f"transfusions.{i}") for i, t in enumerate(case.transfusions)]
    gf_days = [record_day(g, t0, f"growth_factor.{i}") for i, g in enumerate(case.growth_factor)]

    anc_by_day = {day: _effective_anc(count, day, rules.anc_threshold, warnings) for day, count in counts}
    anc_series = [(day, anc) for day, anc in anc_by_day.items() if anc is not None]
    plt_series = [(day, c.platelets_x10e9_per_l) for day, c in counts if c.platelets_x10e9_per_l is not None]

    neutrophil, anc_run = _recovery(anc_series, rules.anc_threshold, rules, False, lambda _d: True, "ANC", t0)
    if anc_run is not None:
        nadir = min(value for day, value in anc_series if day < anc_run.day)
        later_low = [(day, value) for day, value in anc_series if day > anc_run.end_day and value < nadir]
        if later_low:
            warnings.append(
                Notice(
                    code="anc_below_nadir_after_recovery",
                    message=f"ANC fell to {later_low[0][1]} on day {later_low[0][0]}, below the nadir before "
                    f"recovery ({nadir}); review whether the nadir lies later",
                )
            )

    if neutrophil.status == "not_reached" and anc_series[-1][1] >= rules.anc_threshold:
        warnings.append(
            Notice(
                code="anc_recovery_run_unfinished",
                message=f"last ANC value (day {anc_series[-1][0]}) >= {rules.anc_threshold}: a recovery run may be "
                "in progress",
            )
        )

    free = rules.platelet_transfusion_free_days

    def transfusion_free(day: int) -> bool:
        return all(t <= day - free for t in platelet_tx if t <= day)

    platelet_results: list[Recovery] = []
    platelet_runs: list[_Run | None] = []
    for threshold in rules.platelet_thresholds:
        rec, run = _recovery(plt_series, threshold, rules, bool(platelet_tx), transfusion_free, "platelet", t0)
        rec = rec.model_copy(
            update={"rule": rec.rule + (f", no platelet transfusion in the previous {free} days" if run else "")}
        )
        platelet_results.append(rec)
        platelet_runs.append(run)
        if run is not None:
            inside = [t for t in platelet_tx if run.day < t <= run.end_day]
            if inside:
                warnings.append(
                    Notice(
                        code="platelet_transfusion_inside_run",
                        message=f"platelet transfusion on day(s) {inside} inside the >= {threshold} recovery run",
                    )
                )

    primary = _primary_graft_failure(case, rules, neutrophil, anc_series)
    secondary = _secondary_graft_failure(
        rules, neutrophil, anc_run, platelet_results[0], platelet_runs[0], counts, anc_by_day, any_tx_days + gf_days
    )
    if secondary.status == "yes":
        warnings.append(
            Notice(
                code="secondary_graft_failure_exclusions",
                message="secondary graft failure criteria met: exclude relapse, drugs and infection "
                "(poor graft function)",
            )
        )
    if any(rec.status == "no_data" for rec in (neutrophil, platelet_results[0])):
        warnings.append(
            Notice(
                code="recovery_not_assessable",
                message="no ANC or no platelet values given; that recovery cannot be assessed",
            )
        )

    strict = case.chimerism_definition == "strict_astct"
    ladder = chimerism_ladder(rules, strict)
    chimerism = [
        ChimerismCategory(
            lineage=c.lineage,
            day=record_day(c, t0, f"chimerism.{i}"),
            donor_pct=c.donor_pct,
            category=CHIMERISM_CATEGORIES[ladder.level(c.donor_pct)],
        )
        for i, c in enumerate(case.chimerism)
    ]
    full_rule = (
        f"> {rules.full_chimerism_pct}% (ASTCT strict)" if strict else f">= {rules.full_chimerism_pct}% (CIBMTR)"
    )
    rule = (
        f"Neutrophil: {neutrophil.rule}. Platelets >= 20: {platelet_results[0].rule}. "
        f"Primary graft failure: {primary.rule}. Secondary graft failure: {secondary.rule}. "
        f"Chimerism: full donor {full_rule}, graft loss < {rules.graft_loss_below_pct}%, mixed in between."
    )
    return EngraftmentResult(
        neutrophil_recovery=neutrophil,
        platelet_recovery_20=platelet_results[0],
        platelet_recovery_50=platelet_results[1],
        primary_graft_failure=primary,
        secondary_graft_failure=secondary,
        chimerism=chimerism,
        rule=rule,
        citation=CITATION,
        rules_version=rules.version,
        confidence=CONFIDENCE,
        warnings=tuple(warnings),
        inputs=case,
    )


def _primary_graft_failure(
    case: EngraftmentInput, rules: EngraftmentRules, neutrophil: Recovery, anc_series: Sequence[tuple[int, float]]
) -> GraftFailure:
    landmark = case.graft_failure_day or rules.graft_failure_day[case.graft_source]
    source = f"day +{landmark} ({'set in the input' if case.graft_failure_day else 'default for ' + case.graft_source})"
    if neutrophil.status == "not_applicable":
        return GraftFailure(status="no", day=landmark, rule="ANC never fell below the threshold")
    if neutrophil.status == "recovered" and neutrophil.day is not None and neutrophil.day <= landmark:
        return GraftFailure(status="no", day=landmark, rule=f"ANC recovery on day {neutrophil.day}, by {source}")
    if not anc_series or anc_series[-1][0] < landmark:
        return GraftFailure(
            status="not_evaluable",
            day=landmark,
            rule=f"ANC not recovered and follow-up ends before {source}",
        )
    if case.pancytopenia_at_landmark is None:
        raise ValidationError(
            f"pancytopenia_at_landmark is required: the ANC had not recovered by {source}",
            field="pancytopenia_at_landmark",
        )
    if case.pancytopenia_at_landmark:
        return GraftFailure(
            status="yes",
            day=landmark,
            rule=f"ANC >= {rules.anc_threshold} not reached by {source}, with pancytopenia",
        )
    return GraftFailure(
        status="no",
        day=landmark,
        rule=f"ANC >= {rules.anc_threshold} not reached by {source}, but no pancytopenia "
        "(consider poor graft function)",
    )


def _secondary_graft_failure(
    rules: EngraftmentRules,
    neutrophil: Recovery,
    anc_run: _Run | None,
    platelets: Recovery,
    platelet_run: _Run | None,
    counts: Sequence[tuple[int, BloodCount]],
    anc_by_day: dict[int, float | None],
    support_days: Sequence[int],
) -> GraftFailure:
    met = ("recovered", "not_applicable")
    if neutrophil.status not in met or platelets.status not in met:
        return GraftFailure(status="not_evaluable", day=None, rule="neutrophil and platelet recovery not both met")
    after = max((run.end_day for run in (anc_run, platelet_run) if run is not None), default=-1)
    low_plt = rules.platelet_thresholds[0]
    for day, count in counts:
        if day <= after:
            continue
        anc = anc_by_day[day]
        declined = (anc is not None and anc < rules.anc_threshold) or (
            count.platelets_x10e9_per_l is not None and count.platelets_x10e9_per_l < low_plt
        )
        if declined and any(s >= day for s in support_days):
            return GraftFailure(
                status="yes",
                day=day,
                rule=f"after both recoveries, counts fell below ANC {rules.anc_threshold} or platelets {low_plt} "
                f"×10⁹/L on day {day}, with transfusion or growth factor on or after that day",
            )
    return GraftFailure(
        status="no",
        day=None,
        rule="no count below the recovery thresholds with transfusion or growth-factor need after both recoveries",
    )


CALCULATOR = Calculator(
    name="engraftment",
    summary="Neutrophil and platelet engraftment day (CIBMTR), primary/secondary graft failure, chimerism category.",
    input_model=EngraftmentInput,
    compute=assess_engraftment,
)
