"""The CLV analyses as library calls (``trueroi.clv.analysis``): the same answers from a DataFrame as the
CLI gives from a file, groups from the log already read, formula-safe CSV output.

Expected values: FHL 2005a's published CDNOW estimates and customer 1's prediction, and small logs worked
out by hand.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from trueroi.clv import analysis
from trueroi.clv.inputs import load_customers
from trueroi.errors import DataValidationError, UsageError

from .conftest import lifetimes_datasets


@pytest.fixture(scope="module")
def cdnow_summary(cdnow) -> pd.DataFrame:
    return cdnow.rename(
        columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    )


@pytest.fixture(scope="module")
def cdnow_log() -> pd.DataFrame:
    raw = pd.read_csv(
        lifetimes_datasets() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
        dtype={"date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw


@pytest.mark.parametrize("model", ["bgnbd", "pareto", "mbgnbd"])
def test_fit_rows_have_every_parameter_with_its_standard_error(cdnow_summary, model) -> None:
    result = analysis.fit(cdnow_summary, summary=True, model=model)
    rows = result.rows()
    names = {"bgnbd": ["r", "alpha", "a", "b"], "pareto": ["r", "alpha", "s", "beta"]}
    expected = names.get(model, names["bgnbd"]) + ["p", "q", "v"]
    assert [row["parameter"] for row in rows] == expected
    assert all(row["std_error"] > 0 for row in rows)  # an interior maximum: finite standard errors
    assert result.n_customers == 2357


def test_fit_from_a_dataframe_gives_the_published_estimates(cdnow_summary) -> None:
    payload = analysis.fit(cdnow_summary, summary=True).to_dict()
    assert list(payload) == [
        "model",
        "params",
        "log_likelihood",
        "gamma_gamma",
        "standard_errors",
        "gamma_gamma_standard_errors",
        "reduced_params",
        "diagnostics",
        "warnings",
    ]
    # FHL 2005a: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
    assert [round(v, 3) for v in payload["params"].values()] == [0.243, 4.414, 0.793, 2.426]
    assert round(payload["log_likelihood"], 1) == -9582.4


def test_predict_from_a_dataframe_reproduces_customer_one(cdnow_summary) -> None:
    result = analysis.predict(cdnow_summary, summary=True, horizon=39.0)
    rows = result.to_dict()
    assert len(rows) == 2357 and result.with_spend
    assert round(rows[0]["expected_purchases"], 3) == 1.226  # FHL 2005a, customer 1


def _log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "b", "d", "e", "e"],
            "date": [
                "2024-01-05",
                "2024-02-10",
                "2024-01-20",
                "2024-02-03",
                "2024-03-01",
                "2024-03-09",
                "2024-03-10",
                "2024-03-12",
            ],
            "region": ["north", "south", "south", "north", "north", "west", "east", "east"],
            "value": [10.0, 12.0, 20.0, 15.0, 25.0, 30.0, 8.0, 9.0],
        }
    )


def test_groups_come_from_each_customers_first_transaction_of_the_log_read() -> None:
    customers = load_customers(_log(), amount="value", calibration_end="2024-03-09", unit="D")
    assert list(customers.summary.index) == ["a", "b", "c", "d"]  # e arrives after the calibration end
    # a: first row north (the later south row does not count); b: south; c: north; d: west
    assert customers.groups("region").tolist() == ["north", "south", "north", "west"]
    assert customers.groups("cohort").tolist() == ["2024-01", "2024-01", "2024-02", "2024-03"]
    with pytest.raises(UsageError, match="'channel'"):
        customers.groups("channel")


def test_save_csv_neutralises_formulas_in_customer_ids(cdnow_summary, tmp_path) -> None:
    frame = cdnow_summary.head(300).astype({"customer_id": str})
    frame.loc[0, "customer_id"] = "=HYPERLINK(1)"
    result = analysis.predict(frame, summary=True)
    out = result.save_csv(tmp_path / "pred.csv")
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 300
    assert rows[0]["customer_id"] == "'=HYPERLINK(1)"  # OWASP: a formula is written as text
    assert float(rows[0]["expected_purchases"]) == pytest.approx(result.table.loc[0, "expected_purchases"])
    assert [p.name for p in tmp_path.iterdir()] == ["pred.csv"]  # no temporary file left behind


def test_holdout_from_a_dataframe(cdnow_log) -> None:
    result = analysis.holdout(cdnow_log, calibration_end="1997-09-30", observation_end="1998-06-30")
    payload = result.to_dict()
    assert round(payload["params"]["r"], 3) == 0.243  # FHL 2005a calibration estimates
    assert sum(g["customers"] for g in payload["groups"]) == 2357


def test_bad_values_in_a_summary_file_name_the_file(tmp_path) -> None:
    path = tmp_path / "rfm.csv"
    path.write_text("customer_id,frequency,recency,T\n1,1,0.5,2\n2,1,5,2\n")
    with pytest.raises(DataValidationError) as info:
        analysis.fit(path, summary=True)
    assert (info.value.file, info.value.row, info.value.column) == (str(path), 2, "recency")


def test_predict_checks_its_settings_in_neutral_words(cdnow_summary) -> None:
    with pytest.raises(UsageError, match="horizon and months must be positive"):
        analysis.predict(cdnow_summary, summary=True, horizon=0)
    assert np.isfinite(analysis.predict(cdnow_summary.head(500), summary=True).table["clv"]).all()
