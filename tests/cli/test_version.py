"""``trueroi --version`` prints the installed package's version (the one pyproject.toml declares)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from trueroi.cli.main import main

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def test_version_option_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code in (0, None)
    assert capsys.readouterr().out.strip() == f"trueroi {declared}"
