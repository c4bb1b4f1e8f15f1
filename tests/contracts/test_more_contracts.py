"""JSON contracts of the commands recorded after the first snapshots: ``channels apply``, ``partners ...``,
the server home's ``server audit``, ``user list``, ``token list`` and ``collector keys``, and ``privacy
forget`` / ``privacy retention``. Checked as the others are (see ``test_json_contracts.py``: snapshots in
``shapes/``, additive changes only).

First versions: recorded from the code of 2026-12 with ``TRUEROI_WRITE_SHAPES=1 -k`` on this module, with no
older snapshot to compare against. Each data set is built once per module and every command that writes
state runs on it once, in order, before the tests read the results:

- partners: the shop of ``tests/partners/shop.py`` (three partners' rules, October 2026), then a fourth rule,
  the credit rule of the program and Awin's transaction report, as ``tests/partners/test_cli.py`` does;
- server: the home of ``tests/tracking/conftest.py`` (workspaces ``shop`` and ``other``, collector keys),
  two users, two API tokens (one revoked), tracked page views (one received 400 days before the others);
- channels: Meta's Ads Manager export and two sessions, a channel rule that moves both (as
  ``tests/ingest/test_rechannel.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from ..partners.shop import build
from ..tracking.conftest import browser_events, make_home, ms
from .test_json_contracts import FIXTURES, JSON, Checks, Result, check, invoke, parsed

AS_OF = ["--as-of", "2026-11-20"]
OCTOBER = ["--month", "2026-10", *AS_OF]
PASSWORD = "a long enough password 1"
URL = "https://shop.example/"


def _run_in_order(steps: list[tuple[str, list[Any]]], extra: list[Any]) -> dict[str, list[Result]]:
    done: dict[str, list[Result]] = {}
    for name, args in steps:
        done.setdefault(name, []).append(invoke(*args, *extra, *JSON))
    return done


@pytest.fixture
def checks() -> Checks:
    return Checks()


# -- partners ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def partners(tmp_path_factory) -> SimpleNamespace:
    """The partner shop after ``partners rule add``, ``program`` and ``import`` ran on it, with their
    results."""
    from trueroi.workspace import Workspace, WorkspaceConfig

    path = tmp_path_factory.mktemp("partners") / "ws"
    with Workspace.init(path, WorkspaceConfig(name="partners", brand_terms=["acme"])) as ws:
        build(ws)
    w = ["-w", path]
    rule = ["--source", "coupons", "--medium", "affiliate", "--basis", "order", "--rate", "3"]
    rule += ["--network", "cj", "--network-id", "333", "--tiers", "2:4", "--returning-rate", "1"]
    rule += ["--exclude-vouchers", "STAFF", "--own-vouchers", "COUPONS5", "--exclude-categories", "gifts"]
    program = ["--credit", "last_non_direct_click", "--lookback-days", "20", "--paid-channels", "Paid Search"]
    steps = [
        ("partners_rule_add", ["partners", "rule", "add", "coupons", *rule]),
        ("partners_program", ["partners", "program", *program]),
        ("partners_import", ["partners", "import", FIXTURES / "awin_transactions.csv"]),
    ]
    return SimpleNamespace(w=w, done=_run_in_order(steps, w))


@pytest.mark.parametrize("name", ["partners_rule_add", "partners_program", "partners_import"])
def test_partners_commands_that_write_state(partners, name: str) -> None:
    check(name, *[parsed(r) for r in partners.done[name]])


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("partners_rule_list", ["partners", "rule", "list"]),
        ("partners_statement", ["partners", "statement", *OCTOBER]),
        ("partners_value", ["partners", "value", *OCTOBER]),
    ],
)
def test_partners_reports(partners, name: str, args: list[str]) -> None:
    check(name, parsed(invoke(*args, *partners.w, *JSON)))


def test_partners_reconcile(partners) -> None:
    # one network named, so that the document's "network" is recorded as a string (null without --network)
    awin = parsed(invoke("partners", "reconcile", *OCTOBER, "--network", "awin", *partners.w, *JSON))
    check("partners_reconcile", awin)


# -- channels ---------------------------------------------------------------------------------------------
def test_channels_apply(tmp_path: Path) -> None:
    from trueroi.ingest import import_file
    from trueroi.workspace import ChannelRule, Workspace, WorkspaceConfig

    with Workspace.init(tmp_path / "ws", WorkspaceConfig(name="channels")) as ws:
        import_file(ws, "meta-ads", FIXTURES / "meta_ads_manager.csv")  # facebook / cpc: Paid Social
        sessions = pd.DataFrame(
            {
                "touch_id": ["t1", "t2"],
                "user_id": ["u1", "u2"],
                "ts": pd.to_datetime(["2025-01-02 09:01", "2025-01-02 09:02"]),
                "source": ["fb", "google"],
                "medium": ["paid", "organic"],
                "channel": ["Paid Social", "Organic Search"],
            }
        )
        sessions["date_day"] = sessions["ts"].dt.date
        ws.load({"touchpoints": sessions}, source_format="ga4", file_name="ga4.csv", sha256="ga4")
        ws.config.channel_rules = [ChannelRule(channel="Meta", source="^(facebook|fb)$")]
        ws.config.save(ws.path)
    check("channels_apply", parsed(invoke("channels", "apply", "-w", tmp_path / "ws", *JSON)))


# -- the server home: users, tokens, audit log, collector keys; privacy ----------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory) -> SimpleNamespace:
    """A server home with two workspaces and a third registered from outside it, an admin, an analyst of
    ``shop`` with two API tokens (``old`` revoked, ``ci`` used once), and three tracked page views in
    ``shop``: two of ``v1`` received now and one of ``v2`` received 400 days ago; then ``collector keys``
    (read, and rotated), ``privacy forget v1`` and ``privacy retention --days 365``."""
    from trueroi.server import add_user, authenticate_token, create_token, revoke_token
    from trueroi.tracking import load_events
    from trueroi.workspace import Workspace, WorkspaceConfig

    root = tmp_path_factory.mktemp("server")
    made = make_home(root)
    home = made.home
    Workspace.init(root / "outside", WorkspaceConfig(name="outside")).close()
    home.register_workspace("outside", root / "outside", actor="cli:test")
    add_user(home, "boss@example.com", PASSWORD, "admin", actor="cli:test")
    add_user(home, "ana@example.com", PASSWORD, "analyst", ["shop"], actor="cli:test")
    tokens = {name: create_token(home, "ana@example.com", name, actor="cli:test") for name in ("old", "ci")}
    assert authenticate_token(home, tokens["ci"]) is not None
    revoke_token(home, "ana@example.com", "old", actor="cli:test")
    now = datetime.now(UTC).replace(microsecond=0)  # privacy retention counts days back from the clock
    with made.workspace("shop") as ws:
        for user, events, received in (("v1", "ab", now), ("v2", "c", now - timedelta(days=400))):
            views = [
                {"event_id": e, "type": "page_view", "ts": ms(received), "url": URL, "user_id": user}
                for e in events
            ]
            load_events(ws, browser_events(views, now=received))
    shop = home.workspace_path("shop")
    home.close()
    steps = [
        ("collector_keys", ["collector", "keys", "shop", "--home", home.path]),
        ("collector_keys", ["collector", "keys", "other", "--rotate", "--home", home.path]),
        ("privacy_forget", ["privacy", "forget", "v1", "-w", shop]),
        ("privacy_retention", ["privacy", "retention", "--days", "365", "-w", shop]),
    ]
    return SimpleNamespace(home=home.path, done=_run_in_order(steps, []))


@pytest.mark.parametrize("name", ["collector_keys", "privacy_forget", "privacy_retention"])
def test_server_commands_that_write_state(server, name: str) -> None:
    check(name, *[parsed(r) for r in server.done[name]])


def test_privacy_figures(server) -> None:
    # by hand: v1 had two page views (one session); only v2's view was received more than 365 days ago
    (forget,) = (parsed(r) for r in server.done["privacy_forget"])
    (retention,) = (parsed(r) for r in server.done["privacy_retention"])
    assert (forget["events"], forget["touchpoints"]) == (2, 1)
    assert retention == {"deleted": 1, "days": 365}


def test_server_home_lists(checks: Checks, server) -> None:
    home = ["--home", server.home]
    checks("user_list", parsed(invoke("user", "list", *home, *JSON)))
    checks("token_list", parsed(invoke("token", "list", "ana@example.com", *home, *JSON)))
    checks("server_audit", parsed(invoke("server", "audit", *home, *JSON)))
    checks.done()
