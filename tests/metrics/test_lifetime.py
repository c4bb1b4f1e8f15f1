"""KPIs on lifetime value (`trueroi kpis --by channel --value clv`)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from trueroi.errors import UsageError
from trueroi.metrics import kpi_report
from trueroi.metrics.lifetime import with_lifetime_value

START, END = date(2026, 4, 1), date(2026, 6, 30)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """A demo shop big enough (scale 0.5) for the buy-till-you-die fit to have a finite maximum."""
    from types import SimpleNamespace

    from trueroi.demo import demo_config, generate, load_into
    from trueroi.workspace import Workspace

    root = tmp_path_factory.mktemp("clvshop")
    files = generate(root / "data", seed=3, scale=0.5)
    ws = Workspace.init(root / "ws", demo_config())
    load_into(ws, files)
    yield SimpleNamespace(ws=ws, files=files)
    ws.close()


@pytest.mark.slow
def test_lifetime_columns_follow_their_definitions(shop) -> None:
    report = with_lifetime_value(shop.ws, kpi_report(shop.ws, by="channel", start=START, end=END))
    rows = report.rows.set_index("channel")
    orders = pd.concat([pd.read_parquet(p) for p in shop.files.parts("orders")])
    sales = orders[orders["status"] == "paid"]
    first = pd.to_datetime(sales.groupby("customer_id")["date_day"].min()).dt.date
    acquired = ((first >= START) & (first <= END)).sum()
    assert rows["customers"].sum() == acquired  # every customer first buying in the period, counted once
    paid = rows[rows["spend"] > 0]
    assert paid["cac"].to_numpy() == pytest.approx((paid["spend"] / paid["customers"]).to_numpy())
    expected_roi = (paid["margin"] + paid["total_clv"] - paid["spend"]) / paid["spend"]
    assert paid["lifetime_roi"].to_numpy() == pytest.approx(expected_roi.to_numpy())
    assert (rows["avg_clv"].dropna() > 0).all()


def test_lifetime_value_needs_a_channel_breakdown(demo_shop) -> None:
    with pytest.raises(UsageError, match="--by channel"):
        with_lifetime_value(demo_shop.ws, kpi_report(demo_shop.ws, by="week", start=START, end=END))
