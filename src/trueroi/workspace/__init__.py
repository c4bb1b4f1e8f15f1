"""Workspaces: configuration, canonical schema and the warehouse behind them."""

from trueroi.workspace.config import ChannelRule, CostAllocation, WorkspaceConfig
from trueroi.workspace.core import LoadResult, Workspace, file_sha256, resolve_path

__all__ = [
    "ChannelRule",
    "CostAllocation",
    "LoadResult",
    "Workspace",
    "WorkspaceConfig",
    "file_sha256",
    "resolve_path",
]
