"""Goals with a period-end forecast, and budget pacing.

>>> from trueroi.goals import goal_status, pacing_status
>>> [s.to_dict() for s in goal_status(ws)]          # doctest: +SKIP
>>> [p.to_dict() for p in pacing_status(ws)]        # doctest: +SKIP
"""

from trueroi.goals.pacing import PacingStatus, pacing_status
from trueroi.goals.progress import GoalStatus, goal_status, verdict
from trueroi.goals.store import (
    Budget,
    Goal,
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
    "Goal",
    "GoalStatus",
    "PacingStatus",
    "goal_status",
    "load_budgets",
    "load_goals",
    "make_budget",
    "make_goal",
    "pacing_status",
    "remove_budget",
    "remove_goal",
    "save_budget",
    "save_goal",
    "verdict",
]
