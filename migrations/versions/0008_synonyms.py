"""The bureau's synonym table (同义词库): groups of terms the matcher treats as one, edited by the
bureau or learned when a provider confirms a match (then naming the demand it came from).

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

import catalog.models


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('synonyms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terms', sa.String(length=1000), nullable=False),
    sa.Column('kind', sa.Enum('synonym', 'abbreviation', 'related', 'learned', name='kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('demand_id', sa.Integer(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_synonyms_created_by_users')),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_synonyms_demand_id_demands'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_synonyms_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synonyms')),
    sa.UniqueConstraint('terms', name=op.f('uq_synonyms_terms'))
    )
    with op.batch_alter_table('synonyms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_synonyms_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_synonyms_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_synonyms_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('synonyms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_synonyms_updated_at'))
        batch_op.drop_index(batch_op.f('ix_synonyms_kind'))
        batch_op.drop_index(batch_op.f('ix_synonyms_demand_id'))
    op.drop_table('synonyms')
