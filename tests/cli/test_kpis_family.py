"""``trueroi kpis --family``: the library's JSON with the issue's KPI keys, CSV rows, and one line with exit
code 2 for an unknown family; without ``--family`` the command is unchanged (tests/contracts)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from trueroi.ingest import import_file

FIXTURES = Path(__file__).parents[1] / "ingest" / "fixtures"
EMAIL_KEYS = [
    "recipients",
    "delivered",
    "delivery_rate",
    "bounce_rate",
    "unique_opens",
    "open_rate",
    "unique_clicks",
    "ctr",
    "ctor",
    "unsubscribes",
    "unsubscribe_rate",
    "complaint_rate",
    "revenue",
    "revenue_per_recipient",
]
SEO_KEYS = ["clicks", "impressions", "ctr", "position"]
SOCIAL_KEYS = [
    "reach",
    "impressions",
    "engagements",
    "engagement_rate",
    "followers",
    "follower_growth",
    "clicks",
]


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the CLI in this process: (exit code, stdout, stderr)."""
    from trueroi.cli.main import main

    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


@pytest.fixture
def owned(workspace):
    import_file(workspace, "email", FIXTURES / "email_campaigns.csv")
    import_file(workspace, "search-console", FIXTURES / "gsc_download_en" / "Dates.csv")
    import_file(workspace, "social", FIXTURES / "social_posts.csv")
    return workspace


@pytest.mark.parametrize(
    ("family", "keys"), [("email", EMAIL_KEYS), ("seo", SEO_KEYS), ("social", SOCIAL_KEYS)]
)
def test_json_has_the_family_and_its_kpi_keys(owned, cli, family, keys) -> None:
    code, out, err = cli("kpis", "--family", family, "-f", "json", "-w", str(owned.path))
    assert code == 0, err
    payload = json.loads(out)
    assert payload["family"] == family
    assert {"rows", "totals", "period", "notes"} <= set(payload)
    assert set(keys) <= set(payload["totals"]) and all(set(keys) <= set(r) for r in payload["rows"])
    assert {"revenue", "margin", "media_roi", "full_roi"} <= set(payload["totals"])


def test_email_json_values_and_compare(owned, cli) -> None:
    code, out, err = cli(
        "kpis", "--family", "email", "--by", "campaign", "--from", "2025-05-06", "--to", "2025-05-12",
        "--compare", "previous", "-f", "json", "-w", str(owned.path),
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    # the May newsletter (3000 recipients, 260 unique clicks of 1300 unique opens) against the welcome flow's
    # 800 recipients sent the week before
    assert [r["campaign"] for r in payload["rows"]] == ["mai_newsletter"]
    assert payload["totals"]["ctor"] == pytest.approx(260 / 1300)
    assert (payload["totals"]["recipients_prev"], payload["totals"]["recipients_change"]) == (800, 2200)


def test_csv_rows(owned, cli) -> None:
    code, out, err = cli("kpis", "--family", "seo", "--by", "day", "-f", "csv", "-w", str(owned.path))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    # Dates.csv: 2025-03-01 215 clicks / 6200 impressions at 6.4, 03-02 250 / 6400 at 5.8, 03-03 230 / 6000
    assert [(r["day"], float(r["clicks"]), float(r["position"])) for r in rows] == [
        ("2025-03-01", 215, 6.4),
        ("2025-03-02", 250, 5.8),
        ("2025-03-03", 230, 6.1),
    ]


def test_table_shows_totals(owned, cli) -> None:
    code, out, err = cli("kpis", "--family", "social", "-w", str(owned.path))
    assert code == 0, err
    assert "Total" in out and "5,700" in out  # the account days' 2600 + 3100 impressions


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--family", "phone"], ["phone", "email, seo, social, paid"]),
        (["--family", "email", "--by", "query"], ["query", "e-mail"]),
    ],
)
def test_bad_family_or_breakdown_is_one_line_and_exit_2(owned, cli, args, words) -> None:
    code, _, err = cli("kpis", *args, "-w", str(owned.path))
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err
    assert all(w in lines[0] for w in words)
