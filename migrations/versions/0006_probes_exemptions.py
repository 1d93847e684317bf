"""Probes, more flag kinds, escalation and exemptions.

Why: a mounted resource is only useful if it answers, so mounts are probed and every probe is kept
(``probe_results``); flags gain the kinds ``unreachable``, ``demand_waiting`` and ``inconsistent``
(the kind's CHECK constraint is widened: batch mode rebuilds the table on SQLite, and the partial
unique index on open flags is recreated with it); a flag open too long is escalated to the bureau
(``flags.escalated_at``); a provider may ask for an entry to be exempt from a kind of flag and the
bureau decides (``flag_exemptions``, at most one pending request per entry and kind).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

import catalog.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_KINDS = ('stale', 'unmounted')
NEW_KINDS = ('stale', 'unmounted', 'unreachable', 'demand_waiting', 'inconsistent')
OPEN = sa.text('resolved_at IS NULL')
REQUESTED = sa.text("status = 'requested'")


def _kind(kinds):
    return sa.Enum(*kinds, name='kind', native_enum=False, create_constraint=True, length=20)


def _change_flag_kinds(old, new, escalated: bool) -> None:
    op.drop_index('uq_flags_open_entry_kind', table_name='flags')
    with op.batch_alter_table('flags', schema=None) as batch_op:
        if op.get_bind().dialect.name == 'sqlite':
            batch_op.alter_column('kind', existing_type=_kind(old), type_=_kind(new), existing_nullable=False)
        else:
            batch_op.drop_constraint(op.f('ck_flags_kind'), type_='check')
            batch_op.create_check_constraint('kind', sa.column('kind').in_(new))
        if escalated:
            batch_op.add_column(sa.Column('escalated_at', catalog.models.UTCDateTime(timezone=True), nullable=True))
        else:
            batch_op.drop_column('escalated_at')
    op.create_index('uq_flags_open_entry_kind', 'flags', ['entry_id', 'kind'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def upgrade() -> None:
    _change_flag_kinds(OLD_KINDS, NEW_KINDS, escalated=True)
    op.create_table('probe_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mount_id', sa.Integer(), nullable=False),
    sa.Column('probed_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('health', sa.Enum('unknown', 'ok', 'unreachable', 'changed', name='health', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('row_count', sa.BigInteger(), nullable=True),
    sa.Column('data_changed_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['mount_id'], ['mounted_resources.id'], name=op.f('fk_probe_results_mount_id_mounted_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_probe_results'))
    )
    op.create_index('ix_probe_results_mount_probed', 'probe_results', ['mount_id', 'probed_at'], unique=False)
    op.create_index(op.f('ix_probe_results_probed_at'), 'probe_results', ['probed_at'], unique=False)
    op.create_table('flag_exemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', _kind(NEW_KINDS), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('requested', 'granted', 'refused', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('ends_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_flag_exemptions_decided_by_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_flag_exemptions_department_id_departments')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_flag_exemptions_entry_id_catalog_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_flag_exemptions_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_exemptions'))
    )
    op.create_index(op.f('ix_flag_exemptions_department_id'), 'flag_exemptions', ['department_id'], unique=False)
    op.create_index('ix_flag_exemptions_entry_kind_status', 'flag_exemptions', ['entry_id', 'kind', 'status'], unique=False)
    op.create_index('uq_flag_exemptions_requested', 'flag_exemptions', ['entry_id', 'kind'], unique=True,
                    sqlite_where=REQUESTED, postgresql_where=REQUESTED)


def downgrade() -> None:
    op.drop_table('flag_exemptions')
    op.drop_table('probe_results')
    op.execute(sa.text("DELETE FROM flags WHERE kind NOT IN ('stale', 'unmounted')"))
    _change_flag_kinds(NEW_KINDS, OLD_KINDS, escalated=False)
