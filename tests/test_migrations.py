"""Migrations: upgrade to head, agree with the models, downgrade to base, upgrade again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from catalog.db import make_engine
from exchange import database
from exchange.models import metadata

from .conftest import database_url_for, reset_schema


def test_migrations_match_the_models_and_downgrade_cleanly(tmp_path_factory):
    url = database_url_for(tmp_path_factory)
    engine = make_engine(url)
    try:
        reset_schema(engine)
        database.upgrade(url, "head")
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
        assert differences == []
        database.downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        database.upgrade(url, "head")
        assert database.current_revision(engine) == database.head_revision()
        assert {"catalog_entries", "info_items", "mounted_resources", "users"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
