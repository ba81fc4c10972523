"""The search request (matching.md §1) and its validation, which reports every problem at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from graftwise.errors import ValidationError
from graftwise.hla import HLAError
from graftwise.matching.typing import MATCH_LOCI, SCORE_LOCI, TypingInterpreter, normalise_locus_token

REQUIRED_MATCH_LOCI = ("A", "B", "DRB1")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MismatchCriteria(_Model):
    total: int = Field(ge=0, le=5, description="total mismatches allowed over the matched loci")
    per_locus: dict[str, int] = Field(description="locus → 0–2; A, B and DRB1 required, C and DQB1 optional")


class ScoringCriteria(_Model):
    loci_to_score: list[str] = Field(description="subset of A, B, C, DQB1, DRB1, DPB1; may be empty")
    loci_excluded_from_aggregates: list[str] = Field(default_factory=list)


class SearchRequest(_Model):
    """A donor search (§1). Build with :func:`validate_request` so every problem is reported together."""

    donor_type: Literal["adult", "cord"]
    mismatches: MismatchCriteria
    include_better_matches: bool = True
    scoring: ScoringCriteria
    patient_hla: dict[str, tuple[str | None, str | None]]
    patient_ethnicity: str | None = None
    patient_registry: str | None = None
    registry_filter: list[str] | None = None
    patient_sex: Literal["female", "male"] | None = Field(default=None, description="ranking: sex match")
    patient_cmv: Literal["negative", "positive"] | None = Field(default=None, description="ranking: CMV match")
    patient_abo: Literal["O", "A", "B", "AB"] | None = Field(default=None, description="ranking: ABO class")
    run_match_prediction: bool = Field(
        default=True,
        description="add match probabilities per donor (graftwise.prediction.search); off → faster, no probabilities",
    )
    release: str | None = Field(default=None, description="IMGT release of the patient typing; default: registry's")
    offset: int = Field(default=0, ge=0)
    limit: int | None = Field(default=None, ge=1)

    @property
    def matched_loci(self) -> tuple[str, ...]:
        return tuple(locus for locus in MATCH_LOCI if locus in self.mismatches.per_locus)

    @property
    def filter_denominator(self) -> int:
        return 2 * len(self.matched_loci)

    @property
    def scoring_denominator(self) -> int:
        excluded = set(self.scoring.loci_excluded_from_aggregates)
        return 2 * len([locus for locus in self.scoring.loci_to_score if locus not in excluded])


class RequestError(ValidationError):
    """A request with one or more problems; ``problems`` lists (field, message) pairs, one per problem."""

    code = "invalid_request"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "; ".join(f"{f}: {m}" for f, m in problems)
        super().__init__(f"{len(problems)} problem(s) in the search request: {lines}", field=problems[0][0])


def validate_request(raw: Mapping[str, Any] | SearchRequest, interp: TypingInterpreter) -> SearchRequest:
    """Validate a request (§1 "Request validation") and raise :class:`RequestError` listing every problem:
    structure, mismatch ranges, required loci, patient typed at A, B, DRB1, every typing valid in the release, and
    ``loci_excluded_from_aggregates`` ⊆ ``loci_to_score``."""
    problems: list[tuple[str, str]] = []
    if isinstance(raw, SearchRequest):
        request = raw
    else:
        data = dict(raw)
        if isinstance(data.get("patient_hla"), Mapping):
            data["patient_hla"] = {k: _as_pair(v) for k, v in data["patient_hla"].items()}
        try:
            request = SearchRequest.model_validate(data)
        except pydantic.ValidationError as exc:
            for err in exc.errors():
                problems.append((".".join(str(p) for p in err["loc"]), err["msg"]))
            raise RequestError(problems) from None
    problems += _criteria_problems(request)
    problems += patient_problems(request.patient_hla, interp, "patient_hla")
    if request.release is not None and request.release != interp.release:
        problems.append(
            ("release", f"the patient typing is in release {request.release}; this search matches in {interp.release}")
        )
    if problems:
        raise RequestError(problems)
    return request


def _as_pair(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 1:
        return (value[0], None)
    return value


def _criteria_problems(request: SearchRequest) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    per_locus = request.mismatches.per_locus
    for locus, allowed in per_locus.items():
        where = f"mismatches.per_locus.{locus}"
        if locus == "DPB1":
            problems.append((where, "DPB1 is scored, never matched: remove it from the match criteria"))
        elif locus not in MATCH_LOCI:
            problems.append((where, f"not a matchable locus; expected one of {', '.join(MATCH_LOCI)}"))
        if not 0 <= allowed <= 2:
            problems.append((where, f"allowed mismatches per locus are 0–2, got {allowed}"))
    for locus in REQUIRED_MATCH_LOCI:
        if locus not in per_locus:
            problems.append((f"mismatches.per_locus.{locus}", "required (A, B and DRB1 are always matched)"))
    scored = request.scoring.loci_to_score
    for locus in scored:
        if locus not in SCORE_LOCI:
            problems.append(("scoring.loci_to_score", f"{locus!r} is not a scorable locus ({', '.join(SCORE_LOCI)})"))
    for locus in request.scoring.loci_excluded_from_aggregates:
        if locus not in scored:
            problems.append(("scoring.loci_excluded_from_aggregates", f"{locus!r} is not in scoring.loci_to_score"))
    if not request.include_better_matches and request.mismatches.total > 2 * len(request.matched_loci):
        problems.append(("mismatches.total", "exactly this many mismatches is impossible over the matched loci"))
    return problems


def patient_problems(
    hla: Mapping[str, tuple[str | None, str | None]], interp: TypingInterpreter, where: str
) -> list[tuple[str, str]]:
    """Every problem of a patient typing: unknown loci, untyped required loci, invalid typings."""
    problems: list[tuple[str, str]] = []
    for locus, pair in hla.items():
        if locus not in SCORE_LOCI:
            problems.append((f"{where}.{locus}", f"unsupported locus; expected one of {', '.join(SCORE_LOCI)}"))
            continue
        for i, text in enumerate(pair):
            if not text:
                continue
            try:
                interp.interpret(locus, normalise_locus_token(locus, text))
            except (HLAError, ValidationError) as exc:
                problems.append((f"{where}.{locus}[{i}]", str(exc)))
    for locus in REQUIRED_MATCH_LOCI:
        found = hla.get(locus)
        if found is None or not found[0]:
            problems.append((f"{where}.{locus}", "the patient must be typed at A, B and DRB1"))
    return problems
