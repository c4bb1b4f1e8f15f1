"""Which partner earns an order or a lead: Ibis expressions over the touchpoints, one query per statement.

Touches are given to partners by their rules (:mod:`trueroi.partners.rules`): one hash join per set of
fields the rules name (source; source + campaign; ...), so 500 partners cost a handful of joins, not 500
comparisons per touch. The brand's own paid touches are those of its paid channels. Then, by the program's
``credit`` rule, with the ``lookback_days`` window before each event:

- ``last_paid_click``: the last partner or brand paid touch wins (:func:`~trueroi.workspace.rules.last_touch`
  over those touches); a partner earns the event only when its touch is that last one, so a later click on
  another partner or on the brand's own search ad takes it away (deduplication);
- ``last_non_direct_click``: the last non-direct touch of any kind wins (GA4's rule); a partner earns the
  event only when its touch is that last one (a later e-mail or organic visit takes it away too);
- ``network_claim``: the networks' reports say who earns it (``partner_transactions``, a publisher given to
  a partner by its ``network`` and ``network_id``); of several claims the one with the latest click wins,
  and none wins when the brand's own paid touch came after that click (or the click lies outside the
  window);
- any attribution model's name: the model's per-order credits (:func:`~trueroi.attribution.order_credits`)
  split the event over its touches; a partner earns its touches' share. The models read sales only, so a
  cancelled order is credited to nobody under them.

Ties at one instant are broken as :func:`~trueroi.workspace.rules.last_touch` does (channel, then partner
name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis
import numpy as np
import pandas as pd

from trueroi.attribution import build_journeys, get_model, order_credits
from trueroi.attribution.credits import touch_shares
from trueroi.errors import DataValidationError, UsageError
from trueroi.partners.rules import MATCH_FIELDS, PartnerRule, Program
from trueroi.workspace import Workspace
from trueroi.workspace.rules import is_sale, last_touch, utc_bounds

PARTNER_CHANNEL = "Partner"
# Order statuses whose commission is reversed (when the change came inside the lock period).
REVERSAL_STATUSES = ("cancelled", "canceled", "refunded", "voided", "returned")
LEAD_TYPE = "lead"


@dataclass(frozen=True)
class Period:
    """Local days ``start`` to ``end`` (inclusive) in the workspace time zone."""

    start: date
    end: date

    @classmethod
    def month(cls, text: str) -> Period:
        """The calendar month ``YYYY-MM``.

        Raises
        ------
        UsageError
            When ``text`` is not a month like 2026-10.
        """
        try:
            year, month = (int(p) for p in str(text).strip().split("-"))
            first = date(year, month, 1)
        except ValueError:
            raise UsageError(f"month {text!r} is not a month like 2026-10") from None
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1))

    @property
    def label(self) -> str:
        if (
            self.start.day == 1
            and (self.end + timedelta(days=1)).day == 1
            and self.start.month == self.end.month
        ):
            return self.start.strftime("%Y-%m")
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def order_events(ws: Workspace, period: Period) -> ibis.Table:
    """The period's orders that earn or reverse commission: sales and cancelled/refunded orders.

    Columns ``event_key`` (order id), ``user_id``, ``event_ts`` (UTC).
    """
    o = ws.table("orders")
    status = o.status.lower().strip()
    o = o.filter(
        o.date_day >= period.start,
        o.date_day <= period.end,
        o.order_id.notnull(),
        is_sale(o.status) | status.isin(list(REVERSAL_STATUSES)),
    )
    return o.select(event_key=o.order_id, user_id=o.user_id, event_ts=o.ts)


def lead_events(ws: Workspace, period: Period) -> ibis.Table:
    """The period's leads (``conversions`` of type ``lead``) as ``event_key, user_id, event_ts``."""
    c = ws.table("conversions")
    c = c.filter(
        c.date_day >= period.start,
        c.date_day <= period.end,
        c.type.lower().strip() == LEAD_TYPE,
        c.conversion_id.notnull(),
    )
    return c.select(event_key=c.conversion_id, user_id=c.user_id, event_ts=c.ts)


def paid_channels(ws: Workspace, program: Program) -> list[str]:
    """The brand's own paid channels: the program's list, else every channel with spend in ad_performance."""
    if program.paid_channels is not None:
        return [c.strip().lower() for c in program.paid_channels]
    ads = ws.table("ad_performance")
    found = ads.filter(ads.channel.notnull() & (ads.spend > 0)).channel.lower().strip().name("c")
    return sorted(str(c) for c in found.as_table().distinct().execute()["c"])


def _signatures(rules: list[PartnerRule]) -> list[tuple[tuple[str, ...], list[PartnerRule]]]:
    """Rules grouped by the touch fields they name, most specific first (then by first partner name)."""
    groups: dict[tuple[str, ...], list[PartnerRule]] = {}
    for rule in rules:
        if rule.match:
            groups.setdefault(tuple(f for f in MATCH_FIELDS if f in rule.match), []).append(rule)
    return sorted(groups.items(), key=lambda kv: (-len(kv[0]), min(r.partner for r in kv[1])))


def tag_touches(
    ws: Workspace, rules: list[PartnerRule], program: Program, events: ibis.Table, period: Period
) -> ibis.Table:
    """The touches of the events' users inside the window, each with its ``partner`` (null for none) and
    ``is_paid`` (a touch of the brand's own paid channels that is no partner's).

    Columns ``user_id, ts, channel, campaign, partner, is_paid``.
    """
    lo, hi = utc_bounds(period.start, period.end, ws.config.timezone)
    tp = ws.table("touchpoints")
    tp = tp.filter(tp.user_id.notnull(), tp.ts >= lo - timedelta(days=program.lookback_days), tp.ts < hi)
    keys = {f"_k_{f}": tp[f].strip().lower() for f in MATCH_FIELDS}
    t = tp.select("user_id", "ts", "channel", "campaign", **keys)
    users = events.filter(events.user_id.notnull()).select(_u=events.user_id).distinct()
    t = t.semi_join(users, t.user_id == users._u)  # a projection of a join may not be joined again
    found = []
    for i, (fields, group) in enumerate(_signatures(rules)):
        mem = ibis.memtable(
            {
                **{f"_s{i}_{f}": [r.match[f] for r in group] for f in fields},
                f"_p{i}": [r.partner for r in group],
            }
        )
        joined = t.left_join(mem, [t[f"_k_{f}"] == mem[f"_s{i}_{f}"] for f in fields])
        t = joined.select(*t.columns, mem[f"_p{i}"])
        found.append(f"_p{i}")
    partner = ibis.coalesce(*[t[c] for c in found]) if found else ibis.null("string")
    paid = ibis.literal(paid_channels(ws, program), type="array<string>")
    is_paid = partner.isnull() & paid.contains(t.channel.strip().lower()).fill_null(False)
    return t.select("user_id", "ts", "channel", "campaign", partner=partner.cast("string"), is_paid=is_paid)


def _as_touchpoints(tagged: ibis.Table) -> ibis.Table:
    """Tagged touches in the shape :func:`last_touch` reads: a partner touch has channel ``Partner`` and the
    partner's name as its campaign; every other touch keeps its channel and has no campaign."""
    partner = tagged.partner
    channel = ibis.cases((partner.notnull(), ibis.literal(PARTNER_CHANNEL)), else_=tagged.channel)
    return tagged.select("user_id", "ts", channel=channel, campaign=partner, is_brand=ibis.literal(False))


def _last_click(events: ibis.Table, tagged: ibis.Table, program: Program) -> ibis.Table:
    if program.credit == "last_paid_click":
        tagged = tagged.filter(tagged.partner.notnull() | tagged.is_paid)
    best = last_touch(
        events,
        _as_touchpoints(tagged),
        lookback_days=program.lookback_days,
        skip_direct=program.credit == "last_non_direct_click",
    )
    best = best.filter(best.campaign.notnull())
    return best.select("event_key", partner=best.campaign, credit=ibis.literal(1.0), click_ts=best.touch_ts)


def _claims(ws: Workspace, rules: list[PartnerRule]) -> ibis.Table:
    """Network claims per order and partner: ``order_id, partner, click_ts`` (declined and fully corrected
    transactions left out; a publisher without a partner rule is nobody's)."""
    ids = [r for r in rules if r.network and r.network_id]
    if not ids or "partner_transactions" not in set(ws.con.list_tables()):
        return ibis.memtable(
            {"order_id": [], "partner": [], "click_ts": []},
            schema={"order_id": "string", "partner": "string", "click_ts": "timestamp"},
        )
    pt = ws.table("partner_transactions")
    pt = pt.filter(pt.order_id.notnull(), pt.status.isnull() | (pt.status != "declined"))
    per = pt.group_by(
        order_id=pt.order_id.strip(), network=pt.network.lower(), publisher_id=pt.publisher_id.strip()
    ).aggregate(sale=pt.sale_amount.sum(), click_ts=pt.click_ts.max())
    per = per.filter(per.sale > 0)
    mem = ibis.memtable(
        {
            "_net": [r.network for r in ids],
            "_pub": [r.network_id for r in ids],
            "partner": [r.partner for r in ids],
        }
    )
    joined = per.inner_join(mem, [per.network == mem._net, per.publisher_id == mem._pub])
    return joined.select("order_id", "partner", "click_ts")


def _network_claim(
    ws: Workspace, events: ibis.Table, tagged: ibis.Table, rules: list[PartnerRule], program: Program
) -> ibis.Table:
    claims = _claims(ws, rules)
    window = ibis.interval(days=program.lookback_days)
    cand = events.inner_join(claims, events.event_key == claims.order_id)
    rank = ibis.row_number().over(
        group_by=cand.event_key, order_by=[cand.click_ts.desc(nulls_first=False), cand.partner]
    )
    best = cand.mutate(_rank=rank)
    best = best.filter(best._rank == 0)
    since = ibis.coalesce(best.click_ts, best.event_ts - window)
    best = best.mutate(_since=since).filter(since >= best.event_ts - window)
    paid = tagged.filter(tagged.is_paid).select(_pu="user_id", _pts="ts")
    later = best.inner_join(
        paid, [best.user_id == paid._pu, paid._pts > best._since, paid._pts <= best.event_ts]
    )
    taken = later.select(_e=later.event_key).distinct()
    best = best.anti_join(taken, best.event_key == taken._e)
    return best.select("event_key", "partner", credit=ibis.literal(1.0), click_ts=best.click_ts)


def _model_split(
    ws: Workspace, events: ibis.Table, tagged: ibis.Table, program: Program, period: Period, kind: str
) -> ibis.Table:
    """Credits of an attribution model, each (channel, campaign) share given to the partner whose touches
    carry it."""
    lo, hi = utc_bounds(period.start, period.end, ws.config.timezone)
    credits_of = order_credits if kind == "order" else lead_credits
    credits = credits_of(ws, program.model, lookback_days=program.lookback_days, start=lo, end=hi)
    pairs = _pair_table(tagged)
    merged = credits.merge(pairs, on=["channel", "campaign"], how="inner")
    merged = merged[merged["partner"].notna()]
    split = merged.groupby(["order_id", "partner"], as_index=False)["credit"].sum()
    frame = pd.DataFrame(
        {
            "event_key": split["order_id"].astype(str),
            "partner": split["partner"].astype(str),
            "credit": split["credit"].astype(float),
            "click_ts": pd.Series(pd.NaT, index=split.index, dtype="datetime64[us]"),
        }
    )
    credited = ibis.memtable(frame)
    return credited.semi_join(events, credited.event_key == events.event_key)


def lead_credits(
    ws: Workspace, model: str, *, lookback_days: int, start: datetime, end: datetime
) -> pd.DataFrame:
    """Per-lead credits of an attribution model, as :func:`~trueroi.attribution.order_credits` gives them
    for orders (which reads orders only): ``order_id`` (the lead's conversion id), ``channel, campaign,
    credit``."""
    journeys = build_journeys(
        ws, lookback_days=lookback_days, source="conversions", types=[LEAD_TYPE], start=start, end=end
    )
    if journeys.n_journeys == 0 or journeys.total_conversions == 0:
        return pd.DataFrame({"order_id": [], "channel": [], "campaign": [], "credit": []})
    shares = touch_shares(journeys, get_model(model))
    jt = journeys.journey_of_touch()
    frame = pd.DataFrame(
        {
            "order_id": journeys.journey_meta["event_id"].to_numpy()[jt],
            "channel": np.asarray(journeys.channels, dtype=object)[journeys.codes],
            "campaign": journeys.touch_meta["campaign"].to_numpy(),
            "credit": shares,
            "converted": journeys.conversions[jt] > 0,
        }
    )
    frame = frame[frame["converted"] & (frame["credit"] > 0)]
    return frame.groupby(["order_id", "channel", "campaign"], dropna=False, as_index=False)["credit"].sum()


def _pair_table(tagged: ibis.Table) -> pd.DataFrame:
    """``channel, campaign -> partner`` of the tagged touches.

    Raises
    ------
    DataValidationError
        When a pair's touches belong to a partner and to another one (or to none): a model's credit for
        the pair cannot be carried to one partner.
    """
    pairs = tagged.group_by("channel", "campaign").aggregate(
        n=tagged.partner.fill_null("").nunique(), partner=tagged.partner.max()
    )
    frame = pairs.execute()
    mixed = frame[frame["n"] > 1]
    if not mixed.empty:
        row = mixed.iloc[0]
        raise DataValidationError(
            f"channel {row['channel']!r}, campaign {row['campaign']!r} holds touches of a partner and of "
            "another partner or of none: an attribution model's credit for it cannot be given to one partner",
            expected="partners recognisable by channel and campaign (give each its own campaign), or credit "
            "by last_paid_click / last_non_direct_click",
        )
    return frame[["channel", "campaign", "partner"]]


def credited_events(
    ws: Workspace, rules: list[PartnerRule], program: Program, period: Period, kind: str = "order"
) -> tuple[ibis.Table, ibis.Table]:
    """The period's orders (``kind="order"``) or leads credited to partners, and the tagged touches.

    Returns
    -------
    (ibis.Table, ibis.Table)
        ``event_key, partner, credit, click_ts`` (credit in (0, 1]; a click rule gives 1 to one partner;
        ``click_ts`` the partner's click, null under a model) and the tagged touches of
        :func:`tag_touches`.
    """
    events = order_events(ws, period) if kind == "order" else lead_events(ws, period)
    tagged = tag_touches(ws, rules, program, events, period)
    if program.credit in ("last_paid_click", "last_non_direct_click"):
        credited = _last_click(events, tagged, program)
    elif program.credit == "network_claim":
        credited = _network_claim(ws, events, tagged, rules, program)
    else:
        credited = _model_split(ws, events, tagged, program, period, kind)
    return credited, tagged
