"""Where reference data comes from: ``GRAFTWISE_DATA``, or the user cache that ``graftwise data fetch`` fills.

A data root has the layout of the project's shared data folder::

    imgthla/<branch>/...        IPD-IMGT/HLA files laid out like the official GitHub repository
    mac/                        NMDP multiple allele codes
    haplotype-frequencies/      haplotype frequency sets
    cwd/                        CIWD / CWD catalogues

Derived (compiled) tables never go into the data root; they live under :func:`cache_dir`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from graftwise.errors import GraftwiseError, ReferenceDataError

ENV_DATA = "GRAFTWISE_DATA"
ENV_CACHE = "GRAFTWISE_CACHE"

_RELEASE_RE = re.compile(r"^\d+\.\d+\.\d+$")
_VERSION_LINE_RE = re.compile(r"#\s*version:\s*IPD-IMGT/HLA\s+(\d+\.\d+\.\d+)")


class UnknownReleaseError(GraftwiseError):
    """The requested IPD-IMGT/HLA release is not available in the data root."""

    code = "unknown_release"


def cache_dir() -> Path:
    """The user cache: ``$GRAFTWISE_CACHE``, else ``$XDG_CACHE_HOME/graftwise``, else ``~/.cache/graftwise``."""
    if env := os.environ.get(ENV_CACHE):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "graftwise"


def compact(release: str) -> str:
    """``"3.58.0"`` → ``"3580"`` (the form IMGT uses for branch names and file suffixes)."""
    if not _RELEASE_RE.match(release):
        raise UnknownReleaseError(f"release {release!r} is not of the form N.NN.N (e.g. 3.58.0)", field="release")
    return release.replace(".", "")


def read_release_version(path: Path) -> str | None:
    """The release named in an IMGT file header (``# version: IPD-IMGT/HLA 3.58.0``), or None."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for _, line in zip(range(10), fh, strict=False):
                if m := _VERSION_LINE_RE.search(line):
                    return m.group(1)
    except FileNotFoundError:
        return None
    return None


@dataclass(frozen=True)
class ReleaseFiles:
    """The files of one IPD-IMGT/HLA release inside a data root."""

    release: str
    branch_dir: Path
    allele_list: Path | None
    allele_status: Path | None
    tce: Path | None

    @property
    def wmda(self) -> Path:
        return self.branch_dir / "wmda"

    def wmda_file(self, name: str) -> Path:
        path = self.wmda / name
        if not path.is_file():
            raise ReferenceDataError(f"release {self.release}: missing file {path}", code="missing_file")
        return path


@dataclass(frozen=True)
class DataRoot:
    """A folder of reference data laid out like the shared ``hla-data`` folder."""

    path: Path

    @classmethod
    def discover(cls) -> DataRoot:
        """``$GRAFTWISE_DATA`` if set, else ``<cache>/data`` (filled by ``graftwise data fetch``)."""
        if env := os.environ.get(ENV_DATA):
            path = Path(env).expanduser()
            if not path.is_dir():
                raise ReferenceDataError(f"{ENV_DATA}={env} is not a folder", code="missing_file", field=ENV_DATA)
            return cls(path.resolve())
        return cls(cache_dir() / "data")

    @property
    def imgthla(self) -> Path:
        return self.path / "imgthla"

    def branches(self) -> dict[str, str]:
        """Branch folder name → the release it holds, for every IMGT branch folder present."""
        found: dict[str, str] = {}
        if not self.imgthla.is_dir():
            return found
        for child in sorted(self.imgthla.iterdir()):
            version = read_release_version(child / "release_version.txt") or read_release_version(
                child / "wmda" / "hla_nom_g.txt"
            )
            if version:
                found[child.name] = version
        return found

    def releases(self) -> list[str]:
        """Every release available in this root, newest first."""
        versions = set(self.branches().values())
        return sorted(versions, key=lambda v: tuple(int(x) for x in v.split(".")), reverse=True)

    def release_files(self, release: str = "Latest") -> ReleaseFiles:
        """Locate the files of ``release`` (``"3.58.0"``, ``"3580"`` or ``"Latest"``)."""
        branches = self.branches()
        if not branches:
            raise UnknownReleaseError(
                f"no IPD-IMGT/HLA release found under {self.imgthla}; set {ENV_DATA} or run "
                "'graftwise data fetch --release 3.58.0'",
                field="release",
            )
        if release == "Latest":
            if "Latest" in branches:
                branch = "Latest"
            else:
                branch = max(branches, key=lambda b: tuple(int(x) for x in branches[b].split(".")))
        else:
            wanted = _normalise_release(release)
            candidates = [b for b, v in branches.items() if v == wanted]
            if not candidates:
                raise UnknownReleaseError(
                    f"release {release!r} is not available; available: {', '.join(self.releases())} or 'Latest'",
                    field="release",
                )
            # Prefer the release's own branch folder (e.g. 3580) over a moving one (Latest).
            branch = sorted(candidates, key=lambda b: b == "Latest")[0]
        version = branches[branch]
        branch_dir = self.imgthla / branch
        return ReleaseFiles(
            release=version,
            branch_dir=branch_dir,
            allele_list=self._allele_list(branch_dir, version),
            allele_status=_existing(branch_dir / "Allele_status.txt"),
            # TCE groups are stable across releases; an older branch borrows the newest table.
            tce=_existing(branch_dir / "tce" / "dpb_tce.csv")
            or _existing(self.imgthla / "Latest" / "tce" / "dpb_tce.csv"),
        )

    def _allele_list(self, branch_dir: Path, version: str) -> Path | None:
        own = branch_dir / "Allelelist.txt"
        if own.is_file() and read_release_version(own) in (version, None):
            return own
        pinned = self.imgthla / "Latest" / "allelelist" / f"Allelelist.{compact(version)}.txt"
        return _existing(pinned)


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _normalise_release(release: str) -> str:
    """Accept ``3.58.0`` or the compact ``3580``."""
    if _RELEASE_RE.match(release):
        return release
    if release.isdigit() and len(release) == 4:
        return f"{release[0]}.{release[1:3]}.{release[3]}"
    raise UnknownReleaseError(f"release {release!r} is not of the form 3.58.0, 3580 or Latest", field="release")
