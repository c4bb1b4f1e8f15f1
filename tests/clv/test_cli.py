"""``trueroi clv fit`` / ``trueroi clv predict``: the JSON contract, outputs and exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app, main

from .conftest import lifetimes_datasets


@pytest.fixture(scope="module")
def summary_csv(tmp_path_factory, cdnow) -> str:
    path = tmp_path_factory.mktemp("clv") / "cdnow_summary.csv"
    cdnow.rename(
        columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    ).to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def transactions_csv(tmp_path_factory) -> str:
    raw = pd.read_csv(
        lifetimes_datasets() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "cust", "day", "cds", "value"],
        dtype={"day": str},
    )
    raw["day"] = pd.to_datetime(raw["day"], format="%Y%m%d").dt.date
    path = tmp_path_factory.mktemp("clv") / "cdnow_log.csv"
    raw[["cust", "day", "value"]].to_csv(path, index=False)
    return str(path)


def _run(args: list[str]):
    return CliRunner().invoke(build_app(), args)


def test_fit_summary_json_contract_with_published_values(summary_csv) -> None:
    result = _run(["clv", "fit", summary_csv, "--summary", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"model", "params", "log_likelihood", "gamma_gamma"} <= set(payload)  # the contract
    assert payload["warnings"] == [] and payload["diagnostics"]["boundary"] == []
    assert payload["reduced_params"] is None
    assert payload["standard_errors"]["r"] > 0
    assert payload["model"] == "bgnbd"
    assert list(payload["params"]) == ["r", "alpha", "a", "b"]
    assert round(payload["params"]["r"], 3) == 0.243 and round(payload["params"]["b"], 3) == 2.426
    assert round(payload["log_likelihood"], 1) == -9582.4
    assert set(payload["gamma_gamma"]) == {"p", "q", "v"}
    assert round(payload["gamma_gamma"]["p"], 2) == 6.25


def test_fit_transactions_with_calibration_end_and_pareto(transactions_csv) -> None:
    result = _run(
        [
            "clv",
            "fit",
            transactions_csv,
            "--customer",
            "cust",
            "--date",
            "day",
            "--calibration-end",
            "1997-09-30",
            "--model",
            "pareto",
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload["params"]) == ["r", "alpha", "s", "beta"]
    assert round(payload["params"]["r"], 3) == 0.553 and round(payload["log_likelihood"], 1) == -9595.0
    assert payload["gamma_gamma"] is None  # no --amount


def test_fit_transactions_with_amount_gives_gamma_gamma(transactions_csv) -> None:
    result = _run(
        [
            "clv",
            "fit",
            transactions_csv,
            "--customer",
            "cust",
            "--date",
            "day",
            "--amount",
            "value",
            "--calibration-end",
            "1997-09-30",
            "--model",
            "mbgnbd",
            "--format",
            "json",
        ]
    )
    payload = json.loads(result.stdout)
    assert payload["model"] == "mbgnbd"
    assert round(payload["gamma_gamma"]["q"], 2) == 3.74


def test_predict_writes_per_customer_csv(summary_csv, tmp_path) -> None:
    out = tmp_path / "pred.csv"
    result = _run(
        [
            "clv",
            "predict",
            summary_csv,
            "--summary",
            "--horizon",
            "39",
            "--months",
            "24",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
    ]
    assert len(frame) == 2357
    assert round(frame.loc[0, "expected_purchases"], 3) == 1.226  # FHL 2005a, customer 1
    assert frame["p_alive"].between(0, 1).all() and (frame["clv"] >= 0).all()


def test_predict_json_to_stdout(summary_csv) -> None:
    result = _run(["clv", "predict", summary_csv, "--summary", "--format", "json"])
    rows = json.loads(result.stdout)
    assert len(rows) == 2357 and {"p_alive", "clv"} <= set(rows[0])


@pytest.mark.parametrize(
    ("content", "args", "fragment"),
    [
        ("a,b\n1,2\n", ["--summary"], "frequency"),
        ("frequency,recency,T\n1,0.5,2\nx,1,2\n", ["--summary"], "row 2"),
        ("frequency,recency,T\n1,5,2\n", ["--summary"], "recency"),
        ("customer_id,date\n1,yesterday\n", [], "date"),
        ("frequency,recency,T\n1,0.5,2\n", ["--summary", "--model", "nbd"], "nbd"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, args, fragment) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SystemExit) as info:
        main(["clv", "fit", str(path), *args, "--format", "json"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_missing_file_exits_2(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["clv", "fit", str(tmp_path / "nope.csv")])
    assert info.value.code == 2


def test_holdout_compares_predicted_and_actual_by_frequency(transactions_csv) -> None:
    result = _run(
        [
            "clv",
            "holdout",
            transactions_csv,
            "--customer",
            "cust",
            "--date",
            "day",
            "--calibration-end",
            "1997-09-30",
            "--observation-end",
            "1998-06-30",
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert round(payload["params"]["r"], 3) == 0.243  # FHL 2005a calibration estimates
    groups = payload["groups"]
    assert [g["frequency_cal"] for g in groups] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(g["customers"] for g in groups) == 2357
    assert all(abs(g["predicted"] - g["actual"]) < 0.6 for g in groups)


def test_predict_keeps_customer_ids_as_written(tmp_path) -> None:
    raw = pd.read_csv(
        lifetimes_datasets() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        dtype=str,
        names=["master_id", "customer_id", "date", "cds", "value"],
    )
    path = tmp_path / "tx.csv"
    raw[["customer_id", "date"]].assign(date=pd.to_datetime(raw["date"]).dt.date).to_csv(path, index=False)
    assert raw["customer_id"].iloc[0] == "0001"
    result = _run(["clv", "predict", str(path), "--calibration-end", "1997-09-30", "--format", "json"])
    assert result.exit_code == 0, result.output
    ids = [r["customer_id"] for r in json.loads(result.stdout)]
    assert ids[:3] == ["0001", "0002", "0003"] and len(ids) == 2357


def test_degenerate_data_are_fitted_in_the_limit_with_warnings(tmp_path) -> None:
    # 7 customers buying like clockwork: no heterogeneity and no dropout, so the full BG/NBD has no finite
    # maximum; the fit reports the reduced model (Poisson purchasing, p at 0) and says so
    path = tmp_path / "tiny.csv"
    rows = ["customer_id,date"] + [f"00{i % 7},2024-0{1 + i % 6}-1{i % 9}" for i in range(60)]
    path.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(build_app(), ["clv", "fit", str(path), "--unit", "D", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["params"]["a"] is None and payload["params"]["r"] is None  # infinite: null in JSON
    assert set(payload["reduced_params"]) == {"lambda", "p"}
    assert "no_dropout" in payload["diagnostics"]["boundary"]
    assert any("no customer is seen to drop out" in w for w in payload["warnings"])
    assert "warning:" in result.stderr


def test_table_output_shows_the_limit_parameters(tmp_path) -> None:
    path = tmp_path / "tiny.csv"
    rows = ["customer_id,date"] + [f"00{i % 7},2024-0{1 + i % 6}-1{i % 9}" for i in range(60)]
    path.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(build_app(), ["clv", "fit", str(path), "--unit", "D"])
    assert result.exit_code == 0, result.output
    assert "lambda" in result.stdout and "(limit)" in result.stdout


def test_predict_group_by_cohort_from_transactions(transactions_csv) -> None:
    # the CDNOW sample is a cohort that first bought in the first quarter of 1997 (FHL 2005a, section 4)
    result = _run(
        [
            "clv",
            "predict",
            transactions_csv,
            "--customer",
            "cust",
            "--date",
            "day",
            "--amount",
            "value",
            "--calibration-end",
            "1997-09-30",
            "--group-by",
            "cohort",
            "--draws",
            "50",
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    groups = json.loads(result.stdout)["groups"]
    assert [g["group"] for g in groups] == ["1997-01", "1997-02", "1997-03"]
    assert sum(g["customers"] for g in groups) == 2357
    assert all(g["clv_lower"] < g["clv"] < g["clv_upper"] for g in groups)


def test_holdout_over_time_tracks_cumulative_repeat_purchases(transactions_csv) -> None:
    args = ["clv", "holdout", transactions_csv, "--customer", "cust", "--date", "day"]
    args += [
        "--calibration-end",
        "1997-09-30",
        "--observation-end",
        "1998-06-30",
        "--over-time",
        "--format",
        "json",
    ]
    result = _run(args)
    assert result.exit_code == 0, result.output
    curve = json.loads(result.stdout)["over_time"]
    assert len(curve) == 77  # weekly from the first purchase (1997-01-01) to the end of June 1998
    # FHL 2005a figure 2: the model tracks cumulative repeat purchases within 10% at the end of the holdout
    assert abs(curve[-1]["predicted"] - curve[-1]["actual"]) / curve[-1]["actual"] < 0.10


@pytest.mark.parametrize("model", ["bgnbd", "pareto", "mbgnbd"])
def test_fit_table_output_for_every_model(summary_csv, model, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "150")
    result = _run(["clv", "fit", summary_csv, "--summary", "--model", model])
    assert result.exit_code == 0, result.output
    names = ["r", "alpha", "s", "beta"] if model == "pareto" else ["r", "alpha", "a", "b"]
    lines = result.stdout.splitlines()
    for name in names:
        assert any(f" {model} " in line and f" {name} " in line for line in lines), name
    assert "gamma_gamma" in result.stdout and "2,357 customers" in result.stdout


def test_shopify_order_export_counts_each_order_once() -> None:
    # one row per line item; only an order's first row has Created at and Total; the dates cross the
    # daylight-saving change (+0100 -> +0200). Purchase days in UTC: anna Mar 20, Apr 2, Apr 20; jonas
    # Mar 25, Apr 10; lea Apr 5 (00:30 +0200 on Apr 6). The log ends on Apr 20.
    path = str(Path(__file__).parent / "fixtures" / "shopify_orders.csv")
    args = ["clv", "predict", path, "--customer", "Email", "--date", "Created at", "--amount", "Total"]
    result = _run([*args, "--unit", "D", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["customer_id"]: r for r in json.loads(result.stdout)}
    assert [rows["anna@example.de"][k] for k in ("frequency", "recency", "T")] == [2, 31.0, 31.0]
    assert [rows["jonas@example.com"][k] for k in ("frequency", "recency", "T")] == [1, 16.0, 26.0]
    assert [rows["lea@example.org"][k] for k in ("frequency", "recency", "T")] == [0, 0.0, 15.0]
    fit = json.loads(_run(["clv", "fit", *args[2:], "--unit", "D", "--format", "json"]).stdout)
    # Nobody is seen to drop out, so the fit sits in the Poisson limit with p at 0 (d log L / dp at p = 0
    # is -1 for anna and e^(10 lambda) - 1 = 0.52 for jonas: negative), where lambda is the Poisson
    # MLE: repeat purchases over exposure, (2 + 1 + 0) / (31 + 26 + 15) days.
    assert fit["reduced_params"]["lambda"] == pytest.approx(3 / 72, rel=1e-4)
    assert "no_dropout" in fit["diagnostics"]["boundary"]


def test_a_date_that_cannot_be_parsed_names_file_row_and_column(tmp_path, capsys) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,date\n1,2025-03-30 10:00:00 +0100\n2,2025-04-02 09:00:00 +0200\n"
        "3,2025-04-31 09:00 +0200\n"
    )
    with pytest.raises(SystemExit) as info:
        main(["clv", "fit", str(path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"{path}, row 3, column date" in " ".join(err.split()) and "Traceback" not in err


def test_a_customer_first_seen_on_the_last_day_is_predicted(tmp_path) -> None:
    path = tmp_path / "tx.csv"
    path.write_text(
        "customer_id,date\na,2024-01-01\na,2024-01-20\nb,2024-01-05\nb,2024-01-30\nc,2024-01-10\n"
        "d,2024-01-12\nd,2024-02-02\ne,2024-02-10\n"
    )
    result = _run(["clv", "predict", str(path), "--unit", "D", "--format", "json"])
    assert result.exit_code == 0, result.output
    row = next(r for r in json.loads(result.stdout) if r["customer_id"] == "e")
    assert [row["frequency"], row["recency"], row["T"]] == [0, 0.0, 0.0]
    assert row["p_alive"] == 1.0  # BG/NBD: no repeat purchase, alive for sure
