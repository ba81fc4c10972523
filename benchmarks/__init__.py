"""graftwise benchmarks (run by ``make bench``; never part of the package or of CI)."""
