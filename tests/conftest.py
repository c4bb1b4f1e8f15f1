"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from trueroi.workspace import Workspace, WorkspaceConfig

# Property tests draw the same examples on every run (a test run that passed passes again, so CI does not
# fail on a new random example); TRUEROI_HYPOTHESIS=explore draws new ones, to hunt for bugs.
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("TRUEROI_HYPOTHESIS", "fixed"))


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace (EUR, Europe/Berlin) in a temporary directory."""
    ws = Workspace.init(tmp_path / "ws", WorkspaceConfig(name="test", brand_terms=["acme"]))
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def demo_shop(tmp_path_factory):
    """A small demo shop (scale 0.03, seed 7) loaded into a workspace, shared by the whole test run."""
    from types import SimpleNamespace

    from trueroi.demo import demo_config, generate, load_into

    root = tmp_path_factory.mktemp("demo")
    files = generate(root / "demo-data", seed=7, scale=0.03)
    ws = Workspace.init(root / "ws", demo_config())
    load_into(ws, files)
    yield SimpleNamespace(ws=ws, files=files, truth=files.truth)
    ws.close()


@pytest.fixture(scope="session")
def spark():
    """One PySpark local-mode session for the whole test run (it takes 30-40 s to start)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("trueroi-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
