"""Settings an analyst changes from the web app, each change written in the audit log with who and when.

- :func:`workspace_settings`: what the settings page shows: brand terms, channel rules and cost allocation
  from ``trueroi.toml``, and the goals, budgets and alert rules declared in the warehouse (the JSON of
  ``trueroi goal list``, ``trueroi budget list`` and ``trueroi alert list``);
- :func:`change_config`: new brand terms, channel rules or cost allocation, checked as a whole like the
  file itself (:meth:`WorkspaceConfig.from_dict`) and written atomically under the warehouse's write lock;
- :func:`change_workspace`: any other change (a goal, a budget or an alert rule added or removed through
  :mod:`trueroi.goals` and :mod:`trueroi.monitor`, an import) run on the workspace, then audited.

After a change the cached results of the workspace are dropped (:mod:`trueroi.server.cache`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from trueroi.goals import Declared, list_budgets, list_goals
from trueroi.ingest.rechannel import apply_channel_rules
from trueroi.io import jsonable, write_text
from trueroi.monitor import AlertList, list_alerts
from trueroi.server import audit
from trueroi.server.cache import RESULTS
from trueroi.server.home import ServerHome
from trueroi.workspace import Workspace
from trueroi.workspace.config import ALLOCATION_RULES, CONFIG_FILE, WorkspaceConfig, dump_toml

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """A workspace's settings: ``brand_terms`` (regular expressions), ``channel_rules`` (``{channel,
    source, medium, campaign}``, first match wins), ``cost_allocation`` (``{rule, channel}``), the declared
    ``goals``, ``budgets`` and ``alerts``, and the allocation rules one may choose."""

    brand_terms: list[str]
    channel_rules: list[dict[str, str]]
    cost_allocation: dict[str, str]
    goals: Declared
    budgets: Declared
    alerts: AlertList
    allocation_rules: tuple[str, ...] = ALLOCATION_RULES

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "brand_terms": self.brand_terms,
                "channel_rules": self.channel_rules,
                "cost_allocation": self.cost_allocation,
                "goals": self.goals.to_dict(),
                "budgets": self.budgets.to_dict(),
                "alerts": self.alerts.to_dict()["alerts"],
            }
        )


def workspace_settings(ws: Workspace) -> Settings:
    """The settings of ``ws`` as the settings page shows them."""
    config = ws.config
    return Settings(
        list(config.brand_terms),
        [asdict(rule) for rule in config.channel_rules],
        asdict(config.cost_allocation),
        list_goals(ws),
        list_budgets(ws),
        list_alerts(ws),
    )


def change_workspace(
    home: ServerHome,
    name: str,
    action: str,
    change: Callable[[Workspace], T],
    *,
    actor: str,
    user_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> T:
    """Run ``change`` on the workspace ``name`` of ``home``, then write ``action`` (e.g. ``goal.add``) with
    ``detail`` in the audit log; the change's library error, if any, is raised and nothing is logged."""
    path = home.workspace_path(name)
    try:
        with Workspace.open(path) as ws:
            result = change(ws)
    finally:
        RESULTS.forget(path)
    with home.engine.begin() as conn:
        audit.record(conn, action, actor=actor, user_id=user_id, workspace=name, detail=detail)
    return result


def change_config(
    home: ServerHome,
    name: str,
    *,
    actor: str,
    user_id: int | None = None,
    brand_terms: list[str] | None = None,
    channel_rules: list[dict[str, str]] | None = None,
    cost_allocation: dict[str, str] | None = None,
) -> WorkspaceConfig:
    """Replace the brand terms, channel rules and/or cost allocation of workspace ``name`` (those given);
    the whole file is checked before it is written (a :class:`~trueroi.errors.ConfigError` names the key).
    New channel rules are applied to the data already loaded in the same write
    (:func:`~trueroi.ingest.rechannel.apply_channel_rules`, as ``trueroi channels apply`` does).
    Audited as ``settings.change`` with the keys changed and their new values."""
    changes: dict[str, Any] = {
        key: value
        for key, value in (
            ("brand_terms", brand_terms),
            ("channel_rules", channel_rules),
            ("cost_allocation", cost_allocation),
        )
        if value is not None
    }

    def rewrite(ws: Workspace) -> WorkspaceConfig:
        with ws.writing("a settings change"):
            data = asdict(WorkspaceConfig.load(ws.path))
            data["import"] = data.pop("import_window")  # the file's name of the section
            data.update(changes)
            config = WorkspaceConfig.from_dict(data, source=CONFIG_FILE)
            saved = asdict(config)
            saved["import"] = saved.pop("import_window")
            write_text(ws.path / CONFIG_FILE, dump_toml(saved))
            if channel_rules is not None:  # the loaded sessions and ad rows follow the new rules at once
                ws.config = config
                apply_channel_rules(ws)
        return config

    return change_workspace(
        home, name, "settings.change", rewrite, actor=actor, user_id=user_id, detail=changes
    )
