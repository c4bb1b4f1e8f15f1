"""Load a generated demo shop into a workspace, streaming its Parquet parts as one import."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from trueroi.demo import spec
from trueroi.demo.generator import TABLE_NAMES, DemoFiles
from trueroi.workspace import ChannelRule, LoadResult, Workspace, WorkspaceConfig
from trueroi.workspace.config import CostAllocation


def demo_config(name: str = "demo") -> WorkspaceConfig:
    """Workspace settings for the demo shop: EUR, Berlin time, its brand terms and channel rules."""
    rules = [
        ChannelRule("Brand Search", source="^google$", medium="^cpc$", campaign="^brand"),
        ChannelRule("Non-Brand Search", source="^google$", medium="^cpc$", campaign="^nb_"),
        ChannelRule("Shopping", medium="^cpc$", campaign="^shopping"),
        ChannelRule("Social Prospecting", medium="^paid_social$", campaign="^prospecting"),
        ChannelRule("Social Retargeting", medium="^paid_social$", campaign="^retargeting"),
        ChannelRule("Display", medium="^display$"),
        ChannelRule("Online Video", medium="^cpv$"),
        ChannelRule("Affiliate", medium="^affiliate$"),
    ]
    return WorkspaceConfig(
        name=name,
        base_currency="EUR",
        timezone=spec.TIMEZONE,
        brand_terms=spec.BRAND_TERMS,
        channel_rules=rules,
        cost_allocation=CostAllocation(rule="spend_share"),
    )


def _batches(files: list[Path]) -> Iterator[pa.Table]:
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1_000_000):
            yield pa.Table.from_batches([batch]).drop_columns(["import_id"])


def load_into(ws: Workspace, files: DemoFiles) -> LoadResult:
    """Load every table of a generated demo into ``ws`` atomically (all tables or none)."""
    batches = {name: _batches(files.parts(name)) for name in TABLE_NAMES}
    digest = f"demo-seed{files.truth['seed']}-scale{files.truth['scale']}"
    return ws.load(batches, source_format="demo", file_name=str(files.directory), sha256=digest)
