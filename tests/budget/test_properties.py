"""Property tests: the optimizer never exceeds the budget, respects every bound, and more budget never
lowers the optimum; on concave curves no feasible random plan beats it."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueroi.budget import ParametricCurves, optimize_budget
from trueroi.budget.evaluate import Objective, draw_values

CURVES = ("hill", "log", "exponential")


@st.composite
def problems(draw: st.DrawFn, concave: bool = False) -> dict:
    n = draw(st.integers(2, 6))
    d = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kinds = [draw(st.sampled_from(CURVES)) for _ in range(n)]
    shape_high = 1.0 if concave else 3.0
    curves = ParametricCurves(
        [f"c{i}" for i in range(n)],
        rng.uniform(0, 200, n),
        kinds,
        beta=rng.uniform(10, 1000, (d, n)),
        k=rng.uniform(5, 300, (d, n)),
        s=rng.uniform(0.4, shape_high, (d, n)),
    )
    budget = draw(st.floats(10, 2000))
    minimum, maximum = {}, {}
    for name in curves.channels:
        choice = draw(st.sampled_from(["none", "min", "max", "both", "relmax"]))
        if choice in ("min", "both"):
            minimum[name] = draw(st.floats(0, budget / (2 * n)))
        if choice in ("max", "both"):
            maximum[name] = minimum.get(name, 0.0) + draw(st.floats(0, budget))
        if choice == "relmax":
            maximum[name] = f"{draw(st.floats(0, 300)):.1f}%"
    max_change = draw(st.none() | st.floats(0.5, 3.0))
    locked = [curves.channels[0]] if draw(st.booleans()) else []
    objective = draw(st.sampled_from(["revenue", "profit"]))
    return dict(
        curves=curves,
        total=budget,
        minimum=minimum,
        maximum=maximum,
        max_change=max_change,
        locked=locked,
        objective=objective,
        margin_rate=0.6,
    )


def _solve(problem: dict, total: float | None = None):
    from trueroi.errors import UsageError

    args = {k: v for k, v in problem.items() if k not in ("curves", "total")}
    try:
        return optimize_budget(problem["curves"], total or problem["total"], **args)
    except UsageError:  # minimums above the budget: a legitimate refusal
        return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_never_exceeds_budget_and_respects_every_bound(problem: dict) -> None:
    plan = _solve(problem)
    if plan is None:
        lower = plan_lower_bound(problem)
        assert lower > problem["total"]  # refused only when the minimums cannot fit
        return
    x, b = plan.allocation, plan.bounds
    assert x.sum() <= problem["total"] * (1 + 1e-9)
    assert np.all(x >= b.lower - 1e-9 * problem["total"])
    assert np.all(x <= b.upper + 1e-9 * problem["total"])
    current = problem["curves"].current_spend
    for j, name in enumerate(problem["curves"].channels):
        if name in problem["locked"]:
            assert abs(x[j] - current[j]) <= 1e-9 * max(current[j], 1)
            continue
        if name in problem["minimum"]:
            assert x[j] >= problem["minimum"][name] - 1e-9 * problem["total"]
        if name in problem["maximum"] and not isinstance(problem["maximum"][name], str):
            assert x[j] <= problem["maximum"][name] + 1e-9 * problem["total"]
        if problem["max_change"] is not None:  # unless the channel's own bounds say otherwise
            own_max = b.upper_source[j] == "max"
            own_min = b.lower_source[j] == "min"
            assert own_min or x[j] <= current[j] * (1 + problem["max_change"]) + 1e-9 * problem["total"]
            assert own_max or x[j] >= current[j] * (1 - problem["max_change"]) - 1e-9 * problem["total"]


def plan_lower_bound(problem: dict) -> float:
    from trueroi.budget.constraints import build_bounds

    curves = problem["curves"]
    b = build_bounds(
        curves.channels,
        curves.current_spend,
        problem["minimum"],
        problem["maximum"],
        problem["max_change"],
        problem["locked"],
    )
    return float(b.lower.sum())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.floats(1.01, 3.0))
def test_more_budget_never_lowers_the_optimum(problem: dict, factor: float) -> None:
    small = _solve(problem)
    if small is None:
        return
    large = _solve(problem, problem["total"] * factor)
    assert large.expected.mean >= small.expected.mean - 1e-7 * max(abs(small.expected.mean), 1.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(concave=True), st.integers(0, 2**32 - 1))
def test_no_random_feasible_plan_beats_the_optimum_on_concave_curves(problem: dict, seed: int) -> None:
    plan = _solve(problem)
    if plan is None:
        return
    rng = np.random.default_rng(seed)
    lo, hi = plan.bounds.lower, np.minimum(plan.bounds.upper, problem["total"])
    obj = Objective.build(problem["objective"], "revenue", problem["margin_rate"])
    best = draw_values(problem["curves"], plan.allocation, obj).mean()
    for _ in range(200):
        x = lo + rng.uniform(0, 1, lo.size) * (hi - lo)
        if x.sum() > problem["total"]:
            slack = x - lo
            x = lo + slack * (problem["total"] - lo.sum()) / slack.sum()
        value = draw_values(problem["curves"], x, obj).mean()
        assert value <= best + 1e-7 * max(abs(best), 1.0)
