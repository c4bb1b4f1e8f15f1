"""``trueroi.toml`` is checked as a whole when it is read: each problem names the file, the key and what was
expected there, on one line; through the CLI it is that line and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from trueroi.cli.main import main
from trueroi.errors import ConfigError
from trueroi.workspace import Workspace, WorkspaceConfig
from trueroi.workspace.config import CONFIG_FILE, Alerting, Branding


def write_config(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_FILE
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[alerting]\nsmtp_port = "abc"\n', 'alerting.smtp_port = "abc": expected a whole number'),
        ("[alerting]\nsmtp_port = 70000\n", "alerting.smtp_port = 70000: expected a number of at most 65535"),
        ("[alerting]\nmax_attempts = -3\n", "alerting.max_attempts = -3: expected a number of at least 1"),
        ("[alerting]\nmax_attempts = 2.5\n", "alerting.max_attempts = 2.5: expected a whole number"),
        ('[alerting]\nsmtp_tls = "tls"\n', "alerting.smtp_tls = \"tls\": expected one of 'starttls', 'ssl'"),
        ('[alerting]\nsmtp_starttls = "yes"\n', 'alerting.smtp_starttls = "yes": expected true or false'),
        ("[alerting]\nread_timeout_s = 0\n", "alerting.read_timeout_s = 0: expected a number above 0"),
        ('lookback_days = "thirty"\n', 'lookback_days = "thirty": expected a whole number'),
        ("lookback_days = 0\n", "lookback_days = 0: expected a number of at least 1"),
        ("default_margin = 1.5\n", "default_margin = 1.5: expected a number of at most 1"),
        ('brand_terms = "acme"\n', 'brand_terms = "acme": expected a list'),
        ('brand_terms = ["acme", 3]\n', "brand_terms[2] = 3: expected text in quotes"),
        ("alerting = 5\n", "alerting = 5: expected a table"),
        ('[[channel_rules]]\nsource = "x"\n', "channel_rules[1].channel: missing"),
        ("[clients.acme]\nlogo = 5\n", "clients.acme.logo = 5: expected text in quotes"),
        ('[branding]\nprimary_colour = "#ffffff"\n', "branding.primary_colour: unknown key"),
        ("lookback = 30\n", "lookback: unknown key"),
        ("[import]\nfuture_dayz = 3\n", "import.future_dayz: unknown key"),
        ('base_currency = "euro"\n', "base_currency 'euro' is not an ISO 4217 code like 'EUR'"),
        ('backend_url = "foo://bar"\n', "backend_url 'foo://bar': unknown backend 'foo'"),
        ('backend_url = "notaurl"\n', "backend_url 'notaurl' is not a backend URL like"),
        (
            '[alerting]\nsmtp_tls = "ssl"\nsmtp_starttls = true\n',
            'alerting.smtp_starttls = true needs smtp_tls = "starttls"',
        ),
    ],
)
def test_a_bad_value_names_file_key_and_expectation_on_one_line(tmp_path, toml, expected) -> None:
    path = write_config(tmp_path, toml)
    with pytest.raises(ConfigError) as refused:
        WorkspaceConfig.load(tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and expected in message, message
    assert "\n" not in message


def test_unknown_keys_list_the_known_ones(tmp_path) -> None:
    write_config(tmp_path, '[alerting]\nsmtp_hots = "mail.example.com"\n')
    with pytest.raises(ConfigError, match="alerting.smtp_hots: unknown key") as refused:
        WorkspaceConfig.load(tmp_path)
    assert "smtp_host" in str(refused.value) and "max_attempts" in str(refused.value)


def test_every_problem_is_named_at_once(tmp_path) -> None:
    write_config(tmp_path, 'lookback_days = "thirty"\n[alerting]\nsmtp_port = "abc"\nmax_attempts = -3\n')
    with pytest.raises(ConfigError) as refused:
        WorkspaceConfig.load(tmp_path)
    message = str(refused.value)
    for key in ("lookback_days", "alerting.smtp_port", "alerting.max_attempts"):
        assert key in message
    assert "\n" not in message


def test_a_file_that_is_not_utf8(tmp_path) -> None:
    path = tmp_path / CONFIG_FILE
    path.write_bytes('name = "Caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text") as refused:
        WorkspaceConfig.load(tmp_path)
    assert str(refused.value).startswith(f"{path}: ")


def test_a_toml_syntax_error_names_the_file(tmp_path) -> None:
    path = write_config(tmp_path, "name = \n")
    with pytest.raises(ConfigError, match="line 1") as refused:
        WorkspaceConfig.load(tmp_path)
    assert str(refused.value).startswith(f"{path}: ")


def test_a_full_config_round_trips(tmp_path) -> None:
    config = WorkspaceConfig(
        name="shop",
        brand_terms=["acme"],
        lookback_days=14,
        default_margin=0.35,
        branding=Branding(name="Acme", logo="brand/logo.png"),
        clients={"north": Branding(name="North", primary_color="#000000")},
        alerting=Alerting(smtp_host="mail.example.com", smtp_port=587, smtp_tls="ssl", read_timeout_s=2.5),
        branding_dir="../logos",
    )
    config.save(tmp_path)
    assert WorkspaceConfig.load(tmp_path) == config


def test_values_read_from_toml_keep_their_types(tmp_path) -> None:
    write_config(tmp_path, "[alerting]\nconnect_timeout_s = 3\nsmtp_port = 587\n")
    alerting = WorkspaceConfig.load(tmp_path).alerting
    assert alerting.connect_timeout_s == 3.0 and isinstance(alerting.connect_timeout_s, float)
    assert alerting.smtp_port == 587 and alerting.max_attempts == 5  # the rest keep their defaults


def _run(capsys, *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace("smtp_port = 25", 'smtp_port = "abc"'),
        lambda text: text.replace('backend_url = "duckdb://warehouse.duckdb"', 'backend_url = "foo://x"'),
        lambda text: text + "\n# caf\udce9\n",  # not UTF-8 once written with surrogateescape
    ],
)
def test_through_the_cli_one_line_and_exit_2(tmp_path, capsys, monkeypatch, edit) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    ws = Workspace.init(tmp_path / "ws")
    ws.close()
    path = ws.path / CONFIG_FILE
    text = path.read_text(encoding="utf-8")
    assert edit(text) != text
    path.write_bytes(edit(text).encode("utf-8", "surrogateescape"))
    code, err = _run(capsys, "kpis", "--workspace", str(ws.path))
    assert code == 2, err
    assert err.startswith(f"error: {path}: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
