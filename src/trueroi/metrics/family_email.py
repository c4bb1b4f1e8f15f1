"""E-mail KPIs from ``email_campaigns``, per send day, channel or campaign.

Every rate is a ratio of sums over the campaigns in a row (never an average of the campaigns' rates):

- delivery_rate = delivered / recipients; bounce_rate = bounces / recipients;
- open_rate = unique_opens / delivered; ctr = unique_clicks / delivered; ctor (click-to-open rate) =
  unique_clicks / unique_opens; unsubscribe_rate = unsubscribes / delivered; complaint_rate = complaints /
  delivered;
- revenue_per_recipient = revenue / recipients and margin_per_recipient = margin / recipients, with the
  revenue and margin the attribution model credits to the newsletter's channel and UTM campaign.

Machine opens (Apple Mail Privacy Protection and security scanners open every message they receive, so
they count as unique opens without anyone reading) inflate the open rate. Where the export counts them
(Brevo's ``appleMppOpens``; Mailchimp's campaign report does not), ``open_rate_inflated`` is true for the rows
holding any, false where every campaign of the row reports zero, and null where any campaign's export does not
say; ``open_rate_excl_machine`` = (unique opens - machine opens) / delivered (null unless every campaign
of the row says).
"""

from __future__ import annotations

import pandas as pd

from trueroi.metrics.dimensions import Period
from trueroi.metrics.family_base import FamilySpec, aggregate, family_table, ratio, with_grain
from trueroi.workspace import Workspace
from trueroi.workspace.rules import norm_campaign

COUNTS = ("recipients", "delivered", "bounces", "unique_opens", "unique_clicks", "unsubscribes", "complaints")
KPIS = (
    "recipients",
    "delivered",
    "delivery_rate",
    "bounce_rate",
    "unique_opens",
    "open_rate",
    "open_rate_inflated",
    "open_rate_excl_machine",
    "unique_clicks",
    "ctr",
    "ctor",
    "unsubscribes",
    "unsubscribe_rate",
    "complaint_rate",
    "campaigns",
    "revenue",
    "revenue_per_recipient",
    "margin",
    "margin_per_recipient",
)


def email_rows(ws: Workspace, period: Period, dims: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Summed counts and rates per row of ``dims`` over the campaigns sent in ``period``."""
    t = family_table(ws, "email_campaigns")
    t = t.filter(t.date_day.between(period.start, period.end))
    t = t.mutate(
        channel=t.channel.fill_null("Email"),
        campaign=norm_campaign(t.campaign.fill_null(t.campaign_name)),
        _machine_known=t.machine_opens.notnull().cast("int64"),
    )
    t = with_grain(t, dims)
    metrics = {c: t[c].sum() for c in COUNTS}
    metrics |= {
        "machine_opens": t.machine_opens.sum(),
        "machine_known": t._machine_known.sum(),
        "campaigns": t.campaign_id.nunique(),
        "n_rows": t.count(),
    }
    df = _rates(aggregate(t, dims, metrics))
    notes = []
    if df["open_rate_inflated"].eq(True).any():
        notes.append(
            "open rates include machine opens (Apple Mail Privacy Protection) where open_rate_inflated is "
            "true; open_rate_excl_machine leaves the opens the e-mail tool counts as machine opens out"
        )
    return df, notes


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in (*COUNTS, "machine_opens", "machine_known", "campaigns", "n_rows"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["delivery_rate"] = ratio(df["delivered"], df["recipients"])
    df["bounce_rate"] = ratio(df["bounces"], df["recipients"])
    df["open_rate"] = ratio(df["unique_opens"], df["delivered"])
    df["ctr"] = ratio(df["unique_clicks"], df["delivered"])
    df["ctor"] = ratio(df["unique_clicks"], df["unique_opens"])
    df["unsubscribe_rate"] = ratio(df["unsubscribes"], df["delivered"])
    df["complaint_rate"] = ratio(df["complaints"], df["delivered"])
    all_known = (df["machine_known"] == df["n_rows"]) & (df["n_rows"] > 0)
    flag = pd.Series(None, index=df.index, dtype=object)  # null: an export of the row does not say
    flag[all_known] = False
    flag[df["machine_opens"].fillna(0) > 0] = True
    df["open_rate_inflated"] = flag
    human = ratio(df["unique_opens"] - df["machine_opens"], df["delivered"])
    df["open_rate_excl_machine"] = human.where(all_known)
    return df.drop(columns=["machine_known", "n_rows"])


def finish(df: pd.DataFrame) -> pd.DataFrame:
    """Revenue and margin per recipient (ratios of the row's sums)."""
    df = df.copy()
    for c in ("revenue", "margin", "recipients"):
        if c not in df:
            df[c] = float("nan")
    df["revenue_per_recipient"] = ratio(df["revenue"], df["recipients"])
    df["margin_per_recipient"] = ratio(df["margin"], df["recipients"])
    return df


SPEC = FamilySpec(
    name="email",
    label="e-mail",
    table="email_campaigns",
    formats="mailchimp, brevo or email",
    channel="Email",
    dimensions=("campaign",),
    money_dims=("day", "week", "month", "quarter", "year", "channel", "campaign"),
    compared=(
        "recipients",
        "delivered",
        "open_rate",
        "ctr",
        "ctor",
        "unsubscribe_rate",
        "revenue",
        "revenue_per_recipient",
        "margin",
        "full_roi",
    ),
    kpis=KPIS,
    rows=email_rows,
    finish=finish,
    money_note="",
    cost_hint="import the e-mail tool's subscription and the newsletters' production as costs with "
    "channel Email",
)
