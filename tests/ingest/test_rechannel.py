"""Channel rules re-applied to rows already loaded (issue 24, item 11): sessions and ad rows get the channel
an import under the current rules would give them, in one transaction; rows of trueroi's canonical files
keep the channel they came with. Expected channels follow GA4's default grouping and the rules by hand."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app
from trueroi.ingest import import_file
from trueroi.ingest.rechannel import apply_channel_rules
from trueroi.metrics import kpi_report
from trueroi.quality import findings
from trueroi.workspace import ChannelRule, Workspace


def _touch(i: int, source: str, medium: str, channel: str) -> dict:
    ts = datetime(2025, 1, 2, 9, i)
    return {
        "touch_id": f"t{i}",
        "user_id": f"u{i}",
        "ts": ts,
        "date_day": ts.date(),
        "source": source,
        "medium": medium,
        "channel": channel,
    }


def _load(ws: Workspace, table: str, rows: list[dict], name: str, fmt: str) -> None:
    ws.load({table: pd.DataFrame(rows)}, source_format=fmt, file_name=f"{name}.csv", sha256=name)


def _channels(ws: Workspace, table: str, key: str) -> dict:
    df = ws.table(table).execute()
    return dict(zip(df[key], df["channel"], strict=True))


@pytest.fixture
def loaded(workspace: Workspace, fixtures) -> Workspace:
    """Meta's Ads Manager export (two campaigns, two days: 4 rows, facebook / cpc -> GA4's "Paid Social"),
    three GA4 sessions and one row of a canonical touchpoints file that named its channel itself."""
    import_file(workspace, "meta-ads", fixtures / "meta_ads_manager.csv")
    _load(
        workspace,
        "touchpoints",
        [
            _touch(1, "fb", "paid", "Paid Social"),
            _touch(2, "ig", "paid", "Paid Social"),
            _touch(3, "google", "organic", "Organic Search"),
        ],
        "ga4",
        "ga4",
    )
    _load(workspace, "touchpoints", [_touch(4, "fb", "paid", "Influencer")], "own", "touchpoints")
    return workspace


def test_new_rules_reach_loaded_rows(loaded: Workspace) -> None:
    ads_before = loaded.table("ad_performance").count().execute()
    assert set(_channels(loaded, "ad_performance", "campaign_name").values()) == {"Paid Social"}
    loaded.config.channel_rules = [ChannelRule(channel="Meta", source="^(facebook|fb|ig)$")]
    result = apply_channel_rules(loaded)
    # every Meta ad row (source facebook) and the two fb/ig sessions move; google/organic and the canonical
    # file's row do not
    assert result.changed == {"touchpoints": 2, "ad_performance": ads_before}
    assert result.kept == {"touchpoints": 1, "ad_performance": 0}
    assert result.total == 2 + ads_before
    assert sorted((m["table"], m["from"], m["to"], m["rows"]) for m in result.moves) == [
        ("ad_performance", "Paid Social", "Meta", ads_before),
        ("touchpoints", "Paid Social", "Meta", 2),
    ]
    assert _channels(loaded, "touchpoints", "touch_id") == {
        "t1": "Meta",
        "t2": "Meta",
        "t3": "Organic Search",
        "t4": "Influencer",
    }
    assert set(_channels(loaded, "ad_performance", "campaign_name").values()) == {"Meta"}
    # the same rules again change nothing; dropping the rule brings GA4's group back
    assert apply_channel_rules(loaded).total == 0
    loaded.config.channel_rules = []
    assert apply_channel_rules(loaded).changed == {"touchpoints": 2, "ad_performance": ads_before}


def test_kpis_follow_the_reapplied_channels(loaded: Workspace) -> None:
    loaded.config.channel_rules = [ChannelRule(channel="Meta", source="^(facebook|fb|ig)$")]
    before = kpi_report(loaded, by="channel", extras=False).rows.set_index("channel")
    assert "Meta" not in before.index  # the sessions per day are a stored derived table
    apply_channel_rules(loaded)
    after = kpi_report(loaded, by="channel", extras=False).rows.set_index("channel")
    assert after.loc["Meta", "sessions"] == 2 and after.loc["Meta", "spend"] == pytest.approx(
        before.loc["Paid Social", "spend"]
    )


def test_a_rule_matching_one_side_is_found_and_fixed(loaded: Workspace) -> None:
    # the rule takes GA4's fb/ig sessions but not Meta's ad rows (source facebook)
    loaded.config.channel_rules = [ChannelRule(channel="Paid Social Meta", source="^(fb|ig)$")]
    apply_channel_rules(loaded)
    assert [f.code for f in findings(loaded)].count("channel_rule_split") == 1
    loaded.config.channel_rules = [ChannelRule(channel="Paid Social Meta", source="^(fb|ig|facebook)$")]
    apply_channel_rules(loaded)
    assert "channel_rule_split" not in [f.code for f in findings(loaded)]


def test_cli_channels_apply(loaded: Workspace) -> None:
    loaded.config.channel_rules = [ChannelRule(channel="Meta", source="^(fb|ig)$")]
    loaded.config.save(loaded.path)
    path = str(loaded.path)
    loaded.close()
    run = CliRunner().invoke(build_app(), ["channels", "apply", "--workspace", path, "--format", "json"])
    assert run.exit_code == 0, run.output
    payload = json.loads(run.stdout)
    assert payload["changed"] == {"touchpoints": 2, "ad_performance": 0} and payload["total"] == 2
    table = CliRunner().invoke(build_app(), ["channels", "apply", "--workspace", path])
    assert table.exit_code == 0, table.output
    assert "0 row(s) changed channel" in table.stdout


def test_rules_saved_in_the_web_settings_reach_loaded_rows(loaded: Workspace, tmp_path) -> None:
    from trueroi.server import ServerHome
    from trueroi.server.settings import change_config

    path = loaded.path
    loaded.close()
    home = ServerHome.init(tmp_path / "home")
    home.register_workspace("shop", path, actor="admin@example.com")
    rule = {"channel": "Meta", "source": "^(facebook|fb|ig)$", "medium": "", "campaign": ""}
    change_config(home, "shop", actor="admin@example.com", channel_rules=[rule])
    home.close()
    with Workspace.open(path) as ws:
        assert _channels(ws, "touchpoints", "touch_id") == {
            "t1": "Meta",
            "t2": "Meta",
            "t3": "Organic Search",
            "t4": "Influencer",  # a canonical file's own channel is kept
        }
        assert set(_channels(ws, "ad_performance", "campaign_name").values()) == {"Meta"}
