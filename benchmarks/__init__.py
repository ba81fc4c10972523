"""Heavy benchmarks (not part of CI). Run with ``make bench`` or ``python -m benchmarks [AREA ...]``."""
