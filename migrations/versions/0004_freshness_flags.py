"""Freshness flags and job runs: the findings of the scheduled freshness scan (an entry stale
against its update cycle, or with nothing mounted), charged to the provider department, and one
row per run of a scheduled job with its counts, duration and error.

Why: the national review found only 51% of departments update their catalog on time and 53% of
entries have a resource mounted; the scan turns that into open flags departments are chased on.
At most one open flag per entry and kind is a partial unique index (resolved_at IS NULL), which
SQLite and PostgreSQL both support, so the scan's INSERT … SELECT stays idempotent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

import catalog.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('started_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('ok', 'failed', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_started', ['job', 'started_at'], unique=False)

    op.create_table('flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('stale', 'unmounted', name='kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_flags_department_id_departments')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_flags_entry_id_catalog_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flags'))
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flags_department_id'), ['department_id'], unique=False)
        batch_op.create_index('uq_flags_open_entry_kind', ['entry_id', 'kind'], unique=True, sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_index('uq_flags_open_entry_kind')
        batch_op.drop_index(batch_op.f('ix_flags_department_id'))

    op.drop_table('flags')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_started')

    op.drop_table('job_runs')
