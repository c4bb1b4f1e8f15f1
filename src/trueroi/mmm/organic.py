"""Organic media and non-media treatments of the national mix model: their model terms and their reports.

Organic media are unpaid inputs (e-mails sent, posts published, SEO visibility, organic impressions): like
a paid channel each has its own carry-over and saturation, ``beta_o sat_o(adstock_o(z_o))`` with ``z_o`` the
input over its training mean, but no spend, so it has no ROI; it is reported as its contribution to the KPI
(absolute and as a share of the KPI) with intervals. This is PyMC-Marketing's and Meridian's treatment of
"organic media" (Meridian's ``organic_media``, Google 2024; Jin et al. 2017 for the transformations).
Left out of the model, an organic input that moves with paid spend biases the paid channels' ROI (omitted
variable bias; tests/mmm/test_organic.py shows it).

Non-media treatments (price, promotions) enter the model as controls, a linear term with a Normal prior
free in sign; they are reported as the effect per unit of the column and the total contribution against the
column at zero (no promotion, say), with intervals.

The model term is :func:`trueroi.mmm.bayes.organic_sample`, the contributions over posterior draws
:func:`trueroi.mmm.results.organic_contributions`. The budget planner plans paid channels only: organic
inputs stay at their observed level (they are not in the response curves).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from trueroi.mmm.results import _floats, interval, organic_contributions

if TYPE_CHECKING:
    from trueroi.mmm.bayes import ModelSpec
    from trueroi.mmm.data import MMMData


def organic_summary(
    draws: dict[str, np.ndarray], spec: ModelSpec, data: MMMData
) -> dict[str, dict[str, Any]]:
    """Per organic input over the training periods: ``volume`` (sum of the input), ``contribution`` (KPI
    units) and ``share`` (contribution / KPI), each ``{mean, lower, upper}`` (90%)."""
    train = slice(0, data.n_train)
    contrib = organic_contributions(draws, spec, data)[:, train, :].sum(axis=1)  # (D, O)
    kpi = float(data.target[train].sum())
    return {
        c: {
            "volume": float(data.organic[train, i].sum()),
            "contribution": _floats(interval(contrib[:, i])),
            "share": _floats(interval(contrib[:, i] / kpi)),
        }
        for i, c in enumerate(data.organic_cols)
    }


def treatment_summary(draws: dict[str, np.ndarray], data: MMMData) -> dict[str, dict[str, Any]]:
    """Per treatment (a control named as such): ``effect_per_unit`` (KPI units per unit of the column and
    period) and ``contribution`` over the training periods against the column at zero, each
    ``{mean, lower, upper}`` (90%)."""
    train = slice(0, data.n_train)
    out = {}
    for name in data.treatment_cols:
        k = data.controls_cols.index(name)
        per_unit = draws["control"][:, k] * data.target_scale / data.control_std[k]  # (D,)
        total = per_unit * float(data.controls[train, k].sum())
        out[name] = {
            "effect_per_unit": _floats(interval(per_unit)),
            "contribution": _floats(interval(total)),
        }
    return out
