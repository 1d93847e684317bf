"""A plain ``pip install .`` (the README's first command) ships every file the packages use:
templates, assets and translations of the pages, the migrations, the demo's data, the built-in
synonym table. The wheel pip builds from a copy of this checkout is compared with the copy's
package folders."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("exchange", "catalog", "matching", "migrations")
NOT_SHIPPED = {".pyc", ".pot"}  # byte code; the translations' extraction template


def package_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix()
            for package in PACKAGES for path in (root / package).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
            and path.suffix not in NOT_SHIPPED}


@pytest.mark.slow
def test_the_wheel_holds_every_file_of_the_packages(tmp_path):
    # A copy without earlier build output: a stale build/ folder would lend the wheel its files.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", "*.db", "test-artifacts"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                            "--wheel-dir", str(tmp_path / "wheel"), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "wheel").glob("*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    files = package_files(source)
    assert {"migrations/versions/0001_catalog_foundation.py", "exchange/demo/data/catalog.csv",
            "matching/synonyms.csv", "exchange/web/templates/errors/error.html"} <= files
    assert sorted(files - shipped) == []
