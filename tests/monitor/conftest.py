"""Demo workspaces with incidents injected into the loaded frames (never into the code under test)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from trueroi.demo import demo_config
from trueroi.demo.load import TABLE_NAMES
from trueroi.workspace import Workspace

from .loopback import certificate, http_receiver  # noqa: F401 - fixtures for every monitor test

TRACKING_DROP = date(2026, 9, 8)  # every touchpoint of the day lost (a broken tag)
CPA_SPIKE = date(2026, 9, 15)  # one campaign's spend x3 for the day, conversions unchanged: CPA x3
SPEND_STOP = date(2026, 9, 21)  # one campaign stops spending from this day to the end of the data
FLIGHTING = ("Social Prospecting", "Display", "Online Video")  # demo channels with planned dark flights


def read_frames(files) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in TABLE_NAMES:
        parts = [pq.read_table(p).to_pandas() for p in files.parts(name)]
        frames[name] = pd.concat(parts, ignore_index=True).drop(columns=["import_id"], errors="ignore")
    return frames


def inject(frames: dict[str, pd.DataFrame], cpa_campaign: str, stop_campaign: str) -> dict[str, pd.DataFrame]:
    """The three incidents of issue 9 (tracking drop, CPA x3, spend stop), made in the data."""
    out = {k: v.copy() for k, v in frames.items()}
    tp = out["touchpoints"]
    local_day = pd.to_datetime(tp["ts"], utc=True).dt.tz_convert("Europe/Berlin").dt.date
    out["touchpoints"] = tp[local_day != TRACKING_DROP].reset_index(drop=True)
    ads = out["ad_performance"]
    day = pd.to_datetime(ads["date_day"]).dt.date
    spike = (day == CPA_SPIKE) & (ads["campaign_name"] == cpa_campaign)
    assert spike.sum() >= 1
    ads.loc[spike, "spend"] *= 3.0
    stop = (day >= SPEND_STOP) & (ads["campaign_name"] == stop_campaign)
    assert stop.sum() >= 5
    out["ad_performance"] = ads[~stop].reset_index(drop=True)  # a paused campaign has no rows at all
    return out


def recent(frames: dict[str, pd.DataFrame], since: date) -> dict[str, pd.DataFrame]:
    """Only the rows from ``since`` on (enough history for the baselines, less to load and scan)."""
    cut = pd.Timestamp(since)
    out = {}
    for name, df in frames.items():
        col = {"costs": "period_end", "ad_performance": "date_day", "fx_rates": "date_day"}.get(name, "ts")
        values = pd.to_datetime(df[col])
        values = values.dt.tz_localize(None) if values.dt.tz is not None else values
        out[name] = df[values >= cut].reset_index(drop=True)
    return out


def load_frames(root: Path, frames: dict[str, pd.DataFrame], tag: str) -> Workspace:
    ws = Workspace.init(root, demo_config())
    ws.load(
        {k: v for k, v in frames.items() if len(v)}, source_format="demo", file_name=tag, sha256=f"test-{tag}"
    )
    return ws


@pytest.fixture(scope="session")
def demo_frames(demo_shop) -> dict[str, pd.DataFrame]:
    return read_frames(demo_shop.files)


@pytest.fixture(scope="session")
def injected_shop(demo_frames, tmp_path_factory) -> Workspace:
    """The small demo shop (scale 0.03) with the three incidents; CPA x3 on nb_generic_home."""
    frames = inject(demo_frames, cpa_campaign="nb_generic_home", stop_campaign="shopping_pmax_all")
    ws = load_frames(tmp_path_factory.mktemp("injected") / "ws", frames, "injected")
    yield ws
    ws.close()


@pytest.fixture
def copy_shop(demo_frames, tmp_path) -> Callable[[], Workspace]:
    """A fresh writable copy of the clean small demo shop from May 2026 on (for runs that write state)."""
    opened = []

    def make() -> Workspace:
        ws = load_frames(tmp_path / f"ws{len(opened)}", recent(demo_frames, date(2026, 5, 1)), "copy")
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()
