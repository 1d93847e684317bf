"""Catalog foundation: departments, data elements, catalog entries with information items,
published versions and status changes, mounted resources, users and API tokens.

The first schema of the exchange; every later change gets a revision of its own.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

import catalog.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=18), nullable=True),
    sa.Column('level', sa.Enum('national', 'provincial', 'municipal', 'county', 'township', name='level', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['departments.id'], name=op.f('fk_departments_parent_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('code', name=op.f('uq_departments_code')),
    sa.UniqueConstraint('name', name=op.f('uq_departments_name'))
    )
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departments_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_departments_updated_at'), ['updated_at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('provider', 'requester', 'bureau', 'admin', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_users_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_updated_at'), ['updated_at'], unique=False)

    # departments ↔ users refer to each other: the departments' actor references come last
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_departments_created_by_users'), 'users', ['created_by'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_departments_updated_by_users'), 'users', ['updated_by'], ['id'])

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('digest', name=op.f('uq_api_tokens_digest'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('catalog_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_code', sa.String(length=64), nullable=False),
    sa.Column('code_front', sa.String(length=32), nullable=False),
    sa.Column('code_sequence', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('category', sa.Enum('basic', 'thematic', 'departmental', name='category', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('classification_code', sa.String(length=64), nullable=True),
    sa.Column('format', sa.Enum('document', 'spreadsheet', 'database', 'image', 'media', 'self_describing', 'api', name='format', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('format_detail', sa.String(length=64), nullable=True),
    sa.Column('sharing_type', sa.Enum('unconditional', 'conditional', 'not_shared', name='sharing_type', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('sharing_condition', sa.Text(), nullable=True),
    sa.Column('not_shared_basis', sa.Text(), nullable=True),
    sa.Column('sharing_method', sa.Enum('table', 'file', 'api', name='sharing_method', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('open_attribute', sa.Enum('open', 'conditional', 'closed', name='open_attribute', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('update_cycle', sa.Enum('realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'semiannual', 'yearly', 'biennial', 'irregular', 'static', name='update_cycle', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('publish_date', sa.Date(), nullable=True),
    sa.Column('last_updated', sa.Date(), nullable=True),
    sa.Column('related_codes', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'published', 'changed', 'withdrawn', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("sharing_type <> 'conditional' OR sharing_condition IS NOT NULL", name=op.f('ck_catalog_entries_conditional_rules')),
    sa.CheckConstraint("sharing_type <> 'not_shared' OR (open_attribute = 'closed' AND not_shared_basis IS NOT NULL)", name=op.f('ck_catalog_entries_not_shared_rules')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_catalog_entries_created_by_users')),
    sa.ForeignKeyConstraint(['provider_id'], ['departments.id'], name=op.f('fk_catalog_entries_provider_id_departments')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_catalog_entries_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_entries')),
    sa.UniqueConstraint('resource_code', name=op.f('uq_catalog_entries_resource_code'))
    )
    with op.batch_alter_table('catalog_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_entries_code_front'), ['code_front'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_entries_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_entries_sharing_type'), ['sharing_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_entries_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_entries_update_cycle'), ['update_cycle'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_entries_updated_at'), ['updated_at'], unique=False)

    op.create_table('data_elements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('english_name', sa.String(length=200), nullable=True),
    sa.Column('definition', sa.Text(), nullable=True),
    sa.Column('data_type', sa.Enum('character', 'numeric', 'currency', 'date', 'datetime', 'logical', 'memo', 'binary', 'double', 'integer', 'float', name='data_type', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('format', sa.String(length=64), nullable=True),
    sa.Column('value_domain', sa.Text(), nullable=True),
    sa.Column('synonyms', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_data_elements_created_by_users')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_data_elements_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_elements')),
    sa.UniqueConstraint('identifier', name=op.f('uq_data_elements_identifier'))
    )
    with op.batch_alter_table('data_elements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_elements_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_elements_updated_at'), ['updated_at'], unique=False)

    op.create_table('entry_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('draft', 'submitted', 'published', 'changed', 'withdrawn', name='from_status', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('to_status', sa.Enum('draft', 'submitted', 'published', 'changed', 'withdrawn', name='to_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_entry_status_changes_actor_id_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_entry_status_changes_entry_id_catalog_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_status_changes'))
    )
    with op.batch_alter_table('entry_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_status_changes_entry_id'), ['entry_id'], unique=False)

    op.create_table('entry_texts',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_entry_texts_entry_id_catalog_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_entry_texts'))
    )
    op.create_table('entry_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('published_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_entry_versions_entry_id_catalog_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by'], ['users.id'], name=op.f('fk_entry_versions_published_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_versions')),
    sa.UniqueConstraint('entry_id', 'version', name=op.f('uq_entry_versions_entry_id_version'))
    )
    op.create_table('info_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('data_type', sa.Enum('character', 'numeric', 'currency', 'date', 'datetime', 'logical', 'memo', 'binary', 'double', 'integer', 'float', name='data_type', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('length', sa.Integer(), nullable=True),
    sa.Column('element_id', sa.Integer(), nullable=True),
    sa.Column('sharing_type', sa.Enum('unconditional', 'conditional', 'not_shared', name='sharing_type', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.ForeignKeyConstraint(['element_id'], ['data_elements.id'], name=op.f('fk_info_items_element_id_data_elements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_info_items_entry_id_catalog_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_info_items')),
    sa.UniqueConstraint('entry_id', 'name', name=op.f('uq_info_items_entry_id_name'))
    )
    with op.batch_alter_table('info_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_info_items_element_id'), ['element_id'], unique=False)

    op.create_table('mounted_resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('table', 'file', 'api', name='kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('table_name', sa.String(length=200), nullable=True),
    sa.Column('change_column', sa.String(length=200), nullable=True),
    sa.Column('file_key', sa.String(length=200), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('checksum', sa.String(length=64), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('row_count', sa.BigInteger(), nullable=True),
    sa.Column('data_changed_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('health', sa.Enum('unknown', 'ok', 'unreachable', 'changed', name='health', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('checked_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('mounted_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('mounted_by', sa.Integer(), nullable=True),
    sa.Column('unmounted_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('unmounted_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_mounted_resources_entry_id_catalog_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mounted_by'], ['users.id'], name=op.f('fk_mounted_resources_mounted_by_users')),
    sa.ForeignKeyConstraint(['unmounted_by'], ['users.id'], name=op.f('fk_mounted_resources_unmounted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mounted_resources'))
    )
    with op.batch_alter_table('mounted_resources', schema=None) as batch_op:
        batch_op.create_index('ix_mounted_resources_entry_active', ['entry_id', 'unmounted_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mounted_resources', schema=None) as batch_op:
        batch_op.drop_index('ix_mounted_resources_entry_active')

    op.drop_table('mounted_resources')
    with op.batch_alter_table('info_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_info_items_element_id'))

    op.drop_table('info_items')
    op.drop_table('entry_versions')
    op.drop_table('entry_texts')
    with op.batch_alter_table('entry_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_status_changes_entry_id'))

    op.drop_table('entry_status_changes')
    with op.batch_alter_table('data_elements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_elements_updated_at'))
        batch_op.drop_index(batch_op.f('ix_data_elements_name'))

    op.drop_table('data_elements')
    with op.batch_alter_table('catalog_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_entries_updated_at'))
        batch_op.drop_index(batch_op.f('ix_catalog_entries_update_cycle'))
        batch_op.drop_index(batch_op.f('ix_catalog_entries_status'))
        batch_op.drop_index(batch_op.f('ix_catalog_entries_sharing_type'))
        batch_op.drop_index(batch_op.f('ix_catalog_entries_provider_id'))
        batch_op.drop_index(batch_op.f('ix_catalog_entries_code_front'))

    op.drop_table('catalog_entries')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_departments_updated_by_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_departments_created_by_users'), type_='foreignkey')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_updated_at'))
        batch_op.drop_index(batch_op.f('ix_users_department_id'))

    op.drop_table('users')
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departments_updated_at'))
        batch_op.drop_index(batch_op.f('ix_departments_parent_id'))

    op.drop_table('departments')
