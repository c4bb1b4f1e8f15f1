"""Workspaces: configuration, canonical schema and the warehouse behind them."""

from trueroi.workspace.config import ChannelRule, CostAllocation, WorkspaceConfig
from trueroi.workspace.core import (
    LoadResult,
    Workspace,
    WorkspaceChoice,
    choose_workspace,
    file_sha256,
    resolve_path,
    strict_mode,
)
from trueroi.workspace.imports import ImportList, ImportRecord, RemovedImport, UnknownImportError
from trueroi.workspace.load import PeriodReplace, RowKey
from trueroi.workspace.lock import WorkspaceBusyError, lock_timeout

__all__ = [
    "ChannelRule",
    "CostAllocation",
    "ImportList",
    "ImportRecord",
    "LoadResult",
    "PeriodReplace",
    "RemovedImport",
    "RowKey",
    "UnknownImportError",
    "Workspace",
    "WorkspaceBusyError",
    "WorkspaceChoice",
    "WorkspaceConfig",
    "choose_workspace",
    "file_sha256",
    "lock_timeout",
    "resolve_path",
    "strict_mode",
]
