"""The README documents every setting and every CLI command."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from cli import main
from exchange.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "exchange") -> list[str]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        found += commands(command, path) if isinstance(command, click.Group) else [path]
    return found


@pytest.mark.parametrize("name", Settings.env_names() + ["EXCHANGE_TEST_DATABASE_URL"])
def test_every_setting_is_in_the_readme(name):
    assert f"`{name}`" in README


@pytest.mark.parametrize("command", commands(main))
def test_every_cli_command_is_in_the_readme(command):
    assert command in README
