"""Shared fixtures. Tests run against the real reference data named by GRAFTWISE_DATA (the Makefile sets it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graftwise.data import DataRoot
from graftwise.hla import Nomenclature


@pytest.fixture(scope="session")
def data_root() -> DataRoot:
    value = os.environ.get("GRAFTWISE_DATA")
    if not value or not Path(value).is_dir():
        pytest.fail("GRAFTWISE_DATA must name the reference data folder (make test sets it to ../shared/hla-data)")
    return DataRoot(Path(value).resolve())


@pytest.fixture(scope="session")
def nom(data_root: DataRoot) -> Nomenclature:
    """Release 3.58.0."""
    return Nomenclature.load("3.58.0", data_root)


@pytest.fixture(scope="session")
def nom344(data_root: DataRoot) -> Nomenclature:
    """Release 3.44.0."""
    return Nomenclature.load("3.44.0", data_root)
