"""Download one IPD-IMGT/HLA release from the official repository (github.com/ANHIG/IMGTHLA) into a data root.

Files are fetched from ``<base>/<branch>/<path>`` (the raw GitHub layout), where ``base`` is
``https://raw.githubusercontent.com/ANHIG/IMGTHLA/`` or ``$GRAFTWISE_IMGT_URL`` (any URL ``urllib`` opens, e.g.
``file:///…/hla-data/imgthla/``). The branch of release 3.58.0 is ``3580``; when a base has no such branch, ``Latest``
is used if (and only if) its ``release_version.txt`` names the requested release. Each file is checked against IMGT's
``md5checksum.txt`` where that lists it, and only then moved into place. The files are stored unmodified (IMGT data
is CC BY-ND and IMGT asks that it not be mirrored: it stays in the user's cache).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graftwise.data import compact, read_release_version
from graftwise.errors import ReferenceDataError

ENV_IMGT_URL = "GRAFTWISE_IMGT_URL"
DEFAULT_IMGT_URL = "https://raw.githubusercontent.com/ANHIG/IMGTHLA/"

REQUIRED = (
    "wmda/hla_nom_g.txt",
    "wmda/hla_nom_p.txt",
    "wmda/hla_nom.txt",
    "wmda/rel_dna_ser.txt",
    "wmda/rel_ser_ser.txt",
)
OPTIONAL = ("Allelelist.txt", "Allele_status.txt", "tce/dpb_tce.csv")
_MD5_LINE = re.compile(r"^MD5 \((?P<name>[^)]+)\) = (?P<md5>[0-9a-f]{32})$")

Progress = Callable[[str, int, int], None]
"""Called as ``progress(path, bytes_done, bytes_total)``; ``bytes_total`` is 0 when unknown."""


@dataclass(frozen=True)
class FetchResult:
    release: str
    branch: str
    folder: Path
    files: tuple[str, ...]
    verified: tuple[str, ...]
    """The files whose MD5 IMGT lists and that matched."""


def imgt_base_url() -> str:
    url = os.environ.get(ENV_IMGT_URL) or DEFAULT_IMGT_URL
    return url if url.endswith("/") else url + "/"


def _open(url: str) -> Any:
    """The response (an open binary file-like object), or None when the file does not exist there."""
    try:
        return urllib.request.urlopen(url, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise ReferenceDataError(f"download of {url} failed: HTTP {exc.code}", code="download_failed") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, FileNotFoundError) or isinstance(exc, FileNotFoundError):
            return None
        raise ReferenceDataError(f"download of {url} failed: {reason}", code="download_failed") from None


def _download(url: str, target: Path, name: str, progress: Progress | None) -> str | None:
    """Stream ``url`` to ``target`` through a temporary file; return its MD5, or None when the file is absent."""
    response = _open(url)
    if response is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    md5 = hashlib.md5(usedforsecurity=False)
    total = int(response.headers.get("Content-Length") or 0)
    done = 0
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    try:
        with response, os.fdopen(fd, "wb") as fh:
            while chunk := response.read(1 << 16):
                fh.write(chunk)
                md5.update(chunk)
                done += len(chunk)
                if progress:
                    progress(name, done, total)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReferenceDataError(f"download of {url} failed: {exc}", code="download_failed") from None
    return md5.hexdigest()


def _checksums(url: str, folder: str) -> dict[str, str]:
    """Path inside the branch → MD5, from an ``md5checksum.txt`` in ``folder`` (IMGT writes the names either
    relative to that folder or to the branch root, depending on the release)."""
    response = _open(url)
    if response is None:
        return {}
    with response:
        text = response.read().decode("utf-8", errors="replace")
    out: dict[str, str] = {}
    for line in text.splitlines():
        if m := _MD5_LINE.match(line.strip()):
            name = m["name"]
            out[name if "/" in name else folder + name] = m["md5"]
    return out


def _branch_for(release: str, base: str) -> str:
    if release == "Latest":
        return "Latest"
    own = compact(release)
    probe_own = _open(f"{base}{own}/wmda/hla_nom_g.txt")
    if probe_own is not None:
        probe_own.close()
        return own
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "release_version.txt"
        found = _download(f"{base}Latest/release_version.txt", probe, "release_version.txt", None)
        if found is not None and read_release_version(probe) == release:
            return "Latest"
    raise ReferenceDataError(
        f"release {release} is not available from {base} (no branch {own}, and Latest is another release)",
        code="unknown_release",
        field="release",
    )


def fetch_release(release: str, data_root: Path, *, progress: Progress | None = None) -> FetchResult:
    """Download ``release`` (``3.58.0`` or ``Latest``) into ``<data_root>/imgthla/<branch>/``, verifying MD5s."""
    base = imgt_base_url()
    branch = _branch_for(release, base)
    folder = data_root / "imgthla" / branch
    sums = {
        **_checksums(f"{base}{branch}/md5checksum.txt", ""),
        **_checksums(f"{base}{branch}/wmda/md5checksum.txt", "wmda/"),
    }
    fetched: list[str] = []
    verified: list[str] = []
    for path in ("release_version.txt", *REQUIRED, *OPTIONAL):
        digest = _download(f"{base}{branch}/{path}", folder / path, path, progress)
        if digest is None:
            if path in REQUIRED:
                raise ReferenceDataError(f"{base}{branch}/{path} does not exist", code="missing_file", field=path)
            continue
        expected = sums.get(path)
        if expected is not None:
            if expected != digest:
                (folder / path).unlink(missing_ok=True)
                raise ReferenceDataError(
                    f"{path}: MD5 {digest} does not match IMGT's md5checksum.txt ({expected}); download removed",
                    code="checksum_mismatch",
                    field=path,
                )
            verified.append(path)
        fetched.append(path)
    got = read_release_version(folder / "wmda" / "hla_nom_g.txt")
    resolved = got or release
    if release != "Latest" and got is not None and got != release:
        raise ReferenceDataError(f"branch {branch} holds release {got}, not {release}", code="bad_header")
    if "Allelelist.txt" not in fetched and resolved != "Latest":
        name = f"allelelist/Allelelist.{compact(resolved)}.txt"
        if _download(f"{base}Latest/{name}", data_root / "imgthla" / "Latest" / name, name, progress) is not None:
            fetched.append(f"Latest/{name}")
    return FetchResult(resolved, branch, folder, tuple(fetched), tuple(verified))
