"""Read-only analyses of a workspace: each route calls the library function behind the CLI command named in
its summary with the same arguments and returns its ``to_dict()`` (= that command's ``--format json``).

Query parameters carry the CLI's option names (``--from`` -> ``from``, ``--lookback-days`` ->
``lookback_days``, ``--type`` -> ``type``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from trueroi.attribution import credit_journeys, load_journeys
from trueroi.attribution.report import paths_report
from trueroi.clv.roi import cohort_retention
from trueroi.errors import NotFittedError, UsageError
from trueroi.experiments.planning import plan_holdout_test
from trueroi.experiments.readouts import experiment_list, read_cro_test, read_holdout_test
from trueroi.goals import goal_report, list_budgets, list_goals, pacing_report
from trueroi.io import jsonable
from trueroi.metrics import resolve_range
from trueroi.metrics.by_model import compare_roi
from trueroi.metrics.dimensions import parse_day
from trueroi.mmm import load_model, model_kind
from trueroi.monitor import check_anomalies, list_alerts
from trueroi.server.home import check_workspace_name
from trueroi.server.jobkinds import MODELS_DIR
from trueroi.web.access import Caller
from trueroi.web.api_common import ReadCaller, new_router
from trueroi.web.render import json_result

router = new_router()

ATTRIBUTION_VIEWS = ("credits", "roi", "paths")
FromDay = Annotated[str | None, Query(alias="from", description="First day, YYYY-MM-DD.")]
ToDay = Annotated[str | None, Query(alias="to", description="Last day, YYYY-MM-DD.")]
AsOf = Annotated[str | None, Query(description="Status on this day (default: the last day with data).")]


@router.get(
    "/workspaces/{ws}/attribution",
    summary="Credits, ROI or paths by attribution model (= trueroi attribution --format json)",
)
def attribution(
    caller: ReadCaller,
    model: Annotated[str, Query(description="Model name, comma-separated names, or 'all'.")] = "all",
    lookback_days: Annotated[int | None, Query(description="Days before a conversion that count.")] = None,
    markov_order: Annotated[int, Query(description="Markov chain order (1-3).")] = 1,
    half_life_days: Annotated[float, Query(description="Time-decay half-life in days.")] = 7.0,
    exclude_direct: Annotated[bool, Query(description="Drop direct touches.")] = False,
    date_from: FromDay = None,
    date_to: ToDay = None,
    period: Annotated[str | None, Query(description="Named period: 2026-Q3, 2026-07.")] = None,
    view: Annotated[str, Query(description="credits, roi or paths.")] = "credits",
) -> Response:
    if view not in ATTRIBUTION_VIEWS:
        raise UsageError(f"unknown view {view!r}; expected one of {', '.join(ATTRIBUTION_VIEWS)}")
    start, end = resolve_range(date_from, date_to, period)
    with caller.open_workspace() as ws:
        if view == "roi":
            return json_result(compare_roi(ws, model, start=start, end=end))
        journeys = load_journeys(
            ws, lookback_days=lookback_days, exclude_direct=exclude_direct, start=start, end=end
        )
    if view == "paths":
        return json_result(paths_report(journeys))
    return json_result(
        credit_journeys(journeys, model, markov_order=markov_order, half_life_days=half_life_days)
    )


@router.get("/workspaces/{ws}/goals", summary="Status of every goal (= trueroi goal status --format json)")
def goals(caller: ReadCaller, as_of: AsOf = None) -> Response:
    day = parse_day(as_of, "as_of")
    with caller.open_workspace() as ws:
        return json_result(goal_report(ws, day))


@router.get("/workspaces/{ws}/goals/list", summary="The declared goals (= trueroi goal list --format json)")
def goals_list(caller: ReadCaller) -> Response:
    with caller.open_workspace() as ws:
        return json_result(list_goals(ws))


@router.get("/workspaces/{ws}/pacing", summary="Budget pacing (= trueroi budget pacing --format json)")
def pacing(
    caller: ReadCaller,
    as_of: AsOf = None,
    tolerance: Annotated[float, Query(description="On pace within 1 ± tolerance.")] = 0.10,
    schedule: Annotated[str, Query(description="pro_rata or weekday.")] = "pro_rata",
) -> Response:
    day = parse_day(as_of, "as_of")
    with caller.open_workspace() as ws:
        return json_result(pacing_report(ws, day, tolerance=tolerance, schedule=schedule))


@router.get("/workspaces/{ws}/budgets", summary="The declared budgets (= trueroi budget list --format json)")
def budgets(caller: ReadCaller) -> Response:
    with caller.open_workspace() as ws:
        return json_result(list_budgets(ws))


@router.get("/workspaces/{ws}/alerts", summary="The alert rules (= trueroi alert list --format json)")
def alerts(caller: ReadCaller) -> Response:
    with caller.open_workspace() as ws:
        return json_result(list_alerts(ws))


@router.get(
    "/workspaces/{ws}/anomalies", summary="What the baselines flag (= trueroi monitor check --format json)"
)
def anomalies(
    caller: ReadCaller,
    date_from: FromDay = None,
    date_to: ToDay = None,
    kpi: Annotated[str | None, Query(description="Comma-separated KPIs (default: all).")] = None,
    hourly: Annotated[bool, Query(description="Also judge tracking volume per hour.")] = False,
) -> Response:
    start, end = parse_day(date_from, "from"), parse_day(date_to, "to")
    with caller.open_workspace() as ws:
        return json_result(check_anomalies(ws, start, end, kpi, hourly=hourly))


@router.get(
    "/workspaces/{ws}/experiments", summary="Stored experiments (= trueroi experiment list --format json)"
)
def experiments(caller: ReadCaller) -> Response:
    with caller.open_workspace() as ws:
        return json_result(experiment_list(ws))


@router.get(
    "/workspaces/{ws}/experiments/lift",
    summary="Read a holdout test (= trueroi experiment lift --format json, without --save)",
)
def experiment_lift(
    caller: ReadCaller,
    test_users: int | None = None,
    test_conversions: int | None = None,
    control_users: int | None = None,
    control_conversions: int | None = None,
    test_tag: Annotated[str | None, Query(description="Campaign tag of the exposed group.")] = None,
    control_tag: Annotated[str | None, Query(description="Campaign tag of the control group.")] = None,
    test_revenue: float | None = None,
    control_revenue: float | None = None,
    spend: float | None = None,
    level: float = 0.9,
    seed: int = 0,
    start: Annotated[str | None, Query(description="Test start day (with tags).")] = None,
    end: Annotated[str | None, Query(description="Test end day (with tags).")] = None,
) -> Response:
    with caller.open_workspace() as ws:
        readout = read_holdout_test(
            test_users,
            test_conversions,
            control_users,
            control_conversions,
            test_tag=test_tag,
            control_tag=control_tag,
            start=start,
            end=end,
            test_revenue=test_revenue,
            control_revenue=control_revenue,
            spend=spend,
            level=level,
            seed=seed,
            workspace=ws,
        )
    return json_result(readout)


@router.get(
    "/workspaces/{ws}/experiments/plan",
    summary="Plan a holdout test (= trueroi experiment plan --format json)",
)
def experiment_plan(
    caller: ReadCaller,
    baseline_rate: Annotated[float, Query(description="Control conversion rate (0-1).")],
    lift: Annotated[float | None, Query(description="Relative lift to detect (0.1 = +10%).")] = None,
    test_users: Annotated[int | None, Query(description="Test users available.")] = None,
    alpha: float = 0.05,
    power: float = 0.8,
    control_ratio: float = 1.0,
    one_sided: bool = False,
) -> Response:
    alternative = "larger" if one_sided else "two-sided"
    result = plan_holdout_test(
        baseline_rate,
        lift=lift,
        test_users=test_users,
        alpha=alpha,
        power=power,
        control_ratio=control_ratio,
        alternative=alternative,
    )
    return json_result(result)


@router.get(
    "/workspaces/{ws}/experiments/cro",
    summary="Read a site A/B test (= trueroi experiment cro --format json, without --channels)",
)
def experiment_cro(
    caller: ReadCaller,
    control_visitors: int,
    control_conversions: int,
    variant_visitors: int,
    variant_conversions: int,
    control_revenue: float | None = None,
    variant_revenue: float | None = None,
    metric: Annotated[str, Query(description="conversion_rate or revenue_per_visitor.")] = "conversion_rate",
    level: float = 0.9,
) -> Response:
    result = read_cro_test(
        control_visitors,
        control_conversions,
        variant_visitors,
        variant_conversions,
        control_revenue=control_revenue,
        variant_revenue=variant_revenue,
        metric=metric,
        level=level,
    )
    return json_result(result)


@router.get(
    "/workspaces/{ws}/clv",
    summary="Monthly cohort retention of the workspace's customers (clv.roi.cohort_retention); CLV by "
    "acquisition channel is /kpis?by=channel&value=clv",
)
def clv(caller: ReadCaller) -> Response:
    with caller.open_workspace() as ws:
        cohorts = cohort_retention(ws)
    return json_result({"cohorts": jsonable(cohorts.to_dict("records"))})


@router.get(
    "/workspaces/{ws}/mmm/models", summary="The fitted mix models of the workspace (folders under models/)"
)
def mmm_models(caller: ReadCaller) -> Response:
    folder = caller.home.workspace_path(caller.workspace) / MODELS_DIR
    found = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if (path / "config.json").is_file():
                found.append({"name": path.name, "kind": model_kind(path)})
    return json_result({"models": found})


@router.get(
    "/workspaces/{ws}/mmm/models/{model}",
    summary="A fitted mix model's summary (= what trueroi mmm fit --format json printed)",
)
def mmm_model(caller: ReadCaller, model: str) -> Response:
    return json_result(load_model(model_path(caller, model)).summary())


def model_path(caller: Caller, model: str):  # noqa: ANN201 - pathlib.Path
    """``<workspace>/models/MODEL`` of the caller's workspace.

    Raises
    ------
    NotFittedError
        When no fitted model of that name is there.
    """
    check_workspace_name(model)
    path = caller.home.workspace_path(caller.workspace) / MODELS_DIR / model
    if not (path / "config.json").is_file():
        raise NotFittedError(f"workspace {caller.workspace} has no fitted mix model {model!r}; fit one first")
    return path
