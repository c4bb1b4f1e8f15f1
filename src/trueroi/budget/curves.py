"""The contract between a fitted mix model and the budget planner: response curves over posterior draws.

A fitted model (``trueroi.mmm``) hands the planner an object that satisfies :class:`ResponseCurves`; the
planner never looks inside the model. Responses are separable by channel (a channel's incremental KPI
depends on its own spend only), which is what adstock x saturation mix models assume.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ResponseCurves(Protocol):
    """Incremental KPI as a function of spend, one curve per channel and posterior draw.

    Attributes
    ----------
    channels
        Channel names, the model's spend column names, in the order of every array's last axis (C).
    current_spend
        Shape (C,): the current weekly spend per channel in base currency (the model's reference, by
        default the mean of the last weeks of the fit data).
    kpi
        ``"revenue"`` (base currency) or ``"conversions"`` (count): the unit of every response.
    n_draws
        Number of posterior draws (D); a MAP fit has D = 1.
    """

    channels: list[str]
    current_spend: np.ndarray
    kpi: str
    n_draws: int

    def weekly_response(self, weekly_spend: np.ndarray) -> np.ndarray:
        """Steady-state expected incremental KPI per week under flat weekly spend.

        Parameters
        ----------
        weekly_spend
            Shape (..., C), base currency per week, held flat long enough for carry-over to settle.

        Returns
        -------
        numpy.ndarray
            Shape (D, ..., C): incremental KPI per week of each channel, per draw.
        """
        ...

    def plan_response(self, plan: np.ndarray) -> np.ndarray:
        """Incremental KPI per week of a week-by-week plan, carry-over included.

        Parameters
        ----------
        plan
            Shape (W, C): spend per week for the W weeks after the fit data, base currency.

        Returns
        -------
        numpy.ndarray
            Shape (D, W, C): incremental KPI of each channel in each plan week, per draw, counting the
            carry-over of plan spend within the horizon (spend before the plan contributes nothing).
        """
        ...
