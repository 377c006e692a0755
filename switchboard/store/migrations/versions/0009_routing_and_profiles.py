"""Routing: each routed call's decision trace; agent profiles (skill levels per queue, pick mode)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 23:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'routing_traces',
        sa.Column('call_id', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('caller_number', sa.String(length=80), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('plugin', sa.String(length=100), nullable=False),
        sa.Column('trace', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('call_id'),
    )
    op.create_index('ix_routing_traces_at', 'routing_traces', ['at'])
    op.create_table(
        'profiles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('pick_mode', sa.Boolean(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'profile_skills',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('profile_id', sa.Integer(), nullable=False),
        sa.Column('queue_id', sa.Integer(), nullable=False),
        sa.Column('skill', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('profile_id', 'queue_id'),
    )
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('profile_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_agents_profile', 'profiles', ['profile_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_constraint('fk_agents_profile', type_='foreignkey')
        batch_op.drop_column('profile_id')
    op.drop_table('profile_skills')
    op.drop_table('profiles')
    op.drop_index('ix_routing_traces_at', table_name='routing_traces')
    op.drop_table('routing_traces')
