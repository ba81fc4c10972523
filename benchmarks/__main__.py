"""``python -m benchmarks [area ...]``: run the benchmarks of each area (default: all of them)."""

from __future__ import annotations

import importlib
import sys

AREAS = ("hla",)


def main(argv: list[str]) -> int:
    wanted = argv or ["all"]
    areas = list(AREAS) if wanted == ["all"] else wanted
    unknown = [a for a in areas if a not in AREAS]
    if unknown:
        print(f"unknown benchmark area(s): {', '.join(unknown)}; available: all, {', '.join(AREAS)}", file=sys.stderr)
        return 2
    for area in areas:
        importlib.import_module(f"benchmarks.{area}").run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
