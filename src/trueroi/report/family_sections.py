"""The management report's sections on the channels' own KPIs: e-mail, SEO and organic social (issue 21).

:func:`family_content` asks :func:`trueroi.metrics.family_kpis` for each family whose own table
(``email_campaigns``, ``search_console``, ``social_posts``) has rows in the report's period, by channel, and
keeps its JSON; :func:`family_sections` lays each out as a short :class:`~trueroi.report.layout.Section` of
the family's headline KPIs, their totals and the notes (an e-mail open rate inflated by machine opens, a full
ROI left empty because no cost is booked to the channel). A workspace without such rows gets no key and no
section, so its report is unchanged.
"""

from __future__ import annotations

from typing import Any

from trueroi.metrics import family_kpis
from trueroi.metrics.dimensions import Period
from trueroi.metrics.families import HEADLINE, MoneySource, families_with_data
from trueroi.report.layout import Chart, Section, table
from trueroi.workspace import Workspace

HEADINGS = {"email": "E-mail KPIs", "seo": "SEO KPIs", "social": "Organic social KPIs"}
INTROS = {
    "email": "What the e-mail tool reports for the campaigns sent in the period (rates are ratios of the "
    "summed counts), with the revenue and ROI attributed to the e-mail channel.",
    "seo": "Search Console clicks, impressions, CTR and the impression-weighted average position, with the "
    "revenue and ROI attributed to organic search.",
    "social": "Organic reach, engagement and followers from the platforms' insights, with the revenue and "
    "ROI attributed to organic social.",
}
KINDS = {"percent": "pct"}  # the CLI's kind names -> the report's


def family_content(ws: Workspace, period: Period, attribution: str | None = None) -> dict[str, Any]:
    """``{family: family_kpis(...).to_dict()}`` by channel over ``period`` for the families with rows in it
    (empty when none has); one :class:`~trueroi.metrics.families.MoneySource` serves them all."""
    names = families_with_data(ws, period)
    if not names:
        return {}
    money = MoneySource(ws, attribution)
    return {
        name: family_kpis(
            ws, name, by="channel", date_from=period.start, date_to=period.end, money=money
        ).to_dict()
        for name in names
    }


def family_sections(content: dict[str, Any], charts: dict[str, Chart]) -> list[Section]:
    """One section per family in ``content["families"]`` (none without the key)."""
    return [_section(name, data) for name, data in (content.get("families") or {}).items()]


def _section(name: str, data: dict[str, Any]) -> Section:
    columns = [("channel", "Channel", "text")] + [
        (k, label, KINDS.get(kind, kind)) for k, label, kind in HEADLINE[name]
    ]
    rows = list(data["rows"])
    if len(rows) != 1:
        rows.append({**data["totals"], "channel": "Total"})
    notes = data.get("notes", [])
    return Section(
        f"family_{name}",
        HEADINGS[name],
        INTROS[name],
        tables=[table("", rows, columns)],
        message=" ".join(n[:1].upper() + n[1:] + "." for n in notes),
    )
