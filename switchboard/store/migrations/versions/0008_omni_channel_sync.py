"""Omni-Channel presence sync: an agent's Salesforce user, and the admin's status mapping table

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 22:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sf_user_id', sa.String(length=18), server_default='', nullable=False))
    op.create_table(
        'omni_status_map',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('omni_developer_name', sa.String(length=80), nullable=False),
        sa.Column('omni_status_id', sa.String(length=18), nullable=False),
        sa.Column('omni_label', sa.String(length=200), nullable=False),
        sa.Column('omni_kind', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=100), nullable=False),
        sa.Column('direction', sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('omni_developer_name'),
    )


def downgrade() -> None:
    op.drop_table('omni_status_map')
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('sf_user_id')
