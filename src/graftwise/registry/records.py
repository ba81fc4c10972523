"""The donor record: one adult donor or cord blood unit (standards-scale-ux.md §1.4; issue 3 §1).

The field set follows the WMDA inventory (GRID, birth date, sex, ABO, Rh, CMV, status) plus the attributes search
needs (population, weight, parity; for cord units TNC, CD34+, volume, collection date). HLA is kept per locus as two
typing strings, each in any form the HLA engine reads, always written with its locus (``A*01:AB``, ``A2``).

Attribute codes are the small integers of the registry ⇄ search contract (``/arrays``), defined once here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from enum import IntEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

LOCI: tuple[str, ...] = ("A", "B", "C", "DRB1", "DQB1", "DPB1")
"""The loci every registry keeps (contract order)."""
OPTIONAL_LOCI: tuple[str, ...] = ("DRB3", "DRB4", "DRB5")
ALL_LOCI: tuple[str, ...] = LOCI + OPTIONAL_LOCI
REQUIRED_LOCI: tuple[str, ...] = ("A", "B", "DRB1")
"""A donor is searchable only when these are typed at both positions (issue 3 §1)."""

EPOCH = dt.date(1970, 1, 1)


class DonorType(IntEnum):
    ADULT = 0
    CORD = 1


class Status(IntEnum):
    AVAILABLE = 0
    RESERVED = 1
    UNAVAILABLE = 2


class Sex(IntEnum):
    UNKNOWN = -1
    FEMALE = 0
    MALE = 1


class ABO(IntEnum):
    UNKNOWN = -1
    O = 0  # noqa: E741 - the blood group is called O
    A = 1
    B = 2
    AB = 3


class Serostatus(IntEnum):
    """CMV serostatus and RhD share this coding: 0 negative, 1 positive, -1 unknown."""

    UNKNOWN = -1
    NEGATIVE = 0
    POSITIVE = 1


# ---- GRID ---------------------------------------------------------------------------------------------------------

_ISO7064_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_GRID_RE = re.compile(r"^(\d{4})([0-9A-Z]{13})(\d{2})$")
DONOR_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,24}$")


def iso7064_mod37_2(text: str) -> int:
    """ISO/IEC 7064 MOD 37-2 check value (0–36) of an upper-case alphanumeric string.

    Each character's value (0–9, A=10 … Z=35) is weighted by 2^n, n its position from the right starting at 1; the
    check value is (38 − sum mod 37) mod 37 (ISBT 128 donation-number annex, transfusionguidelines.org Red Book
    Annex 2: ``G123498654321`` → 17).
    """
    total = 0
    for n, ch in enumerate(reversed(text), start=1):
        value = _ISO7064_ALPHABET.find(ch)
        if value < 0:
            raise ValueError(f"{ch!r} is not 0-9 or A-Z")
        total += value * (1 << n)
    return (38 - total % 37) % 37


def grid(ion: str, rdi: str) -> str:
    """The 19-character GRID of a registration donor identifier.

    ION (4 digits) + RDI (13 characters) + a 2-digit checksum (WMDA data dictionary D_GRID). The checksum is computed
    here as ISO 7064 MOD 37-2 over ION+RDI, written as two digits; standards-scale-ux.md §1.4 marks this as
    (memory; verify against ICCBBA ST-015), which could not be checked here.
    """
    if not re.fullmatch(r"\d{4}", ion):
        raise ValueError(f"ION {ion!r} must be 4 digits")
    if not re.fullmatch(r"[0-9A-Z]{13}", rdi):
        raise ValueError(f"registration donor identifier {rdi!r} must be 13 characters 0-9/A-Z")
    return f"{ion}{rdi}{iso7064_mod37_2(ion + rdi):02d}"


def is_grid(donor_id: str) -> bool:
    """True iff ``donor_id`` is GRID-shaped with a correct checksum."""
    m = _GRID_RE.match(donor_id)
    return m is not None and int(m.group(3)) == iso7064_mod37_2(m.group(1) + m.group(2))


# ---- rules shared by the record model and the importer ------------------------------------------------------------

LIMITS: dict[str, tuple[float, float]] = {
    "weight_kg": (20, 300),
    "parity": (0, 30),
    "tnc": (0.01, 10000),
    "cd34": (0, 10000),
    "volume_ml": (1, 1000),
}
"""Plausibility bounds (inclusive) of the numeric fields; a value outside them is an input error."""
ADULT_FIELDS = ("weight_kg", "parity")
CORD_FIELDS = ("tnc", "cd34", "volume_ml", "collection_date")
_TYPE_FIELDS = ADULT_FIELDS + CORD_FIELDS


def donor_id_problem(donor_id: str) -> str | None:
    """Why ``donor_id`` is not a valid registry donor id, or None."""
    if DONOR_ID_RE.match(donor_id):
        return None
    return "donor_id must be 1-25 letters, digits, '-' or '_' (a GRID is 19: ION + 13 characters + checksum)"


def type_field_problems(donor_type: DonorType, present: Iterable[str]) -> list[tuple[str, str]]:
    """(field, message) for every field that does not belong to the donor type (cord fields on an adult, …)."""
    out = []
    for name in present:
        if donor_type is DonorType.ADULT and name in CORD_FIELDS:
            out.append((name, f"{name} is a cord blood unit field; this donor is an adult"))
        elif donor_type is DonorType.CORD and name in ADULT_FIELDS:
            out.append((name, f"{name} is an adult donor field; this donor is a cord blood unit"))
    return out


# ---- the record ---------------------------------------------------------------------------------------------------

TypingText = Annotated[str, Field(min_length=1, max_length=4000)]
HLAPair = tuple[TypingText | None, TypingText | None]


class DonorRecord(BaseModel):
    """One donor or cord blood unit as the registry stores it.

    ``hla`` maps a locus to its two typings (None = untyped position). Validation here is structural; whether each
    typing is valid in the release is the importer's job (it sets ``hla_invalid`` and ``hla_errors``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    donor_id: str
    registry: str | None = None
    donor_type: DonorType = DonorType.ADULT
    sex: Sex = Sex.UNKNOWN
    birth_date: dt.date | None = None
    abo: ABO = ABO.UNKNOWN
    rh: Serostatus = Serostatus.UNKNOWN
    cmv: Serostatus = Serostatus.UNKNOWN
    population: str | None = None
    status: Status = Status.AVAILABLE
    status_date: dt.date | None = None
    weight_kg: float | None = Field(default=None, ge=LIMITS["weight_kg"][0], le=LIMITS["weight_kg"][1])
    parity: int | None = Field(default=None, ge=LIMITS["parity"][0], le=LIMITS["parity"][1])
    tnc: float | None = Field(default=None, ge=LIMITS["tnc"][0], le=LIMITS["tnc"][1], description="×10^7 cells")
    cd34: float | None = Field(default=None, ge=LIMITS["cd34"][0], le=LIMITS["cd34"][1], description="×10^6 cells")
    volume_ml: float | None = Field(default=None, ge=LIMITS["volume_ml"][0], le=LIMITS["volume_ml"][1])
    collection_date: dt.date | None = None
    hla: dict[str, HLAPair] = Field(default_factory=dict)
    hla_invalid: bool = False
    hla_errors: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problem = donor_id_problem(self.donor_id)
        if problem:
            raise ValueError(problem)
        unknown = set(self.hla) - set(ALL_LOCI)
        if unknown:
            raise ValueError(f"unknown HLA locus {sorted(unknown)[0]!r}; expected one of {', '.join(ALL_LOCI)}")
        for locus, (first, second) in self.hla.items():
            if first is None and second is not None:
                raise ValueError(f"hla {locus}: position 2 is typed but position 1 is empty")
        problems = type_field_problems(self.donor_type, (k for k in _TYPE_FIELDS if getattr(self, k) is not None))
        if problems:
            raise ValueError(problems[0][1])
        return self

    def age(self, on: dt.date) -> int | None:
        """Completed years on ``on`` (None when the birth date is unknown)."""
        if self.birth_date is None:
            return None
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))

    @property
    def searchable(self) -> bool:
        """Available, valid HLA, and A, B and DRB1 typed at both positions (contract ``searchable.npy``)."""
        if self.status is not Status.AVAILABLE or self.hla_invalid:
            return False
        return all(all(self.hla.get(locus, (None, None))) for locus in REQUIRED_LOCI)
