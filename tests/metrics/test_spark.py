"""The same KPI query gives the same numbers on DuckDB and on PySpark in local mode."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from trueroi.metrics import kpi_report
from trueroi.workspace import Workspace
from trueroi.workspace.schema import TABLES, schema

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    # py4j leaves its gateway sockets to the garbage collector
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def test_kpis_identical_on_duckdb_and_spark(demo_shop, spark) -> None:
    import ibis
    from ibis.backends.pyspark.datatypes import PySparkSchema

    for name in TABLES:
        arrow = demo_shop.ws.table(name).to_pyarrow()  # Arrow keeps nulls as nulls (pandas would make NaN)
        spark.createDataFrame(arrow, schema=PySparkSchema.from_ibis(schema(name))).createOrReplaceTempView(
            name
        )
    on_spark = Workspace.from_backend(ibis.pyspark.connect(spark), demo_shop.ws.config)
    query = {"by": "channel,is_brand", "start": date(2026, 7, 1), "end": date(2026, 9, 30)}
    duck = kpi_report(demo_shop.ws, **query)
    sprk = kpi_report(on_spark, **query)
    pd.testing.assert_frame_equal(
        sprk.rows.set_index(["channel", "is_brand"]).sort_index(),
        duck.rows.set_index(["channel", "is_brand"]).sort_index(),
        check_dtype=False,
        rtol=1e-9,
    )
    assert sprk.totals == pytest.approx(duck.totals, rel=1e-9, nan_ok=True)
