"""``trueroi kpis``: KPIs and ROI by any breakdown, with year-over-year or previous-period change; with
``--family email|seo|social|paid`` a channel family's own KPIs (:func:`trueroi.metrics.family_kpis`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    note,
    print_csv,
    print_json,
    print_table,
)
from trueroi.cli.workspace import open_workspace

TABLE_KPIS = [
    ("spend", "Spend", "money"),
    ("revenue", "Revenue", "money"),
    ("roas", "ROAS", "ratio"),
    ("media_roi", "Media ROI", "percent"),
    ("full_roi", "Full ROI", "percent"),
    ("cpa", "CPA", "money"),
    ("conversions", "Conv.", "count"),
]


def parse_day(value: str | None, option: str) -> date | None:
    """An ISO date typed after ``option`` (the error names the option)."""
    from trueroi.metrics.dimensions import parse_day as parse

    return parse(value, option)


def kpis(
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Breakdown, e.g. channel,week (day/week/month/quarter/year, "
            "channel, campaign, is_brand, funnel_stage, platform; with --family its own: e-mail campaign; "
            "SEO query, page, country, device, is_brand; social platform, account, post, post_type).",
        ),
    ] = "channel",
    family: Annotated[
        str | None,
        typer.Option(help="A channel family's own KPIs: email, seo, social or paid (= without --family)."),
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    period: Annotated[
        str | None, typer.Option(help="Named period instead of --from/--to: 2026-Q3, 2026-07.")
    ] = None,
    compare: Annotated[str | None, typer.Option(help="yoy or previous.")] = None,
    attribution: Annotated[
        str | None, typer.Option(help="Attribution model for revenue and conversions.")
    ] = None,
    value: Annotated[
        str,
        typer.Option(help="revenue, or clv to add lifetime value of acquired customers (with --by channel)."),
    ] = "revenue",
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """KPIs and ROI (media and full, on contribution margin) by channel, campaign, week, ..."""
    from trueroi.metrics import kpis as kpi_query

    parse_day(date_from, "--from")  # a bad date's error names the option
    parse_day(date_to, "--to")
    if family is not None:
        _family(family, by, date_from, date_to, period, compare, attribution, value, output, workspace)
        return
    with open_workspace(workspace) as ws:
        report = kpi_query(
            ws,
            by=by,
            date_from=date_from,
            date_to=date_to,
            period=period,
            compare=compare,
            attribution=attribution,
            value=value,
        )
    if output == OutputFormat.json:
        print_json(report.to_dict())
    elif output == OutputFormat.csv:
        print_csv(report.rows)
    else:
        print_report(report)
        for line in report.notes:
            note(f"note: {line}")


def print_report(report, title: str | None = None) -> None:  # noqa: ANN001 - KpiReport
    columns = [(d, d.replace("_", " ").title(), "text") for d in report.dims] + list(TABLE_KPIS)
    if "clv_cac" in report.rows:
        columns += [
            ("customers", "New cust.", "count"),
            ("avg_clv", "Avg CLV", "money"),
            *(
                [("avg_clv_lower", "CLV low", "money"), ("avg_clv_upper", "CLV high", "money")]
                if "avg_clv_lower" in report.rows
                else []
            ),
            ("cac", "CAC", "money"),
            ("clv_cac", "CLV/CAC", "ratio"),
            ("payback_months", "Payback (months)", "ratio"),
            ("lifetime_roi", "Lifetime ROI", "percent"),
        ]
    if report.compare:
        columns += [
            ("revenue_change_pct", f"Revenue {report.compare}", "percent"),
            ("media_roi_change", f"Media ROI {report.compare} (pts)", "percent"),
        ]
    rows = report.rows.to_dict(orient="records")
    totals = {**report.totals, **{d: "Total" if i == 0 else "" for i, d in enumerate(report.dims)}}
    print_table(
        rows + [totals],
        columns,
        title=title or f"KPIs {report.period} ({report.currency}, attribution: {report.attribution_model})",
        caption="ROI on contribution margin; media ROI counts ad spend only, full ROI all marketing costs.",
    )


def _family(
    family: str,
    by: str,
    date_from: str | None,
    date_to: str | None,
    period: str | None,
    compare: str | None,
    attribution: str | None,
    value: str,
    output: OutputFormat,
    workspace: str | None,
) -> None:
    """``trueroi kpis --family``: the family's KPIs rendered as a table, JSON or CSV rows."""
    from trueroi.metrics import family_kpis
    from trueroi.metrics.families import HEADLINE

    with open_workspace(workspace) as ws:
        report = family_kpis(
            ws,
            family,
            by=by,
            date_from=date_from,
            date_to=date_to,
            period=period,
            compare=compare,
            attribution=attribution,
            value=value,
        )
    if output == OutputFormat.json:
        print_json(report.to_dict())
    elif output == OutputFormat.csv:
        print_csv(report.rows)
    elif report.paid is not None:
        print_report(report.paid)
    else:
        columns = [(d, d.replace("_", " ").title(), "text") for d in report.dims] + list(HEADLINE[family])
        if report.compare:
            key, label, _ = HEADLINE[family][0]
            columns.append((f"{key}_change_pct", f"{label} {report.compare}", "percent"))
        totals = {**report.totals, **{d: "Total" if i == 0 else "" for i, d in enumerate(report.dims)}}
        print_table(
            report.to_dict()["rows"] + [totals],
            columns,
            title=f"{family} KPIs {report.period} ({report.currency}, "
            f"attribution: {report.attribution_model})",
            caption="Rates are ratios of sums; full ROI only where costs booked to the channel are known.",
        )
    if output == OutputFormat.table:
        for line in report.notes:
            note(f"note: {line}")


def register(app: typer.Typer) -> None:
    app.command()(kpis)
