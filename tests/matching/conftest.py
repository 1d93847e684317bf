"""Fixtures for the matcher's tests."""

from __future__ import annotations

import pytest
from .matching_fixtures import fresh_index

from matching import CatalogIndex


@pytest.fixture(scope="session")
def index() -> CatalogIndex:
    return fresh_index()
