"""Read one IPD-IMGT/HLA release into plain tables, and cache them per release (hla-nomenclature.md §1).

The tables are exactly what the files say; all interpretation happens in :mod:`graftwise.hla.nomenclature`.
The compiled cache lives in the user cache (never in the data root) and is rebuilt whenever the schema version or a
source file's content changes.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from graftwise.data import DataRoot, ReleaseFiles, cache_dir, read_release_version
from graftwise.data.cache import read_cached, write_cached
from graftwise.errors import ReferenceDataError

SCHEMA_VERSION = 2

SEROLOGY_PREFIX = {"A": "A", "B": "B", "C": "Cw", "DRB1": "DR", "DRB3": "DR", "DRB4": "DR", "DRB5": "DR", "DQB1": "DQ"}
"""Gene → prefix of its serological antigens (§7.1). DPB1 values are almost all ``?`` and are kept as ``DP``."""
SEROLOGY_PREFIX_DP = {"DPB1": "DP"}


@dataclass(frozen=True)
class SerologyAssignment:
    """One ``rel_dna_ser.txt`` row: antigens named with their prefix (``A1``, ``Cw10``); ``0`` (null) and ``?``
    (unknown) are dropped, ``is_null`` keeps the former."""

    unambiguous: tuple[str, ...]
    possible: tuple[str, ...]
    assumed: tuple[str, ...]
    expert: tuple[str, ...]
    hats: tuple[str, ...]
    is_null: bool

    @property
    def antigens(self) -> tuple[str, ...]:
        """Unambiguous, possible and assumed antigens: the ones expansion and the S reduction use (§7.3)."""
        return self.unambiguous + self.possible + self.assumed


@dataclass(frozen=True)
class RetiredName:
    """A deleted or renamed name from ``hla_nom.txt`` (§3). ``successor`` carries the locus, or is None."""

    name: str
    date_deleted: str
    successor: str | None
    reason: str


@dataclass(frozen=True)
class AlleleStatus:
    """One row of ``Allele_status.txt``."""

    confirmed: bool
    full: bool
    gdna: bool


@dataclass(frozen=True)
class ReleaseTables:
    """Everything one release's files say, as plain Python values."""

    release: str
    alleles: tuple[str, ...]
    """Every current allele name with its locus (``A*01:01:01:01``), in ``Allelelist`` order."""
    g_groups: dict[str, tuple[str, ...]]
    """Official G-group name (3rd field of ``hla_nom_g``, with locus) → members, in file order."""
    g_listed: frozenset[str]
    """Every allele named in ``hla_nom_g.txt`` (in a named group or on a singleton line)."""
    p_groups: dict[str, tuple[str, ...]]
    """Official P-group name → members, in file order."""
    p_listed: frozenset[str]
    """Every allele named in ``hla_nom_p.txt`` (nulls never are)."""
    serology: dict[str, SerologyAssignment]
    splits: dict[str, tuple[str, ...]]
    """Broad antigen → its splits (``A9`` → ``A23, A24``), from ``rel_ser_ser.txt``."""
    associated: dict[str, tuple[str, ...]]
    """Antigen → its associated antigens (``A24`` → ``A2403``)."""
    antigens: frozenset[str]
    """Current serological antigens of ``hla_nom.txt`` (``A1``, ``Cw10``, ``Bw4``, ``DR52``, ``Dw1``, ``DPw1``)."""
    retired: dict[str, RetiredName]
    """Deleted or renamed names (alleles in V3 or V2 form, and antigens), by name with locus."""
    status: dict[str, AlleleStatus]
    tce: dict[str, tuple[str, str]]
    """DPB1 allele → (V1, V2) TCE assignment as written (``3``, ``2a``, ``3$``, or empty)."""
    digest: str = ""
    """Checksum of the source files and schema (set when loaded through the cache); keys derived caches."""


def _data_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-header, non-empty lines with their 1-based line numbers, trailing whitespace stripped."""
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.rstrip()
            if line and not line.startswith("#"):
                yield lineno, line


def _fail(path: Path, lineno: int, message: str) -> ReferenceDataError:
    return ReferenceDataError(f"{path}:{lineno}: {message}", code="field_count", field=f"{path.name}:{lineno}")


def _read_groups(path: Path) -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    groups: dict[str, tuple[str, ...]] = {}
    listed: set[str] = set()
    for lineno, line in _data_lines(path):
        parts = line.split(";")
        if len(parts) != 3:
            raise _fail(path, lineno, f"expected 3 ';'-separated fields, found {len(parts)}")
        locus, members, group = parts
        names = tuple(locus + m for m in members.split("/") if m)
        listed.update(names)
        if group:
            groups[locus + group] = names
    return groups, frozenset(listed)


def _antigens(prefix: str, values: str) -> tuple[str, ...]:
    return tuple(prefix + v for v in values.split("/") if v and v not in ("0", "?"))


def _read_rel_dna_ser(path: Path) -> dict[str, SerologyAssignment]:
    out: dict[str, SerologyAssignment] = {}
    for lineno, line in _data_lines(path):
        parts = line.split(";")
        if len(parts) not in (6, 7):
            raise _fail(path, lineno, f"expected 6 or 7 ';'-separated fields, found {len(parts)}")
        locus = parts[0].rstrip("*")
        prefix = SEROLOGY_PREFIX.get(locus) or SEROLOGY_PREFIX_DP.get(locus)
        if prefix is None:
            continue
        hats = _antigens(prefix, parts[6]) if len(parts) == 7 else ()
        out[f"{locus}*{parts[1]}"] = SerologyAssignment(
            unambiguous=_antigens(prefix, parts[2]),
            possible=_antigens(prefix, parts[3]),
            assumed=_antigens(prefix, parts[4]),
            expert=_antigens(prefix, parts[5]),
            hats=hats,
            is_null=parts[2] == "0",
        )
    return out


def _read_rel_ser_ser(path: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    splits: dict[str, tuple[str, ...]] = {}
    associated: dict[str, tuple[str, ...]] = {}
    for lineno, line in _data_lines(path):
        parts = line.split(";")
        if len(parts) != 4:
            raise _fail(path, lineno, f"expected 4 ';'-separated fields, found {len(parts)}")
        locus, antigen, split, assoc = parts
        name = locus + antigen
        if split:
            splits[name] = tuple(locus + s for s in split.split("/"))
        if assoc:
            associated[name] = tuple(locus + a for a in assoc.split("/"))
    return splits, associated


def _read_hla_nom(path: Path) -> tuple[frozenset[str], dict[str, RetiredName], list[str]]:
    antigens: set[str] = set()
    retired: dict[str, RetiredName] = {}
    alleles: list[str] = []
    for lineno, line in _data_lines(path):
        parts = line.split(";")
        if len(parts) != 6:
            raise _fail(path, lineno, f"expected 6 ';'-separated fields, found {len(parts)}")
        locus, name, _assigned, deleted, identical, reason = parts
        is_allele = locus.endswith("*")
        full = locus + name
        if deleted:
            successor = (locus + identical) if identical else None
            retired[full] = RetiredName(full, deleted, successor, reason)
        elif is_allele:
            alleles.append(full)
        else:
            antigens.add(full)
    return frozenset(antigens), retired, alleles


def _read_allele_list(path: Path) -> list[str]:
    names: list[str] = []
    rows = (line for _, line in _data_lines(path))
    header = next(rows, None)
    if header is None or not header.startswith("AlleleID,Allele"):
        raise ReferenceDataError(f"{path}: expected the header 'AlleleID,Allele'", code="bad_header")
    for row in rows:
        _, _, name = row.partition(",")
        names.append(name)
    return names


def _read_status(path: Path) -> dict[str, AlleleStatus]:
    with path.open(encoding="utf-8") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        return {
            row["Allele"]: AlleleStatus(
                confirmed=row["Confirmed"] == "Confirmed", full=row["Partial"] == "Full", gdna=row["Type"] == "gDNA"
            )
            for row in csv.DictReader(lines)
        }


def _read_tce(path: Path) -> dict[str, tuple[str, str]]:
    with path.open(encoding="utf-8") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        return {row["Allele"]: (row["V1_Assignment"], row["V2_Assignment"]) for row in csv.DictReader(lines)}


def _sources(files: ReleaseFiles) -> list[Path]:
    names = ["hla_nom_g.txt", "hla_nom_p.txt", "hla_nom.txt", "rel_dna_ser.txt", "rel_ser_ser.txt"]
    paths = [files.wmda_file(n) for n in names]
    paths += [p for p in (files.allele_list, files.allele_status, files.tce) if p is not None]
    return paths


def build_tables(files: ReleaseFiles) -> ReleaseTables:
    """Parse the release's files (no cache)."""
    g_groups, g_listed = _read_groups(files.wmda_file("hla_nom_g.txt"))
    p_groups, p_listed = _read_groups(files.wmda_file("hla_nom_p.txt"))
    splits, associated = _read_rel_ser_ser(files.wmda_file("rel_ser_ser.txt"))
    antigens, retired, nom_alleles = _read_hla_nom(files.wmda_file("hla_nom.txt"))
    alleles = _read_allele_list(files.allele_list) if files.allele_list else nom_alleles
    version = read_release_version(files.wmda_file("hla_nom_g.txt"))
    if version is not None and version != files.release:
        raise ReferenceDataError(
            f"{files.wmda}: files say release {version}, expected {files.release}", code="bad_header"
        )
    return ReleaseTables(
        release=files.release,
        alleles=tuple(alleles),
        g_groups=g_groups,
        g_listed=g_listed,
        p_groups=p_groups,
        p_listed=p_listed,
        serology=_read_rel_dna_ser(files.wmda_file("rel_dna_ser.txt")),
        splits=splits,
        associated=associated,
        antigens=antigens,
        retired=retired,
        status=_read_status(files.allele_status) if files.allele_status else {},
        tce=_read_tce(files.tce) if files.tce else {},
    )


def _digest(paths: list[Path]) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(str(SCHEMA_VERSION).encode())
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def load_tables(release: str = "Latest", root: DataRoot | None = None) -> ReleaseTables:
    """The tables of ``release``, from the compiled cache when its sources are unchanged, else built and cached."""
    files = (root or DataRoot.discover()).release_files(release)
    digest = _digest(_sources(files))
    path = cache_dir() / "compiled" / files.release / f"tables-{digest}.pickle"
    cached = read_cached(path, ReleaseTables)
    if cached is not None:
        return cached
    tables = dataclasses.replace(build_tables(files), digest=digest)
    write_cached(path, tables, stale_glob="tables-*.pickle")
    return tables
