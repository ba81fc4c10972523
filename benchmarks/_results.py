"""Write one area's section of ``benchmarks/RESULTS.md``, keeping every other section as it is."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TITLE = "# Benchmark results"


def write_section(heading: str, lines: list[str]) -> None:
    """Replace (or append) the section that starts with ``heading`` (e.g. ``## Donor search``) by ``lines``,
    which start with that heading."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else TITLE + "\n"
    start = text.find(heading + "\n")
    if start >= 0:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + (text[end + 1 :] if end >= 0 else "")
    body = "\n".join(lines).rstrip("\n") + "\n"
    RESULTS.write_text(text.rstrip("\n") + "\n\n" + body, encoding="utf-8")
    print(f"wrote {RESULTS} ({heading.lstrip('# ')})")
