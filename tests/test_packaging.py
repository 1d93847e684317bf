"""A plain ``pip install .`` ships every template, asset and translation the pages use."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "exchange" / "web"


def shipped_patterns() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return [p.strip() for p in config["options.package_data"]["exchange.web"].split(",")]


def test_every_page_file_is_package_data():
    shipped = {path for pattern in shipped_patterns() for path in WEB.glob(pattern)}
    files = {path for folder in ("templates", "static", "translations") for path in (WEB / folder).rglob("*")
             if path.is_file() and path.suffix != ".pot"}
    assert files, "the pages have files"
    assert sorted(str(p.relative_to(WEB)) for p in files - shipped) == []
