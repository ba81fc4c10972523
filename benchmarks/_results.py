"""Write one area's section of ``benchmarks/RESULTS.md``, keeping every other section as it is and where it is."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TITLE = "# Benchmark results"


def write_section(heading: str, lines: list[str]) -> None:
    """Replace the section that starts with ``heading`` (e.g. ``## Donor search``) by ``lines`` in place, or append
    it; ``lines`` start with that heading."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else TITLE + "\n"
    body = "\n".join(lines).strip("\n") + "\n"
    start = text.find(heading + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + body + ("\n" + text[end + 1 :] if end >= 0 else "")
    RESULTS.write_text(text, encoding="utf-8")
    print(f"wrote {RESULTS} ({heading.lstrip('# ')})")
