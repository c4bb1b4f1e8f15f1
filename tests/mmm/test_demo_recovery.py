"""Recovery on the demo shop (trueroi.demo): weekly series from the workspace, truth from ground_truth.json.

The demo's true incremental revenue per euro of each paid channel (``roas`` in ground_truth.json) is the
expected value; the mix model sees only weekly spend and shop revenue, as a user's model would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trueroi.demo import demo_config, generate
from trueroi.mmm import MMM
from trueroi.mmm.workspace_data import weekly_series
from trueroi.workspace import Workspace


@pytest.mark.slow
def test_demo_ground_truth_inside_the_intervals(tmp_path: Path) -> None:
    files = generate(tmp_path / "demo", seed=42, scale=1.0)
    ws = Workspace.init(tmp_path / "ws", demo_config())
    tables = {
        name: pa.concat_tables([pq.read_table(p).drop_columns(["import_id"]) for p in files.parts(name)])
        for name in ("ad_performance", "orders", "fx_rates")
    }
    ws.load(tables, source_format="demo", file_name="demo", sha256="demo")
    df = weekly_series(ws)
    ws.close()
    channels = [c for c in df.columns if c not in ("week", "revenue")]
    truth = {c: files.truth["channels"][c]["roas"] for c in channels}
    model = MMM(method="laplace", draws=400, seed=0).fit(df, date="week", target="revenue", channels=channels)
    rois = {c: s["roas"] for c, s in model.summary()["channels"].items()}
    inside = sum(rois[c]["lower"] <= t <= rois[c]["upper"] for c, t in truth.items())
    error = float(np.mean([abs(rois[c]["mean"] - t) / t for c, t in truth.items()]))
    print(f"demo: {inside}/{len(truth)} inside the 90% interval, mean relative ROI error {error:.0%}")
    assert inside >= 6, rois  # most channels
    # two years of weekly shop revenue leave most channels poorly identified: the model must say so
    assert any("prior dominates" in w or "order of magnitude" in w for w in model.warnings_)
