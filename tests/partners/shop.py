"""A small shop with partners, built row by row so that every statement figure can be computed by hand.

Month 2026-10, workspace EUR / Europe/Berlin, times in UTC at midday (no day-cut question). Partners:

- ``deals`` (a voucher site; links ``utm_source=deals&utm_medium=affiliate``, campaign ``deals``, Awin
  publisher 111): 5 % of revenue, from the 3rd credited order of a month 10 %; any voucher but its own
  ``DEALS10`` excluded; lock 30 days.
- ``blog`` (links ``source=blog, medium=affiliate``, Awin publisher 222): 20 % of margin, 10 % for
  returning customers; lock 30 days.
- ``leadgen`` (``source=leadgen``): 2.50 per lead.

The brand's own paid channel is ``Paid Search`` (it has spend in ad_performance). See tests/partners/
test_worked_statement.py for the orders and what each earns.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pyarrow as pa

from trueroi.partners import add_rule, make_rule
from trueroi.workspace import Workspace

TZ = ZoneInfo("Europe/Berlin")
AFFILIATE = "Affiliate"
LINKS = {
    "deals": ("deals", "affiliate", "deals", AFFILIATE),
    "blog": ("blog", "affiliate", "blog", AFFILIATE),
    "leadgen": ("leadgen", "affiliate", "leadgen", AFFILIATE),
    "search": ("google", "cpc", "brand", "Paid Search"),
    "email": ("newsletter", "email", "newsletter", "Email"),
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _day(ts: datetime):  # noqa: ANN202 - a date
    return ts.replace(tzinfo=ZoneInfo("UTC")).astimezone(TZ).date()


# order id, user, time, revenue (net of refunds), refunded, cogs, status, status_at, new customer, voucher
ORDERS = [
    ("O1", "u1", "2026-10-02 12:00", 100.0, None, 60.0, "paid", None, True, None),
    ("O2", "u2", "2026-10-03 12:00", 200.0, None, 120.0, "paid", None, True, None),
    ("O3", "u3", "2026-10-05 12:00", 60.0, 40.0, 50.0, "partially_refunded", "2026-10-20 09:00", True, None),
    ("O4", "u4", "2026-10-06 12:00", 50.0, None, 20.0, "paid", None, True, "SUMMER20"),
    ("O5", "u5", "2026-10-07 12:00", 80.0, None, 30.0, "paid", None, True, "deals10"),
    ("O6", "u6", "2026-10-08 12:00", 0.0, 120.0, 70.0, "cancelled", "2026-10-15 08:00", True, None),
    ("O7", "u7", "2026-10-09 12:00", 0.0, 150.0, 90.0, "cancelled", "2026-11-20 10:00", True, None),
    ("O8", "u8", "2026-10-10 12:00", 100.0, None, 40.0, "paid", None, False, None),
    ("O9", "u9", "2026-10-11 12:00", 100.0, None, 40.0, "paid", None, True, None),
    ("O10", "u10", "2026-10-25 12:00", 60.0, None, 30.0, "paid", None, True, None),
]
# user, link, time
TOUCHES = [
    ("u1", "deals", "2026-10-01 10:00"),
    ("u2", "deals", "2026-10-03 09:00"),
    ("u3", "deals", "2026-10-05 09:00"),
    ("u4", "deals", "2026-10-06 09:00"),
    ("u5", "deals", "2026-10-07 09:00"),
    ("u6", "deals", "2026-10-08 09:00"),
    ("u7", "deals", "2026-10-09 09:00"),
    ("u8", "deals", "2026-10-10 09:00"),
    ("u8", "blog", "2026-10-10 10:00"),
    ("u8", "email", "2026-10-10 11:00"),
    ("u9", "deals", "2026-10-11 09:00"),
    ("u9", "search", "2026-10-11 10:00"),
    ("u10", "deals", "2026-10-25 09:00"),
    ("u11", "leadgen", "2026-10-12 09:00"),
]
LEADS = [("L1", "u11", "2026-10-12 10:00")]


def orders_table(rows: list[tuple] = ORDERS) -> pa.Table:
    ts = [at(r[2]) for r in rows]
    return pa.table(
        {
            "order_id": [r[0] for r in rows],
            "customer_id": [f"c_{r[1]}" for r in rows],
            "user_id": [r[1] for r in rows],
            "ts": pa.array(ts, pa.timestamp("us")),
            "date_day": [_day(t) for t in ts],
            "currency": ["EUR"] * len(rows),
            "revenue": [r[3] for r in rows],
            "refunded": pa.array([r[4] for r in rows], pa.float64()),
            "cogs": [r[5] for r in rows],
            "status": [r[6] for r in rows],
            "status_at": pa.array([at(r[7]) if r[7] else None for r in rows], pa.timestamp("us")),
            "is_new_customer": [r[8] for r in rows],
            "voucher_code": pa.array([r[9] for r in rows], pa.string()),
        }
    )


def touches_table(rows: list[tuple] = TOUCHES) -> pa.Table:
    ts = [at(r[2]) for r in rows]
    return pa.table(
        {
            "touch_id": [f"t{i}" for i in range(len(rows))],
            "user_id": [r[0] for r in rows],
            "ts": pa.array(ts, pa.timestamp("us")),
            "date_day": [_day(t) for t in ts],
            "source": [LINKS[r[1]][0] for r in rows],
            "medium": [LINKS[r[1]][1] for r in rows],
            "campaign": [LINKS[r[1]][2] for r in rows],
            "channel": [LINKS[r[1]][3] for r in rows],
            "is_brand": [r[1] == "search" for r in rows],
        }
    )


def leads_table() -> pa.Table:
    ts = [at(r[2]) for r in LEADS]
    return pa.table(
        {
            "conversion_id": [r[0] for r in LEADS],
            "user_id": [r[1] for r in LEADS],
            "ts": pa.array(ts, pa.timestamp("us")),
            "date_day": [_day(t) for t in ts],
            "type": ["lead"] * len(LEADS),
        }
    )


def ads_table() -> pa.Table:
    return pa.table(
        {
            "date_day": [_day(at("2026-10-11 10:00"))],
            "platform": ["google_ads"],
            "campaign_id": ["brand"],
            "campaign_name": ["brand"],
            "channel": ["Paid Search"],
            "currency": ["EUR"],
            "spend": [50.0],
            "impressions": [1000],
            "clicks": [40],
        }
    )


def load(ws: Workspace, name: str, **tables: pa.Table) -> None:
    ws.load(tables, source_format="test", file_name=name, sha256=name)


def build(ws: Workspace) -> Workspace:
    """Load the shop and the partners' rules into ``ws``."""
    load(
        ws,
        "shop",
        orders=orders_table(),
        touchpoints=touches_table(),
        conversions=leads_table(),
        ad_performance=ads_table(),
    )
    add_rule(
        ws,
        make_rule(
            "deals",
            source="deals",
            medium="affiliate",
            network="awin",
            network_id="111",
            basis="revenue",
            rate=0.05,
            tiers="2:0.10",
            exclude_vouchers="*",
            own_vouchers="DEALS10",
            lock_days=30,
        ),
    )
    add_rule(
        ws,
        make_rule(
            "blog",
            source="blog",
            medium="affiliate",
            network="awin",
            network_id="222",
            basis="margin",
            rate=0.20,
            returning_rate=0.10,
            lock_days=30,
        ),
    )
    add_rule(ws, make_rule("leadgen", source="leadgen", basis="lead", rate=2.5, lock_days=30))
    return ws
