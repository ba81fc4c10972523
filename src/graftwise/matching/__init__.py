"""Donor search: the index, the vectorised filter, exact scoring (grade, confidence, antigen match, DPB1 TCE) and
ranking (matching.md)."""
