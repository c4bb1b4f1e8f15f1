"""Visibility and keyword rankings (``rankings``: Sistrix, SEMrush, a generic CSV) for the SEO family.

Per tool and domain: the visibility index on the last day of the period that has one, the first such day's
value and the change between them; and the keywords on the last day with keyword rows: how many are tracked,
how many rank in the top 100, top 10 and top 3, and their mean position (one position per keyword and day,
so a plain mean over the keywords that rank).
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from trueroi.metrics.dimensions import Period
from trueroi.metrics.family_base import family_table
from trueroi.workspace import Workspace


def visibility(ws: Workspace, period: Period) -> list[dict[str, Any]]:
    """One entry per tool and domain with rankings in ``period`` (see the module docstring)."""
    r = family_table(ws, "rankings")
    r = r.filter(r.date_day.between(period.start, period.end))
    r = r.mutate(domain=r.domain.fill_null(""))
    out = _index(r).merge(_keywords(r), on=["tool", "domain"], how="outer")
    out["domain"] = out["domain"].replace("", None)
    return out.sort_values(["tool", "domain"], na_position="first").to_dict(orient="records")


def _index(r: ibis.Table) -> pd.DataFrame:
    v = r.filter(r.keyword.isnull(), r.visibility.notnull())
    g = v.group_by(["tool", "domain"]).aggregate(
        first_date=v.date_day.min(),
        date=v.date_day.max(),
        first_visibility=v.visibility.argmin(v.date_day),
        visibility=v.visibility.argmax(v.date_day),
    )
    df = g.execute()
    df["visibility_change"] = df["visibility"] - df["first_visibility"]
    for c in ("first_date", "date"):
        df[c] = pd.to_datetime(df[c]).dt.date
    return df


def _keywords(r: ibis.Table) -> pd.DataFrame:
    k = r.filter(r.keyword.notnull())
    last = k.group_by(["tool", "domain"]).aggregate(_day=k.date_day.max())
    k = k.inner_join(last, [k.tool == last.tool, k.domain == last.domain, k.date_day == last._day])
    ranked = k.position.notnull()
    g = k.group_by(["tool", "domain"]).aggregate(
        keywords_date=k.date_day.max(),
        keywords=k.keyword.nunique(),
        ranking=ranked.cast("int64").sum(),
        top10=(k.position <= 10).fill_null(False).cast("int64").sum(),
        top3=(k.position <= 3).fill_null(False).cast("int64").sum(),
        mean_position=k.position.mean(),
    )
    df = g.execute()
    df["keywords_date"] = pd.to_datetime(df["keywords_date"]).dt.date
    return df
