"""JSON contracts of ``trueroi mmm longterm`` and ``trueroi content`` (issue 22), checked as the other
commands' are (see ``test_json_contracts.py``: snapshots in ``shapes/``, additive changes only)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from .test_json_contracts import JSON, check, invoke, parsed


def test_mmm_longterm(tmp_path: Path) -> None:
    from trueroi.mmm import MMM
    from trueroi.mmm.simulate import simulate

    sim = simulate(seed=2, n_periods=60, rois=(2.0, 1.0, 0.5))
    model = MMM(method="laplace", draws=50, seed=1, margin_rate=0.5)
    model.fit(sim.df, date="week", target="revenue", channels=sim.channels).save(tmp_path / "m")
    check("mmm_longterm", parsed(invoke("mmm", "longterm", tmp_path / "m", *JSON)))


def test_content(tmp_path: Path) -> None:
    from trueroi.workspace import Workspace
    from trueroi.workspace.config import WorkspaceConfig

    ws = Workspace.init(tmp_path / "ws", WorkspaceConfig(name="contract"))
    start = datetime(2025, 1, 2, 9)
    touches, orders = [], []
    for k in range(150):  # one organic visit a day on the page, a sale every other day
        ts = start + timedelta(days=k)
        touches.append(
            {
                "touch_id": f"t{k}",
                "user_id": f"u{k}",
                "ts": ts,
                "channel": "Organic Search",
                "landing_page": "https://shop.de/guide",
            }
        )
        if k % 2 == 0:
            orders.append(
                {
                    "order_id": f"o{k}",
                    "user_id": f"u{k}",
                    "customer_id": f"u{k}",
                    "ts": ts + timedelta(hours=1),
                    "currency": "EUR",
                    "revenue": 50.0 * 0.98**k,
                    "cogs": 20.0 * 0.98**k,
                    "status": "paid",
                }
            )
    for name, rows in (("touchpoints", touches), ("orders", orders)):
        frame = pd.DataFrame(rows)
        frame["date_day"] = pd.to_datetime(frame["ts"]).dt.date
        ws.load({name: frame}, source_format="test", file_name=f"{name}.csv", sha256=name)
    cost = {
        "period_start": date(2025, 1, 1),
        "period_end": date(2025, 1, 1),
        "category": "production",
        "amount": 900.0,
        "currency": "EUR",
        "campaign_id": "/guide",
    }
    ws.load({"costs": pd.DataFrame([cost])}, source_format="test", file_name="costs.csv", sha256="costs")
    ws.close()
    check("content", parsed(invoke("content", "--workspace", tmp_path / "ws", "--horizon", "12", *JSON)))


@pytest.mark.parametrize("command", [("mmm", "longterm"), ("content",)])
def test_commands_take_format(command: tuple[str, ...]) -> None:
    from .test_json_contracts import _json_commands

    assert " ".join(command) in _json_commands()
