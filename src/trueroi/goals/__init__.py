"""Goals with a period-end forecast, and budget pacing.

>>> from trueroi.goals import goal_status, pacing_status
>>> [s.to_dict() for s in goal_status(ws)]          # doctest: +SKIP
>>> [p.to_dict() for p in pacing_status(ws)]        # doctest: +SKIP

The faces call one function per task: :func:`add_goal`, :func:`list_goals`, :func:`remove_goal`,
:func:`goal_report`; :func:`add_budget`, :func:`list_budgets`, :func:`remove_budget`, :func:`pacing_report`.
"""

from trueroi.goals.pacing import PacingReport, PacingStatus, pacing_report, pacing_status
from trueroi.goals.progress import GoalReport, GoalStatus, goal_report, goal_status, verdict
from trueroi.goals.store import (
    Budget,
    Declared,
    Goal,
    add_budget,
    add_goal,
    list_budgets,
    list_goals,
    load_budgets,
    load_goals,
    make_budget,
    make_goal,
    remove_budget,
    remove_goal,
    save_budget,
    save_goal,
)

__all__ = [
    "Budget",
    "Declared",
    "Goal",
    "GoalReport",
    "GoalStatus",
    "PacingReport",
    "PacingStatus",
    "add_budget",
    "add_goal",
    "goal_report",
    "goal_status",
    "list_budgets",
    "list_goals",
    "load_budgets",
    "load_goals",
    "make_budget",
    "make_goal",
    "pacing_report",
    "pacing_status",
    "remove_budget",
    "remove_goal",
    "save_budget",
    "save_goal",
    "verdict",
]
