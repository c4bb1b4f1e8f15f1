"""CDNOW and donation data shipped in the ``lifetimes`` package (test-only dependency, never imported)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest


def lifetimes_datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations, "the test-only package lifetimes is missing"
    return Path(spec.submodule_search_locations[0]) / "datasets"


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    """2,357 CDNOW customers, 39-week calibration: x, t_x, T (weeks) and zbar (mean repeat spend, USD)."""
    data = pd.read_csv(lifetimes_datasets() / "cdnow_customers_summary_with_transactions.csv")
    assert len(data) == 2357
    return data


@pytest.fixture(scope="session")
def donations() -> pd.DataFrame:
    """The 11,104 donors of Fader, Hardie & Shang (2010), compressed: frequency, recency, periods, weights."""
    return pd.read_csv(lifetimes_datasets() / "donations.csv")
