"""Public datasets bundled with scikit-survival (a dev dependency), loaded at test time."""

from __future__ import annotations

import pandas as pd
import pytest
from sksurv.datasets import load_bmt, load_cgvhd, load_veterans_lung_cancer


def _frame(loader: object) -> pd.DataFrame:
    x, y = loader()  # type: ignore[operator]
    df = x.copy()
    for name in y.dtype.names:
        df[name] = y[name]
    return df


@pytest.fixture(scope="session")
def bmt() -> pd.DataFrame:
    """Scrucca et al. 2007, 35 patients: ftime (months), status 0 censored / 1 relapse / 2 competing, dis 0/1."""
    return _frame(load_bmt)


@pytest.fixture(scope="session")
def cgvhd() -> pd.DataFrame:
    """Pintilie 2006, 100 patients: ftime (years), status 0 censored / 1 cGVHD / 2 relapse / 3 death, tx BM/PB."""
    return _frame(load_cgvhd)


@pytest.fixture(scope="session")
def veterans() -> pd.DataFrame:
    """Kalbfleisch & Prentice veterans' lung-cancer trial, 137 patients (not transplant; checks KM and log-rank)."""
    return _frame(load_veterans_lung_cancer)
