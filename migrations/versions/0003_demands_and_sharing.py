"""Demands and sharing: demands with their items, workflow steps, suggested matches and the
matcher's verdict; sharing applications, grants, deliveries and objections; the notification inbox
and outbox; users' e-mail addresses for notification copies.

What turns the catalog into an exchange: requests, answers, grants and what was delivered.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

import catalog.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('demands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=True),
    sa.Column('scenario', sa.Text(), nullable=True),
    sa.Column('desired_cycle', sa.Enum('realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'semiannual', 'yearly', 'biennial', 'irregular', 'static', name='desired_cycle', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('desired_method', sa.Enum('table', 'file', 'api', name='desired_method', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('needed_by', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'accepted', 'matched', 'confirmed', 'declined', 'fulfilled', 'unmet', 'closed', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('unmet_reason', sa.Enum('no_entry', 'not_mounted', 'stale', 'refused', 'not_shared', name='unmet_reason', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('diagnosis', sa.JSON(), nullable=True),
    sa.Column('submitted_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deadline', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_demands_created_by_users')),
    sa.ForeignKeyConstraint(['provider_id'], ['departments.id'], name=op.f('fk_demands_provider_id_departments')),
    sa.ForeignKeyConstraint(['requester_id'], ['departments.id'], name=op.f('fk_demands_requester_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demands')),
    sa.UniqueConstraint('ref', name=op.f('uq_demands_ref'))
    )
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demands_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_demands_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_demands_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_demands_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_demands_updated_at'), ['updated_at'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_notifications_department_id_departments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_user_id'), ['user_id'], unique=False)

    op.create_table('demand_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_demand_items_demand_id_demands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_items')),
    sa.UniqueConstraint('demand_id', 'name', name=op.f('uq_demand_items_demand_id_name'))
    )
    op.create_table('demand_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('suggested', 'confirmed', 'rejected', name='state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_demand_matches_decided_by_users')),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_demand_matches_demand_id_demands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_demand_matches_entry_id_catalog_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_matches')),
    sa.UniqueConstraint('demand_id', 'entry_id', name=op.f('uq_demand_matches_demand_id_entry_id'))
    )
    with op.batch_alter_table('demand_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_matches_entry_id'), ['entry_id'], unique=False)

    op.create_table('demand_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.Enum('draft', 'submitted', 'returned', 'accepted', 'matched', 'confirmed', 'declined', 'fulfilled', 'unmet', 'closed', name='from_status', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('to_status', sa.Enum('draft', 'submitted', 'returned', 'accepted', 'matched', 'confirmed', 'declined', 'fulfilled', 'unmet', 'closed', name='to_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_demand_steps_actor_id_users')),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_demand_steps_demand_id_demands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_steps'))
    )
    with op.batch_alter_table('demand_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_steps_demand_id'), ['demand_id'], unique=False)

    op.create_table('notification_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sent', 'failed', name='state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_notification_sends_notification_id_notifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_sends'))
    )
    with op.batch_alter_table('notification_sends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_sends_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_sends_notification_id'), ['notification_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_sends_state'), ['state'], unique=False)

    op.create_table('sharing_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=True),
    sa.Column('applicant_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'granted', 'refused', 'withdrawn', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('deadline', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['users.id'], name=op.f('fk_sharing_applications_applicant_id_users')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_sharing_applications_decided_by_users')),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_sharing_applications_demand_id_demands')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_sharing_applications_entry_id_catalog_entries')),
    sa.ForeignKeyConstraint(['requester_id'], ['departments.id'], name=op.f('fk_sharing_applications_requester_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_applications'))
    )
    with op.batch_alter_table('sharing_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sharing_applications_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sharing_applications_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sharing_applications_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sharing_applications_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_sharing_applications_updated_at'), ['updated_at'], unique=False)

    op.create_table('grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('grantee_id', sa.Integer(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('granted_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['sharing_applications.id'], name=op.f('fk_grants_application_id_sharing_applications')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_grants_entry_id_catalog_entries')),
    sa.ForeignKeyConstraint(['grantee_id'], ['departments.id'], name=op.f('fk_grants_grantee_id_departments')),
    sa.ForeignKeyConstraint(['revoked_by'], ['users.id'], name=op.f('fk_grants_revoked_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grants')),
    sa.UniqueConstraint('application_id', name=op.f('uq_grants_application_id'))
    )
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grants_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grants_grantee_id'), ['grantee_id'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('mount_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_deliveries_actor_id_users')),
    sa.ForeignKeyConstraint(['grant_id'], ['grants.id'], name=op.f('fk_deliveries_grant_id_grants')),
    sa.ForeignKeyConstraint(['mount_id'], ['mounted_resources.id'], name=op.f('fk_deliveries_mount_id_mounted_resources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_grant_id'), ['grant_id'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('raised_by', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'answered', 'closed', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('deadline', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_objections_answered_by_users')),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_objections_delivery_id_deliveries')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_objections_entry_id_catalog_entries')),
    sa.ForeignKeyConstraint(['provider_id'], ['departments.id'], name=op.f('fk_objections_provider_id_departments')),
    sa.ForeignKeyConstraint(['raised_by'], ['users.id'], name=op.f('fk_objections_raised_by_users')),
    sa.ForeignKeyConstraint(['requester_id'], ['departments.id'], name=op.f('fk_objections_requester_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email')

    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_updated_at'))
        batch_op.drop_index(batch_op.f('ix_objections_status'))
        batch_op.drop_index(batch_op.f('ix_objections_requester_id'))
        batch_op.drop_index(batch_op.f('ix_objections_provider_id'))
        batch_op.drop_index(batch_op.f('ix_objections_entry_id'))

    op.drop_table('objections')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_grant_id'))
        batch_op.drop_index(batch_op.f('ix_deliveries_at'))

    op.drop_table('deliveries')
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grants_grantee_id'))
        batch_op.drop_index(batch_op.f('ix_grants_entry_id'))

    op.drop_table('grants')
    with op.batch_alter_table('sharing_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sharing_applications_updated_at'))
        batch_op.drop_index(batch_op.f('ix_sharing_applications_status'))
        batch_op.drop_index(batch_op.f('ix_sharing_applications_requester_id'))
        batch_op.drop_index(batch_op.f('ix_sharing_applications_entry_id'))
        batch_op.drop_index(batch_op.f('ix_sharing_applications_demand_id'))

    op.drop_table('sharing_applications')
    with op.batch_alter_table('notification_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_sends_state'))
        batch_op.drop_index(batch_op.f('ix_notification_sends_notification_id'))
        batch_op.drop_index(batch_op.f('ix_notification_sends_next_attempt_at'))

    op.drop_table('notification_sends')
    with op.batch_alter_table('demand_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_steps_demand_id'))

    op.drop_table('demand_steps')
    with op.batch_alter_table('demand_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_matches_entry_id'))

    op.drop_table('demand_matches')
    op.drop_table('demand_items')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_user_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_department_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_created_at'))

    op.drop_table('notifications')
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demands_updated_at'))
        batch_op.drop_index(batch_op.f('ix_demands_status'))
        batch_op.drop_index(batch_op.f('ix_demands_requester_id'))
        batch_op.drop_index(batch_op.f('ix_demands_provider_id'))
        batch_op.drop_index(batch_op.f('ix_demands_deadline'))

    op.drop_table('demands')
