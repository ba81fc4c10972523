"""Ranking of search results (matching.md §7; clinical.md §9.1), configurable, with plain-language reasons.

Default order: scored match count (or the filter count when nothing is scored), overall category, grade score,
confidence score, then the non-HLA tie-breakers of §7 item 4 in their listed order: DPB1 (match > permissive >
unknown > non-permissive), donor age (younger first), CMV match, sex and parity (male > nulliparous female > parous
or parity-unknown female), ABO (compatible > minor > major or bidirectional). Match prediction (§7 item 2) does not
exist yet, so it is not a key. The ranking is shown with its reasons and is never an automatic decision (clinical.md
§9.1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from graftwise.errors import ValidationError

RankKey = Literal[
    "match_count", "category", "grade_score", "confidence_score", "dpb1", "age", "cmv", "sex_parity", "abo"
]

DEFAULT_ORDER: tuple[RankKey, ...] = (
    "match_count",
    "category",
    "grade_score",
    "confidence_score",
    "dpb1",
    "age",
    "cmv",
    "sex_parity",
    "abo",
)

ABO_CODES = {"O": 0, "A": 1, "B": 2, "AB": 3}
"""Contract coding of ``abo.npy``."""


def abo_class(recipient: int, donor: int) -> str | None:
    """ABO compatibility class (clinical.md §9.1 table; standard immunohaematology) from contract codes
    (0 O, 1 A, 2 B, 3 AB, -1 unknown): ``compatible``, ``minor``, ``major``, ``bidirectional`` or None."""
    if recipient < 0 or donor < 0:
        return None
    r_antigens = {0: set(), 1: {"A"}, 2: {"B"}, 3: {"A", "B"}}[recipient]
    d_antigens = {0: set(), 1: {"A"}, 2: {"B"}, 3: {"A", "B"}}[donor]
    major = bool(d_antigens - r_antigens)  # recipient isoagglutinins against donor red-cell antigens
    minor = bool(r_antigens - d_antigens)  # donor isoagglutinins against recipient antigens
    if major and minor:
        return "bidirectional"
    if major:
        return "major"
    if minor:
        return "minor"
    return "compatible"


_ABO_SCORE = {"compatible": 3, "minor": 2, "major": 1, "bidirectional": 1, None: 0}


@dataclass(frozen=True)
class RankingConfig:
    """Which keys, in which order (all descending-is-better after encoding). ``as_of`` fixes donor ages."""

    order: tuple[RankKey, ...] = DEFAULT_ORDER
    as_of: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())

    def __post_init__(self) -> None:
        unknown = [k for k in self.order if k not in DEFAULT_ORDER]
        if unknown or len(set(self.order)) != len(self.order):
            raise ValidationError(
                f"ranking order {list(self.order)}: each key at most once, from {', '.join(DEFAULT_ORDER)}",
                field="order",
            )


@dataclass(frozen=True)
class RankInputs:
    """Per-survivor columns the ranking reads (same length, survivor order)."""

    match_count: npt.NDArray[np.int64]
    category: npt.NDArray[np.int64]
    """Overall category ordinal, higher better (Definite 4 … Mismatch 0); -1 when nothing is scored."""
    grade_score: npt.NDArray[np.float64]
    confidence_score: npt.NDArray[np.float64]
    dpb1: npt.NDArray[np.int64]
    """3 match, 2 permissive, 1 unknown or not scored, 0 non-permissive."""
    birth_date: npt.NDArray[np.int32]
    cmv: npt.NDArray[np.int8]
    sex: npt.NDArray[np.int8]
    parity: npt.NDArray[np.int8]
    abo: npt.NDArray[np.int8]


def _sex_parity_score(sex: npt.NDArray[np.int8], parity: npt.NDArray[np.int8]) -> npt.NDArray[np.int64]:
    """male 2 > nulliparous female 1 > parous or parity-unknown female, or unknown sex, 0 (clinical.md §9.1)."""
    score = np.zeros(sex.shape[0], dtype=np.int64)
    score[sex == 1] = 2
    score[(sex == 0) & (parity == 0)] = 1
    return score


def rank_order(
    inputs: RankInputs, config: RankingConfig, patient_cmv: int | None, patient_abo: int | None
) -> npt.NDArray[np.int64]:
    """Indices of the survivors in rank order (stable: ties keep registry row order)."""
    keys: list[npt.NDArray[np.generic]] = []
    for key in config.order:
        if key == "match_count":
            keys.append(-inputs.match_count)
        elif key == "category":
            keys.append(-inputs.category)
        elif key == "grade_score":
            keys.append(-inputs.grade_score)
        elif key == "confidence_score":
            keys.append(-inputs.confidence_score)
        elif key == "dpb1":
            keys.append(-inputs.dpb1)
        elif key == "age":
            # later birth date = younger = first; unknown birth dates (≤ INT32 min) go last
            keys.append(-inputs.birth_date.astype(np.int64))
        elif key == "cmv":
            matched = (inputs.cmv == patient_cmv) if patient_cmv is not None else np.zeros(len(inputs.cmv), bool)
            keys.append(-matched.astype(np.int64))
        elif key == "sex_parity":
            keys.append(-_sex_parity_score(inputs.sex, inputs.parity))
        elif key == "abo":
            if patient_abo is None:
                keys.append(np.zeros(len(inputs.abo), dtype=np.int64))
            else:
                keys.append(-np.array([_ABO_SCORE[abo_class(patient_abo, int(d))] for d in inputs.abo], np.int64))
    if not keys:
        return np.arange(len(inputs.match_count), dtype=np.int64)
    return np.lexsort(tuple(reversed(keys))).astype(np.int64)


def age_years(birth_days: int, as_of: dt.date) -> int | None:
    """Whole years from a contract birth date (days since 1970-01-01) to ``as_of``."""
    if birth_days <= np.iinfo(np.int32).min:
        return None
    born = dt.date(1970, 1, 1) + dt.timedelta(days=int(birth_days))
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


def reasons(
    *,
    count_text: str,
    category: str | None,
    dpb1_text: str | None,
    age: int | None,
    sex: int,
    parity: int,
    cmv_text: str | None,
    abo: str | None,
) -> list[str]:
    """Short plain-language reasons, e.g. ``["8/8", "DPB1 permissive", "24-year-old male", "CMV matched"]``."""
    out = [count_text]
    if category is not None:
        out.append(f"overall {category}")
    if dpb1_text is not None:
        out.append(dpb1_text)
    who = {1: "male", 0: "female"}.get(sex, "sex unknown")
    if sex == 0 and parity >= 0:
        who += ", nulliparous" if parity == 0 else f", parity {parity}"
    out.append(f"{age}-year-old {who}" if age is not None else f"age unknown, {who}")
    if cmv_text is not None:
        out.append(cmv_text)
    if abo is not None:
        out.append(f"ABO {abo}")
    return out
