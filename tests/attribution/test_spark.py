"""The journey expression gives the same journeys on DuckDB and on PySpark in local mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trueroi.attribution import attribute
from trueroi.attribution.warehouse import build_journeys
from trueroi.workspace import Workspace
from trueroi.workspace.schema import TABLES, schema

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    # py4j leaves its gateway socket to the garbage collector
    pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket:pytest.PytestUnraisableExceptionWarning"
    ),
]


def random_shop(workspace, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    channels = np.array(["Brand Search", "Email", "Display", "Direct", "Affiliate"])
    n = 600
    users = rng.integers(0, 120, size=n).astype(str)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 120, size=n), unit="D").round("s")
    tp = pd.DataFrame(
        {
            "user_id": users,
            "ts": ts,
            "channel": rng.choice(channels, size=n),
            "campaign": rng.choice(["a", "b"], size=n),
            "is_brand": rng.random(n) < 0.2,
        }
    )
    m = 90
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(m)],
            "user_id": rng.integers(0, 120, size=m).astype(str),
            "ts": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.uniform(0, 120, size=m), unit="D").round("s"),
            "currency": "EUR",
            "revenue": rng.gamma(2, 30, size=m).round(2),
            "status": rng.choice(["paid", "cancelled", None], size=m, p=[0.7, 0.15, 0.15]),
        }
    )
    workspace.load({"touchpoints": tp}, source_format="t", file_name="tp", sha256="tp")
    workspace.load({"orders": orders}, source_format="t", file_name="o", sha256="o")


def test_journeys_identical_on_duckdb_and_spark(workspace, spark):
    import ibis
    from ibis.backends.pyspark.datatypes import PySparkSchema

    random_shop(workspace)
    for name in TABLES:
        frame = workspace.table(name).to_pandas()
        spark.createDataFrame(frame, schema=PySparkSchema.from_ibis(schema(name))).createOrReplaceTempView(
            name
        )
    on_spark = Workspace.from_backend(ibis.pyspark.connect(spark), workspace.config)
    duck = build_journeys(workspace, lookback_days=20)
    sprk = build_journeys(on_spark, lookback_days=20)
    assert duck.n_journeys > 50 and duck.total_conversions > 10
    assert sorted(zip(duck.path_strings(), duck.conversions, duck.value, strict=True)) == sorted(
        zip(sprk.path_strings(), sprk.conversions, sprk.value, strict=True)
    )
    pd.testing.assert_frame_equal(attribute(duck, "all").credits, attribute(sprk, "all").credits)
    # users split into hash buckets (Spark's hash is signed): the same journeys
    split = build_journeys(on_spark, lookback_days=20, partitions=3)
    assert sorted(zip(split.path_strings(), split.conversions, split.value, strict=True)) == sorted(
        zip(sprk.path_strings(), sprk.conversions, sprk.value, strict=True)
    )
