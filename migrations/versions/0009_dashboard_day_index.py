"""Dashboards: one index for reading a snapshot day's figures of every department.

The department table sorted by a figure and the top/bottom N charts read, for every department,
a few figures of two days (the period's last snapshot day and the running totals of the day before
the period).  With an index on ``day`` alone and one led by ``figure`` over all days, both SQLite
and PostgreSQL could pick the figure-led index for ``day IN (…) AND figure IN (…)`` and walk every
day of the stored year (1.4 s for the 30-day page at 5,283 departments against 27 ms for the one-day
read).  ``(day, figure, department_id, value)`` answers those reads from the index alone, serves
everything the ``day`` index served (it leads with ``day``), and replaces the figure-led index,
whose period sums the running totals made unnecessary.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_dashboard_figures_day_figure', 'dashboard_figures', ['day', 'figure', 'department_id', 'value'])
    op.drop_index('ix_dashboard_figures_figure_scope', table_name='dashboard_figures')
    op.drop_index('ix_dashboard_figures_day', table_name='dashboard_figures')


def downgrade() -> None:
    op.create_index('ix_dashboard_figures_day', 'dashboard_figures', ['day'])
    op.create_index('ix_dashboard_figures_figure_scope', 'dashboard_figures',
                    ['figure', 'department_id', 'level', 'day', 'value'])
    op.drop_index('ix_dashboard_figures_day_figure', table_name='dashboard_figures')
