"""A small generated registry shared by the registry tests (20,000 donors, a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graftwise.hla import Nomenclature
from graftwise.registry import GeneratorConfig, Registry

N_DONORS = 20_000


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory, nom: Nomenclature) -> Registry:
    path = tmp_path_factory.mktemp("generated") / "reg"
    return Registry.generate(path, GeneratorConfig(donors=N_DONORS, seed=7), nom)


@pytest.fixture
def registry_dir(tmp_path: Path) -> Path:
    return tmp_path / "reg"
