"""Common / intermediate / well-documented allele catalogues (hla-nomenclature.md §10).

* CIWD 3.0.0 (Hurley et al., *HLA* 2020;95:516; github.com/nmdp-bioinformatics/CIWD): ``cwd/ciwd.3.0.0.csv``,
  one status per population: ``C`` common, ``I`` intermediate, ``R`` rare, ``WD`` well-documented. Names are 2-, 3- or
  4-field, G or P names; a bare 2-field row stands for the whole P group.
* CWD 2.0.0 (Mack et al., *Tissue Antigens* 2013;81:194, doi:10.1111/tan.12093): ``cwd/CWD2.csv``, a list of 2-field
  names that are common or well documented (py-ard's bundled copy), status ``CWD``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from graftwise.data import DataRoot
from graftwise.errors import ReferenceDataError, ValidationError

CWD_CATALOGUES = ("ciwd", "cwd2")
CIWD_POPULATIONS = ("TOTAL", "AFA", "API", "EURO", "HIS", "MENA", "NAM", "UNK")
_FILES = {"ciwd": "ciwd.3.0.0.csv", "cwd2": "CWD2.csv"}
_CIWD_VALUES = frozenset({"C", "I", "R", "WD"})


@dataclass(frozen=True)
class CWDStatus:
    """The catalogue row that matched (``name``) and its status in ``population``."""

    name: str
    catalogue: str
    population: str
    status: str

    @property
    def is_common_or_well_documented(self) -> bool:
        """CIWD C, I or WD (R is rare); every CWD 2.0 row."""
        return self.status != "R"


@dataclass(frozen=True)
class CWDCatalogue:
    name: str
    rows: dict[str, dict[str, str]]

    @property
    def two_field_rows(self) -> frozenset[str]:
        return frozenset(r for r in self.rows if r.count(":") == 1 and r[-1].isdigit())

    def __contains__(self, name: object) -> bool:
        return name in self.rows

    def status(self, name: str, population: str = "TOTAL") -> CWDStatus | None:
        allowed = CIWD_POPULATIONS if self.name == "ciwd" else ("TOTAL",)
        if population not in allowed:
            raise ValidationError(
                f"population {population!r} is not in {self.name}; expected one of {', '.join(allowed)}",
                field="population",
            )
        row = self.rows.get(name)
        if row is None or not row.get(population):
            return None
        return CWDStatus(name, self.name, population, row[population])


def _read(path: Path, catalogue: str) -> CWDCatalogue:
    if not path.is_file():
        raise ReferenceDataError(f"missing CWD catalogue {path}", code="missing_file", field=catalogue)
    rows: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8") as fh:
        reader = csv.DictReader(line for line in fh if not line.startswith("#"))
        for lineno, record in enumerate(reader, start=2):
            if catalogue == "cwd2":
                rows[record["ALLELE"]] = {"TOTAL": "CWD"}
                continue
            values = {p: record.get(p) or "" for p in CIWD_POPULATIONS}
            if any(v and v not in _CIWD_VALUES for v in values.values()):
                raise ReferenceDataError(
                    f"{path}:{lineno}: status must be one of C, I, R, WD", code="bad_record", field=path.name
                )
            rows[record["ALLELE"]] = values
    return CWDCatalogue(catalogue, rows)


@lru_cache(maxsize=8)
def _cached(path: Path, catalogue: str) -> CWDCatalogue:
    return _read(path, catalogue)


def load_cwd(root: DataRoot, catalogue: str) -> CWDCatalogue:
    """The catalogue from ``<root>/cwd/`` (read once per process)."""
    if catalogue not in _FILES:
        raise ValidationError(f"unknown catalogue {catalogue!r}; expected ciwd or cwd2", field="catalogue")
    return _cached(root.path / "cwd" / _FILES[catalogue], catalogue)
