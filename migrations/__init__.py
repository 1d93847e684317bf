"""Alembic migrations of the exchange's database (run them with ``exchange db upgrade``)."""
