"""Fixtures at release 3.58.0 with the NMDP 2007 sets."""

from __future__ import annotations

import pytest

from graftwise.data import DataRoot
from graftwise.hla import Nomenclature
from graftwise.prediction import GroupScheme, HFSetStore, Predictor, build_schemes
from graftwise.prediction.hfsets import Category, load_store


@pytest.fixture(scope="session")
def schemes(nom: Nomenclature) -> dict[Category, GroupScheme]:
    return build_schemes(nom)


@pytest.fixture(scope="session")
def nmdp_store(nom: Nomenclature, schemes: dict[Category, GroupScheme], data_root: DataRoot) -> HFSetStore:
    return load_store(nom, schemes, [data_root.path / "haplotype-frequencies/nmdp-2007/NMDP_2007_FiveLocus_Freqs.csv"])


@pytest.fixture
def predictor(nom: Nomenclature, schemes: dict[Category, GroupScheme], nmdp_store: HFSetStore) -> Predictor:
    return Predictor(nom, nmdp_store, schemes=schemes)
