"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

from trueroi.workspace import Workspace, WorkspaceConfig


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace (EUR, Europe/Berlin) in a temporary directory."""
    ws = Workspace.init(tmp_path / "ws", WorkspaceConfig(name="test", brand_terms=["acme"]))
    yield ws
    ws.close()
