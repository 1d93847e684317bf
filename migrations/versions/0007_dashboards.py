"""Dashboards: the daily snapshot's summary rows (every figure per day, per department, per level
and overall) and the bureau's scorecard thresholds.

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

import catalog.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dashboard_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=20), nullable=True),
    sa.Column('figure', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                            name=op.f('fk_dashboard_figures_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_figures'))
    )
    op.create_index('ix_dashboard_figures_scope_day', 'dashboard_figures', ['department_id', 'level', 'day'])
    op.create_index('ix_dashboard_figures_day', 'dashboard_figures', ['day'])
    op.create_index('ix_dashboard_figures_figure_scope', 'dashboard_figures', ['figure', 'department_id', 'level', 'day', 'value'])
    op.create_table('scorecard_thresholds',
    sa.Column('figure', sa.String(length=64), nullable=False),
    sa.Column('green', sa.Float(), nullable=False),
    sa.Column('yellow', sa.Float(), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_scorecard_thresholds_updated_by_users')),
    sa.PrimaryKeyConstraint('figure', name=op.f('pk_scorecard_thresholds'))
    )


def downgrade() -> None:
    op.drop_table('scorecard_thresholds')
    op.drop_index('ix_dashboard_figures_figure_scope', table_name='dashboard_figures')
    op.drop_index('ix_dashboard_figures_day', table_name='dashboard_figures')
    op.drop_index('ix_dashboard_figures_scope_day', table_name='dashboard_figures')
    op.drop_table('dashboard_figures')
