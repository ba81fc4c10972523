"""``python -m benchmarks [AREA ...]``: run the benchmarks of the named areas (default: all that exist).

Each area is a module ``benchmarks/<area>.py`` with a ``main(argv: list[str]) -> None``; its figures go into
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

ORDER = ["hla", "registry", "search", "prediction"]


def areas() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_")}
    return [a for a in ORDER if a in found] + sorted(found - set(ORDER))


def main(argv: list[str]) -> None:
    wanted = [a for a in argv if not a.startswith("-")] or areas()
    unknown = set(wanted) - set(areas())
    if unknown:
        sys.exit(f"unknown benchmark area(s): {', '.join(sorted(unknown))}; available: {', '.join(areas())}")
    for area in wanted:
        print(f"== benchmark: {area}", flush=True)
        importlib.import_module(f"benchmarks.{area}").main([a for a in argv if a.startswith("-")])


if __name__ == "__main__":
    main(sys.argv[1:])
